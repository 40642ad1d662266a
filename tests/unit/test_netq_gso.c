/* Software segmentation of TCP/IPv4 aggregates (lib/netq_gso.c). */
#include <stdlib.h>
#include <string.h>

#include "lib/inet_csum.h"
#include "lib/netq_csum.h"
#include "lib/netq_gso.h"
#include "unit.h"

#define PAYLOAD 10000
static uint8_t agg[14 + 60 + 60 + PAYLOAD];

/* An aggregate with ihl and thl bytes of IPv4 and TCP header, the TCP
 * flags given, PAYLOAD bytes of payload; returns its length. */
static unsigned make_aggregate(unsigned ihl, unsigned thl, uint8_t flags)
{
	unsigned n = 14 + ihl + thl + PAYLOAD;

	memset(agg, 0, sizeof(agg));
	agg[12] = 0x08;
	uint8_t *ip = agg + 14, *tcp = ip + ihl;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	inet_put16(ip + 2, (uint16_t)(n - 14));
	inet_put16(ip + 4, 0xFFFE);             /* the ID wraps over the segments */
	inet_put16(ip + 6, 0x4000);             /* DF */
	ip[8] = 63;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x63\x00\x02\xc0\xa8\x0a\x02", 8);
	for (unsigned i = 20; i < ihl; i++)
		ip[i] = 1;                      /* IP options: no-operation */
	inet_put16(tcp, 5555);
	inet_put16(tcp + 2, 40000);
	memcpy(tcp + 4, "\xff\xff\xf0\x00", 4); /* the sequence number wraps too */
	tcp[12] = (uint8_t)(thl / 4 << 4);
	tcp[13] = flags;
	for (unsigned i = 20; i < thl; i++)
		tcp[i] = 1;
	srand(7);
	for (unsigned i = 0; i < PAYLOAD; i++)
		tcp[thl + i] = (uint8_t)rand();
	return n;
}

TEST(netq_gso_segments_rebuild_the_payload_with_right_headers)
{
	static const unsigned shapes[][2] = { { 20, 20 }, { 24, 32 }, { 60, 60 } };

	for (unsigned s = 0; s < 3; s++) {
		unsigned ihl = shapes[s][0], thl = shapes[s][1];
		unsigned n = make_aggregate(ihl, thl, 0x80 | 0x18 | 0x01);     /* CWR PSH ACK FIN */
		struct netq_gso g;
		CHECK(netq_gso_parse(agg, 14 + ihl + thl, n, 1448, &g));
		CHECK_EQ(g.hdr_len, 14 + ihl + thl);
		CHECK_EQ(g.payload, PAYLOAD);
		CHECK_EQ(g.nsegs, (PAYLOAD + 1447) / 1448);
		uint32_t at = 0;
		for (unsigned i = 0; i < g.nsegs; i++) {
			uint8_t seg[1600];
			unsigned len = netq_gso_headers(agg, &g, i, seg);
			CHECK_EQ(len, i + 1 < g.nsegs ? 1448 : PAYLOAD - 1448 * (g.nsegs - 1));
			memcpy(seg + g.hdr_len, agg + g.hdr_len + at, len);
			const uint8_t *ip = seg + 14, *tcp = ip + ihl;
			CHECK_EQ(inet_get16(ip + 2), ihl + thl + len);
			CHECK_EQ(inet_get16(ip + 4), (uint16_t)(0xFFFE + i));
			CHECK_EQ(inet_fold(inet_sum(ip, ihl, 0)), 0);   /* the header sums right */
			uint32_t seq = (uint32_t)inet_get16(tcp + 4) << 16 | inet_get16(tcp + 6);
			CHECK_EQ(seq, 0xfffff000u + at);
			uint8_t want = 0x10;
			if (i == 0)
				want |= 0x80;
			if (i + 1 == g.nsegs)
				want |= 0x08 | 0x01;
			CHECK_EQ(tcp[13], want);
			CHECK(!memcmp(seg + 14 + ihl + 20, agg + 14 + ihl + 20, thl - 20)); /* options */
			struct netq_l4 l4;
			CHECK(netq_frame_l4(seg, g.hdr_len + len, &l4));
			netq_csum_fill(seg, &l4);
			CHECK(netq_csum_ok(seg, &l4));
			at += len;
		}
		CHECK_EQ(at, PAYLOAD);
	}
}

