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
