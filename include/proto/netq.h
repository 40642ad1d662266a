/*
 * Packet queues between a NIC driver and its client (the netstack; the
 * reflector and fakenic in tests). docs/netq.md explains the rules; in short:
 *
 * The client owns two kinds of memory and maps both into the driver with
 * NETQ_ATTACH: the driver's rings, private to it (NETQ_RINGS_SIZE bytes),
 * and a pool of packet buffers (physically contiguous DMA memory from
 * init), which one client may share between several drivers so that a
 * frame received by one NIC leaves by another from the same buffer. The
 * driver sees both as one area, offsets from NETQ_DRIVER_AREA:
 *
 *   offset 0                 struct netq_area (written by the client)
 *   NETQ_RING_OFFSET(i)      ring i, one page each: rx-free, rx-ready,
 *                            tx-ready, tx-done
 *   NETQ_HEAP_OFFSET         the client's heap, if it gives one (heap_size
 *                            bytes, read-only to the driver): frames the
 *                            client built there go to tx-ready by reference
 *   NETQ_POOL_OFFSET         the pool: nbufs packet buffers of
 *                            NETQ_BUF_SIZE bytes (pool_size bytes mapped)
 *
 * Each ring is single-producer/single-consumer and carries descriptors
 * (offset, length, offload metadata) naming bytes inside the pool, as
 * offsets in that area:
 *
 *   rx-free   client -> driver   empty buffers for the NIC to receive into
 *   rx-ready  driver -> client   received frames
 *   tx-ready  client -> driver   frames to send
 *   tx-done   driver -> client   sent frames' buffers, back to their owner
 *
 * A buffer is owned by exactly one side at a time: the one that last took
 * it from a ring, or the client when it is in no ring. The client can
 * therefore reclaim every buffer when the driver dies: whatever it pushed
 * to rx-free or tx-ready and did not get back. A frame in the heap
 * (NETQ_OFFLOAD_TX_HEAP) is held the same way, by the client, from
 * tx-ready until tx-done brings its offset back.
 *
 * Signalling: a consumer that finds its ring empty sets `waiting`, checks
 * again, and only then sleeps; a producer that pushed signals the other
 * side's notification only when it takes `waiting` from 1 to 0. A busy
 * link therefore costs no signals at all. A producer that must wait for
 * room does the same with `space_waiting`, and the consumer signals it.
 */
#ifndef MICA_PROTO_NETQ_H
#define MICA_PROTO_NETQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/address_map.h"

#define NETQ_MAGIC      0x4E45545155455545ULL  /* "NETQUEUE" */
#define NETQ_VERSION    6            /* 2: rings and pool mapped apart; 3: offload metadata;
					4: frames over several buffers, TSO; 5: transmit
					chains without TSO (TX_SG), short chain heads;
					6: the client's heap, read-only (TX_HEAP) */
#define NETQ_RING_SIZE  256          /* descriptors per ring, a power of two */
#define NETQ_BUF_SIZE   2048         /* one packet buffer; aligned to its size */
#define NETQ_FRAME_MAX  1518         /* largest frame (1514 + a VLAN tag), no FCS */
#define NETQ_CHAIN_MAX  36           /* descriptors (buffers) of one frame at most */
#define NETQ_CHAIN_HEAD_MIN (14 + 60 + 60) /* a received chain's first descriptor holds its headers:
					      Ethernet, IPv4 and TCP with the most options */
#define NETQ_TX_CHAIN_HEAD_MIN 54    /* a transmitted chain's: Ethernet, IPv4, TCP at least */
#define NETQ_GSO_FRAME_MAX 65535     /* largest TSO4 frame, Ethernet header included */
#define NETQ_SEG_MIN    64           /* a TSO4 frame's segment size (TCP payload bytes) */
#define NETQ_SEG_MAX    (NETQ_FRAME_MAX - 14 - 20 - 20)
#define NETQ_PAGE       4096
#define NETQ_RING_PAGES  2            /* a ring's size in pages */
#define NETQ_RING_OFFSET(i) ((uint32_t)NETQ_PAGE * (1 + NETQ_RING_PAGES * (i)))
#define NETQ_RINGS_LOG2  16          /* the header and rings: 64 KiB (9 pages used) */
#define NETQ_RINGS_SIZE  (1U << NETQ_RINGS_LOG2)
#define NETQ_POOL_LOG2_MAX 29        /* a pool of at most 512 MiB */
#define NETQ_POOL_OFFSET (1U << NETQ_POOL_LOG2_MAX)  /* where the pool lies in the area */
#define NETQ_HEAP_LOG2_MAX 28        /* a heap of at most 256 MiB */
#define NETQ_HEAP_OFFSET (1U << NETQ_HEAP_LOG2_MAX)  /* where the heap lies in the area */

