/*
 * Checksum offload on the netq rings (proto/netq.h, NETQ_F_CSUM_*): what
 * a client or a driver does to a frame in its buffer when the other side
 * cannot. Pure logic (lib/netq_csum.c), unit-tested on the host.
 *
 * Frames are Ethernet frames (no FCS) as they lie in a pool buffer; only
 * untagged, unfragmented IPv4 carrying TCP or UDP is offloaded.
 */
#ifndef MICA_LIB_NETQ_CSUM_H
#define MICA_LIB_NETQ_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/inet_csum.h"
#include "proto/netq.h"

/* The one's-complement sum of data[0..len) as 16-bit words in memory
 * order, folded, not inverted: lwIP's LWIP_CHKSUM
 * (netstack/port/lwipopts.h) and the checksums below; inet_sum_native
 * (lib/inet_csum.c). Byte-swapped (netq_swap16) it is inet_sum's, folded. */
static inline uint16_t netq_sum_native(const void *data, size_t len)
{
	return inet_sum_native(data, len);
}

static inline uint16_t netq_swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* Where an IPv4 TCP or UDP frame's parts are, in bytes from its start. */
struct netq_l4 {
	uint16_t ip;            /* the IPv4 header: 14 */
	uint16_t l4;            /* the TCP or UDP header */
	uint16_t end;           /* the datagram's end (IPv4 total length) */
	uint16_t csum;          /* the checksum field */
	uint8_t proto;          /* 6 or 17 */
};

/* Parse f[0..len): true for an untagged IPv4 frame, not a fragment, with
 * a well-formed header (IHL 5..15, total length inside the frame) carrying
 * TCP (a 20-byte header at least) or UDP (8 bytes). */
bool netq_frame_l4(const uint8_t *f, unsigned len, struct netq_l4 *l4);

/* The folded, uninverted pseudo-header sum (addresses, protocol, TCP or
 * UDP length) of a parsed frame: what CSUM_PARTIAL leaves in the field. */
uint16_t netq_pseudo_sum(const uint8_t *f, const struct netq_l4 *l4);

/* Leave a parsed frame's checksum to the device: the pseudo-header sum
 * into its field, the flags and offsets into *d. */
void netq_csum_leave(uint8_t *f, const struct netq_l4 *l4, struct netq_desc *d);

/* Complete a CSUM_PARTIAL checksum in software: sum f[start..end) (the
 * field holding the pseudo-header sum included), fold, invert, 0 as
 * 0xffff, into f[start + offset]. The caller checked the offsets
 * (netq_meta_valid) and end. */
void netq_csum_complete(uint8_t *f, unsigned end, unsigned start, unsigned offset);

/* Compute a parsed frame's TCP or UDP checksum in software (a UDP sum of
 * 0 sent as 0xffff), as netq_csum_leave and the device would together. */
void netq_csum_fill(uint8_t *f, const struct netq_l4 *l4);

/* Verify a parsed frame's TCP or UDP checksum: true when it is right
 * (a UDP checksum of 0, "none", is right). */
bool netq_csum_ok(const uint8_t *f, const struct netq_l4 *l4);

#endif
