/*
 * The netstack's management protocol: what the console, tests and (later)
 * the router and firewall tools ask the netstack about its state. Apart
 * from the socket service (proto/socket.h), which carries data only.
 * docs/netmgmt.md explains it; the rules in short:
 *
 * The netstack registers a badged copy of its endpoint (send right only)
 * as NETMGMT_NAME; every request below goes through that capability
 * (ns_lookup(NETMGMT_NAME, slot)), or NETMGMT_RO_NAME's, which may only
 * read (a change is ERR_NO_RIGHTS). The same labels on the socket
 * capability are not management requests. NETMGMT_NAME is a private name
 * (NS_REGISTER_PRIVATE): only a program whose manifest has `lookup
 * netmgmt` gets it; NETMGMT_RO_NAME is for everybody (docs/netmgmt.md).
 *
 * Every reply's label is 0 or an error (enum mica_error, uapi/errors.h);
 * the words of a reply are the structure named, in order.
 *
 *   NETMGMT_IF_INFO      words: [0] interface index (0, 1, ...).
 *                        reply: struct net_if_info. ERR_RANGE past the
 *                        last interface.
 *   NETMGMT_PROTO_STATS  reply: struct net_proto_stats.
 *   NETMGMT_ARP_GET      words: [0] slot of lwIP's ARP table (0, 1, ...).
 *                        reply: struct net_arp (addr 0: an empty slot).
 *                        ERR_RANGE past the table's last slot.
 *   NETMGMT_SOCK_GET     words: [0] index (0, 1, ...) in the netstack's
 *                        TCP pcbs (listening, connected, TIME-WAIT, bound),
 *                        then its UDP pcbs. reply: struct net_sock.
 *                        ERR_RANGE past the last.
 *   NETMGMT_ROUTE_GET    words: [0] index in the routing table (0, 1, ...:
 *                        longest prefix first, then lowest metric).
 *                        reply: struct net_route. ERR_RANGE past the last.
 *   NETMGMT_ROUTE_ADD    words: [0] destination, [1] prefix length, [2]
 *                        gateway (network byte order), [3] metric: a static
 *                        route by a gateway on an interface's network.
 *                        ERR_INVALID_ARG (host bits set, no gateway, ...),
 *                        ERR_BUSY (the same destination and metric exists),
 *                        ERR_NO_MEMORY (no room).
 *   NETMGMT_ROUTE_DEL    words: [0] destination, [1] prefix length, [2]
 *                        metric, or ~0 for the one with the lowest: removes
 *                        a static route. ERR_INVALID_ARG: no such route.
 *   NETMGMT_FW_RULE      words: [0] index: the firewall's rules (0 ..
 *                        rules - 1, in file order), then one row per chain
 *                        for its policy. reply: struct net_fw_rule.
 *                        ERR_RANGE past the last.
 *   NETMGMT_FW_RELOAD    words: the name of one of the netstack's files
 *                        (NUL padded, at most 31 bytes; empty: the one it
 *                        started with). reply: struct net_fw_reload (its
 *                        err is the reload's: 0, or the old rules stay).
 *   NETMGMT_CT_STATS     reply: struct net_ct_stats.
 *   NETMGMT_CT_GET       words: [0] cursor (0 to begin). reply: struct
 *                        net_ct_entry (the next connection, and the cursor
 *                        after it). ERR_RANGE past the last.
 *   NETMGMT_CT_FLUSH     removes every connection; reply: none.
 *
 * A label the netstack does not know is answered ERR_NO_SYSCALL.
 */
#ifndef MICA_PROTO_NETMGMT_H
#define MICA_PROTO_NETMGMT_H

#include <stdint.h>

#include "uapi/ipc.h"

#define NETMGMT_NAME "netmgmt"
/* The same protocol for reading only: a request that would change
 * something (NETMGMT_ROUTE_ADD, _ROUTE_DEL, _FW_RELOAD, _CT_FLUSH) is
 * answered ERR_NO_RIGHTS; every other is answered as on NETMGMT_NAME.
 * For clients that only show the netstack's state (the POSIX server). */
