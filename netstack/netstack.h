/*
 * The netstack server's parts, shared between its files: the interfaces
 * (iface.c, iface_driver.c: one lwIP netif over each NIC driver's queues),
 * the interface configuration (config.c), the services on its endpoint
 * (service.c: the socket service, socket_*.c, and management, netmgmt.c)
 * and the loop that drives them (main.c).
 */
#ifndef MICA_NETSTACK_H
#define MICA_NETSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "lib/mica.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"
#include "proto/netmgmt.h"

#include "config.h"
#include "idgen.h"
#include "lib/appliance_config.h"
#include "route.h"

/* Notification bits of the netstack's one notification (bound to its
 * thread): one per NIC for its driver's queue signals, then the timer,
 * then the name service's signal that a driver's name came or went. */
#define NETSTACK_BIT_NIC(i)    (1UL << (i))
#define NETSTACK_BIT_TIMER     (1UL << 32)
#define NETSTACK_BIT_DRIVERS   (1UL << 33)

/* The most descriptors of lwIP's heap one driver may hold at once: more
 * than tx-ready, what the driver has in flight (no more than tx-done can
 * take back) and an aggregate being merged; a power of two. */
#define TX_HEAP_REFS (4 * NETQ_RING_SIZE)

/* Where a pool buffer is (pool.c, iface.c). A buffer sent in place
 * (tx_hold) is lwIP's and also the sending driver's until that driver's
 * tx-done brings it back. */
enum iface_buf_place {
	BUF_FREE,               /* on the netstack's free stack */
	BUF_RX_POSTED,          /* given to rx-free: the driver's, to receive into */
	BUF_LWIP,               /* a received frame lwIP holds (the pbuf pc) */
	BUF_TX,                 /* a copied frame given to tx-ready: the driver's */
};

/* One pool buffer, and its pbuf while lwIP holds a received frame in it. */
struct iface_buf {
	struct pbuf_custom pc;
	struct iface *iface;            /* BUF_RX_POSTED, BUF_TX: whose driver holds it;
					   BUF_LWIP: where the frame arrived */
	struct iface *tx_iface;         /* tx_hold: whose driver sends it in place */
	uint32_t start;                 /* the buffer's offset (NETQ_POOL_OFFSET + ...) */
	uint32_t tx_offset;             /* the offset given to tx-ready (BUF_TX, tx_hold),
					   or TX_SLICES */
	uint16_t tx_refs;               /* its descriptors in tx-ready or in flight: 1, or
					   with TX_SLICES each slice (segment.c) */
	enum iface_buf_place place;
	struct pbuf *tx_hold;           /* sent in place: released at tx-done */
};
/* tx_offset of a buffer given as several slices (segments' headers, or
 * payload shared by segments): tx-done may name any offset inside it, each
 * taking one of tx_refs; the buffer is released at the last. */
#define TX_SLICES 0

/* The pool every interface shares (pool.c): DMA memory mapped into every
 * driver; offsets are the drivers' (netq.h: NETQ_POOL_OFFSET + byte). */
struct netstack_pool {
	uint8_t *mem;
	uint64_t phys;
	unsigned log2;
	uint32_t nbufs;
	struct iface_buf *bufs;         /* one per buffer */
	uint32_t *free_stack;           /* BUF_FREE buffers (their offsets) */
	uint32_t nfree;
	uint32_t nlwip;                 /* BUF_LWIP buffers */
	uint32_t ntx_hold;              /* of those, sent in place (tx_hold): held for a
					   driver's tx ring, not kept by lwIP */
	uint32_t ntx;                   /* BUF_TX buffers (copies, segments' headers):
					   at most pool_tx_share() */
	uint8_t *heap;                  /* lwIP's heap (LWIP_RAM_HEAP_POINTER) */
	uint64_t heap_phys;             /* with heap_log2: it is one DMA run, mapped */
	unsigned heap_log2;             /* read-only into the drivers; 0: it is not */
};
extern struct netstack_pool pool;

/* The pool for this many interfaces (2 MiB for one or two, 4 MiB for
 * three or four when the manifest's dma= has room for it, else 2 MiB,
 * said), every buffer free, and each interface's rings; 0 or a negative
 * ERR_*. */
