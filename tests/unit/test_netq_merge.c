/* Receive merging of TCP/IPv4 segments (lib/netq_merge.c). */
#include <string.h>

#include "lib/inet_csum.h"
#include "lib/netq_csum.h"
#include "lib/netq_gso.h"
#include "lib/netq_merge.h"
#include "unit.h"

#define SEG 1448
#define THL 32          /* TCP with 12 bytes of options (timestamps, as Linux sends) */
#define HL (14 + 20 + THL)

/* A segment as a NIC would hand it up: `payload` bytes from the stream
 * at `seq`, IPv4 ID id, DF, the TCP flags given, both checksums right.
 * Returns its length. */
static unsigned make_segment(uint8_t *f, uint32_t seq, uint16_t id, unsigned payload, uint8_t flags)
{
	unsigned n = HL + payload;

	memset(f, 0, HL);
	memcpy(f, "\x52\x54\x00\x12\x34\x56\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	inet_put16(ip + 2, (uint16_t)(n - 14));
	inet_put16(ip + 4, id);
	inet_put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x01\x00\x01\x0a\x01\x00\x02", 8);
	inet_put16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
	inet_put16(tcp, 40000);
	inet_put16(tcp + 2, 5001);
	inet_put16(tcp + 4, (uint16_t)(seq >> 16));
	inet_put16(tcp + 6, (uint16_t)seq);
	memcpy(tcp + 8, "\x11\x22\x33\x44", 4);
	tcp[12] = THL / 4 << 4;
	tcp[13] = flags;
	inet_put16(tcp + 14, 502);
	memcpy(tcp + 20, "\x01\x01\x08\x0a\x00\x00\x10\x00\x00\x00\x20\x00", 12);
	for (unsigned i = 0; i < payload; i++)
		f[HL + i] = (uint8_t)(seq + i);
	struct netq_l4 l4;
	if (netq_frame_l4(f, n, &l4))
		netq_csum_fill(f, &l4);
	return n;
}

static uint8_t frame[2048];

static bool parse(uint32_t seq, uint16_t id, unsigned payload, uint8_t flags,
		  struct netq_merge_seg *s)
{
	return netq_merge_parse(frame, make_segment(frame, seq, id, payload, flags), s);
}

/* Segments merge into one aggregate whose headers are the first's, with
 * the whole's length, a right header checksum and PSH from the last; the
 * aggregate cut again (netq_gso) gives the segments' headers back. */
TEST(netq_merge_joins_a_flow_and_cuts_back_into_its_segments)
{
	struct netq_merge m;
	struct netq_merge_seg s, first;
	uint8_t seg[NETQ_CHAIN_MAX][HL];
	const unsigned n = 5, last = 700;
	uint32_t seq0 = 0xFFFFF000u;            /* the sequence number wraps */

	for (unsigned i = 0; i < n; i++) {
		unsigned len = i + 1 < n ? SEG : last;
		CHECK(parse(seq0 + i * SEG, (uint16_t)(0xFFFE + i), len, i + 1 < n ? 0x10 : 0x18, &s));
		CHECK_EQ(s.hdr_len, HL);
		CHECK_EQ(s.payload, len);
		memcpy(seg[i], frame, HL);
		if (i == 0) {
			first = s;
			netq_merge_start(&m, &s);
		} else {
			CHECK(netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
		}
	}
	CHECK_EQ(m.n, n);
	CHECK_EQ(m.payload, (n - 1) * SEG + last);
	CHECK(!parse(seq0 + (n - 1) * SEG + last, (uint16_t)(0xFFFE + n), SEG, 0x10, &s) ||
	      !netq_merge_add(&m, &s, NETQ_CHAIN_MAX));        /* closed: short and PSH */

	uint8_t agg[HL];
	netq_merge_headers(&m, agg);
	CHECK_EQ(inet_get16(agg + 16), 20 + THL + m.payload);
	CHECK_EQ(inet_fold(inet_sum(agg + 14, 20, 0)), 0);
	CHECK_EQ(agg[14 + 20 + 13], 0x18);
	CHECK(!memcmp(agg, first.hdr, 16));
	CHECK(!memcmp(agg + 18, first.hdr + 18, 6));     /* ID, flags, TTL, protocol */
	CHECK(!memcmp(agg + 26, first.hdr + 26, 21));    /* addresses .. data offset */
	CHECK(!memcmp(agg + 48, first.hdr + 48, HL - 48)); /* window .. options */

	struct netq_gso g;
	CHECK(netq_gso_parse(agg, HL, HL + m.payload, SEG, &g));
	CHECK_EQ(g.nsegs, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t out[HL];
		netq_gso_headers(agg, &g, i, out);
		/* Everything but the TCP checksum, which the cut leaves to be
		 * summed with the payload. */
		CHECK(!memcmp(out, seg[i], 14 + 20 + 16));
		CHECK(!memcmp(out + 14 + 20 + 18, seg[i] + 14 + 20 + 18, THL - 18));
	}
}

/* What ends an aggregate or never starts one. */
TEST(netq_merge_refuses_what_does_not_continue_the_flow)
{
	struct netq_merge m;
	struct netq_merge_seg s, head;

	CHECK(parse(1000, 7, SEG, 0x10, &head));
#define AGAIN() netq_merge_start(&m, &head)
	AGAIN();
	CHECK(parse(1000 + SEG, 8, SEG, 0x10, &s));
	CHECK(netq_merge_add(&m, &s, NETQ_CHAIN_MAX));

	AGAIN();
	CHECK(parse(1000 + SEG + 1, 8, SEG, 0x10, &s));       /* a gap in the sequence */
	CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	CHECK(parse(1000, 8, SEG, 0x10, &s));                 /* the same again */
	CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	CHECK(parse(1000 + SEG, 9, SEG, 0x10, &s));           /* an ID skipped */
	CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	CHECK(parse(1000 + SEG, 7, SEG, 0x10, &s));           /* the same ID, with DF: fine */
	CHECK(netq_merge_add(&m, &s, NETQ_CHAIN_MAX));

	AGAIN();
	CHECK(parse(1000 + SEG, 8, SEG + 1, 0x10, &s));       /* longer than the first */
	CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	CHECK(parse(1000 + SEG, 8, SEG, 0x10, &s));
	CHECK(!netq_merge_add(&m, &s, 1));                      /* no room left */
	static const unsigned field[] = { 14 + 20 + 8, 14 + 20 + 14, 14 + 20 + 25, 14 + 8, 14 + 1,
					  14 + 15, 0 };
	for (unsigned k = 0; k < sizeof(field) / sizeof(field[0]); k++) {
		/* ack, window, an option, TTL, TOS, an address, a MAC */
		AGAIN();
		make_segment(frame, 1000 + SEG, 8, SEG, 0x10);
		frame[field[k]] ^= 1;
		uint8_t *ip = frame + 14;
		inet_put16(ip + 10, 0);
		inet_put16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
		CHECK(netq_merge_parse(frame, HL + SEG, &s));
		CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	}

	/* A short segment or PSH closes it. */
	AGAIN();
	CHECK(parse(1000 + SEG, 8, 100, 0x10, &s));
	CHECK(netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	CHECK(parse(1000 + SEG + 100, 9, 100, 0x10, &s));
	CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));
	/* A head too short to lead a chain stays alone. */
	CHECK(parse(1000, 7, 40, 0x10, &s));
	netq_merge_start(&m, &s);
	CHECK(parse(1040, 8, 40, 0x10, &s));
	CHECK(!netq_merge_add(&m, &s, NETQ_CHAIN_MAX));

	/* No more than 64 KiB in all. */
	AGAIN();
	unsigned k = 1;
	for (;; k++) {
		CHECK(parse(1000 + k * SEG, (uint16_t)(7 + k), SEG, 0x10, &s));
		if (!netq_merge_add(&m, &s, 100))
			break;
	}
	CHECK_EQ(k, (NETQ_GSO_FRAME_MAX - HL) / SEG);
	CHECK(HL + m.payload <= NETQ_GSO_FRAME_MAX);
#undef AGAIN
}

/* Frames merging never takes. */
TEST(netq_merge_parse_takes_only_plain_tcp_segments_with_data)
{
	struct netq_merge_seg s;
	unsigned n;
	static const uint8_t flags[] = { 0x02, 0x12, 0x11, 0x04, 0x14, 0x30, 0x50, 0x90, 0x00 };

	for (unsigned i = 0; i < sizeof(flags); i++)    /* SYN, FIN, RST, URG, ECE, CWR, no ACK */
		CHECK(!parse(1, 1, SEG, flags[i], &s));
	CHECK(!parse(1, 1, 0, 0x10, &s));               /* no payload */
	n = make_segment(frame, 1, 1, 10, 0x10);
	CHECK(netq_merge_parse(frame, n, &s));
	CHECK(!netq_merge_parse(frame, n + 6, &s));     /* Ethernet padding */
	CHECK(!netq_merge_parse(frame, n - 1, &s));     /* cut short */
	frame[14 + 10] ^= 1;                            /* the IPv4 header checksum */
	CHECK(!netq_merge_parse(frame, n, &s));
	n = make_segment(frame, 1, 1, 10, 0x10);
	frame[14] = 0x46;                               /* IP options */
	CHECK(!netq_merge_parse(frame, n, &s));
	n = make_segment(frame, 1, 1, 10, 0x10);
	frame[14 + 6] |= 0x20;                          /* MF */
	CHECK(!netq_merge_parse(frame, n, &s));
	n = make_segment(frame, 1, 1, 10, 0x10);
	frame[14 + 9] = 17;                             /* UDP */
	CHECK(!netq_merge_parse(frame, n, &s));
	n = make_segment(frame, 1, 1, 10, 0x10);
	frame[14 + 20 + 12] = 0x40;                     /* data offset 16 */
	CHECK(!netq_merge_parse(frame, n, &s));
	frame[14 + 20 + 12] = 0xF0;                     /* 60: past the frame's end */
	CHECK(!netq_merge_parse(frame, n, &s));
	n = make_segment(frame, 1, 1, 10, 0x10);
	frame[12] = 0x81;                               /* VLAN */
	CHECK(!netq_merge_parse(frame, n, &s));
}
