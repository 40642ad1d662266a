#include <stdint.h>
#include <stdlib.h>

#include "idgen.h"
#include "lib/inet_csum.h"
#include "unit.h"

/* The key 00 01 .. 0f, as in SipHash's reference vectors. */
static const struct idgen_key ref_key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

TEST(idgen_siphash_reference_vectors)
{
	uint8_t msg[15];
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	CHECK_EQ(idgen_siphash(&ref_key, msg, 0), 0x726fdb47dd0e0e31ULL);
	CHECK_EQ(idgen_siphash(&ref_key, msg, 15), 0xa129ca6149be45e5ULL);
}

TEST(idgen_isn_follows_the_clock_per_connection)
{
	uint32_t a = idgen_tcp_isn(&ref_key, 0x0201010a, 7, 0x0101010a, 40000, 1000000000ULL);
	uint32_t b = idgen_tcp_isn(&ref_key, 0x0201010a, 7, 0x0101010a, 40000, 1000400000ULL);
	CHECK_EQ(b - a, 100);                   /* 400 µs: 100 ticks of 4 µs */
	/* Another port, another peer, another key: unrelated numbers. */
	uint32_t c = idgen_tcp_isn(&ref_key, 0x0201010a, 7, 0x0101010a, 40001, 1000000000ULL);
	uint32_t d = idgen_tcp_isn(&ref_key, 0x0201010a, 7, 0x0901010a, 40000, 1000000000ULL);
	struct idgen_key other = { 1, 2 };
	uint32_t e = idgen_tcp_isn(&other, 0x0201010a, 7, 0x0101010a, 40000, 1000000000ULL);
	CHECK(c - a > 1000000 && a - c > 1000000);
	CHECK(d - a > 1000000 && a - d > 1000000);
	CHECK(e - a > 1000000 && a - e > 1000000);
}

TEST(idgen_isn_clock_gives_back_when_the_isn_was_made)
{
	uint64_t made = 123456789012345ULL;    /* ns */
	uint32_t isn = idgen_tcp_isn(&ref_key, 0x0201010a, 7, 0x0101010a, 40000, made);
	CHECK_EQ(idgen_tcp_isn_clock(&ref_key, 0x0201010a, 7, 0x0101010a, 40000, isn),
		 (uint32_t)(made / 4000));
	/* The age a guard reads 1 s later: 250000 ticks of 4 µs. */
	uint32_t now = (uint32_t)((made + 1000000000ULL) / 4000);
	CHECK_EQ(now - idgen_tcp_isn_clock(&ref_key, 0x0201010a, 7, 0x0101010a, 40000, isn),
		 250000);
	/* Another connection's ISN read as this one's gives no such time. */
	uint32_t other = idgen_tcp_isn(&ref_key, 0x0201010a, 7, 0x0101010a, 40001, made);
	uint32_t wrong = idgen_tcp_isn_clock(&ref_key, 0x0201010a, 7, 0x0101010a, 40000, other);
	CHECK(wrong - (uint32_t)(made / 4000) > 1000000 && (uint32_t)(made / 4000) - wrong > 1000000);
}

TEST(idgen_ip_id_is_a_permutation_per_flow)
{
	static uint8_t seen[65536];
	for (uint32_t n = 0; n < 65536; n++) {
		uint16_t id = idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0101010a, 17);
		CHECK(!seen[id]);
		seen[id] = 1;
	}
	/* Consecutive counters do not give consecutive IDs, and another
	 * destination sees other IDs for the same counters. */
	unsigned steps_of_one = 0, same = 0;
	for (uint32_t n = 0; n < 1000; n++) {
		uint16_t x = idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0101010a, 17);
		uint16_t y = idgen_ip_id(&ref_key, (uint16_t)(n + 1), 0x0201010a, 0x0101010a, 17);
		uint16_t z = idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0901010a, 17);
		steps_of_one += (uint16_t)(y - x) == 1;
		same += x == z;
	}
	CHECK(steps_of_one < 10);
	CHECK(same < 10);
}

/* The flow's hash is kept between calls: flows, protocols and keys taking
 * turns get the IDs each gets alone. */
TEST(idgen_ip_id_same_whichever_flow_came_before)
{
	struct idgen_key other = { ref_key.k0 ^ 1, ref_key.k1 };
	uint16_t a[50], b[50], c[50], d[50];

	for (unsigned n = 0; n < 50; n++) {
		a[n] = idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0101010a, 6);
		b[n] = idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0901010a, 6);
		c[n] = idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0101010a, 17);
		d[n] = idgen_ip_id(&other, (uint16_t)n, 0x0201010a, 0x0101010a, 6);
	}
	unsigned differ = 0;
	for (unsigned n = 0; n < 50; n++) {
		CHECK_EQ(idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0101010a, 6), a[n]);
		differ += a[n] != b[n] && a[n] != c[n] && a[n] != d[n];
	}
	for (unsigned n = 0; n < 50; n++) {
		CHECK_EQ(idgen_ip_id(&other, (uint16_t)n, 0x0201010a, 0x0101010a, 6), d[n]);
		CHECK_EQ(idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0101010a, 17), c[n]);
		CHECK_EQ(idgen_ip_id(&ref_key, (uint16_t)n, 0x0201010a, 0x0901010a, 6), b[n]);
	}
	CHECK(differ > 40);
}

static uint16_t header_sum(const uint16_t *w, unsigned n)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

TEST(inet_csum_replace16_keeps_right_and_wrong)
{
	/* An IPv4 header as 16-bit words; [5] is the checksum. */
	uint16_t h[10] = { 0x4500, 0x0073, 0x0000, 0x4000, 0x4011, 0, 0xc0a8, 0x0001, 0xc0a8, 0x00c7 };
	h[5] = header_sum(h, 10);
	CHECK_EQ(header_sum(h, 10), 0);
	for (uint32_t v = 0; v < 65536; v += 251) {
		uint16_t g[10];
		for (int i = 0; i < 10; i++)
			g[i] = h[i];
		g[5] = inet_csum_replace16(g[5], g[2], (uint16_t)v);
		g[2] = (uint16_t)v;
		CHECK_EQ(header_sum(g, 10), 0);
		g[5] ^= 0x0100;                 /* wrong stays wrong */
		uint16_t wrong = g[5];
		g[5] = inet_csum_replace16(g[5], g[1], 0x0040);
		g[1] = 0x0040;
		CHECK(header_sum(g, 10) != 0 && g[5] != wrong);
	}
}
