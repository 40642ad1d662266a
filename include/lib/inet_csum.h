/*
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624),
 * for rewriting headers without summing the whole packet again (NAT, TTL).
 * Pure logic (lib/inet_csum.c), unit-tested on the host.
 *
 * Checksums and 16-bit words are numbers as read big-endian from the
 * packet (inet_get16); addresses are uint32_t in network byte order, as
 * they lie in memory and as lwIP keeps them.
 */
#ifndef MICA_LIB_INET_CSUM_H
#define MICA_LIB_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* The one's-complement sum of data[0..len) (odd length: padded with a
 * zero byte) added to sum, not folded or inverted. */
uint32_t inet_sum(const void *data, size_t len, uint32_t sum);

/* The same sum of data[0..len) as 16-bit words in memory order (an odd
 * last byte padded with zero), folded to 16 bits, not inverted; byte-swapped
 * it is inet_sum's, folded. The one implementation both use: eight bytes
 * a step with the carries added back (four steps a round), which matters
 * under TCG, where every guest instruction costs. lwIP's LWIP_CHKSUM is
 * this (netq_sum_native). */
uint16_t inet_sum_native(const void *data, size_t len);

/* The checksum field for a sum: folded and inverted. */
static inline uint16_t inet_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1624 equation 3: the checksum after one 16-bit word covered by it
 * changed from old to new: HC' = ~(~HC + ~m + m'). */
uint16_t inet_csum_replace16(uint16_t check, uint16_t old, uint16_t new_word);

/* The same for a 32-bit field (an address: both of its words). */
uint16_t inet_csum_replace32(uint16_t check, uint32_t old, uint32_t new_addr);

/*
 * UDP's rule (RFC 768): a checksum of 0 means "none", so it stays 0; a
 * computed 0 is sent as 0xffff. Use on a UDP checksum after the same
 * replacement.
 */
uint16_t inet_udp_csum_replace16(uint16_t check, uint16_t old, uint16_t new_word);
uint16_t inet_udp_csum_replace32(uint16_t check, uint32_t old, uint32_t new_addr);

/* Big-endian 16-bit fields in a packet. */
static inline uint16_t inet_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void inet_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif
