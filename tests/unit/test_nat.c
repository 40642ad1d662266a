#include <stdlib.h>
#include <string.h>

#include "lib/inet_csum.h"
#include "nat.h"
#include "uapi/errors.h"
#include "unit.h"

static const uint8_t key[16] = { 9 };
static struct conntrack ct;
static uint64_t memory[(256 * sizeof(struct ct_entry) + 512 * 4) / 8 + 1];
static struct nat_counters counters;

static uint32_t ip(unsigned a, unsigned b, unsigned cc, unsigned d)
{
	return a | b << 8 | cc << 16 | d << 24;
}

#define LAN_HOST ip(192, 168, 1, 10)
#define WAN_ADDR ip(203, 0, 113, 1)
#define SERVER ip(198, 51, 100, 7)
#define ROUTER ip(192, 0, 2, 99)

static void fresh(void)
{
	if (conntrack_init(&ct, memory, sizeof(memory), 256, key))
		abort();
	counters = (struct nat_counters){ 0 };
}

/* An IPv4 datagram with valid checksums: 20-byte header, then the
 * transport header and payload bytes. Returns its length. */
static size_t build(uint8_t *pkt, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		    size_t payload)
{
	size_t l4 = proto == CT_PROTO_TCP ? 20 : 8, len = 20 + l4 + payload;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	inet_put16(pkt + 2, (uint16_t)len);
	pkt[8] = 64;
	pkt[9] = proto;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	for (size_t i = 0; i < payload; i++)
		pkt[20 + l4 + i] = (uint8_t)(i * 31 + 7);
	uint8_t *t = pkt + 20;
	if (proto == CT_PROTO_ICMP) {
		t[0] = ICMP_ECHO_REQUEST;
		inet_put16(t + 4, sport);
		inet_put16(t + 2, inet_fold(inet_sum(t, l4 + payload, 0)));
	} else {
		inet_put16(t, sport);
		inet_put16(t + 2, dport);
		if (proto == CT_PROTO_TCP)
			t[12] = 0x50;
		else
			inet_put16(t + 4, (uint16_t)(l4 + payload));
		uint32_t pseudo = inet_sum(pkt + 12, 8, proto + (uint32_t)(l4 + payload));
		uint16_t c = inet_fold(inet_sum(t, l4 + payload, pseudo));
		inet_put16(t + (proto == CT_PROTO_TCP ? 16 : 6), proto == CT_PROTO_UDP && !c ? 0xffff : c);
	}
	inet_put16(pkt + 10, inet_fold(inet_sum(pkt, 20, 0)));
	return len;
}

/* An ICMP error from src to dst quoting quoted[0..qlen), checksums valid. */
static size_t build_icmp_error(uint8_t *pkt, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
			       const uint8_t *quoted, size_t qlen)
{
	size_t len = 28 + qlen;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	inet_put16(pkt + 2, (uint16_t)len);
	pkt[9] = CT_PROTO_ICMP;
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	pkt[20] = type;
	pkt[21] = code;
	memcpy(pkt + 28, quoted, qlen);
	inet_put16(pkt + 22, inet_fold(inet_sum(pkt + 20, len - 20, 0)));
	inet_put16(pkt + 10, inet_fold(inet_sum(pkt, 20, 0)));
	return len;
}

/* Whether every checksum of the datagram verifies. */
static bool checksums_ok(const uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 0xf) * 4, l4 = len - ihl;
	uint8_t proto = pkt[9];

	if (inet_fold(inet_sum(pkt, ihl, 0)) != 0)
		return false;
	if (proto == CT_PROTO_ICMP)
		return inet_fold(inet_sum(pkt + ihl, l4, 0)) == 0;
	if (proto == CT_PROTO_UDP && inet_get16(pkt + ihl + 6) == 0)
		return true;
	return inet_fold(inet_sum(pkt + ihl, l4, inet_sum(pkt + 12, 8, proto + (uint32_t)l4))) == 0;
}

