/*
 * NAT: translation of connections tracked by conntrack.h. Pure logic
 * (nat.c): no system calls, the randomness passed in; unit-tested on the
 * host. docs/firewall.md describes the behaviour.
 *
 * A connection's translation lives in its conntrack entry alone: its reply
 * tuple is the translated original tuple inverted. A new connection gets
 * its reply tuple from nat_reply_tuple() (after the prerouting and
 * postrouting chains said what to do), then conntrack_confirm(); every
 * later packet of it, in either direction, is rewritten to
 * nat_target(entry, dir) by nat_rewrite(), and an ICMP error about it by
 * nat_rewrite_icmp_error().
 *
 * Packets are IPv4 datagrams in one contiguous buffer, from the IP header;
 * the functions read and write nothing outside [pkt, pkt + len).
 */
#ifndef MICA_NETSTACK_NAT_H
#define MICA_NETSTACK_NAT_H

#include <stddef.h>
#include <stdint.h>

#include "conntrack.h"

#define NAT_PORT_MIN 1024       /* TCP, UDP source ports chosen: 1024..65535 */
#define NAT_PROBES 128          /* ports tried before giving up */

#define NAT_COUNTERS(X)                                                         \
	X(translated, "connections translated")                                 \
	X(ports_exhausted, "new connections refused: no free port in NAT_PROBES tries") \
	X(clashes, "new connections refused: the translated tuple is in use")   \
	X(malformed, "packets not rewritten: too short or not what the entry says")

struct nat_counters {
#define NAT_COUNTER_FIELD(name, text) uint64_t name;
	NAT_COUNTERS(NAT_COUNTER_FIELD)
#undef NAT_COUNTER_FIELD
};

/* What the NAT chains decided for a new connection. */
struct nat_request {
	bool snat;                      /* postrouting: masquerade or snat */
	bool dnat;                      /* prerouting: dnat */
	uint32_t snat_addr;             /* the new source (masquerade: the out interface's address) */
	uint32_t dnat_addr;             /* the new destination */
	uint16_t dnat_port;             /* its port (host order); 0 keeps the port */
};

/*
 * The reply tuple for a new connection whose packets carry orig, translated
 * as req says. With source NAT, the original source port (TCP, UDP) or echo
 * identifier (ICMP) is kept if no live entry uses the result; else up to
 * NAT_PROBES others are tried from a start chosen by random (a fresh random
 * number from the caller). Returns 0, -ERR_NO_MEMORY (no free port:
 * counted in ports_exhausted) or -ERR_BUSY (the result is taken and there
 * is no source NAT to move it: counted in clashes).
 */
int nat_reply_tuple(struct conntrack *ct, const struct ct_tuple *orig, const struct nat_request *req,
		    uint64_t now, uint32_t random, struct ct_tuple *reply, struct nat_counters *counters);

/* The tuple a packet of e in direction dir leaves with: the other
 * direction's tuple inverted. Equal to the packet's own without NAT. */
static inline struct ct_tuple nat_target(const struct ct_entry *e, enum ct_dir dir)
{
	return ct_tuple_invert(&e->tuple[!dir]);
}

/*
 * Rewrite the datagram pkt[0..len) to carry tuple to (addresses; ports or
 * the echo identifier when its transport header is there, i.e. not in a
 * later fragment), updating the IP, TCP, UDP and ICMP checksums
 * incrementally. Returns 0, or -ERR_INVALID_ARG (not IPv4, too short, a
 * header length out of range, another protocol than to's) having changed
 * nothing.
 */
int nat_rewrite(uint8_t *pkt, size_t len, const struct ct_tuple *to);

/*
 * Rewrite an ICMP error about e travelling in direction dir (as
 * conntrack_classify() found it): the outer destination to the host the
 * quoted datagram came from, the outer source too when the error comes
 * from the far end itself, and the quoted datagram back to what that host
 * sent. The ICMP checksum is summed again (an error is at most 576 bytes).
 * Returns 0 or -ERR_INVALID_ARG (malformed: nothing changed).
 */
int nat_rewrite_icmp_error(uint8_t *pkt, size_t len, const struct ct_entry *e, enum ct_dir dir);

/*
 * An ICMP error the appliance itself makes about a datagram it translated
 * (sent as sent, now carrying translated: a port forward's first datagram,
 * not yet a connection in the table): its quote back to what was sent,
 * checksums too (the ICMP one summed again). Returns 0, or
 * -ERR_INVALID_ARG (malformed, or the quote is not of translated: nothing
 * changed).
 */
int nat_rewrite_icmp_quote(uint8_t *pkt, size_t len, const struct ct_tuple *sent,
			   const struct ct_tuple *translated);

/* Remove the source-NAT entries translated to addr (an interface's address
 * went away, as Linux's masquerade does); returns how many. Walks the
 * table: for address changes, not per packet. */
unsigned nat_forget_address(struct conntrack *ct, uint32_t addr);

#endif