TEST(netq_gso_parse_refuses_what_it_cannot_segment)
{
	unsigned n = make_aggregate(20, 20, 0x10);
	struct netq_gso g;

	CHECK(netq_gso_parse(agg, 54, n, 1448, &g));
	CHECK(!netq_gso_parse(agg, 53, n, 1448, &g));   /* headers past the first buffer */
	CHECK(!netq_gso_parse(agg, 54, n, 0, &g));
	CHECK(!netq_gso_parse(agg, 54, n - 1, 1448, &g));       /* total length past the frame */
	agg[23] = 17;                                   /* UDP */
	CHECK(!netq_gso_parse(agg, 54, n, 1448, &g));
	agg[23] = 6;
	agg[20] = 0x20;                                 /* MF */
	CHECK(!netq_gso_parse(agg, 54, n, 1448, &g));
	agg[20] = 0x40;
	agg[14 + 20 + 12] = 0x40;                       /* TCP data offset 16 */
	CHECK(!netq_gso_parse(agg, 54, n, 1448, &g));
	agg[14 + 20 + 12] = 0xF0;                       /* 60: past the first 54 bytes */
	CHECK(!netq_gso_parse(agg, 54, n, 1448, &g));
	agg[14 + 20 + 12] = 0x50;
	agg[14] = 0x44;                                 /* IHL 4 */
	CHECK(!netq_gso_parse(agg, 54, n, 1448, &g));
	agg[14] = 0x45;
	agg[12] = 0x81;                                 /* VLAN */
	CHECK(!netq_gso_parse(agg, 54, n, 1448, &g));
}

/* What a NIC cutting aggregates itself is given (netq_gso_tso_check): each
 * way a client could lie about one is refused. */
TEST(netq_gso_tso_check_refuses_what_a_nic_must_not_cut)
{
	unsigned n = make_aggregate(20, 32, 0x10);
	struct netq_desc d0 = { .len = 200, .flags = NETQ_F_TSO4 | NETQ_F_CSUM_PARTIAL | NETQ_F_MORE,
				.csum_start = 34, .csum_offset = 16, .seg_size = 1448 };
	struct netq_gso g;

	CHECK(netq_gso_tso_check(agg, 134, n, &d0, 1514, &g));
	CHECK_EQ(g.hdr_len, 14 + 20 + 32);
	CHECK(!netq_gso_tso_check(agg, 134, n + 1, &d0, 1514, &g));     /* bytes past the datagram */
	CHECK(!netq_gso_tso_check(agg, 60, n, &d0, 1514, &g));  /* headers past the first bytes */
	struct netq_desc bad = d0;
	bad.csum_start = 36;
	CHECK(!netq_gso_tso_check(agg, 134, n, &bad, 1514, &g));        /* not the TCP field */
	bad = d0;
	bad.csum_offset = 6;
	CHECK(!netq_gso_tso_check(agg, 134, n, &bad, 1514, &g));
	bad = d0;
	bad.flags &= (uint16_t)~NETQ_F_CSUM_PARTIAL;
	CHECK(!netq_gso_tso_check(agg, 134, n, &bad, 1514, &g));
	bad = d0;
	bad.flags &= (uint16_t)~NETQ_F_TSO4;
	CHECK(!netq_gso_tso_check(agg, 134, n, &bad, 1514, &g));
	bad = d0;
	bad.seg_size = 1449;                    /* 66 + 1449 > 1514 */
	CHECK(!netq_gso_tso_check(agg, 134, n, &bad, 1514, &g));
	bad.seg_size = 1448;
	bad.len = 50;                           /* first descriptor shorter than the bytes given */
	CHECK(!netq_gso_tso_check(agg, 134, n, &bad, 1514, &g));
	agg[14 + 9] = 17;                       /* UDP */
	CHECK(!netq_gso_tso_check(agg, 134, n, &d0, 1514, &g));
	n = make_aggregate(20, 20, 0x10);
	inet_put16(agg + 14 + 6, 0x2000);       /* a fragment (MF) */
	CHECK(!netq_gso_tso_check(agg, 134, n, &d0, 1514, &g));
	/* No payload: nothing to segment. */
	n = make_aggregate(20, 20, 0x10);
	inet_put16(agg + 16, 40);
	CHECK(!netq_gso_tso_check(agg, 134, 54, &d0, 1514, &g));
}

/* The pseudo-header sum without a length, plus a segment's TCP length in
 * ones' complement, is the pseudo-header sum with it (what e1000 adds). */
TEST(netq_gso_pseudo_sum0_plus_length_is_the_pseudo_sum)
{
	unsigned n = make_aggregate(20, 20, 0x10);
	struct netq_gso g;
	struct netq_l4 l4;

	CHECK(netq_gso_parse(agg, 54, n, 1448, &g));
	CHECK(netq_frame_l4(agg, n, &l4));
	uint32_t s = (uint32_t)netq_gso_pseudo_sum0(agg, &g) + (uint32_t)(l4.end - l4.l4);
	CHECK_EQ((uint16_t)~inet_fold(s), netq_pseudo_sum(agg, &l4));
}
