#include <stdlib.h>
#include <string.h>

#include "lib/inet_csum.h"
#include "unit.h"

/* RFC 1071 section 3's example: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
TEST(inet_csum_rfc1071_example)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	CHECK_EQ(inet_fold(inet_sum(b, sizeof(b), 0)), (uint16_t)~0xddf2);
	CHECK_EQ(inet_fold(inet_sum(b, 3, 0)), (uint16_t)~(0x0001 + 0xf200));  /* odd: zero padded */
}

/* Incremental updates agree with summing again, over many random words. */
TEST(inet_csum_incremental_matches_full)
{
	uint8_t pkt[40];

	srand(7);
	for (int round = 0; round < 20000; round++) {
		for (unsigned i = 0; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)rand();
		if (round % 5 == 0)
			memset(pkt, 0xff, 8);           /* edge sums near 0xffff */
		inet_put16(pkt + 10, 0);
		inet_put16(pkt + 10, inet_fold(inet_sum(pkt, sizeof(pkt), 0)));
		uint16_t check = inet_get16(pkt + 10);
		unsigned at = 12 + 2 * (unsigned)(rand() % 14);
		uint16_t old = inet_get16(pkt + at), nw = (uint16_t)rand();
		inet_put16(pkt + at, nw);
		check = inet_csum_replace16(check, old, nw);
		inet_put16(pkt + 10, check);
		CHECK_EQ(inet_fold(inet_sum(pkt, sizeof(pkt), 0)), 0);  /* verifies */
		uint32_t a_old, a_new = (uint32_t)rand() * 2654435761U;
		memcpy(&a_old, pkt + 12, 4);
		memcpy(pkt + 12, &a_new, 4);
		inet_put16(pkt + 10, inet_csum_replace32(inet_get16(pkt + 10), a_old, a_new));
		CHECK_EQ(inet_fold(inet_sum(pkt, sizeof(pkt), 0)), 0);
	}
}

TEST(inet_csum_udp_zero_rule)
{
	CHECK_EQ(inet_udp_csum_replace16(0, 0x1234, 0x4321), 0);       /* none stays none */
	CHECK_EQ(inet_udp_csum_replace32(0, 0x01020304, 0x05060708), 0);
	/* A result of 0 is sent as 0xffff: ~(~c + ~old + new) == 0 when
	 * ~c + ~old + new == 0xffff, e.g. c = 0x1000, old = 0, new = 0x1000. */
	CHECK_EQ(inet_csum_replace16(0x1000, 0, 0x1000), 0);
	CHECK_EQ(inet_udp_csum_replace16(0x1000, 0, 0x1000), 0xffff);
	CHECK_EQ(inet_udp_csum_replace16(0x1000, 0, 0x0800), inet_csum_replace16(0x1000, 0, 0x0800));
}

/* RFC 1071's sum done the plain way: big-endian 16-bit words, an odd last
 * byte padded with zero, the carries folded back at the end. */
static uint32_t reference_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len % 2)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* inet_sum and inet_sum_native against the reference at every length up
 * to 300 bytes and every alignment, on random bytes and on all-ones and
 * all-zero data (where the carries and the two zeros of one's complement
 * show). */
TEST(inet_csum_fast_sums_match_the_reference)
{
	static uint8_t buf[320];

	srand(16);
	for (int kind = 0; kind < 3; kind++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = kind == 0 ? (uint8_t)rand() : kind == 1 ? 0xff : 0;
		for (size_t at = 0; at < 8; at++)
			for (size_t len = 0; len <= 300; len++) {
				uint32_t want = reference_sum(buf + at, len);
				uint16_t native = inet_sum_native(buf + at, len);
				CHECK_EQ((uint16_t)(native << 8 | native >> 8), want);
				CHECK_EQ(inet_fold(inet_sum(buf + at, len, 0)), (uint16_t)~want);
				/* Added to a running sum, large ones included. */
				uint32_t start = (uint32_t)rand() * 2654435761U;
				CHECK_EQ(inet_fold(inet_sum(buf + at, len, start)),
					 inet_fold((uint32_t)((uint64_t)want + (start & 0xffff) + (start >> 16))));
			}
	}
}