long pool_init(unsigned interfaces);
/* lwIP's heap, before pool_init: one DMA run of NETSTACK_HEAP_LOG2 when
 * the manifest's dma= has room for it beside the pool (frames lwIP builds
 * there can then go to a NETQ_OFFLOAD_TX_HEAP driver by reference,
 * tx_heap.c), else the program's heap window; NULL if neither. */
#define NETSTACK_HEAP_LOG2 24
uint8_t *pool_heap_init(void);
/* Interface i's rings (NETQ_RINGS_SIZE bytes, from pool_init). */
uint8_t *pool_rings(unsigned i, uint64_t *phys);
/* The buffer holding the byte at offset, or NULL outside the pool. */
struct iface_buf *pool_buf_at(uint32_t offset);
/* The byte at offset, in our mapping of the pool, or of the heap (an
 * offset below NETQ_POOL_OFFSET: one we gave, tx_heap.c). */
uint8_t *pool_byte(uint32_t offset);
/* Onto the free stack; off it (NULL when empty); the one on top. */
void pool_to_free_stack(struct iface_buf *b);
struct iface_buf *pool_take_free(void);
struct iface_buf *pool_peek_free(void);
/* A buffer for sending (BUF_TX, ifc's) off the free stack; NULL when
 * none is free or sending holds its share (pool_tx_share). */
struct iface_buf *pool_take_tx(struct iface *ifc);
/* b leaves BUF_TX (to the free stack or a rx-free): it no longer counts. */
void pool_leave_tx(struct iface_buf *b);
/* The most BUF_TX buffers at once: a quarter of the pool. */
uint32_t pool_tx_share(void);
/* Buffers the free stack keeps back from the rx-frees: as many as
 * sending may still take (pool_tx_share less what it holds). */
uint32_t pool_rx_reserve(void);
/* lwIP's share of the pool: past it, received frames are copied. */
uint32_t pool_lwip_share(void);
/* The buffers lwIP keeps: BUF_LWIP ones not also waiting in a driver's
 * tx ring (those are bounded by the rings, whatever a remote host does). */
uint32_t pool_lwip_kept(void);
/* A received frame's buffer b goes out in place on ifc as (part of) the
 * pbuf p, which it references until tx-done (pool_tx_unhold returns p,
 * for the caller to free). */
void pool_tx_hold(struct iface_buf *b, struct pbuf *p, struct iface *ifc);
struct pbuf *pool_tx_unhold(struct iface_buf *b);

/*
 * One interface: an lwIP netif over one NIC driver's queues. Its driver
 * comes and goes: `driver` holds the driver's endpoint while `generation`
 * (the name's registration) is known, and `attached` says the driver took
 * the area. While detached nothing is read from the rings; frames lwIP
 * sends are dropped. Only the netstack's one thread touches it.
 */