enum netq_ring_id {
	NETQ_RX_FREE = 0,
	NETQ_RX_READY = 1,
	NETQ_TX_READY = 2,
	NETQ_TX_DONE = 3,
	NETQ_RINGS = 4,
};

/*
 * What travels in the rings: where a frame (or an empty buffer) is, as a
 * byte offset from the start of the area, its length, and what the NIC
 * did or is to do about its checksum and segmentation (docs/netq.md,
 * "Offloads"). For rx-free the offset is a buffer's start and the rest is
 * ignored (zero). A descriptor never crosses its buffer's end; a frame
 * longer than a buffer is a chain of descriptors (MORE). On tx-ready, to a
 * driver that offers NETQ_OFFLOAD_TX_HEAP, a descriptor may instead name
 * bytes of the client's heap (at most NETQ_FRAME_MAX, inside heap_size; a
 * chain may mix both). tx-done returns descriptors' offsets unchanged, one
 * by one (a chain's too).
 *
 * flags (NETQ_F_*):
 *   CSUM_PARTIAL  tx-ready: the device is to complete the checksum: sum
 *                 the frame from csum_start (bytes from the frame's first
 *                 byte) to its end, fold, invert (0 sent as 0xffff) and
 *                 store it big-endian at csum_start + csum_offset, where
 *                 the sender left the folded, uninverted pseudo-header
 *                 sum (RFC 793/768). Only to a driver that offers
 *                 NETQ_OFFLOAD_TX_CSUM.
 *                 rx-ready: the frame's checksum is in that state (the
 *                 host left it to us, virtio NEEDS_CSUM); its data came
 *                 from the host's memory, not the wire, so it is not
 *                 verified; a client that sends it on completes it.
 *   CSUM_VALID    rx-ready: the device verified the TCP or UDP checksum
 *                 of this unfragmented IPv4 frame (virtio DATA_VALID,
 *                 e1000 TCPCS without TCPE).
 *   IP_VALID      rx-ready: the device verified the IPv4 header checksum
 *                 (e1000 IPCS without IPE).
 *   MORE          rx-ready, tx-ready: the next descriptor in this ring
 *                 continues this frame (its bytes follow these). A frame
 *                 is at most NETQ_CHAIN_MAX descriptors, published at once
 *                 (netq_push_chain): one whose last visible descriptor
 *                 still says MORE is refused. The first descriptor carries
 *                 the frame's metadata and its headers: on rx-ready at
 *                 least NETQ_CHAIN_HEAD_MIN bytes, on tx-ready at least
 *                 NETQ_TX_CHAIN_HEAD_MIN (a header buffer of its own, the
 *                 payload in slices of other buffers; a driver that
 *                 needs more of the headers, TSO4's TCP options, refuses
 *                 a frame whose first descriptor does not hold them);
 *                 the others only MORE (or nothing, the last). Only with
 *                 NETQ_OFFLOAD_RX_TSO4 (rx-ready) or TX_SG or TX_TSO4
 *                 (tx-ready).
 *   TSO4          the frame is a TCP/IPv4 aggregate of segments of
 *                 seg_size payload bytes (virtio's GSO_TCPV4, gso_size):
 *                 rx-ready: the host merged them, or the driver did
 *                 (receive merging, docs/drivers.md), with CSUM_PARTIAL
 *                 or CSUM_VALID; tx-ready: the device is to cut it into
 *                 segments of seg_size (with CSUM_PARTIAL at the TCP
 *                 header's checksum field; the driver may rewrite the
 *                 headers' checksum fields in place). Up to
 *                 NETQ_GSO_FRAME_MAX bytes in all (else NETQ_FRAME_MAX).
 * csum_start, csum_offset: with CSUM_PARTIAL only (else 0).
 * seg_size: with TSO4 only, NETQ_SEG_MIN..NETQ_SEG_MAX (else 0).
 */