#define NETMGMT_RO_NAME "netmgmt-ro"

/* Labels by area, so that each area can grow in its own range:
 *    1..15  interfaces and protocol counters
 *   16..31  routes (none defined yet)
 *   32..47  firewall rules
 *   48..63  connection table and NAT */
enum netmgmt_label {
	NETMGMT_IF_INFO = 1,
	NETMGMT_PROTO_STATS = 2,
	NETMGMT_ARP_GET = 3,
	NETMGMT_SOCK_GET = 4,
	NETMGMT_ROUTE_GET = 16,
	NETMGMT_ROUTE_ADD = 17,
	NETMGMT_ROUTE_DEL = 18,
	NETMGMT_FW_RULE = 32,
	NETMGMT_FW_RELOAD = 33,
	NETMGMT_CT_STATS = 48,
	NETMGMT_CT_GET = 49,
	NETMGMT_CT_FLUSH = 50,
};

/*
 * The counter tables: one line per counter, in the order of the words of
 * the reply (and of netecho's statistics line). Each gives the struct
 * field (uint64_t), its name (#name) and, for lwIP's counters, where
 * lwIP keeps it (lwip_stats.<source>). Adding a counter is one line here
 * and the code that counts it. Every counter counts from the netstack's
 * start (the driver's: from its running instance's start).
 */

/* One interface: the netstack's side (netstack/iface.c) and its driver's. */
#define NET_IF_COUNTERS(X)                                                      \
	X(rx_packets)           /* frames handed to lwIP */                     \
	X(rx_bytes)                                                             \
	X(rx_dropped)           /* refused rx-ready descriptors (also in         \
				   bad_desc), frames lwIP refused */            \
	X(tx_packets)           /* frames given to the driver (an aggregate     \
				   for the NIC to cut is one) */                \
	X(tx_bytes)                                                             \
	X(tx_dropped)           /* no driver, no pool buffer or ring room,       \
				   or too long (a cut aggregate: per segment) */ \
	X(tx_zero_copy)         /* sent from the pool buffer they arrived in */ \
	X(rx_csum_trusted)      /* TCP/UDP checksums lwIP did not check: the    \
				   NIC verified them, or the host left them     \
				   partial (docs/netstack.md) */                \
	X(rx_csum_completed)    /* partial checksums completed in software      \
				   (frames not to us) */                        \
	X(tx_csum_offloaded)    /* TCP checksums left to the NIC (per segment) */ \
	X(tx_csum_software)     /* TCP checksums summed here (no offload) */    \
	X(rx_aggregates)        /* TCP aggregates received (NETQ_F_TSO4), in    \
				   one buffer or over several */                \
	X(tx_tso)               /* aggregates sent whole for the NIC to cut */  \
	X(tx_gso_segments)      /* segments cut here from aggregates (GSO) */   \
	X(tx_gso_zero_copy)     /* ... of them, their payload not copied: a      \
				   header buffer and slices of the aggregate's  \
				   own buffers (NETQ_OFFLOAD_TX_SG) */          \
	X(tx_by_reference)      /* lwIP's frames sent from its heap, not copied  \
				   (NETQ_OFFLOAD_TX_HEAP; a merged aggregate:   \
				   each segment) */                             \
	X(drv_rx_packets)       /* the running driver instance's counters */    \
	X(drv_rx_no_buffer)                                                     \
	X(drv_rx_errors)                                                        \
	X(drv_tx_packets)                                                       \
	X(drv_tx_errors)                                                        \
	X(link_up)              /* 1: a driver is attached, says the link is up */ \
	X(bad_desc)             /* descriptors from the driver naming no buffer  \
				   it held in that role (dropped) */            \
	X(attached)             /* 1 while a driver is attached */              \
	X(driver_restarts)      /* attaches to a new instance after the first */ \
	X(bufs_reclaimed)       /* buffers taken back from dead drivers, in all */ \
	X(bufs_total)           /* where the pool's buffers are now: all, */    \
	X(bufs_free)            /* the netstack's free stack, */                \
	X(bufs_rx_posted)       /* the driver's: rx-free and posted, */         \
	X(bufs_tx)              /* tx-ready and in flight (also a buffer sent    \
				   in place, which lwIP holds too), */          \
	X(tx_heap_held)         /* lwIP's frames the driver holds by reference \
				   now (not pool buffers) */                    \
	X(tx_heap_given_up)     /* ... references given up: the driver kept     \
				   them past TX_HEAP_HOLD_MAX_MS (tx_heap.c) */ \
	X(bufs_lwip)            /* lwIP's: received frames */                   \
	X(bufs_lwip_max)        /* lwIP's share: past it, what arrives is copied \
				   out of the pool */                           \
	X(rx_copied)            /* frames copied out of the pool (lwIP held its  \
				   share) */                                    \
	X(fwd_packets)          /* datagrams that arrived here and were         \
				   forwarded (docs/netstack.md, Forwarding) */  \
	X(fwd_fragmented)       /* ... of them, sent in fragments */            \
	X(fwd_no_route)         /* dropped: no route (ICMP net unreachable) */  \
	X(fwd_ttl)              /* dropped: TTL ran out (ICMP time exceeded) */ \
	X(fwd_martian)          /* dropped: a martian or link-local address */  \
	X(fwd_too_big)          /* dropped: DF and the way out's MTU smaller     \
				   (ICMP fragmentation needed) */               \
	X(fwd_host_unreachable) /* dropped: the next hop never answered ARP      \
				   (ICMP host unreachable) */                   \
	X(fwd_not_sent)         /* dropped on the way out: ARP queue full, no    \
				   driver, no room */                           \
	X(fwd_refused)          /* dropped at a decision point (the firewall) */ \
	X(fwd_icmp_sent)        /* ICMP errors sent about datagrams from here */ \
	X(fwd_icmp_limited)     /* ... not sent: over the rate limit */          \
	X(svc_refused)          /* for one of the appliance's services, which    \
				   is not on this interface (dropped) */        \
	X(ip_rp_filter)         /* dropped, to us or to be forwarded: a reply to \
				   its source would not leave by here (strict   \
				   reverse path, as Linux's rp_filter=1) */