struct iface {
	struct nic_config cfg;          /* the interface as configured (its name: cfg.name) */
	char driver_name[NS_NAME_MAX + 1];      /* the driver's registered name */
	int conf;                       /* the appliance configuration's interface, or -1 */
	unsigned index;                 /* in ifaces[]; its NETSTACK_BIT_NIC */
	struct netif netif;
	cap_slot_t notify;              /* our notification (badged copies go to the driver) */
	cap_slot_t driver, driver_notif;
	uint64_t generation;            /* of the driver's name; 0: no driver known */
	uint8_t *rings;                 /* the driver's own rings (and header): ours */
	uint64_t rings_phys;
	struct netq_area geom;          /* our copy: the shared header is the driver's to scribble on */
	bool attached, up_reported;
	bool netif_started;             /* the first attach set the netif up */
	bool first_frame_pending;       /* re-attached; no frame through the new driver yet */
	bool retry_armed;               /* an attach retry is waiting in lwIP's timers */
	bool tx_refused;                /* linkoutput refused a frame since the last tcp_txnow */
	bool driver_refused;            /* init's last answer for driver_name: ERR_NO_RIGHTS */
	unsigned retry_ms;
	unsigned rx_posted;             /* buffers in BUF_RX_POSTED for this driver */
	bool pushed_since_flush;        /* into rx-free or tx-ready, since the last iface_flush */
	bool popped_since_flush;        /* out of rx-ready or tx-done, since then */
	struct netq_stats driver_stats; /* the driver's counters, as last read */
	struct tx_coalesce {            /* lwIP's TCP segments merged for a TX_TSO4 NIC (segment.c) */
		struct netq_desc d[NETQ_CHAIN_MAX];     /* the first frame's descriptors (its
							   headers in the first), then the
							   others' payloads */
		unsigned n;
		uint32_t len;           /* bytes in all */
		uint16_t hdr;           /* the first frame's headers: every frame's */
		uint16_t segs;          /* segments merged */
		uint32_t next_seq;      /* the sequence number that may follow */
		uint16_t seg;           /* the first segment's payload: the segment size */
		uint16_t last;          /* the last one's */
		bool psh;
	} coalesce;
	uint32_t offloads;              /* NETQ_OFFLOAD_* the attached driver offers */
	struct tx_heap_ref {            /* frames of lwIP's heap the driver holds (tx_heap.c) */
		uint32_t offset;        /* as given to tx-ready, and as tx-done returns it */
		struct pbuf *p;         /* our reference; NULL: returned (out of order)
					 * or given up (tx_heap_expire) */
		uint32_t seen_ms;       /* when tx_heap_expire first saw it held; 0: not yet */
	} tx_heap[TX_HEAP_REFS];
	uint32_t tx_heap_head, tx_heap_tail;    /* a FIFO in the order given */
	struct net_if_counters counters;        /* the interface's own */
};

extern struct iface ifaces[NETSTACK_MAX_NICS];
extern unsigned nifaces;

/* Set an interface up to the point of attaching: pool, netif (not up
 * yet), a watch on its driver's name. 0 or a negative ERR_* (iface.c). */
long iface_init(struct iface *ifc, cap_slot_t notify);
/* The driver's name came or went (NETSTACK_BIT_DRIVERS), or start-up:
 * take note of a dead driver (reclaim its buffers), attach to a new one.
 * Never waits for a driver (iface_driver.c). */
void iface_driver_changed(struct iface *ifc);
/* Move everything that can move between the rings and lwIP; true if
 * anything did. */
bool iface_service(struct iface *ifc);
/* Signal the driver if it waits for what we gave it. */
void iface_flush(struct iface *ifc);
/* Before sleeping: true when no ring has work for us. */
bool iface_may_sleep(struct iface *ifc);
/* The interface counters, with the driver's (NETMGMT_IF_INFO). */
void iface_counters(struct iface *ifc, struct net_if_counters *c);
/* Ask the driver for its counters into ifc->driver_stats, waiting a few
 * milliseconds at most: one that does not answer in time (or has not
 * answered the last call yet) leaves them as last read (iface_driver.c). */
void iface_read_driver_stats(struct iface *ifc);
/* True while lwIP holds its whole share of the pool (what arrives is
 * then copied out of the pool, iface.c). */
bool iface_pool_low(void);

/* Checks on what arrives from the wire beyond lwIP's, and the TCP
 * sequence numbers and IP IDs (guard.c; lwIP's hooks are declared in
 * port/netstack_hooks.h). */
struct guard_counters {
	uint64_t ip_bad_src;            /* datagrams from a source no host can have */
	uint64_t ip_source_route;       /* datagrams dropped for a source route option */
	uint64_t udp_trimmed;           /* UDP datagrams cut to their length field */
	uint64_t tcp_mss_raised;        /* SYNs whose MSS was raised to the floor */
	uint64_t tcp_far_seq;           /* segments more than 2^30 from rcv_nxt */
	uint64_t tcp_ooseq_aged;        /* out-of-order queues freed for age */
	uint64_t tcp_half_open_evicted; /* SYN_RCVD connections dropped for a new SYN */
	uint64_t tcp_half_open_clocks;  /* ... their ISN clocks worked out (once each) */
	uint64_t tcp_syn_recv_reset;    /* SYN_RCVD connections reset for a SYN in the window */
	uint64_t tcp_syn_recv_dropped;  /* SYNs for SYN_RCVD connections dropped (out of window) */
	uint64_t tcp_options_ignored;   /* MSS and window-scale options made no-operations */
	uint64_t tcp_challenge_ack;     /* challenge ACKs let through (RFC 5961) */
	uint64_t tcp_challenge_ack_limited; /* ... dropped over the limit */
	uint64_t tcp_ack_skipped_syn_recv;  /* answers of SYN_RCVD connections held back */
	uint64_t tcp_ack_skipped_time_wait; /* ... of TIME_WAIT connections */
	uint64_t dhcp_refused;          /* DHCP offers and acks refused */
	uint64_t dhcp_lease_raised;     /* ... taken with their lease raised to the floor */
};
/* Choose the secret key (entropy.c) and say where it came from; before
 * lwip_init. */