struct netq_desc {
	uint32_t offset;
	uint16_t len;
	uint16_t flags;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t seg_size;
	uint16_t reserved;      /* 0 */
};
#define NETQ_F_CSUM_PARTIAL 0x1
#define NETQ_F_CSUM_VALID   0x2
#define NETQ_F_IP_VALID     0x4
#define NETQ_F_MORE         0x8
#define NETQ_F_TSO4         0x10
#define NETQ_F_RX_KNOWN     (NETQ_F_CSUM_PARTIAL | NETQ_F_CSUM_VALID | NETQ_F_IP_VALID)
#define NETQ_F_TX_KNOWN     NETQ_F_CSUM_PARTIAL
#define NETQ_F_TSO_KNOWN    (NETQ_F_MORE | NETQ_F_TSO4)
#define NETQ_F_SG_KNOWN     NETQ_F_MORE

/* What a driver offers, NETQ_ATTACH's reply word 3 (NETQ_OFFLOAD_*):
 * TX_CSUM: it completes CSUM_PARTIAL frames on tx-ready; RX_CSUM: its
 * rx-ready frames may carry CSUM_VALID, IP_VALID or CSUM_PARTIAL; RX_TSO4:
 * its rx-ready frames may be chains (MORE) and TSO4 aggregates; TX_TSO4:
 * it takes chains and TSO4 frames on tx-ready; TX_SG: it takes chains
 * (MORE) on tx-ready, frames of at most NETQ_FRAME_MAX gathered from
 * several buffers (Linux's NETIF_F_SG); TX_HEAP: it takes tx-ready
 * descriptors in the client's heap and never writes a frame it sends (so
 * the heap can be mapped to it read-only). Each is switched off by the
 * driver's manifest arguments (docs/drivers.md). */
#define NETQ_OFFLOAD_TX_CSUM 0x1
#define NETQ_OFFLOAD_RX_CSUM 0x2
#define NETQ_OFFLOAD_RX_TSO4 0x4
#define NETQ_OFFLOAD_TX_TSO4 0x8
#define NETQ_OFFLOAD_TX_SG   0x10
#define NETQ_OFFLOAD_TX_HEAP 0x20

/*
 * Indices run freely (they wrap at 2^32); the ring holds head - tail
 * entries, at most NETQ_RING_SIZE. head is written only by the producer,
 * tail only by the consumer, each in its own cache line. waiting is set by
 * the consumer and cleared by the producer; space_waiting the other way
 * round; always atomically.
 */
struct netq_ring {
	uint32_t head;
	uint32_t space_waiting; /* the producer waits for room (set by it,
				   taken by the consumer) */
	uint8_t pad0[56];
	uint32_t tail;
	uint32_t waiting;       /* the consumer waits for entries */
	uint8_t pad1[56];
	struct netq_desc desc[NETQ_RING_SIZE];
};
_Static_assert(sizeof(struct netq_desc) == 16, "a descriptor is 16 bytes");
_Static_assert(sizeof(struct netq_ring) <= NETQ_RING_PAGES * NETQ_PAGE, "a ring fits its pages");
_Static_assert(NETQ_RING_OFFSET(NETQ_RINGS) <= 1U << NETQ_RINGS_LOG2, "the rings fit the area");

struct netq_area {
	uint64_t magic;         /* NETQ_MAGIC */
	uint32_t version;       /* NETQ_VERSION */
	uint32_t ring_size;     /* NETQ_RING_SIZE */
	uint32_t buf_size;      /* NETQ_BUF_SIZE */
	uint32_t pool_offset;   /* NETQ_POOL_OFFSET */
	uint32_t nbufs;
	uint32_t pool_size;     /* bytes mapped, a power of two (nbufs * buf_size) */
	uint32_t heap_size;     /* the heap's bytes mapped (read-only), a power of two, or 0 */
};

