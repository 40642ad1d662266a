/* Checksum offload metadata and the software fallbacks: proto/netq.h
 * (netq_meta_valid) and lib/netq_csum.c. */
#include <stdlib.h>
#include <string.h>

#include "lib/inet_csum.h"
#include "lib/netq_csum.h"
#include "unit.h"

/* An Ethernet frame with IPv4 (ihl words of header) and TCP or UDP
 * carrying n bytes of payload; returns its length. */
static unsigned make_frame(uint8_t *f, unsigned ihl, uint8_t proto, unsigned n, unsigned seed)
{
	unsigned l4len = (proto == 6 ? 20 : 8) + n, total = ihl * 4 + l4len;

	memset(f, 0, 14 + total);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	ip[0] = (uint8_t)(0x40 | ihl);
	inet_put16(ip + 2, (uint16_t)total);
	ip[8] = 64;
	ip[9] = proto;
	const uint8_t addrs[8] = { 10, 1, 0, 1, 10, 1, 0, 2 };
	memcpy(ip + 12, addrs, 8);
	for (unsigned i = 20; i < ihl * 4; i++)
		ip[i] = 1;                      /* NOP options */
	uint8_t *l4 = ip + ihl * 4;
	srand(seed);
	for (unsigned i = 0; i < l4len; i++)
		l4[i] = (uint8_t)rand();
	if (proto == 6)
		l4[12] = 0x50;                  /* data offset: 5 words */
	else
		inet_put16(l4 + 4, (uint16_t)l4len);
	inet_put16(l4 + (proto == 6 ? 16 : 6), 0);
	return 14 + total;
}

/* The checksum computed the plain way: pseudo header and segment in one
 * buffer, summed 16 bits at a time. */