void guard_init(void);
/* Start the guard's timer (the out-of-order queues' age); after lwip_init. */
void guard_start(void);
/* A seed for LWIP_RAND, from the key. */
uint64_t guard_seed(void);
const struct guard_counters *guard_counters(void);
/* IPv4 reassembly as Linux's, around lwIP's (reassembly.c). */
struct reassembly_counters {
	uint64_t overlap;               /* datagrams dropped: an overlapping or inconsistent fragment */
	uint64_t too_many;              /* ... more fragments than reassembly holds */
	uint64_t options;               /* fragments with IP options taken */
};
const struct reassembly_counters *reassembly_counters(void);
/* True while reassembly.c drops a datagram through lwIP's timer: its ICMP
 * time exceeded is not sent. */
bool reassembly_dropping(void);
/* lwIP's cyclic timers, called as often as they were due (timers.c). */
struct timers_counters {
	uint64_t late;                  /* calls made late, to catch up */
	uint64_t lost;                  /* calls given up, more than TIMERS_BEHIND_MAX_MS late */
};
/* Take lwIP's cyclic timers over; after lwip_init. */
void timers_start(void);
/* Call every lwIP timer that is due (sys_check_timeouts too). */
void timers_run(void);
/* Milliseconds until the next timer is due, or SYS_TIMEOUTS_SLEEPTIME_INFINITE. */
uint32_t timers_sleeptime(void);
const struct timers_counters *timers_counters(void);
/* ICMP errors lwIP would have sent as an endpoint that the rate limit
 * held back (icmp_limit.c). */
uint64_t icmp_limited(void);
/* A whole TCP segment for this host before lwIP takes it (p at its IPv4
 * header of hlen bytes, the datagram iplen): a new connection's SYN for
 * one in TIME-WAIT ends that TIME-WAIT as Linux's does, so the listener
 * takes the SYN (time_wait.c). */
void time_wait_syn(struct pbuf *p, struct netif *inp, unsigned hlen, unsigned iplen);
/* A segment for pcb (lwIP's TCP input hook, hdr in host order): true when
 * it was a reset at the sequence number a TIME-WAIT expects next, which
 * ended it (pcb is freed), as Linux's with net.ipv4.tcp_rfc1337=0. */
struct tcp_hdr;
struct tcp_pcb;
bool time_wait_reset(struct tcp_pcb *pcb, const struct tcp_hdr *hdr);
/* The netif's input: ethernet_input after the checks lwIP lacks. */
err_t guard_ethernet_input(struct pbuf *p, struct netif *netif);
/* A UDP datagram about to be queued for a socket (lwIP's current IP
 * header is its own): false when its length field is wrong (p is freed,
 * the drop counted); else p is cut to the field. */
bool guard_udp_datagram(struct pbuf *p);
/* An outgoing frame, copied for the driver: its IPv4 ID becomes the
 * keyed permutation of lwIP's counter (idgen_ip_id). */
void guard_ip_id(uint8_t *frame, size_t len);
/* The secret key: RDSEED or RDRAND if the CPU has them, and the TSC's
 * jitter; returns which (entropy.c). */
const char *entropy_key(struct idgen_key *k);

/* A driver attached for the first time: give the interface its place in
 * the appliance configuration (main.c). False when the configuration has
 * no interface for this NIC: it stays down. */
bool netstack_bind(struct iface *ifc, uint64_t pci_slot, const uint8_t mac[6]);
/* The interface's configuration is known: its netif takes the address and
 * MTU (iface.c). */
