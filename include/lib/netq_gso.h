/*
 * Segmentation in software (GSO) of a TCP/IPv4 aggregate (proto/netq.h,
 * NETQ_F_TSO4) for a NIC that cannot cut it itself: each segment is the
 * aggregate's headers, rewritten for it, and seg_size bytes of its
 * payload, as Linux's tcp_gso_segment makes them. Pure logic
 * (lib/netq_gso.c), unit-tested on the host; the caller copies the
 * payload and finishes the TCP checksum (lib/netq_csum.h).
 */
#ifndef MICA_LIB_NETQ_GSO_H
#define MICA_LIB_NETQ_GSO_H

#include <stdbool.h>
#include <stdint.h>

/* Where an aggregate's parts are, in bytes from the frame's start. */
struct netq_gso {
	uint16_t ip;            /* the IPv4 header: 14 */
	uint16_t tcp;           /* the TCP header */
	uint16_t hdr_len;       /* Ethernet, IPv4 and TCP headers with options */
	uint16_t seg_size;      /* TCP payload bytes a segment (the last may have fewer) */
	uint32_t payload;       /* TCP payload bytes in all */
	unsigned nsegs;         /* segments (at least 1) */
};

/*
 * Parse an aggregate whose first `first` bytes are at f (its headers must
 * lie there) and which is `total` bytes long in all: true for an
 * untagged, unfragmented IPv4 frame (IHL 5..15, total length inside the
 * frame) carrying TCP with a well-formed data offset; seg_size is the
 * segment size asked for (at least 1). Bytes past the IPv4 total length
 * (Ethernet padding) are not part of any segment.
 */
bool netq_gso_parse(const uint8_t *f, unsigned first, uint32_t total, uint16_t seg_size,
		    struct netq_gso *g);

/* Segment i's headers (g->hdr_len bytes) into out, from the aggregate's
 * at hdr: IPv4 total length, ID plus i and header checksum; TCP sequence
 * number plus i * seg_size, FIN and PSH on the last segment only, CWR on
 * the first only, checksum field 0. Returns the segment's payload bytes,
 * which start at payload byte i * seg_size. */
unsigned netq_gso_headers(const uint8_t *hdr, const struct netq_gso *g, unsigned i, uint8_t *out);

/*
 * What a NIC that cuts aggregates itself (e1000's TCP segmentation) needs,
 * checked against a tx-ready frame from a client it does not trust: hdr
 * holds the frame's first `first` bytes (a copy: the client may change its
 * own meanwhile), total is the frame's length, d0 its first descriptor.
 * True, with *g filled, for a TSO4 frame (CSUM_PARTIAL at the TCP checksum
 * field, proto/netq.h) that netq_gso_parse takes, whose IPv4 total length
 * is exactly the rest of the frame (no padding to cut as payload), with a
 * payload, whose headers are at most NETQ_GSO_HDR_MAX bytes and lie in
 * the first descriptor, and whose segments (headers plus seg_size) fit
 * max_frame bytes (an Ethernet frame without FCS, 1514).
 */
#define NETQ_GSO_HDR_MAX (14 + 60 + 60)
struct netq_desc;
bool netq_gso_tso_check(const uint8_t *hdr, unsigned first, uint32_t total,
			const struct netq_desc *d0, unsigned max_frame, struct netq_gso *g);

/* The folded, uninverted pseudo-header sum of a parsed aggregate without
 * its length (addresses and protocol only): what a NIC that adds each
 * segment's TCP length itself (e1000, 8254x manual 3.5) wants in the
 * checksum field. */
uint16_t netq_gso_pseudo_sum0(const uint8_t *hdr, const struct netq_gso *g);

#endif
