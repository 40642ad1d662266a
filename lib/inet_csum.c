/* The Internet checksum and its incremental update: include/lib/inet_csum.h. */
#include "lib/inet_csum.h"

#include "lib/string.h"

/* a + b with the carry out of bit 63 added back in: the one's-complement
 * sum modulo 2^64 - 1, which 2^16 - 1 divides, so 16-bit words summed
 * four at a time this way fold to their 16-bit sum. */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

uint16_t inet_sum_native(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = 0, w0, w1, w2, w3;
	uint32_t w;
	uint16_t h;

	for (; len >= 32; p += 32, len -= 32) {
		__builtin_memcpy(&w0, p, 8);
		__builtin_memcpy(&w1, p + 8, 8);
		__builtin_memcpy(&w2, p + 16, 8);
		__builtin_memcpy(&w3, p + 24, 8);
		sum = add_carry(sum, w0);
		sum = add_carry(sum, w1);
		sum = add_carry(sum, w2);
		sum = add_carry(sum, w3);
	}
	for (; len >= 8; p += 8, len -= 8) {
		__builtin_memcpy(&w0, p, 8);
		sum = add_carry(sum, w0);
	}
	if (len >= 4) {
		__builtin_memcpy(&w, p, 4);
		sum = add_carry(sum, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		__builtin_memcpy(&h, p, 2);
		sum = add_carry(sum, h);
		p += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		__builtin_memcpy(&h, p, 1);     /* the byte in memory order, then a zero */
		sum = add_carry(sum, h);
	}
	sum = (sum & 0xFFFFFFFF) + (sum >> 32);
	sum = (sum & 0xFFFFFFFF) + (sum >> 32);
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
	uint16_t native = inet_sum_native(data, len);
	uint64_t s = (uint64_t)sum + (uint16_t)(native << 8 | native >> 8);

	return (uint32_t)((s & 0xFFFFFFFF) + (s >> 32));
}

uint16_t inet_csum_replace16(uint16_t check, uint16_t old, uint16_t new_word)
{
	return inet_fold((uint32_t)(uint16_t)~check + (uint16_t)~old + new_word);
}

/* An address's two words as the checksum sees them. */
static void words(uint32_t addr, uint16_t w[2])
{
	uint8_t b[4];

	__builtin_memcpy(b, &addr, 4);          /* inline, not a call */
	w[0] = inet_get16(b);
	w[1] = inet_get16(b + 2);
}

uint16_t inet_csum_replace32(uint16_t check, uint32_t old, uint32_t new_addr)
{
	uint16_t o[2], n[2];

	words(old, o);
	words(new_addr, n);
	return inet_fold((uint32_t)(uint16_t)~check + (uint16_t)~o[0] + (uint16_t)~o[1] + n[0] + n[1]);
}

uint16_t inet_udp_csum_replace16(uint16_t check, uint16_t old, uint16_t new_word)
{
	if (!check)
		return 0;
	check = inet_csum_replace16(check, old, new_word);
	return check ? check : 0xffff;
}

uint16_t inet_udp_csum_replace32(uint16_t check, uint32_t old, uint32_t new_addr)
{
	if (!check)
		return 0;
	check = inet_csum_replace32(check, old, new_addr);
	return check ? check : 0xffff;
}