void iface_configure(struct iface *ifc);

/* Between iface.c (the pool, the data path) and iface_driver.c (the
 * driver's attach, death and re-attach). */
/* Every buffer the driver held is ours again; returns how many. */
unsigned iface_reclaim(struct iface *ifc);
/* Move free buffers to this driver's rx-free while the free stack holds
 * more than half the pool. */
void iface_refill_rx(struct iface *ifc);
/* Frames can go again: let TCP send what linkoutput refused. */
void iface_tx_room_again(struct iface *ifc);
/* The first frame from a new driver arrived (first_frame_pending). */
void iface_first_frame(struct iface *ifc);
/* p is a received frame's pool buffer (one of a chain, maybe): it can be
 * sent from there. */
bool iface_in_pool_buffer(struct pbuf *p);

/* lwIP's own frames sent by reference from its heap (tx_heap.c), to a
 * driver that offers NETQ_OFFLOAD_TX_HEAP when the heap is DMA memory
 * mapped into it read-only: no copy into a pool buffer. The driver's
 * hold is a pbuf reference, taken when given and dropped at tx-done, so
 * lwIP does not rewrite a segment still on its way out (lwIP 2.1's
 * tcp_output_segment_busy) and frees it only after the driver let go.
 * tx_heap_frame: p's descriptors for tx-ready in d (at most
 * TX_HEAP_CHAIN_MAX, MORE on all but the last), how many, or 0 when p
 * cannot go so (not a PBUF_RAM of the heap, then PBUF_ROMs whose bytes
 * lie in it; no such driver; TX_HEAP_REFS would be passed; a chain to a
 * driver without NETQ_OFFLOAD_TX_SG and TX_CSUM, or not a TCP segment
 * with its headers in the first pbuf and its checksum still to make).
 * tx_heap_hold: take the reference for the descriptor at offset.
 * tx_heap_done: tx-done gave offset back; false when it names nothing
 * held. tx_heap_reclaim: the driver is gone: every reference dropped;
 * returns how many. tx_heap_expire: references the driver has kept for
 * TX_HEAP_HOLD_MAX_MS (now_ms: sys_now) are given up (tx_heap_given_up),
 * so that lwIP may send those segments again. */
#define TX_HEAP_CHAIN_MAX 4
unsigned tx_heap_frame(struct iface *ifc, struct pbuf *p, struct netq_desc *d);
void tx_heap_hold(struct iface *ifc, struct pbuf *p, uint32_t offset);
bool tx_heap_done(struct iface *ifc, uint32_t offset);
unsigned tx_heap_reclaim(struct iface *ifc);
void tx_heap_expire(struct iface *ifc, uint32_t now_ms);
/* Descriptors of lwIP's heap ifc's driver holds now. */
uint32_t tx_heap_held(const struct iface *ifc);

/* A forwarded TCP aggregate (p: its frame, Ethernet header first) out of
 * ifc: whole to a NIC that cuts it (NETQ_OFFLOAD_TX_TSO4), else cut here
 * into segments of at most seg_size and the MTU (segment.c). False when
 * not all of it went (counted by the caller). */
bool segment_output(struct iface *ifc, struct pbuf *p, uint16_t seg_size);
/* One of lwIP's own frames, d[0..n-1] (its headers all in d[0]; n is 1
 * for a frame copied into b, BUF_TX, ifc's, and at most
 * TX_HEAP_CHAIN_MAX), for a NIC offering NETQ_OFFLOAD_TX_TSO4: a
 * full-sized TCP segment starts an aggregate, and the segments that follow
 * it on the same connection are added to it (their payloads as more
 * descriptors, not copied again), until segment_flush hands it to the
 * driver as one TSO4 chain, which the NIC cuts back into the very same
 * segments. True when the frame was taken (it is counted by the caller as
 * sent), and given[0..*ngiven-1] are the offsets the driver will get (and
 * give back) for it (a merged frame's headers are not among them); false:
 * not a segment that can be merged (the caller flushes, then sends it as
 * it is). b is NULL for a frame in lwIP's heap (tx_heap.c): the caller
 * holds it by each of given. */