TEST(nat_masquerade_keeps_port_then_probes)
{
	struct ct_tuple reply, reply2;
	struct nat_request masq = { .snat = true, .snat_addr = WAN_ADDR };
	struct ct_packet p = { .tuple = { LAN_HOST, SERVER, 40000, 80, CT_PROTO_TCP }, .tcp_flags = TCP_SYN };

	fresh();
	CHECK_EQ(nat_reply_tuple(&ct, &p.tuple, &masq, 0, 12345, &reply, &counters), 0);
	struct ct_tuple want = { SERVER, WAN_ADDR, 80, 40000, CT_PROTO_TCP };
	CHECK(ct_tuple_equal(&reply, &want));
	CHECK_EQ(conntrack_confirm(&ct, &p, &reply, 0, 0), 0);
	/* Another LAN host, the same source port: moved. */
	struct ct_packet q = p;
	q.tuple.src = ip(192, 168, 1, 11);
	CHECK_EQ(nat_reply_tuple(&ct, &q.tuple, &masq, 0, 12345, &reply2, &counters), 0);
	CHECK(reply2.dport != 40000 && reply2.dport >= NAT_PORT_MIN);
	CHECK_EQ(reply2.dport, NAT_PORT_MIN + 12345 % (65536 - NAT_PORT_MIN));
	CHECK_EQ(conntrack_confirm(&ct, &q, &reply2, 0, 0), 0);
	CHECK_EQ(counters.translated, 2);
	/* Exhausted: the kept port and every probed one taken. */
	for (uint32_t i = 0; i < NAT_PROBES; i++) {
		struct ct_packet f = { .tuple = { ip(10, 0, 0, 1), SERVER, (uint16_t)(NAT_PORT_MIN + (777 + i) % 64512),
						  80, CT_PROTO_TCP }, .tcp_flags = TCP_SYN };
		if (conntrack_tuple_taken(&ct, &(struct ct_tuple){ SERVER, WAN_ADDR, 80, f.tuple.sport, 6 }, 0))
			continue;
		struct ct_tuple r = { SERVER, WAN_ADDR, 80, f.tuple.sport, CT_PROTO_TCP };
		CHECK_EQ(conntrack_confirm(&ct, &f, &r, 0, 0), 0);
	}
	struct ct_tuple q3 = { ip(192, 168, 1, 12), SERVER, 40000, 80, CT_PROTO_TCP };
	CHECK_EQ(nat_reply_tuple(&ct, &q3, &masq, 0, 777, &reply, &counters), -ERR_NO_MEMORY);
	CHECK_EQ(counters.ports_exhausted, 1);
	/* Another start finds a free one. */
	CHECK_EQ(nat_reply_tuple(&ct, &q3, &masq, 0, 5000, &reply, &counters), 0);
}

TEST(nat_dnat_and_clash)
{
	struct ct_tuple reply;
	struct nat_request fwd = { .dnat = true, .dnat_addr = LAN_HOST, .dnat_port = 80 };
	struct ct_packet p = { .tuple = { SERVER, WAN_ADDR, 5555, 8080, CT_PROTO_TCP }, .tcp_flags = TCP_SYN };
	struct ct_entry *e;

	fresh();
	CHECK_EQ(nat_reply_tuple(&ct, &p.tuple, &fwd, 0, 1, &reply, &counters), 0);
	struct ct_tuple want = { LAN_HOST, SERVER, 80, 5555, CT_PROTO_TCP };
	CHECK(ct_tuple_equal(&reply, &want));
	CHECK_EQ(conntrack_confirm(&ct, &p, &reply, 0, &e), 0);
	CHECK(e->flags & CT_F_DNAT && !(e->flags & CT_F_SNAT));
	/* The same from a second WAN port to the same server: the reply tuple
	 * is taken and only source NAT could move it. */
	struct ct_tuple other = { SERVER, WAN_ADDR, 5555, 8081, CT_PROTO_TCP };
	CHECK_EQ(nat_reply_tuple(&ct, &other, &fwd, 0, 1, &reply, &counters), -ERR_BUSY);
	CHECK_EQ(counters.clashes, 1);
	/* A protocol without ports cannot be moved either. */
	struct ct_packet gre = { .tuple = { LAN_HOST, SERVER, 0, 0, 47 } };
	struct nat_request masq = { .snat = true, .snat_addr = WAN_ADDR };
	CHECK_EQ(nat_reply_tuple(&ct, &gre.tuple, &masq, 0, 1, &reply, &counters), 0);
	CHECK_EQ(conntrack_confirm(&ct, &gre, &reply, 0, 0), 0);
	gre.tuple.src = ip(192, 168, 1, 11);
	CHECK_EQ(nat_reply_tuple(&ct, &gre.tuple, &masq, 0, 1, &reply, &counters), -ERR_BUSY);
}

