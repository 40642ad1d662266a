/*
 * The IPv4 routing table: which interface and next hop a datagram leaves
 * by. Longest prefix first, then lowest metric (as Linux's main table
 * without policy routing, RFC 1812 5.2.4.3). Pure logic (route.c), unit-
 * tested on the host; the netstack fills it from its interfaces' addresses
 * (connected routes), the appliance configuration (static routes) and DHCP
 * (default routes), and the console adds and removes static routes.
 *
 * Addresses and masks are in network byte order, as lwIP keeps them.
 */
#ifndef MICA_NETSTACK_ROUTE_H
#define MICA_NETSTACK_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

/* 4 connected + 32 static from the file + 4 DHCP defaults + room for
 * routes added at the console. */
#define ROUTE_MAX 64

enum route_origin {
	ROUTE_CONNECTED,        /* an interface's own network */
	ROUTE_STATIC,           /* the configuration or the console */
	ROUTE_DHCP,             /* the router option of a DHCP lease */
};

struct route {
	uint32_t dest, mask;
	uint8_t prefix_len;     /* 0..32 */
	uint8_t origin;         /* enum route_origin */
	int8_t iface;           /* 0..31, or -1: the interface whose network holds the gateway */
	uint16_t metric;        /* lower wins among equal prefixes */
	uint32_t gateway;       /* the next hop; 0: the destination is on the link */
};

/* Kept sorted: longer prefix first, then lower metric, then older. */
struct route_table {
	unsigned n;
	struct route routes[ROUTE_MAX];
};

/* Where a datagram goes: out of iface to the link-level neighbour
 * next_hop (the gateway, or the destination itself), by route. */
struct route_hop {
	unsigned iface;
	uint32_t next_hop;
	const struct route *route;
};

void route_table_init(struct route_table *t);

/*
 * Add r (mask is computed from prefix_len). Returns 0, -ERR_INVALID_ARG
 * (prefix_len > 32, host bits set in dest, iface out of range, a gateway
 * route without a gateway and iface), -ERR_BUSY (a route to the same
 * dest/prefix_len with the same metric exists: as Linux's "File exists"),
 * -ERR_NO_MEMORY (ROUTE_MAX routes).
 */
int route_add(struct route_table *t, const struct route *r);

/* Remove the route to dest/prefix_len with this metric (-1: the one with
 * the lowest). Returns 0 or -ERR_INVALID_ARG when there is none. */
int route_del(struct route_table *t, uint32_t dest, unsigned prefix_len, int metric);

/* Remove every route of this origin through iface (an address or a lease
 * that went away); returns how many. */
unsigned route_del_iface(struct route_table *t, unsigned iface, enum route_origin origin);

/*
 * The hop for dst, using only interfaces whose bit is set in up: the first
 * route (longest prefix, lowest metric) that matches dst, whose interface
 * is up, and (for a gateway route) whose gateway is on the network of a
 * connected route of an up interface. A route that cannot be used now is
 * passed over for the next one, as Linux does with a dead next hop.
 * Returns false when no route can carry dst (ICMP net unreachable).
 */
bool route_lookup(const struct route_table *t, uint32_t dst, uint32_t up, struct route_hop *hop);

#endif