static inline struct netq_ring *netq_ring(void *area, enum netq_ring_id id)
{
	return (struct netq_ring *)((uint8_t *)area + NETQ_RING_OFFSET(id));
}

/* Where the byte at offset (in the pool) is in a pool mapped at pool. */
static inline uint8_t *netq_pool_byte(uint8_t *pool, uint32_t offset)
{
	return pool + (offset - NETQ_POOL_OFFSET);
}

/* The start of the pool buffer holding the byte at offset (in the pool). */
static inline uint32_t netq_buffer_start(uint32_t offset)
{
	return offset - (offset - NETQ_POOL_OFFSET) % NETQ_BUF_SIZE;
}

/* Ring operations (lib/netq.c), with the memory ordering spelled out. */
void netq_ring_reset(struct netq_ring *r);
unsigned netq_count(const struct netq_ring *r);            /* entries ready (consumer) */
unsigned netq_space(const struct netq_ring *r);            /* free slots (producer) */
/* Producer: push one; false when full. Does not signal. */
bool netq_push(struct netq_ring *r, struct netq_desc d);
/* Producer: push n descriptors (a frame's chain) and publish them at
 * once; false (nothing pushed) when fewer than n slots are free. */
bool netq_push_chain(struct netq_ring *r, const struct netq_desc *d, unsigned n);
/* Producer, after a batch of pushes: true when the consumer was waiting
 * (it is no longer), so the caller must signal it. */
bool netq_wake_needed(struct netq_ring *r);
/* Consumer: take one; false when empty. */
bool netq_pop(struct netq_ring *r, struct netq_desc *d);
/* Consumer, looking without taking: the i-th entry waiting (0 is the one
 * netq_pop would take next) into *d; false when fewer than i + 1 wait.
 * Reads head with acquire, like netq_pop, and moves nothing. Off the data
 * path: a driver's fault injection, and test drivers, use it to see which
 * buffers the other side has given and they have not taken yet. */
bool netq_peek(const struct netq_ring *r, unsigned i, struct netq_desc *d);
/* Consumer, before taking a batch: a producer whose head claims more than
 * NETQ_RING_SIZE entries has scribbled on the ring; give up on the whole
 * claim (tail := head, a release store) so that it cannot keep the
 * consumer busy. Returns true when it did: the caller counts it; what the
 * ring held is not read. The netstack calls it on rx-ready and tx-done. */
bool netq_skip_overrun(struct netq_ring *r);
/* Consumer, before sleeping: announce it, then check again. Returns true
 * when it may sleep (the ring is still empty); false when entries arrived
 * meanwhile (waiting is withdrawn). */
bool netq_prepare_wait(struct netq_ring *r);

/* The same handshake the other way, for a producer that needs room:
 * prepare_wait_space returns true when it may sleep (fewer than `need`
 * free slots); the consumer calls space_wake_needed after taking entries
 * and signals the producer when it returns true. */
bool netq_prepare_wait_space(struct netq_ring *r, unsigned need);
bool netq_space_wake_needed(struct netq_ring *r);

/* Check a descriptor from the other side against the area: a whole frame
 * inside one pool buffer. rx-free descriptors must name a buffer start. */
bool netq_desc_valid(const struct netq_area *a, struct netq_desc d, bool buffer_start);
/* A tx-ready descriptor to a driver that offers NETQ_OFFLOAD_TX_HEAP: as
 * netq_desc_valid, or 1..NETQ_FRAME_MAX bytes inside the heap. */
bool netq_tx_desc_valid(const struct netq_area *a, struct netq_desc d);
/* Check a descriptor's offload metadata (its frame already checked with
 * netq_desc_valid): only the flags `known` allows (NETQ_F_RX_KNOWN,
 * NETQ_F_TX_KNOWN or fewer, with NETQ_F_TSO_KNOWN's for a TSO driver),
 * reserved 0; with CSUM_PARTIAL a checksum field inside this descriptor's
 * bytes past an Ethernet and an IPv4 header (csum_start >= 34,
 * csum_start + csum_offset + 2 <= len); without it, csum_start and
 * csum_offset 0; with TSO4, CSUM_PARTIAL or CSUM_VALID and seg_size
 * NETQ_SEG_MIN..NETQ_SEG_MAX, and with CSUM_PARTIAL too, TCP's checksum
 * field (csum_offset 16) and a whole TCP header in this descriptor
 * (csum_start + 20 <= len: a driver reads the header's data offset
 * there); without TSO4, seg_size 0. */