/* A masqueraded TCP connection: both directions rewritten, checksums right. */
TEST(nat_rewrite_tcp_both_ways)
{
	uint8_t pkt[200];
	struct ct_tuple reply;
	struct ct_entry *e;
	struct ct_match m;
	struct nat_request masq = { .snat = true, .snat_addr = WAN_ADDR };
	struct ct_packet syn = { .tuple = { LAN_HOST, SERVER, 40000, 80, CT_PROTO_TCP }, .tcp_flags = TCP_SYN };

	fresh();
	/* Port 40000 is taken, so the port changes too. */
	struct ct_packet taken = { .tuple = { ip(192, 168, 1, 9), SERVER, 40000, 80, CT_PROTO_TCP }, .tcp_flags = TCP_SYN };
	struct ct_tuple r0 = { SERVER, WAN_ADDR, 80, 40000, CT_PROTO_TCP };
	CHECK_EQ(conntrack_confirm(&ct, &taken, &r0, 0, 0), 0);
	CHECK_EQ(nat_reply_tuple(&ct, &syn.tuple, &masq, 0, 99, &reply, &counters), 0);
	CHECK_EQ(conntrack_confirm(&ct, &syn, &reply, 0, &e), 0);

	size_t len = build(pkt, CT_PROTO_TCP, LAN_HOST, SERVER, 40000, 80, 33);
	struct ct_tuple out = nat_target(e, CT_ORIGINAL);
	CHECK_EQ(nat_rewrite(pkt, len, &out), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(!memcmp(pkt + 12, &(uint32_t){ WAN_ADDR }, 4));
	CHECK_EQ(inet_get16(pkt + 20), reply.dport);

	/* The reply comes to the WAN address and translated port. */
	len = build(pkt, CT_PROTO_TCP, SERVER, WAN_ADDR, 80, reply.dport, 0);
	struct ct_packet back = { .tuple = { SERVER, WAN_ADDR, 80, reply.dport, CT_PROTO_TCP },
				  .tcp_flags = TCP_SYN | TCP_ACK, .ack = 1, .window = 1000, .wscale = CT_WSCALE_NONE };
	conntrack_classify(&ct, &back, 1, &m);
	CHECK(m.entry == e && m.dir == CT_REPLY);
	struct ct_tuple in = nat_target(e, CT_REPLY);
	CHECK_EQ(nat_rewrite(pkt, len, &in), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(!memcmp(pkt + 16, &(uint32_t){ LAN_HOST }, 4));
	CHECK_EQ(inet_get16(pkt + 22), 40000);
}

TEST(nat_rewrite_udp_icmp_fragments_and_errors)
{
	uint8_t pkt[200], before[200];
	struct ct_tuple to = { WAN_ADDR, SERVER, 2000, 53, CT_PROTO_UDP };

	size_t len = build(pkt, CT_PROTO_UDP, LAN_HOST, SERVER, 1000, 53, 21);
	CHECK_EQ(nat_rewrite(pkt, len, &to), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(inet_get16(pkt + 26) != 0);
	/* UDP without a checksum stays without. */
	len = build(pkt, CT_PROTO_UDP, LAN_HOST, SERVER, 1000, 53, 21);
	inet_put16(pkt + 26, 0);
	CHECK_EQ(nat_rewrite(pkt, len, &to), 0);
	CHECK_EQ(inet_get16(pkt + 26), 0);
	CHECK(checksums_ok(pkt, len));
	/* ICMP echo: the identifier and the ICMP checksum. */
	struct ct_tuple echo = { WAN_ADDR, SERVER, 4321, ICMP_ECHO_REQUEST, CT_PROTO_ICMP };
	len = build(pkt, CT_PROTO_ICMP, LAN_HOST, SERVER, 77, 0, 56);
	CHECK_EQ(nat_rewrite(pkt, len, &echo), 0);
	CHECK_EQ(inet_get16(pkt + 24), 4321);
	CHECK(checksums_ok(pkt, len));
	/* A later fragment: addresses only (its bytes are not a header). */
	len = build(pkt, CT_PROTO_UDP, LAN_HOST, SERVER, 1000, 53, 21);
	inet_put16(pkt + 6, 100);
	inet_put16(pkt + 10, 0);
	inet_put16(pkt + 10, inet_fold(inet_sum(pkt, 20, 0)));
	memcpy(before, pkt, len);
	CHECK_EQ(nat_rewrite(pkt, len, &to), 0);
	CHECK(!memcmp(pkt + 20, before + 20, len - 20));
	CHECK(!memcmp(pkt + 12, &(uint32_t){ WAN_ADDR }, 4));
	CHECK_EQ(inet_fold(inet_sum(pkt, 20, 0)), 0);
	/* Malformed: nothing changes. */
	len = build(pkt, CT_PROTO_UDP, LAN_HOST, SERVER, 1000, 53, 21);
	memcpy(before, pkt, len);
	CHECK_EQ(nat_rewrite(pkt, 19, &to), -ERR_INVALID_ARG);
	CHECK_EQ(nat_rewrite(pkt, len, &echo), -ERR_INVALID_ARG);       /* another protocol */
	pkt[0] = 0x65;
	CHECK_EQ(nat_rewrite(pkt, len, &to), -ERR_INVALID_ARG);
	pkt[0] = 0x44;
	CHECK_EQ(nat_rewrite(pkt, len, &to), -ERR_INVALID_ARG);
	pkt[0] = 0x4f;                          /* 60 bytes of header in 49 */
	CHECK_EQ(nat_rewrite(pkt, len, &to), -ERR_INVALID_ARG);
	pkt[0] = 0x45;
	CHECK(!memcmp(pkt, before, len));
	/* A truncated UDP header: addresses and what fits. */
	CHECK_EQ(nat_rewrite(pkt, 24, &to), 0);
	CHECK_EQ(inet_get16(pkt + 20), 2000);
	CHECK_EQ(inet_get16(pkt + 22), 53);
}

/* Time exceeded from a router on the way, about a masqueraded UDP flow:
 * back to the LAN host with the quoted datagram as the host sent it. */
TEST(nat_icmp_error_translated_back)
{
	uint8_t pkt[200], quoted[64];
	struct ct_tuple reply;
	struct ct_entry *e;
	struct ct_match m;
	struct nat_request masq = { .snat = true, .snat_addr = WAN_ADDR };
	struct ct_packet out = { .tuple = { LAN_HOST, SERVER, 5000, 33434, CT_PROTO_UDP } };

	fresh();
	struct ct_packet taken = { .tuple = { ip(192, 168, 1, 9), SERVER, 5000, 33434, CT_PROTO_UDP } };
	struct ct_tuple r0 = { SERVER, WAN_ADDR, 33434, 5000, CT_PROTO_UDP };
	CHECK_EQ(conntrack_confirm(&ct, &taken, &r0, 0, 0), 0);
	CHECK_EQ(nat_reply_tuple(&ct, &out.tuple, &masq, 0, 4242, &reply, &counters), 0);
	CHECK_EQ(conntrack_confirm(&ct, &out, &reply, 0, &e), 0);
	uint16_t port = reply.dport;

	/* What left by the WAN: WAN_ADDR:port -> SERVER:33434, quoted. */
	size_t qlen = build(quoted, CT_PROTO_UDP, WAN_ADDR, SERVER, port, 33434, 12);
	size_t len = build_icmp_error(pkt, ROUTER, WAN_ADDR, ICMP_TIME_EXCEEDED, 0, quoted, qlen);

	struct ct_packet err = { .tuple = { ROUTER, WAN_ADDR, 0, 0, CT_PROTO_ICMP }, .icmp_type = ICMP_TIME_EXCEEDED,
				 .quote = pkt + 28, .quote_len = qlen };
	conntrack_classify(&ct, &err, 1, &m);
	CHECK_EQ(m.state, CT_RELATED);
	CHECK(m.entry == e && m.dir == CT_REPLY);
	CHECK_EQ(nat_rewrite_icmp_error(pkt, len, m.entry, m.dir), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(!memcmp(pkt + 12, &(uint32_t){ ROUTER }, 4));     /* from the router still */
	CHECK(!memcmp(pkt + 16, &(uint32_t){ LAN_HOST }, 4));
	CHECK(!memcmp(pkt + 28 + 12, &(uint32_t){ LAN_HOST }, 4));
	CHECK_EQ(inet_get16(pkt + 48), 5000);
	CHECK(checksums_ok(pkt + 28, qlen));    /* the quoted datagram's own sums */

	/* Too short for the ICMP header; a bad quoted header. */
	CHECK_EQ(nat_rewrite_icmp_error(pkt, 27, m.entry, m.dir), -ERR_INVALID_ARG);
	pkt[28] = 0x40;
	CHECK_EQ(nat_rewrite_icmp_error(pkt, len, m.entry, m.dir), -ERR_INVALID_ARG);
}

TEST(nat_icmp_error_from_the_port_forward_target)
{
	uint8_t pkt[200], quoted[64];
	struct ct_tuple reply;
	struct ct_entry *e;
	struct ct_match m;
	struct nat_request fwd = { .dnat = true, .dnat_addr = LAN_HOST, .dnat_port = 53 };
	struct ct_packet in = { .tuple = { SERVER, WAN_ADDR, 7777, 5353, CT_PROTO_UDP } };

	fresh();
	CHECK_EQ(nat_reply_tuple(&ct, &in.tuple, &fwd, 0, 1, &reply, &counters), 0);
	CHECK_EQ(conntrack_confirm(&ct, &in, &reply, 0, &e), 0);
	/* The LAN host answers port unreachable about SERVER:7777 -> LAN_HOST:53. */
	size_t qlen = build(quoted, CT_PROTO_UDP, SERVER, LAN_HOST, 7777, 53, 4);
	size_t len = build_icmp_error(pkt, LAN_HOST, SERVER, ICMP_DEST_UNREACH, 3, quoted, qlen);
	struct ct_packet err = { .tuple = { LAN_HOST, SERVER, 0, 0, CT_PROTO_ICMP }, .icmp_type = ICMP_DEST_UNREACH,
				 .quote = pkt + 28, .quote_len = qlen };
	conntrack_classify(&ct, &err, 1, &m);
	CHECK_EQ(m.state, CT_RELATED);
	CHECK_EQ(nat_rewrite_icmp_error(pkt, len, m.entry, m.dir), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(!memcmp(pkt + 12, &(uint32_t){ WAN_ADDR }, 4));   /* as if from the address SERVER used */
	CHECK(!memcmp(pkt + 28 + 16, &(uint32_t){ WAN_ADDR }, 4));
	CHECK_EQ(inet_get16(pkt + 50), 5353);
}

TEST(nat_forget_address_removes_its_entries)
{
	struct ct_tuple reply;
	struct nat_request masq = { .snat = true, .snat_addr = WAN_ADDR };

	fresh();
	for (uint16_t i = 0; i < 5; i++) {
		struct ct_packet p = { .tuple = { LAN_HOST, SERVER, (uint16_t)(1000 + i), 53, CT_PROTO_UDP } };
		CHECK_EQ(nat_reply_tuple(&ct, &p.tuple, &masq, 0, 1, &reply, &counters), 0);
		CHECK_EQ(conntrack_confirm(&ct, &p, i < 3 ? &reply : 0, 0, 0), 0);
	}
	CHECK_EQ(nat_forget_address(&ct, WAN_ADDR), 3);
	CHECK_EQ(ct.count, 2);
}

/* The router's own error about a port forward's datagram: its quote shows
 * what the sender sent (WAN_ADDR:1080), whether the connection is in the
 * table (related) or the datagram is its first (from what was sent). */
TEST(nat_router_error_quotes_what_was_sent)
{
	uint8_t pkt[200], quoted[64], sent_pkt[64];
	struct ct_tuple reply;
	struct ct_entry *e;
	struct ct_match m;
	struct nat_request fwd = { .dnat = true, .dnat_addr = LAN_HOST, .dnat_port = 8080 };
	struct ct_tuple sent = { SERVER, WAN_ADDR, 7777, 1080, CT_PROTO_TCP };
	struct ct_tuple now = { SERVER, LAN_HOST, 7777, 8080, CT_PROTO_TCP };

	/* The first datagram: TTL 1, so the router's time exceeded. */
	fresh();
	size_t slen = build(sent_pkt, CT_PROTO_TCP, SERVER, WAN_ADDR, 7777, 1080, 4);
	size_t qlen = build(quoted, CT_PROTO_TCP, SERVER, LAN_HOST, 7777, 8080, 4);
	size_t len = build_icmp_error(pkt, ROUTER, SERVER, ICMP_TIME_EXCEEDED, 0, quoted, qlen);
	CHECK_EQ(nat_rewrite_icmp_quote(pkt, len, &sent, &now), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(!memcmp(pkt + 12, &(uint32_t){ ROUTER }, 4));     /* the outer header stays */
	CHECK(!memcmp(pkt + 16, &(uint32_t){ SERVER }, 4));
	CHECK(!memcmp(pkt + 28, sent_pkt, slen));               /* the quote is what was sent */
	CHECK_EQ(nat_rewrite_icmp_quote(pkt, len, &sent, &now), -ERR_INVALID_ARG);  /* not now's */

	/* A later one: the connection is in the table, the error related. */
	struct ct_packet in = { .tuple = sent, .tcp_flags = TCP_SYN };
	CHECK_EQ(nat_reply_tuple(&ct, &in.tuple, &fwd, 0, 1, &reply, &counters), 0);
	CHECK_EQ(conntrack_confirm(&ct, &in, &reply, 0, &e), 0);
	len = build_icmp_error(pkt, ROUTER, SERVER, ICMP_TIME_EXCEEDED, 0, quoted, qlen);
	struct ct_packet err = { .tuple = { ROUTER, SERVER, 0, 0, CT_PROTO_ICMP }, .icmp_type = ICMP_TIME_EXCEEDED,
				 .quote = pkt + 28, .quote_len = qlen };
	conntrack_classify(&ct, &err, 1, &m);
	CHECK_EQ(m.state, CT_RELATED);
	CHECK_EQ(nat_rewrite_icmp_error(pkt, len, m.entry, m.dir), 0);
	CHECK(checksums_ok(pkt, len));
	CHECK(!memcmp(pkt + 12, &(uint32_t){ ROUTER }, 4));
	CHECK(!memcmp(pkt + 28, sent_pkt, slen));
}