/* The protocols: lwIP's counters (LWIP: what arrived at each layer and
 * what it dropped, and why) and the socket service's own (OWN). */
#define NET_PROTO_COUNTERS(LWIP, OWN)                                           \
	LWIP(link_recv, link.recv)                                              \
	LWIP(link_drop, link.drop)                                              \
	LWIP(link_err, link.err)                                                \
	LWIP(arp_recv, etharp.recv)                                             \
	LWIP(arp_drop, etharp.drop)                                             \
	LWIP(arp_lenerr, etharp.lenerr)                                         \
	LWIP(ip_recv, ip.recv)                                                  \
	LWIP(ip_drop, ip.drop)                                                  \
	LWIP(ip_chkerr, ip.chkerr)                                              \
	LWIP(ip_lenerr, ip.lenerr)                                              \
	LWIP(ip_proterr, ip.proterr)                                            \
	LWIP(ip_opterr, ip.opterr)                                              \
	LWIP(ipfrag_recv, ip_frag.recv)         /* fragments to reassemble */   \
	LWIP(ipfrag_drop, ip_frag.drop)         /* ... dropped (overlapping,    \
						   no room, bad) */             \
	LWIP(ipfrag_memerr, ip_frag.memerr)     /* ... of those, for want of    \
						   room or memory */          \
	LWIP(ipfrag_err, ip_frag.err)           /* ... of those, malformed */   \
	LWIP(icmp_recv, icmp.recv)                                              \
	LWIP(icmp_drop, icmp.drop)                                              \
	LWIP(icmp_chkerr, icmp.chkerr)                                          \
	LWIP(icmp_lenerr, icmp.lenerr)                                          \
	LWIP(udp_recv, udp.recv)                                                \
	LWIP(udp_drop, udp.drop)                                                \
	LWIP(udp_chkerr, udp.chkerr)                                            \
	LWIP(udp_lenerr, udp.lenerr)                                            \
	LWIP(tcp_recv, tcp.recv)                                                \
	LWIP(tcp_drop, tcp.drop)                                                \
	LWIP(tcp_chkerr, tcp.chkerr)                                            \
	LWIP(tcp_lenerr, tcp.lenerr)                                            \
	LWIP(tcp_proterr, tcp.proterr)                                          \
	OWN(sock_udp_dropped)   /* datagrams a full receive buffer refused      \
				   (SO_RCVBUF; Linux's RcvbufErrors) */        \
	OWN(sock_udp_send_dropped) /* datagrams sent that the interface       \
				   refused (its transmit queue full), reported \
				   as sent (Linux's SndbufErrors), and batched \
				   ones that failed (SOCK_SEND_MANY) */         \
	OWN(sock_sessions)      /* socket sessions open now */                  \
	OWN(sock_clients_died)  /* sessions ended because their client died */ \
	OWN(sock_rx_kept_most)  /* pool buffers the socket keeping the most      \
				   received data in them keeps now */           \
	OWN(sock_rx_collapsed)  /* received entries copied out of pool buffers   \
				   to give another socket its share */          \
	OWN(sock_rx_lent)       /* received bytes lent to a lending session      \
				   (SOCK_RECV_LEND) instead of copied */        \
	OWN(sock_rx_lent_now)   /* pool buffers lent now, until the session's    \
				   next call or end */                          \
	OWN(tcp_ack_delayed)    /* immediate ACKs of received data made delayed: \
				   they would not open the window, more than   \
				   half of it unread (docs/netstack.md,        \
				   Receive window) */                           \
	OWN(tcp_ack_forced)     /* ACKs lwIP would have held, sent at once: of   \
				   data that filled a gap (RFC 5681 4.2), or  \
				   behind data Nagle's algorithm held back    \
				   (docs/netstack.md, Receive window) */      \
	OWN(ip_bad_src)         /* datagrams from a source no host can have      \
				   (0/8, 127/8, 224/3, a broadcast, our own) */ \
	OWN(ip_source_route)    /* datagrams dropped for a loose or strict       \
				   source route option */                       \
	OWN(udp_trimmed)        /* UDP datagrams cut to their length field */   \
	OWN(tcp_mss_raised)     /* SYNs whose MSS was raised to the floor */     \
	OWN(tcp_far_seq)        /* segments dropped for a sequence number more   \
				   than 2^30 from the connection's next */      \
	OWN(tcp_ooseq_aged)     /* out-of-order queues freed 10 s after their    \
				   connection's last segment */                 \
	OWN(tcp_half_open_evicted) /* half-open connections dropped for a     \
				   newer SYN (a bound per listener, source) */  \
	OWN(tcp_half_open_clocks) /* ... their ages worked out (once each) */  \
	OWN(tcp_syn_recv_reset) /* half-open connections reset for a SYN in      \
				   their window (Linux's tcp_check_req) */      \
	OWN(tcp_syn_recv_dropped) /* SYNs to half-open connections dropped     \
				   (outside the window) */                      \
	OWN(tcp_options_ignored) /* MSS and window-scale options ignored (not    \
				   in a SYN to a listener or a SYN-ACK) */      \
	OWN(tcp_challenge_ack)  /* challenge ACKs sent (RFC 5961: a SYN, a reset \
				   in the window, on a connection) */           \
	OWN(tcp_challenge_ack_limited) /* ... dropped over the limit (Linux's  \
				   tcp_challenge_ack_limit, 1000/s) */          \
	OWN(tcp_ack_skipped_syn_recv) /* segments to half-open connections    \
				   left unanswered: their SYN-ACK or reset     \
				   within 500 ms (Linux's TCPACKSkippedSynRecv) */ \
	OWN(tcp_ack_skipped_time_wait) /* ... to TIME-WAIT connections (Linux's \
				   TCPACKSkippedTimeWait) */                    \
	OWN(ipfrag_overlap)     /* datagrams dropped for an overlapping or       \
				   inconsistent fragment (Linux's ReasmOverlaps) */ \
	OWN(ipfrag_too_many)    /* datagrams dropped for more fragments than     \
				   reassembly holds (64) */                     \
	OWN(ipfrag_options)     /* fragments with IP options reassembled */      \
	OWN(timer_ticks_late)   /* lwIP timer calls made late, caught up */      \
	OWN(timer_ticks_lost)   /* ... given up (more than 10 s late) */         \
	OWN(icmp_limited)       /* ICMP errors about datagrams to us not sent,   \
				   over the rate limit (Linux's icmp_ratelimit) */ \
	OWN(dhcp_refused)       /* DHCP offers and acknowledgements refused      \
				   (docs/netstack.md, Hardening) */             \
	OWN(dhcp_lease_raised)  /* ... taken with a lease raised to 120 s */  \
	OWN(lo_packets)         /* datagrams through the loopback interface     \
				   (to 127/8 or our own address; each counts    \
				   as sent and received, as Linux's lo) */      \
	OWN(lo_bytes)           /* ... their bytes (IP header and payload) */

