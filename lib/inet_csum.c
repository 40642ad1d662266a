/* The Internet checksum and its incremental update: include/lib/inet_csum.h. */
#include "lib/inet_csum.h"

#include "lib/string.h"

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	for (; len >= 2; p += 2, len -= 2)
		s += inet_get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffU) + (s >> 32);
	return (uint32_t)s;
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