bool segment_coalesce(struct iface *ifc, struct iface_buf *b, const struct netq_desc *d,
		      unsigned n, uint32_t *given, unsigned *ngiven);
/* What is being merged goes to tx-ready now (before any other frame, and
 * at the end of every round of the loop); if it cannot (never: room was
 * kept), every descriptor goes back as if sent (iface_tx_done). */
void segment_flush(struct iface *ifc);
/* The driver gave offset back (tx-done), or a frame given was never
 * pushed: the pool buffer or heap reference it names is let go. false:
 * it names nothing ifc's driver holds. */
bool iface_tx_done(struct iface *ifc, uint32_t offset);
/* Merge lwIP's segments at all (the netstack's `merge=on`; off by default). */
void segment_merge_configure(bool on);

/* The endpoint's services (service.c). Publish the endpoint's names;
 * 0 or a negative ERR_* (said on the console). */
long service_init(cap_slot_t endpoint);
/* Receive on the endpoint (ipc_recv): a request, or the notification.
 * nonblock: -ERR_WOULD_BLOCK at once when nothing is there. */
long service_receive(struct msg *m, cap_slot_t reply, bool nonblock);
/* One request; false when the reply is deferred (the reply object in
 * `reply` is kept; the caller must take another). */
bool service_request(struct msg *m, cap_slot_t reply);
/* Reply label err (0 or an error) and, if 0, n words of w. */
void service_answer(cap_slot_t reply, uint64_t err, const uint64_t *w, unsigned n);
/* The capability the request being served brought, now the caller's to
 * keep; CAP_SLOT_NONE if none. */
cap_slot_t service_take_cap(void);
/* Whether the request being served brought a capability not yet taken. */
bool service_has_cap(void);

/* The socket service (socket_*.c, proto/socket.h). Sessions are badged
 * copies of endpoint. */
void socket_init(cap_slot_t endpoint);
/* A request through a published capability or a session's; as
 * service_request. */
bool socket_request(struct msg *m, cap_slot_t reply);
/* Answer deferred calls whose condition came true; signal sessions. */
void socket_poll(void);
/* Sessions open now, and sessions ended because their client died
 * (sock_sessions, sock_clients_died). */
void socket_sessions(uint64_t *open, uint64_t *died);
/* The most pool buffers one socket's received data keeps now, and the
 * entries copied out of pool buffers so far to give another socket its
 * share (sock_rx_kept_most, sock_rx_collapsed; socket_rx.c). */
void socket_rx_kept(uint64_t *most, uint64_t *collapsed);
/* Bytes lent to lending sessions so far, and pool buffers lent now
 * (sock_rx_lent, sock_rx_lent_now; socket_rx.c). */
void socket_rx_lent(uint64_t *bytes, uint64_t *now);
/* UDP datagrams full socket queues dropped, in all (sock_udp_dropped). */
uint64_t socket_udp_dropped(void);
/* UDP datagrams an interface refused (its transmit queue full), reported
 * to the sender as sent (sock_udp_send_dropped; socket_udp.c). */
uint64_t socket_udp_send_dropped(void);
/* An ICMP error (err: SOCK_E*) about a datagram from src:sport to
 * dst:dport (addresses in network byte order): the error of the UDP
 * socket connected to exactly those, reported once by its next call and
 * by poll (icmp_error.c). None connected so: nothing. */
void socket_udp_error(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, int err);

/* Forwarding (forward.c). On or off, and the static routes (copied). */
void forward_configure(bool on, const struct appliance_route *routes, unsigned n);
/* A datagram from lwIP's IPv4 input hook (after guard.c's checks): 1 when
 * it was taken here (forwarded, or dropped and counted: p is freed), 0
 * when it is lwIP's (for the appliance, or not to be forwarded). */
int forward_ip4(struct pbuf *p, struct netif *inp);
/* Strict reverse-path filtering (as Linux's rp_filter=1): whether a
 * datagram from src that arrived on inp may be taken, that is, a reply to
 * src would leave by inp (the routing table's route for src; a default
 * route's interface takes what no more specific route sends elsewhere).
 * True when inp has no address yet (a DHCP client) or src is 0.0.0.0. */