/* For the tables: a struct field, and a name in an array of strings. */
#define NETMGMT_FIELD(name, ...) uint64_t name;
#define NETMGMT_NAME_OF(name, ...) #name,

struct net_if_counters {
	NET_IF_COUNTERS(NETMGMT_FIELD)
};
#define NET_IF_COUNTERS_WORDS (sizeof(struct net_if_counters) / 8)

struct net_if_info {
	char name[16];                  /* NUL padded */
	uint64_t mac;                   /* first byte lowest */
	uint32_t addr, mask, gw;        /* network byte order; 0 before DHCP */
	uint32_t flags;                 /* NET_IF_* */
	char driver[24];                /* its driver's registered name (NS_NAME_MAX
					   bytes), NUL padded if shorter */
	struct net_if_counters count;
};
#define NET_IF_UP   0x1             /* has an address */
#define NET_IF_DHCP 0x2
#define NET_IF_DRIVER_REFUSED 0x4   /* init refused the netstack the driver's
				       name (no `lookup` line: ERR_NO_RIGHTS) */
#define NET_IF_INFO_WORDS (sizeof(struct net_if_info) / 8)

/* A route (netstack/route.h): to dest/mask, by gateway (0: on the link)
 * out of interface iface (an NETMGMT_IF_INFO index). */