bool netq_meta_valid(struct netq_desc d, uint16_t known);

/* A frame's descriptors as the consumer takes them, one by one
 * (netq_chain_add), then judged whole (netq_chain_valid). */
struct netq_chain {
	struct netq_desc first; /* the frame's first descriptor: its metadata */
	uint32_t len;           /* bytes in all */
	unsigned n;             /* descriptors */
	bool bad;               /* one broke a rule (the caller may set it too) */
	bool tx;                /* set by a consumer of tx-ready before the first:
				   its head rule is NETQ_TX_CHAIN_HEAD_MIN */
};
/* Add d (c zeroed before the first); returns true while the frame goes
 * on (d says MORE). A descriptor past NETQ_CHAIN_MAX, or one after the
 * first carrying anything but MORE, makes the frame bad; the caller keeps
 * taking until the frame's end, so the next frame starts where it should. */
bool netq_chain_add(struct netq_chain *c, struct netq_desc d);
/* The whole frame: not bad, at most NETQ_CHAIN_MAX descriptors, 14 bytes
 * at least, at most NETQ_FRAME_MAX (NETQ_GSO_FRAME_MAX with TSO4), its
 * first descriptor's metadata valid for `known`; if it is a chain, MORE in
 * `known` and NETQ_CHAIN_HEAD_MIN bytes in its first descriptor
 * (NETQ_TX_CHAIN_HEAD_MIN with c->tx), so that the headers lie in one
 * piece. */
bool netq_chain_valid(const struct netq_chain *c, uint16_t known);
/* Check an area header written by the client against the pool's size as
 * mapped; NULL if fine, else why. */
const char *netq_area_check(const struct netq_area *a, uint64_t pool_size);

/*
 * Driver IPC protocol (the driver's endpoint, registered with the name
 * service under its interface name, e.g. "eth0"). The name is private
 * (NS_REGISTER_PRIVATE): init gives it only to a program whose manifest
 * has `lookup eth0` (the netstack; docs/manifest.md), since its holder
 * can attach in place of the netstack, see every frame and send any. The
 * copy registered is badged NETQ_BADGE_CLIENT, so nobody but the driver
 * holds an unbadged one (from which any badge could be copied); the
 * driver refuses a request with another badge (ERR_NO_RIGHTS).
 *
 *   NETQ_ATTACH  words: [0] physical address of the pool, [1] log2 of
 *                its size (16..NETQ_POOL_LOG2_MAX), and with a heap [2]
 *                its physical address, [3] log2 of its size
 *                (16..NETQ_HEAP_LOG2_MAX; the area's heap_size). items: the
 *                rings (IPC_ITEM_MAP, read/write, NETQ_RINGS_SIZE bytes, to
 *                NETQ_DRIVER_AREA), the pool (IPC_ITEM_MAP, read/write, to
 *                NETQ_DRIVER_AREA + NETQ_POOL_OFFSET; every page present),
 *                the heap if any (IPC_ITEM_MAP, read-only, to
 *                NETQ_DRIVER_AREA + NETQ_HEAP_OFFSET; physically
 *                contiguous, every page present),
 *                and the client's notification (IPC_ITEM_CAP), which the
 *                driver signals with NETQ_SIGNAL_QUEUE when rx-ready or
 *                tx-done got entries while the client waited.
 *                The driver stops the NIC, forgets any earlier area,
 *                takes the new one (rings must be reset by the client),
 *                and starts the NIC.
 *                reply: label 0 or an ERR_* code; words: [0] MAC address
 *                (6 bytes, first byte lowest), [1] link up (1) or down,
 *                [2] the NIC's PCI slot, NETQ_PCI_SLOT(bus, dev, fn),
 *                [3] the offloads it offers (NETQ_OFFLOAD_*);
 *                item: the driver's notification (badged), for the client
 *                to signal when it filled rx-free or tx-ready while the
 *                driver waited.
 *                A driver already attached answers ERR_BUSY: detach first.
 *   NETQ_DETACH  The driver stops the NIC (no DMA into the area after the
 *                reply), returns nothing to the rings, unmaps the area and
 *                drops the notification. The client then owns every buffer
 *                it had given this driver.
 *   NETQ_STATS   reply words: struct netq_stats (NETQ_STATS_WORDS words).
 *   NETQ_FAULT   words: [0] a NETQ_FAULT_* to inject (tests of isolation):
 *                the driver does the wrong thing and is expected to die,
 *                to hang, or (CORRUPT_RINGS) to feed its client wrong
 *                descriptors and go on (docs/drivers.md, injected faults).
 */
