/*
 * Receive merging (Linux's GRO, for TCP/IPv4): consecutive in-order
 * segments of one TCP flow, as they come off a NIC that does not merge
 * them itself, joined into one aggregate (proto/netq.h, NETQ_F_TSO4) that
 * the client's TCP takes whole. The rules are Linux's tcp_gro_receive's,
 * kept narrower: untagged IPv4 without options or fragmentation, every IP
 * header field but the total length, ID and checksum the same, the ID one
 * more each segment (or, with DF, the same), the TCP ports,
 * acknowledgement number, window, data offset and option bytes the same,
 * the sequence number right after the last segment's payload, only ACK
 * (and PSH on the last) as flags, every segment but the last exactly the
 * first's payload size. Pure logic (lib/netq_merge.c), unit-tested on the
 * host; the caller verifies each segment's TCP checksum (it needs the
 * whole frame) and holds the frames.
 *
 * Nothing read from a frame is used but through the copy of its headers
 * in struct netq_merge_seg, so a frame changed after it was parsed
 * cannot make merging read or write outside what was checked.
 */
#ifndef MICA_LIB_NETQ_MERGE_H
#define MICA_LIB_NETQ_MERGE_H

#include <stdbool.h>
#include <stdint.h>

/* Ethernet, a 20-byte IPv4 header, TCP with the most options. */
#define NETQ_MERGE_HDR_MAX (14 + 20 + 60)

/* A received segment merging may take: a copy of its headers. */
struct netq_merge_seg {
	uint8_t hdr[NETQ_MERGE_HDR_MAX];
	uint16_t hdr_len;       /* Ethernet, IPv4 and TCP headers */
	uint16_t payload;       /* TCP payload bytes (at least 1) */
	uint16_t id;            /* IPv4 identification */
	uint32_t seq;           /* TCP sequence number */
	uint8_t tcp_flags;      /* ACK, or ACK | PSH */
};

/*
 * Parse the received frame f[0..len) (Ethernet, no FCS): true, with *s
 * filled, for a TCP/IPv4 segment merging may take: untagged IPv4 with a
 * 20-byte header, not a fragment, its total length exactly the rest of
 * the frame (no padding), its header checksum right, TCP with a data
 * offset inside it, flags ACK or ACK | PSH only, and a payload.
 */
bool netq_merge_parse(const uint8_t *f, unsigned len, struct netq_merge_seg *s);

/* An aggregate being gathered. */
struct netq_merge {
	struct netq_merge_seg head;     /* the first segment's headers */
	unsigned n;                     /* segments so far (0: none) */
	uint32_t payload;               /* their payload bytes */
	uint32_t next_seq;              /* the sequence number the next must have */
	uint16_t last_id;               /* the last one's IPv4 ID */
	bool closed;                    /* the last was short or said PSH: nothing follows */
};

/* Start an aggregate with s. It stays alone (nothing is added) when it
 * said PSH, when its payload is out of NETQ_SEG_MIN..NETQ_SEG_MAX, or when
 * it is shorter than a chain's first buffer must be (NETQ_CHAIN_HEAD_MIN). */
void netq_merge_start(struct netq_merge *m, const struct netq_merge_seg *s);

/* Append s if it continues the aggregate (the rules above), which then
 * stays within max_segs segments and NETQ_GSO_FRAME_MAX bytes; false, and
 * m unchanged, if not. */
bool netq_merge_add(struct netq_merge *m, const struct netq_merge_seg *s, unsigned max_segs);

/* The aggregate's headers (m->head.hdr_len bytes) into out: the first
 * segment's, with the IPv4 total length of the whole, its header checksum
 * summed again, and PSH if the last segment said it. */
void netq_merge_headers(const struct netq_merge *m, uint8_t *out);

#endif