struct net_route {
	uint32_t dest, mask, gateway;   /* network byte order */
	int32_t iface;
	uint32_t metric;
	uint32_t origin;                /* NET_ROUTE_* */
};
#define NET_ROUTE_CONNECTED 0       /* an interface's own network */
#define NET_ROUTE_STATIC    1       /* the configuration */
#define NET_ROUTE_DHCP      2       /* a DHCP lease's router */
#define NET_ROUTE_WORDS (sizeof(struct net_route) / 8)

/* One of the netstack's TCP or UDP pcbs, as Linux's /proc/net/tcp and
 * udp show a socket (proc(5)). */
struct net_sock {
	uint32_t local_addr, remote_addr;       /* network byte order; 0: any */
	uint16_t local_port, remote_port;       /* host byte order; 0: none */
	uint8_t proto;                          /* 6 TCP, 17 UDP */
	uint8_t state;                          /* Linux's TCP_* numbers (include/net/tcp_states.h):
						   1 established .. 10 listen, 11 closing;
						   UDP: 1 connected, 7 not */
	uint8_t reserved[2];
	uint32_t tx_queue;                      /* bytes sent and not acknowledged or not sent yet */
	uint32_t rx_queue;                      /* bytes received and not read (TCP: the window
						   taken; UDP: 0) */
};
#define NET_SOCK_WORDS (sizeof(struct net_sock) / 8)
_Static_assert(sizeof(struct net_sock) == 24, "three words");