#define NETQ_BADGE_CLIENT 0x1   /* the badge of the registered copy */

enum netq_label {
	NETQ_ATTACH = 1,
	NETQ_STATS = 2,
	NETQ_FAULT = 3,
	NETQ_DETACH = 4,
};

/* A driver receives the area at NETQ_DRIVER_AREA (uapi/address_map.h):
 * its window is 2^NETQ_AREA_MAX_LOG2 bytes, the rings and the pool. */
#define NETQ_AREA_MAX_LOG2  30
_Static_assert(NETQ_RINGS_SIZE <= NETQ_HEAP_OFFSET && NETQ_HEAP_OFFSET * 2ULL <= NETQ_POOL_OFFSET &&
	       NETQ_POOL_OFFSET * 2ULL <= 1ULL << NETQ_AREA_MAX_LOG2,
	       "rings, the heap, then the pool, inside the window");

/* A PCI slot as NETQ_ATTACH answers it: bus, device and function, plus
 * one so that 0 says "none". */
#define NETQ_PCI_SLOT(bus, dev, fn) \
	((((uint64_t)(bus) << 8) | ((uint64_t)(dev) << 3) | (uint64_t)(fn)) + 1)

#define NETQ_SIGNAL_QUEUE 0x1   /* the notification bit each side signals */

/* The faults a driver can be told to inject: X(NAME, number, short name,
 * what it does), giving enum netq_fault (NETQ_FAULT_NAME) and the names
 * the console and the driver's messages use. */
#define NETQ_FAULTS(X)                                                              \
	X(WILD_WRITE, 1, "wild", "write past the end of its device memory")         \
	X(FOREIGN_PORT, 2, "port", "touch an I/O port it was not given")            \
	X(KERNEL_READ, 3, "kernel", "read kernel memory")                           \
	X(HANG, 4, "hang", "spin forever")                                          \
	X(CORRUPT_RINGS, 5, "rings", "scribble on the shared rings, then go on")    \
	X(WITHHOLD_TX_DONE, 6, "withhold", "lose one frame of the client's heap: never sent, never back")

enum netq_fault {
#define NETQ_FAULT_ENUM(name, value, word, what) NETQ_FAULT_##name = value,
	NETQ_FAULTS(NETQ_FAULT_ENUM)
#undef NETQ_FAULT_ENUM
};

/* A fault's short name ("rings"), or NULL for a number that is none. */
static inline const char *netq_fault_name(uint64_t kind)
{
#define NETQ_FAULT_WORD(name, value, word, what) if (kind == value) return word;
	NETQ_FAULTS(NETQ_FAULT_WORD)
#undef NETQ_FAULT_WORD
	return NULL;
}

/* Counters a driver keeps; NETQ_STATS returns them word by word. */
struct netq_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_no_buffer;   /* frames the NIC could not take: no buffer posted */
	uint64_t rx_oversize;    /* longer than NETQ_FRAME_MAX, dropped */
	uint64_t rx_errors;      /* bad frames the NIC reported, or runts, dropped */
	uint64_t rx_bad_desc;    /* client descriptors refused by the driver */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_errors;      /* bad tx descriptors (dropped, returned) */
	uint64_t interrupts;
	uint64_t link_up;        /* current state: 1 up, 0 down */
	uint64_t attaches;
};
#define NETQ_STATS_WORDS (sizeof(struct netq_stats) / 8)

#endif
