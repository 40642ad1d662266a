/*
 * What the netstack says about its interfaces, routes and sockets, as
 * the POSIX server shows them to programs the way Linux does: the
 * interface ioctls (netif_ioctl.c, netdevice(7)), NETLINK_ROUTE
 * (netlink.c, rtnetlink(7)) and /proc/net/dev, route, tcp and udp
 * (procfs_net.c, proc(5)). Asked over the netstack's management protocol
 * (proto/netmgmt.h, through NETMGMT_RO_NAME: the read-only capability,
 * the netstack refuses it any change) by a worker thread (netinfo.c), so that the server
 * never waits for the netstack: a call that needs the netstack's state
 * waits (SYSCALL_BLOCK, a bounded time) until an answer newer than its
 * start is there, then reads it from `netinfo`.
 *
 * Interface numbers are Linux's: the loopback interface `lo` is 1 (the
 * netstack's lwIP loopback, 127.0.0.1/8; the netstack does not list it,
 * the server shows it), the netstack's interface i (NETMGMT_IF_INFO's
 * index, the order of its nic= argument) is i + 2.
 */
#ifndef MICA_POSIX_NETINFO_H
#define MICA_POSIX_NETINFO_H

#include "posix.h"
#include "proto/netmgmt.h"

#define NETINFO_IFS    8                /* the netstack's interfaces shown */
#define NETINFO_ROUTES 64               /* its routes (netstack/route.h ROUTE_MAX) */
#define NETINFO_SOCKS  448              /* its TCP and UDP pcbs (lwipopts.h: 192 + 16 + 192
					   and its own) */
#define NETINFO_ARPS   16               /* its neighbours (lwIP's ARP_TABLE_SIZE: 10) */
#define NETINFO_LO_INDEX 1              /* lo's interface number */
#define NETINFO_MTU    1500             /* every netstack interface's (Ethernet) */
#define NETINFO_LO_MTU 65536            /* lo's, as Linux's */

/* What a call needs (netinfo_wait). */
#define NETINFO_IFS_ROUTES 0x1          /* interfaces, routes, neighbours, lo's counters */
#define NETINFO_SOCKETS    0x2          /* ... and the TCP and UDP pcbs */

struct netinfo {
	unsigned nifs, nroutes, nsocks, narps;
	struct net_if_info ifs[NETINFO_IFS];
	struct net_route routes[NETINFO_ROUTES];
	struct net_arp arps[NETINFO_ARPS];      /* its ARP table's filled slots */
	uint64_t lo_packets, lo_bytes;          /* lo's (NETMGMT_PROTO_STATS) */
	struct net_sock socks[NETINFO_SOCKS];
};

/* The last answer (nothing: no netstack, or none yet). */
extern struct netinfo netinfo;

/* Wait for an answer with what want says (NETINFO_*) newer than this
 * call's start: 0 when `netinfo` has it (or the wait is over: then it
 * has what there is), SYSCALL_BLOCK until then. Uses the calling
 * thread's sleep_at, so call it before anything else the call does. */
long netinfo_wait(struct process *p, unsigned want);
/* The server's notification came with bits: the worker's answer. */
void netinfo_notified(uint64_t bits);

/* An interface as Linux shows it: its number (NETINFO_LO_INDEX, or the
 * netstack's index + 2), name, IPv4 address, mask and broadcast (network
 * byte order; 0: none), MAC (first byte lowest; lo: 0), MTU and IFF_*
 * flags (netdevice(7)). */
struct netinfo_if {
	int index;
	char name[16];
	uint32_t addr, mask, brd;
	uint64_t mac;
	unsigned mtu, flags;
	bool loopback;
};
/* The i-th interface (0: lo, then the netstack's): false past the last. */
bool netinfo_if(unsigned i, struct netinfo_if *out);
/* The interface numbered index (Linux's ifindex), or named name: false
 * when there is none. */
bool netinfo_if_by_index(int index, struct netinfo_if *out);
bool netinfo_if_by_name(const char *name, struct netinfo_if *out);
/* The interface route r goes out of: its own, or for a static route that
 * names none (iface -1), the one whose network holds its gateway; false
 * when there is none (the route is not shown). */
bool netinfo_route_if(const struct net_route *r, struct netinfo_if *out);

#define LINUX_IFF_UP          0x1
#define LINUX_IFF_BROADCAST   0x2
#define LINUX_IFF_LOOPBACK    0x8
#define LINUX_IFF_RUNNING     0x40
#define LINUX_IFF_MULTICAST   0x1000
#define LINUX_IFF_LOWER_UP    0x10000   /* netlink's IFLA flags only */

#endif