bool forward_source_valid(const ip4_addr_t *src, struct netif *inp);
/* The interface (ifaces[] index) bound to the appliance configuration's
 * interface conf, or -1 (main.c). */
int forward_iface_of(int conf);
/* True while forward.c hands a datagram to an interface's output. */
bool forward_sending(void);
/* While it does, the segment size of the TCP aggregate it hands over
 * when p is that aggregate (the very pbuf, its Ethernet header put in
 * front by etharp_output), else 0: a frame lwIP sends on the way (an ARP
 * request refreshing the next hop's entry) is a frame like any other. */
uint16_t forward_seg_size(const struct pbuf *p);
/* A forwarded datagram (p at its IPv4 header, TTL already less) out of
 * out to the neighbour next, whose address ARP knows: whole, or cut to
 * the MTU; counted on in (fwd_packets, fwd_fragmented, fwd_not_sent).
 * Takes p. */
void forward_transmit(struct iface *in, struct iface *out, struct pbuf *p, const ip4_addr_t *next,
		      uint16_t seg_size);
/* Tell the source of p (at its IPv4 header) why it went no further
 * (ICMP type, code, and the MTU for fragmentation needed), unless it was
 * an ICMP error or a later fragment, or over the rate; counted on in. */
void forward_icmp_error(struct iface *in, struct pbuf *p, uint8_t type, uint8_t code, uint16_t mtu);
/* Out to next now if ARP knows it, else held until it does (a bounded
 * queue per neighbour), or dropped with ICMP host unreachable when it
 * does not answer (nexthop.c). Takes p. */
void nexthop_output(struct iface *in, struct iface *out, struct pbuf *p, const ip4_addr_t *next,
		    uint16_t seg_size);
/* True when forwarding is on (then prerouting NAT may rewrite a datagram
 * to us and send it on: offload.c). */
bool forward_enabled(void);

/* Checksum offload, per frame (offload.c): the netif's flags at its
 * start; a received frame's checks set before netif->input and reset
 * after it; a frame to send finished for its driver (its descriptor's
 * metadata filled in). */
void offload_init(struct netif *netif);
void offload_rx(struct iface *ifc, uint8_t *frame, struct netq_desc d);
void offload_rx_done(struct iface *ifc);
/* The same for a frame over several buffers, and for every TCP
 * aggregate (TSO4), in one buffer or several (d: its first descriptor,
 * frame its bytes there); an aggregate's segment size is kept for the
 * forwarding path until offload_rx_done (offload_rx_seg_size). */
void offload_rx_chain(struct iface *ifc, uint8_t *frame, struct netq_desc d);
/* The segment size of the aggregate lwIP's input is handling now, or 0. */
uint16_t offload_rx_seg_size(void);
void offload_tx(struct iface *ifc, uint8_t *frame, struct netq_desc *d);
/* A TCP connection's receive window sized by the pool buffers its
 * segments take (rcv_window.c, rcv_window.h): measure what arrived (an
 * in-order pbuf chain lwIP delivered, before it is freed), give back to
 * the window what the reader read (in place of tcp_recved), and give
 * back all that was withheld before closing the connection. */
struct rcv_window;
struct tcp_pcb;
void rcv_window_measure(struct rcv_window *w, const struct pbuf *p);
void rcv_window_recved(struct rcv_window *w, struct tcp_pcb *pcb, uint32_t len);
void rcv_window_release(struct rcv_window *w, struct tcp_pcb *pcb);
/* In a receive callback: lwIP's immediate acknowledgement of the data
 * made a delayed one when it would not open the window and more than
 * half of it is unread (rcv_window_ack_may_wait); the reader's window
 * update, or lwIP's delayed acknowledgement, sends it. Data that filled
 * a gap is acknowledged at once instead (rcv_window_input). */
void rcv_window_ack_policy(struct rcv_window *w, struct tcp_pcb *pcb);
/* Before lwIP takes in a segment for pcb (the TCP input hook): whether
 * pcb holds segments out of order, so that rcv_window_ack_policy
 * acknowledges at once data that fills all or part of that gap (RFC 5681
 * 4.2), which lwIP's tcp_ack would delay every other time. */
