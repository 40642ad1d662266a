#include <stdlib.h>
#include <string.h>

#include "lib/inet_csum.h"
#include "packet_meta.h"
#include "unit.h"

static struct ct_packet ct;
static struct fw_packet fw;

/* An IPv4 header of total length total, protocol proto, 10.0.0.1 -> 10.0.0.2. */
static void ip_header(uint8_t *p, uint8_t proto, size_t total)
{
	memset(p, 0, total);
	p[0] = 0x45;
	inet_put16(p + 2, (uint16_t)total);
	p[9] = proto;
	p[12] = 10, p[15] = 1;
	p[16] = 10, p[19] = 2;
}

TEST(packet_meta_tcp_syn_with_options)
{
	uint8_t p[80];
	/* 20 + 20-byte TCP header + 12 bytes of options + 5 bytes of data. */
	ip_header(p, CT_PROTO_TCP, 57);
	uint8_t *t = p + 20;
	inet_put16(t, 40000);
	inet_put16(t + 2, 80);
	inet_put16(t + 4, 0x0102);
	inet_put16(t + 6, 0x0304);
	inet_put16(t + 10, 9);
	t[12] = 8 << 4;                 /* 32 bytes */
	t[13] = TCP_SYN;
	inet_put16(t + 14, 29200);
	static const uint8_t opts[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 };   /* MSS, NOPs, SACK ok, wscale 7 */
	memcpy(t + 20, opts, sizeof(opts));
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.tuple.sport, 40000);
	CHECK_EQ(ct.tuple.dport, 80);
	CHECK_EQ(ct.tuple.src, 0x0100000a);
	CHECK_EQ(ct.tuple.proto, CT_PROTO_TCP);
	CHECK_EQ(ct.seq, 0x01020304);
	CHECK_EQ(ct.ack, 9);
	CHECK_EQ(ct.window, 29200);
	CHECK_EQ(ct.wscale, 7);
	CHECK_EQ(ct.payload, 5);
	CHECK_EQ(fw.tcp_flags, TCP_SYN);
	CHECK_EQ(fw.dport, 80);
	CHECK_EQ(fw.len, 57);
	/* Not a SYN: the option is not read. */
	t[13] = TCP_ACK;
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.wscale, CT_WSCALE_NONE);
	/* Malformed option lists end the search without reading past them. */
	t[13] = TCP_SYN;
	t[20] = 2, t[21] = 0;           /* length 0 */
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.wscale, CT_WSCALE_NONE);
	memset(t + 20, 1, 11);
	t[31] = 3;                      /* wscale's kind as the last byte */
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.wscale, CT_WSCALE_NONE);
	t[29] = 3, t[30] = 4, t[31] = 7;        /* length past the options */
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.wscale, CT_WSCALE_NONE);
	t[20] = 0, t[29] = 3, t[30] = 3;        /* after the end option */
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.wscale, CT_WSCALE_NONE);
	/* A data offset past the segment, or below 20. */
	t[12] = 15 << 4;
	CHECK_EQ(packet_meta_parse(p, 57, &ct, &fw), PACKET_META_MALFORMED);
	t[12] = 4 << 4;
	CHECK_EQ(packet_meta_parse(p, 57, &ct, &fw), PACKET_META_MALFORMED);
}

TEST(packet_meta_udp_icmp_other)
{
	uint8_t p[64];

	ip_header(p, CT_PROTO_UDP, 30);
	inet_put16(p + 20, 53);
	inet_put16(p + 22, 5353);
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.tuple.sport, 53);
	CHECK_EQ(fw.dport, 5353);
	CHECK_EQ(fw.len, 30);           /* the bytes after the total length are not its */

	ip_header(p, CT_PROTO_ICMP, 28);
	p[20] = ICMP_ECHO_REQUEST;
	inet_put16(p + 24, 777);
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.tuple.sport, 777);
	CHECK_EQ(ct.tuple.dport, ICMP_ECHO_REQUEST);
	CHECK_EQ(fw.icmp_type, ICMP_ECHO_REQUEST);
	CHECK(!ct.quote);

	ip_header(p, CT_PROTO_ICMP, 56);
	p[20] = ICMP_DEST_UNREACH;
	p[21] = 3;
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK(ct.quote == p + 28);
	CHECK_EQ(ct.quote_len, 28);
	CHECK_EQ(fw.icmp_code, 3);
	CHECK_EQ(ct.tuple.sport, 0);

	ip_header(p, 47, 24);           /* GRE: addresses only */
	CHECK_EQ(packet_meta_parse(p, sizeof(p), &ct, &fw), PACKET_META_OK);
	CHECK_EQ(ct.tuple.proto, 47);
	CHECK_EQ(ct.tuple.sport, 0);
}

TEST(packet_meta_malformed_and_fragments)
{
	uint8_t p[64];

	ip_header(p, CT_PROTO_UDP, 28);
	for (size_t len = 0; len < 28; len++)
		CHECK_EQ(packet_meta_parse(p, len, &ct, &fw), PACKET_META_MALFORMED);  /* total > len */
	inet_put16(p + 2, 27);                  /* UDP header cut short */
	CHECK_EQ(packet_meta_parse(p, 28, &ct, &fw), PACKET_META_MALFORMED);
	inet_put16(p + 2, 19);                  /* shorter than the header */
	CHECK_EQ(packet_meta_parse(p, 28, &ct, &fw), PACKET_META_MALFORMED);
	inet_put16(p + 2, 28);
	p[0] = 0x44;
	CHECK_EQ(packet_meta_parse(p, 28, &ct, &fw), PACKET_META_MALFORMED);
	p[0] = 0x65;
	CHECK_EQ(packet_meta_parse(p, 28, &ct, &fw), PACKET_META_MALFORMED);
	p[0] = 0x46;                            /* options: 24 bytes of header */
	CHECK_EQ(packet_meta_parse(p, 28, &ct, &fw), PACKET_META_MALFORMED);
	inet_put16(p + 2, 32);
	CHECK_EQ(packet_meta_parse(p, 32, &ct, &fw), PACKET_META_OK);
	p[0] = 0x45;
	inet_put16(p + 6, 0x2000);              /* more fragments */
	CHECK_EQ(packet_meta_parse(p, 32, &ct, &fw), PACKET_META_FRAGMENT);
	inet_put16(p + 6, 0x0010);              /* an offset */
	CHECK_EQ(packet_meta_parse(p, 32, &ct, &fw), PACKET_META_FRAGMENT);
	CHECK_EQ(fw.proto, CT_PROTO_UDP);
	inet_put16(p + 6, 0x4000);              /* don't fragment: whole */
	CHECK_EQ(packet_meta_parse(p, 32, &ct, &fw), PACKET_META_OK);
	ip_header(p, CT_PROTO_ICMP, 27);
	CHECK_EQ(packet_meta_parse(p, 27, &ct, &fw), PACKET_META_MALFORMED);
	ip_header(p, CT_PROTO_TCP, 39);
	CHECK_EQ(packet_meta_parse(p, 39, &ct, &fw), PACKET_META_MALFORMED);
	/* Every length of random bytes: no read past them (ASan). */
	srand(17);
	for (int round = 0; round < 50000; round++) {
		size_t len = (size_t)(rand() % 64);
		uint8_t *b = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)rand();
		if (len)
			b[0] = (uint8_t)(0x40 | (b[0] & 0xf));
		if (len > 3)
			inet_put16(b + 2, (uint16_t)(rand() % 70));
		if (len > 7)
			b[6] = b[7] = 0;
		packet_meta_parse(b, len, &ct, &fw);
		free(b);
	}
}