/* A neighbour in lwIP's ARP table. */
struct net_arp {
	uint32_t addr;                  /* network byte order; 0: an empty slot */
	int32_t iface;                  /* an NETMGMT_IF_INFO index */
	uint64_t mac;                   /* first byte lowest */
};
#define NET_ARP_WORDS (sizeof(struct net_arp) / 8)

/* A firewall rule as the file says it (or a chain's policy), with its
 * counter (rules with a `counter` statement; a policy counts always). */
struct net_fw_rule {
	uint64_t packets, bytes;
	uint32_t chain;                 /* 0 input, 1 forward, 2 output, 3 prerouting, 4 postrouting */
	uint32_t line;                  /* in the file; 0: a chain not written */
	uint32_t flags;                 /* NET_FW_* */
	uint32_t reserved;
	char text[224];                 /* NUL-terminated; "policy accept" for a policy row */
};
#define NET_FW_COUNTED 0x1          /* packets and bytes count */
#define NET_FW_POLICY  0x2          /* the chain's policy, not a rule */
#define NET_FW_RULE_WORDS (sizeof(struct net_fw_rule) / 8)

struct net_fw_reload {
	int64_t err;                    /* 0 or a negative ERR_* */
	char message[192];              /* what changed, or FILE:LINE:COLUMN: why not */
};
#define NET_FW_RELOAD_WORDS (sizeof(struct net_fw_reload) / 8)

/* The connection table's and NAT's counters, and the filter's. */
#define NET_CT_COUNTERS(X)                                                      \
	X(ct_count)             /* connections now */                           \
	X(ct_max)               /* the table's size (0: no firewall) */         \
	X(ct_memory)            /* its bytes */                                 \
	X(ct_inserted)          /* connections added */                         \
	X(ct_expired)           /* timed out */                                 \
	X(ct_early_dropped)     /* ones not assured dropped for a new one */     \
	X(ct_refused_full)      /* new ones refused: the table was full */      \
	X(ct_invalid)           /* packets classified invalid */                \
	X(ct_removed)           /* removed by a flush or a reopen */            \
	X(nat_translated)       /* connections translated */                    \
	X(nat_ports_exhausted)  /* new ones refused: no free port */             \
	X(nat_clashes)          /* new ones refused: the translation is in use */ \
	X(nat_malformed)        /* packets not rewritten */                     \
	X(fw_rules)             /* rules in force */                            \
	X(fw_dropped)           /* packets dropped by a rule or policy */       \
	X(fw_rejected)          /* ... rejected */                              \
	X(fw_table_full)        /* new connections dropped: the table was full */ \
	X(fw_nat_failed)        /* ... no NAT port or address, or a clash */     \
	X(fw_fragments_dropped) /* later fragments without their first */       \
	X(fw_malformed)         /* datagrams shorter than their headers say */

struct net_ct_stats {
	NET_CT_COUNTERS(NETMGMT_FIELD)
	char file[32];                  /* the rules' file */
};
#define NET_CT_STATS_WORDS (sizeof(struct net_ct_stats) / 8)

/* One connection as Linux's `conntrack -L` prints it. */
struct net_ct_entry {
	uint64_t next;                  /* the cursor for the one after it */
	char text[240];
};
#define NET_CT_ENTRY_WORDS (sizeof(struct net_ct_entry) / 8)

struct net_proto_stats {
	NET_PROTO_COUNTERS(NETMGMT_FIELD, NETMGMT_FIELD)
};
#define NET_PROTO_STATS_WORDS (sizeof(struct net_proto_stats) / 8)

_Static_assert(NET_IF_INFO_WORDS <= IPC_MAX_WORDS && NET_PROTO_STATS_WORDS <= IPC_MAX_WORDS &&
		       NET_FW_RULE_WORDS <= IPC_MAX_WORDS && NET_FW_RELOAD_WORDS <= IPC_MAX_WORDS &&
		       NET_CT_STATS_WORDS <= IPC_MAX_WORDS && NET_CT_ENTRY_WORDS <= IPC_MAX_WORDS,
	       "a management reply fits in one message");

#endif
