#include <stdint.h>

#include "lib/siphash.h"
#include "unit.h"

/* The paper's Appendix A: key 00 01 .. 0f, message 00 01 .. 0e. */
TEST(siphash_paper_vector)
{
	uint8_t key[16], msg[64];

	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
	/* The reference implementation's vectors for lengths 0, 8 and 63 (its
	 * vectors.h, as little-endian words). */
	CHECK_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
	CHECK_EQ(siphash24(key, msg, 8), 0x93f5f5799a932462ULL);
	CHECK_EQ(siphash24(key, msg, 63), 0x958a324ceb064572ULL);
}

TEST(siphash_key_matters)
{
	uint8_t k1[16] = { 0 }, k2[16] = { 1 };
	const char m[] = "10.0.0.1:1234";

	CHECK(siphash24(k1, m, sizeof(m)) != siphash24(k2, m, sizeof(m)));
	CHECK(siphash24(k1, m, sizeof(m)) != siphash24(k1, m, sizeof(m) - 1));
}