void rcv_window_input(const struct tcp_pcb *pcb);
/* Before lwIP's TCP timer: every acknowledgement due (TF_ACK_NOW, or
 * TF_ACK_DELAY, which the fast timer sends) that lwIP's tcp_output would
 * not send, held behind data Nagle's algorithm keeps back, is sent as an
 * empty ACK (RFC 1122 4.2.3.2: a delayed ACK within 0.5 s; lwIP's fast
 * timer drops it); rcv_window_ack_policy does the same for the
 * connection whose data just arrived. */
void rcv_window_acks_flush(void);
/* How many acknowledgements rcv_window_ack_policy made delayed; how many
 * lwIP would have held that were made immediate (of a filled gap) or
 * sent (behind Nagle's algorithm). */
uint64_t rcv_window_acks_delayed(void);
uint64_t rcv_window_acks_forced(void);
/* A static route from the console (kept over rebuilds); remove a static
 * route, the configuration's too (metric -1: the lowest). 0 or a negative
 * ERR_* (NETMGMT_ROUTE_ADD, _DEL). */
long forward_route_add(uint32_t dest, uint64_t prefix_len, uint32_t gateway, uint64_t metric);
long forward_route_del(uint32_t dest, uint64_t prefix_len, long metric);
/* The routing table as it is now (rebuilt when an address changed). */
const struct route_table *forward_table(void);

/* The appliance's services on its interfaces (listen.c): the file's
 * `service` lines apply from now on (without them every service answers
 * everywhere). */
void listen_configure(const struct appliance_config *c);
/* A datagram for the appliance (p at its IPv4 header) that arrived by in:
 * false when it asks for a service that is not on in. */
bool listen_admits(struct pbuf *p, struct iface *in);
/* The TCP port the iperf server listens on; 0: not at all. */
uint16_t listen_iperf_port(void);
/* One answer (an ICMP error, the firewall's reset) may go now: forwarding's
 * ICMP token bucket, taken. */
bool forward_answer_token(void);

/* The firewall's decision points (decide.c): true to let p go on. */
enum decide_point {
	DECIDE_PREROUTING,
	DECIDE_INPUT,
	DECIDE_FORWARD,
	DECIDE_POSTROUTING,
	DECIDE_OUTPUT,
};
bool netstack_decide(enum decide_point point, struct pbuf *p, struct netif *in,
		     struct netif *out);

/* The management service (netmgmt.c, proto/netmgmt.h): answers at once.
 * read_only: the request came through NETMGMT_RO_NAME's capability,
 * which may not change anything (a change is answered ERR_NO_RIGHTS). */
void netmgmt_request(struct msg *m, cap_slot_t reply, bool read_only);

/* loopback.c: lo (127.0.0.1/8) and datagrams to our own addresses,
 * queued by lwIP's netif_loop_output. Deliver what is queued to lwIP's
 * input: whether there was any (more may be queued now). While it
 * delivers, loopback_delivering is true (the guard lets them by). */
bool loopback_poll(void);
extern bool loopback_delivering;
/* icmp_error.c: an ICMP error that arrived for us by inp (p: its IPv4
 * header on), given to the connected UDP socket whose datagram it quotes, if it
 * is a hard error and consistent; p is only looked at. */
void icmp_error_input(struct pbuf *p, const struct netif *inp);

/* Datagrams (and their bytes) delivered through the loop queues: each
 * counted by the guard's input hook as it reaches IPv4's input. */
void loopback_counted(const struct pbuf *p);
void loopback_counters(uint64_t *packets, uint64_t *bytes);
/* Whether n is lo (lwIP's loop_netif, the one netif that is no iface:
 * its state is NULL). */
bool loopback_netif(const struct netif *n);
/* Whether addr (network byte order) is one of ours: an interface's, or
 * 127/8 (what is sent to it stays in this host). */
bool loopback_ours(uint32_t addr);
/* NETMGMT_SOCK_GET: the index-th TCP or UDP pcb (netmgmt_sock.c): 0, or
 * ERR_RANGE past the last. */
uint64_t netmgmt_sock_get(uint64_t index, struct net_sock *out);

#endif