static uint16_t reference(const uint8_t *f, unsigned len)
{
	const uint8_t *ip = f + 14;
	unsigned ihl = (ip[0] & 15) * 4, l4len = inet_get16(ip + 2) - ihl;
	static uint8_t buf[4096];
	memcpy(buf, ip + 12, 8);
	buf[8] = 0;
	buf[9] = ip[9];
	inet_put16(buf + 10, (uint16_t)l4len);
	memcpy(buf + 12, ip + ihl, l4len);
	inet_put16(buf + 12 + (ip[9] == 6 ? 16 : 6), 0);
	uint32_t sum = 0;
	unsigned n = 12 + l4len;
	for (unsigned i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (n & 1)
		sum += (uint32_t)buf[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	(void)len;
	return c ? c : 0xffff;
}

TEST(netq_csum_fill_and_partial_agree_with_the_reference)
{
	static uint8_t f[2048];
	struct netq_l4 l4;

	for (unsigned round = 0; round < 200; round++) {
		uint8_t proto = round & 1 ? 17 : 6;
		unsigned ihl = 5 + round % 3 * 5 % 11;  /* 5, 10, 15 words: IP options */
		unsigned n = (round * 37) % 1400;       /* odd and even lengths */
		unsigned len = make_frame(f, ihl, proto, n, round);
		CHECK(netq_frame_l4(f, len, &l4));
		CHECK_EQ(l4.l4, 14 + ihl * 4);
		uint16_t want = reference(f, len);
		netq_csum_fill(f, &l4);
		CHECK_EQ(inet_get16(f + l4.csum), want);
		CHECK(netq_csum_ok(f, &l4));
		/* Leaving it to the device, then completing as the device
		 * would: the same checksum. */
		struct netq_desc d = { .offset = 0, .len = (uint16_t)len };
		inet_put16(f + l4.csum, 0);
		netq_csum_leave(f, &l4, &d);
		CHECK(d.flags == NETQ_F_CSUM_PARTIAL && d.csum_start == l4.l4);
		CHECK(netq_meta_valid(d, NETQ_F_TX_KNOWN));
		netq_csum_complete(f, len, d.csum_start, d.csum_offset);
		CHECK_EQ(inet_get16(f + l4.csum), want);
		/* One bit flipped: wrong. */
		f[len - 1] ^= 0x10;
		CHECK(!netq_csum_ok(f, &l4));
	}
}

TEST(netq_csum_udp_zero_is_none_and_a_computed_zero_is_sent_as_ffff)
{
	static uint8_t f[256];
	struct netq_l4 l4;
	unsigned len = make_frame(f, 5, 17, 10, 3);

	CHECK(netq_frame_l4(f, len, &l4));
	inet_put16(f + l4.csum, 0);
	CHECK(netq_csum_ok(f, &l4));            /* 0: no checksum, accepted */
	/* The last payload word chosen so that the sum is 0xffff: the
	 * checksum computes to 0, which UDP (and the devices) send as 0xffff. */
	inet_put16(f + len - 2, 0);
	netq_csum_fill(f, &l4);
	uint32_t rest = (uint16_t)~inet_get16(f + l4.csum);     /* the sum without that word */
	inet_put16(f + len - 2, (uint16_t)~rest);
	netq_csum_fill(f, &l4);
	CHECK_EQ(inet_get16(f + l4.csum), 0xffff);
	CHECK(netq_csum_ok(f, &l4));
}

TEST(netq_frame_l4_refuses_what_it_cannot_offload)
{
	static uint8_t f[256];
	struct netq_l4 l4;
	unsigned len = make_frame(f, 5, 6, 20, 1);

	CHECK(netq_frame_l4(f, len, &l4));
	CHECK(netq_frame_l4(f, len + 6, &l4));  /* Ethernet padding after the datagram */
	CHECK_EQ(l4.end, len);
	CHECK(!netq_frame_l4(f, len - 1, &l4)); /* total length past the frame */
	f[14 + 6] = 0x20;                       /* MF: a first fragment */
	CHECK(!netq_frame_l4(f, len, &l4));
	f[14 + 6] = 0x00;
	f[14 + 7] = 0x01;                       /* a later fragment */
	CHECK(!netq_frame_l4(f, len, &l4));
	f[14 + 7] = 0x00;
	f[14 + 6] = 0x40;                       /* DF is fine */
	CHECK(netq_frame_l4(f, len, &l4));
	f[14 + 9] = 1;                          /* ICMP */
	CHECK(!netq_frame_l4(f, len, &l4));
	f[14 + 9] = 6;
	f[14] = 0x44;                           /* IHL 4 */
	CHECK(!netq_frame_l4(f, len, &l4));
	f[14] = 0x65;                           /* IPv6's version */
	CHECK(!netq_frame_l4(f, len, &l4));
	f[14] = 0x45;
	f[12] = 0x81;                           /* a VLAN tag */
	CHECK(!netq_frame_l4(f, len, &l4));
	f[12] = 0x08;
	inet_put16(f + 16, 20 + 19);            /* TCP shorter than its header */
	CHECK(!netq_frame_l4(f, len, &l4));
	CHECK(!netq_frame_l4(f, 20, &l4));
}

TEST(netq_meta_valid_accepts_only_what_is_defined)
{
	struct netq_desc d = { .offset = 0, .len = 60 };

	CHECK(netq_meta_valid(d, 0));
	d.flags = NETQ_F_CSUM_VALID | NETQ_F_IP_VALID;
	CHECK(netq_meta_valid(d, NETQ_F_RX_KNOWN));
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN));    /* rx-only flags on transmit */
	d.flags = 0x80;
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN));
	d = (struct netq_desc){ .len = 60, .flags = NETQ_F_CSUM_PARTIAL, .csum_start = 34,
				.csum_offset = 16 };
	CHECK(netq_meta_valid(d, NETQ_F_TX_KNOWN));
	CHECK(!netq_meta_valid(d, 0));                  /* a driver without TX_CSUM */
	d.csum_offset = 25;                             /* 34 + 25 + 2 > 60 */
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN));
	d.csum_offset = 24;
	CHECK(netq_meta_valid(d, NETQ_F_TX_KNOWN));
	d.csum_start = 33;                              /* inside the IPv4 header */
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN));
	d = (struct netq_desc){ .len = 60, .csum_start = 34 };  /* offsets without the flag */
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN));
	d = (struct netq_desc){ .len = 60, .seg_size = 1460 };
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN));
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN)); /* seg_size without TSO4 */
	d.flags = NETQ_F_TSO4 | NETQ_F_CSUM_VALID;
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN));    /* a driver without RX_TSO4 */
	CHECK(netq_meta_valid(d, NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN));
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN)); /* tx: partial only */
	d = (struct netq_desc){ .len = 60, .flags = NETQ_F_TSO4 | NETQ_F_CSUM_PARTIAL,
				.csum_start = 34, .csum_offset = 16, .seg_size = 1448 };
	CHECK(netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
	CHECK(netq_meta_valid(d, NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN));
	/* An aggregate's partial checksum is TCP's field, in a whole TCP
	 * header inside the descriptor (virtio-net's tx_frame reads the data
	 * offset at csum_start + 12). */
	d.csum_offset = 6;                              /* UDP's field */
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN));
	d.csum_offset = 0;
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
	d.csum_offset = 16;
	d.csum_start = 41;                              /* 41 + 20 > 60: past the buffer */
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN | NETQ_F_TSO_KNOWN));
	d.csum_start = 40;                              /* 40 + 20 = 60: the header ends there */
	CHECK(netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
	d.len = 59;
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN | NETQ_F_TSO_KNOWN));
	d = (struct netq_desc){ .len = 60, .reserved = 1 };
	CHECK(!netq_meta_valid(d, NETQ_F_RX_KNOWN));
	d = (struct netq_desc){ .len = 0xFFFF, .flags = NETQ_F_CSUM_PARTIAL, .csum_start = 0xFFFF,
				.csum_offset = 0xFFFF };        /* no overflow */
	CHECK(!netq_meta_valid(d, NETQ_F_TX_KNOWN));
}

TEST(netq_sum_native_is_inet_sum_swapped_at_any_length_and_alignment)
{
	static uint8_t buf[2100];

	srand(7);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (unsigned round = 0; round < 3000; round++) {
		unsigned at = (unsigned)rand() % 16, len = (unsigned)rand() % 2048;
		if (round % 7 == 0)
			memset(buf + at, 0xff, len);    /* sums near the carries */
		uint16_t want = (uint16_t)~inet_fold(inet_sum(buf + at, len, 0));
		CHECK_EQ(netq_swap16(netq_sum_native(buf + at, len)), want);
		if (round % 7 == 0)
			for (unsigned i = at; i < at + len; i++)
				buf[i] = (uint8_t)rand();
	}
	CHECK_EQ(netq_sum_native(buf, 0), 0);
}
