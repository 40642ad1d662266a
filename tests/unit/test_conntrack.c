#include <stdlib.h>
#include <string.h>

#include "conntrack.h"
#include "uapi/errors.h"
#include "unit.h"

static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static struct conntrack ct;
static uint64_t memory[(64 * sizeof(struct ct_entry) + 128 * 4) / 8 + 1];

#define LAN 0x0a01a8c0U         /* 192.168.1.10 */
#define WAN 0x08080808U         /* 8.8.8.8 */
#define S 1000ULL               /* ms per second */

static void fresh(uint32_t max)
{
	if (conntrack_init(&ct, memory, sizeof(memory), max, key))
		abort();
}

static struct ct_packet udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	return (struct ct_packet){ .tuple = { src, dst, sport, dport, CT_PROTO_UDP } };
}

static struct ct_packet tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
			    uint32_t seq, uint32_t ack, uint16_t payload)
{
	return (struct ct_packet){ .tuple = { src, dst, sport, dport, CT_PROTO_TCP }, .tcp_flags = flags,
				   .seq = seq, .ack = ack, .window = 65535, .wscale = CT_WSCALE_NONE,
				   .payload = payload };
}

static enum ct_state classify(const struct ct_packet *p, uint64_t now, struct ct_match *m)
{
	conntrack_classify(&ct, p, now, m);
	return m->state;
}

TEST(conntrack_init_errors)
{
	CHECK_EQ(conntrack_memory_size(0), 0);
	CHECK_EQ(conntrack_memory_size(CT_MAX_ENTRIES + 1), 0);
	CHECK_EQ(conntrack_init(&ct, memory, sizeof(memory), 0, key), -ERR_INVALID_ARG);
	CHECK_EQ(conntrack_init(&ct, memory, sizeof(memory), 65, key), -ERR_INVALID_ARG);
	CHECK_EQ(conntrack_init(&ct, (char *)memory + 4, sizeof(memory) - 4, 8, key), -ERR_INVALID_ARG);
	CHECK_EQ(conntrack_init(&ct, memory, sizeof(memory), 64, key), 0);
	CHECK_EQ(conntrack_memory_size(CT_DEFAULT_MAX), 65536 * sizeof(struct ct_entry) + 131072 * 4);
	CHECK_EQ(conntrack_set_timeout(&ct, CT_T_UDP_REPLIED, 0), -ERR_INVALID_ARG);
	CHECK_EQ(conntrack_set_timeout(&ct, CT_TIMEOUT_CLASSES, 5), -ERR_INVALID_ARG);
	CHECK_EQ(conntrack_set_timeout(&ct, CT_T_UDP_REPLIED, CT_TIMEOUT_MAX + 1), -ERR_INVALID_ARG);
	CHECK_EQ(ct_timeout_default(CT_T_TCP_ESTABLISHED), 432000);
	CHECK(!strcmp(ct_timeout_name(CT_T_UDP_UNREPLIED), "udp unreplied"));
}

TEST(conntrack_unmade_table_is_empty)
{
	struct conntrack none = { 0 };
	struct ct_match m;
	struct ct_packet out = udp(LAN, 5000, WAN, 53);
	uint32_t cursor = 0;

	CHECK_EQ(conntrack_expire(&none, 1000 * S, ~0U), 0);
	conntrack_flush(&none);
	conntrack_classify(&none, &out, 0, &m);
	CHECK_EQ(m.state, CT_NEW);
	CHECK(!conntrack_tuple_taken(&none, &out.tuple, 0));
	CHECK_EQ(conntrack_confirm(&none, &out, 0, 0, 0), -ERR_NO_MEMORY);
	CHECK(!conntrack_next(&none, &cursor));
	CHECK_EQ(none.count, 0);
}

TEST(conntrack_udp_new_reply_expire)
{
	struct ct_match m;
	struct ct_packet out = udp(LAN, 5000, WAN, 53), back = udp(WAN, 53, LAN, 5000);
	struct ct_entry *e;

	fresh(64);
	CHECK_EQ(classify(&back, 0, &m), CT_NEW);     /* unsolicited: a new flow the other way */
	CHECK_EQ(classify(&out, 0, &m), CT_NEW);
	CHECK(!m.entry);
	CHECK_EQ(conntrack_confirm(&ct, &out, 0, 0, &e), 0);
	CHECK_EQ(conntrack_confirm(&ct, &out, 0, 0, 0), -ERR_BUSY);
	CHECK_EQ(conntrack_confirm(&ct, &back, 0, 0, 0), -ERR_BUSY);
	CHECK_EQ(classify(&out, 1 * S, &m), CT_NEW);  /* no reply yet */
	CHECK(m.entry == e && m.dir == CT_ORIGINAL);
	CHECK_EQ(e->expires, 31 * S);
	CHECK_EQ(classify(&back, 2 * S, &m), CT_ESTABLISHED);
	CHECK(m.entry == e && m.dir == CT_REPLY);
	CHECK_EQ(e->expires, 122 * S);                 /* 120 s once replied */
	CHECK_EQ(conntrack_expire(&ct, 121 * S, 10), 0);
	CHECK_EQ(conntrack_expire(&ct, 122 * S, 10), 1);
	CHECK_EQ(ct.count, 0);
	CHECK_EQ(ct.counters.expired, 1);
	/* A lookup treats an expired entry as gone. */
	CHECK_EQ(conntrack_confirm(&ct, &out, 0, 200 * S, 0), 0);
	CHECK_EQ(classify(&back, 230 * S, &m), CT_NEW);
	CHECK(!m.entry);
	CHECK_EQ(ct.count, 0);
}

TEST(conntrack_expire_is_bounded_and_in_order)
{
	fresh(64);
	for (unsigned i = 0; i < 40; i++) {
		struct ct_packet p = udp(LAN, (uint16_t)(1000 + i), WAN, 53);
		CHECK_EQ(conntrack_confirm(&ct, &p, 0, i * S, 0), 0);
	}
	CHECK_EQ(conntrack_expire(&ct, 1000 * S, 15), 15);
	CHECK_EQ(ct.count, 25);
	/* The oldest went first: port 1015's entry is the oldest left. */
	struct ct_packet p15 = udp(LAN, 1015, WAN, 53), p14 = udp(LAN, 1014, WAN, 53);
	CHECK(conntrack_tuple_taken(&ct, &p15.tuple, 0));
	CHECK(!conntrack_tuple_taken(&ct, &p14.tuple, 0));
	CHECK_EQ(conntrack_expire(&ct, 50 * S, 100), 6);      /* those seen before 20 s */
	CHECK_EQ(conntrack_expire(&ct, 1000 * S, 100), 19);
	CHECK_EQ(ct.count, 0);
}

TEST(conntrack_full_table_early_drop_then_refuse)
{
	struct ct_match m;

	fresh(4);
	for (uint16_t i = 0; i < 4; i++) {
		struct ct_packet p = udp(LAN, (uint16_t)(1000 + i), WAN, 53);
		CHECK_EQ(conntrack_confirm(&ct, &p, 0, i * S, 0), 0);
	}
	/* Replies to 1001..1003, then another packet: assured; 1000 is not. */
	for (uint16_t i = 1; i < 4; i++) {
		struct ct_packet r = udp(WAN, 53, LAN, (uint16_t)(1000 + i));
		struct ct_packet again = udp(LAN, (uint16_t)(1000 + i), WAN, 53);
		CHECK_EQ(classify(&r, 5 * S, &m), CT_ESTABLISHED);
		CHECK(!(m.entry->flags & CT_F_ASSURED));
		CHECK_EQ(classify(&again, 5 * S, &m), CT_ESTABLISHED);
		CHECK(m.entry->flags & CT_F_ASSURED);
	}
	struct ct_packet p = udp(LAN, 2000, WAN, 53), q = udp(LAN, 2001, WAN, 53);
	CHECK_EQ(conntrack_confirm(&ct, &p, 0, 6 * S, 0), 0);     /* drops 1000 */
	CHECK_EQ(ct.counters.early_dropped, 1);
	struct ct_packet old = udp(LAN, 1000, WAN, 53);
	CHECK(!conntrack_tuple_taken(&ct, &old.tuple, 6 * S));
	struct ct_packet r = udp(WAN, 53, LAN, 2000);
	CHECK_EQ(classify(&r, 7 * S, &m), CT_ESTABLISHED);
	CHECK_EQ(classify(&p, 7 * S, &m), CT_ESTABLISHED);
	CHECK_EQ(conntrack_confirm(&ct, &q, 0, 8 * S, 0), -ERR_NO_MEMORY);
	CHECK_EQ(ct.counters.refused_full, 1);
	CHECK_EQ(ct.count, 4);
	conntrack_flush(&ct);
	CHECK_EQ(ct.count, 0);
	CHECK_EQ(conntrack_confirm(&ct, &q, 0, 8 * S, 0), 0);
}

static struct ct_entry *handshake(void);

/* A table filled from the WAN with half-open TCP (SYN_RECV) and answered
 * pings still takes a new connection: neither is assured. */
TEST(conntrack_full_table_drops_syn_recv_and_icmp_replied)
{
	struct ct_match m;
	struct ct_entry *e;

	fresh(4);
	for (uint16_t i = 0; i < 2; i++) {
		struct ct_packet syn = tcp(WAN, (uint16_t)(30000 + i), LAN, 80, TCP_SYN, 1000, 0, 0);
		struct ct_packet sa = tcp(LAN, 80, WAN, (uint16_t)(30000 + i), TCP_SYN | TCP_ACK, 7000,
					  1001, 0);
		CHECK_EQ(conntrack_confirm(&ct, &syn, 0, i * S, &e), 0);
		CHECK_EQ(classify(&sa, i * S, &m), CT_ESTABLISHED);
		CHECK_EQ(e->tcp_state, CT_TCP_SYN_RECV);
		CHECK(!(e->flags & CT_F_ASSURED));
	}
	for (uint16_t i = 0; i < 2; i++) {
		struct ct_packet echo = { .tuple = { WAN, LAN, (uint16_t)(50 + i), ICMP_ECHO_REQUEST,
						     CT_PROTO_ICMP }, .icmp_type = ICMP_ECHO_REQUEST };
		struct ct_packet reply = { .tuple = { LAN, WAN, (uint16_t)(50 + i), ICMP_ECHO_REPLY,
						      CT_PROTO_ICMP }, .icmp_type = ICMP_ECHO_REPLY };
		CHECK_EQ(conntrack_confirm(&ct, &echo, 0, (2 + i) * S, 0), 0);
		CHECK_EQ(classify(&reply, (2 + i) * S, &m), CT_ESTABLISHED);
		CHECK_EQ(classify(&echo, (2 + i) * S, &m), CT_ESTABLISHED);
		CHECK(!(m.entry->flags & CT_F_ASSURED));
	}
	/* The oldest (the first SYN_RECV) goes, then the next, then a ping. */
	for (uint16_t i = 0; i < 3; i++) {
		struct ct_packet p = udp(LAN, (uint16_t)(2000 + i), WAN, 53);
		CHECK_EQ(conntrack_confirm(&ct, &p, 0, 10 * S, 0), 0);
		CHECK_EQ(ct.counters.early_dropped, i + 1u);
	}
	struct ct_packet first = tcp(WAN, 30000, LAN, 80, TCP_SYN, 1000, 0, 0);
	struct ct_packet ping1 = { .tuple = { WAN, LAN, 51, ICMP_ECHO_REQUEST, CT_PROTO_ICMP } };
	CHECK(!conntrack_tuple_taken(&ct, &first.tuple, 10 * S));
	CHECK(conntrack_tuple_taken(&ct, &ping1.tuple, 10 * S));
	CHECK_EQ(ct.counters.refused_full, 0);
	/* An established TCP connection is assured. */
	conntrack_flush(&ct);
	CHECK((e = handshake()));
	CHECK(e->flags & CT_F_ASSURED);
}

TEST(conntrack_nat_reply_tuple_is_found)
{
	struct ct_match m;
	struct ct_entry *e;
	struct ct_packet out = udp(LAN, 5000, WAN, 53);
	/* Masqueraded to 203.0.113.1:40000: the reply comes to that. */
	struct ct_tuple reply = { WAN, 0x017100cbU, 53, 40000, CT_PROTO_UDP };

	fresh(64);
	CHECK_EQ(conntrack_confirm(&ct, &out, &reply, 0, &e), 0);
	CHECK(e->flags & CT_F_SNAT);
	CHECK(!(e->flags & CT_F_DNAT));
	struct ct_packet back = udp(WAN, 53, 0x017100cbU, 40000);
	CHECK_EQ(classify(&back, S, &m), CT_ESTABLISHED);
	CHECK(m.entry == e && m.dir == CT_REPLY);
	struct ct_packet unnat = udp(WAN, 53, LAN, 5000);
	CHECK_EQ(classify(&unnat, S, &m), CT_NEW);
	CHECK(!m.entry);
	struct ct_tuple bad = reply;
	bad.proto = CT_PROTO_TCP;
	struct ct_packet other = udp(LAN, 5001, WAN, 53);
	CHECK_EQ(conntrack_confirm(&ct, &other, &bad, 0, 0), -ERR_INVALID_ARG);
	CHECK_EQ(conntrack_confirm(&ct, &other, &reply, 0, 0), -ERR_BUSY);
}

TEST(conntrack_many_entries)
{
	static uint64_t big[(4096 * sizeof(struct ct_entry) + 8192 * 4) / 8];
	struct ct_match m;

	CHECK_EQ(conntrack_init(&ct, big, sizeof(big), 4096, key), 0);
	for (unsigned i = 0; i < 4096; i++) {
		struct ct_packet p = udp(LAN + (i << 24), (uint16_t)i, WAN, 53);
		CHECK_EQ(conntrack_confirm(&ct, &p, 0, 0, 0), 0);
	}
	for (unsigned i = 0; i < 4096; i += 2) {
		struct ct_packet r = udp(WAN, 53, LAN + (i << 24), (uint16_t)i);
		CHECK_EQ(classify(&r, S, &m), CT_ESTABLISHED);
		conntrack_remove(&ct, m.entry);
	}
	CHECK_EQ(ct.count, 2048);
	uint32_t cursor = 0, n = 0;
	while (conntrack_next(&ct, &cursor))
		n++;
	CHECK_EQ(n, 2048);
	for (unsigned i = 1; i < 4096; i += 2) {
		struct ct_packet r = udp(WAN, 53, LAN + (i << 24), (uint16_t)i);
		CHECK_EQ(classify(&r, S, &m), CT_ESTABLISHED);
	}
}

/* A handshake LAN:40000 -> WAN:80, initiator ISN 1000, responder 5000. */
static struct ct_entry *handshake(void)
{
	struct ct_match m;
	struct ct_entry *e = 0;
	struct ct_packet syn = tcp(LAN, 40000, WAN, 80, TCP_SYN, 1000, 0, 0);
	struct ct_packet synack = tcp(WAN, 80, LAN, 40000, TCP_SYN | TCP_ACK, 5000, 1001, 0);
	struct ct_packet ack = tcp(LAN, 40000, WAN, 80, TCP_ACK, 1001, 5001, 0);

	if (classify(&syn, 0, &m) != CT_NEW || conntrack_confirm(&ct, &syn, 0, 0, &e) ||
	    e->tcp_state != CT_TCP_SYN_SENT || classify(&synack, 1, &m) != CT_ESTABLISHED ||
	    e->tcp_state != CT_TCP_SYN_RECV || classify(&ack, 2, &m) != CT_ESTABLISHED ||
	    e->tcp_state != CT_TCP_ESTABLISHED)
		return 0;
	return e;
}

TEST(conntrack_tcp_lifecycle)
{
	struct ct_match m;
	struct ct_entry *e;

	fresh(64);
	CHECK((e = handshake()));
	CHECK_EQ(e->expires, 2 + 432000 * S);
	struct ct_packet data = tcp(LAN, 40000, WAN, 80, TCP_ACK | TCP_PSH, 1001, 5001, 100);
	CHECK_EQ(classify(&data, 3, &m), CT_ESTABLISHED);
	/* The responder closes first. */
	struct ct_packet fin1 = tcp(WAN, 80, LAN, 40000, TCP_FIN | TCP_ACK, 5001, 1101, 0);
	CHECK_EQ(classify(&fin1, 4, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_FIN_WAIT);
	CHECK_EQ(e->expires, 4 + 120 * S);
	struct ct_packet ack1 = tcp(LAN, 40000, WAN, 80, TCP_ACK, 1101, 5002, 0);
	CHECK_EQ(classify(&ack1, 5, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_CLOSE_WAIT);
	struct ct_packet fin2 = tcp(LAN, 40000, WAN, 80, TCP_FIN | TCP_ACK, 1101, 5002, 0);
	CHECK_EQ(classify(&fin2, 6, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_LAST_ACK);
	struct ct_packet ack2 = tcp(WAN, 80, LAN, 40000, TCP_ACK, 5002, 1102, 0);
	CHECK_EQ(classify(&ack2, 7, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_TIME_WAIT);
	CHECK_EQ(e->expires, 7 + 120 * S);
	/* A new SYN on the same ports reopens. */
	struct ct_packet syn = tcp(LAN, 40000, WAN, 80, TCP_SYN, 9000, 0, 0);
	CHECK_EQ(classify(&syn, 8, &m), CT_NEW);
	CHECK(!m.entry);
	CHECK_EQ(ct.count, 0);
	CHECK_EQ(conntrack_confirm(&ct, &syn, 0, 8, 0), 0);
}

TEST(conntrack_tcp_invalid_segments)
{
	struct ct_match m;
	struct ct_entry *e;

	fresh(64);
	/* No connection: a SYN or an ACK (picked up) is new; a FIN, a reset,
	 * a SYN+ACK or a SYN with FIN is not. */
	static const uint8_t not_new[] = { TCP_FIN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK, TCP_SYN | TCP_ACK,
					   TCP_SYN | TCP_FIN, 0, TCP_PSH };
	for (unsigned i = 0; i < sizeof(not_new); i++) {
		struct ct_packet bad = tcp(LAN, 1, WAN, 80, not_new[i], 1, 1, 0);
		CHECK_EQ(classify(&bad, 0, &m), CT_INVALID);
		CHECK_EQ(conntrack_confirm(&ct, &bad, 0, 0, 0), -ERR_INVALID_ARG);
	}
	struct ct_packet ack = tcp(LAN, 1, WAN, 80, TCP_ACK | TCP_PSH, 1, 1, 10);
	CHECK_EQ(classify(&ack, 0, &m), CT_NEW);
	CHECK(!m.entry);
	CHECK_EQ(ct.count, 0);
	/* A SYN+ACK that does not acknowledge the SYN. */
	struct ct_packet syn = tcp(LAN, 40000, WAN, 80, TCP_SYN, 1000, 0, 0);
	CHECK_EQ(conntrack_confirm(&ct, &syn, 0, 0, &e), 0);
	struct ct_packet wrong = tcp(WAN, 80, LAN, 40000, TCP_SYN | TCP_ACK, 5000, 77, 0);
	CHECK_EQ(classify(&wrong, 1, &m), CT_INVALID);
	CHECK_EQ(e->tcp_state, CT_TCP_SYN_SENT);
	/* A reset to the SYN must acknowledge it. */
	struct ct_packet rst_bad = tcp(WAN, 80, LAN, 40000, TCP_RST | TCP_ACK, 0, 1234, 0);
	CHECK_EQ(classify(&rst_bad, 1, &m), CT_INVALID);
	struct ct_packet rst = tcp(WAN, 80, LAN, 40000, TCP_RST | TCP_ACK, 0, 1001, 0);
	CHECK_EQ(classify(&rst, 1, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_CLOSE);
	CHECK_EQ(e->expires, 1 + 10 * S);
	/* Stragglers after a reset to the SYN: closed, no windows known. */
	struct ct_packet late = tcp(LAN, 40000, WAN, 80, TCP_ACK, 1001, 0, 0);
	late.window = 40000;
	CHECK_EQ(classify(&late, 2, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_CLOSE);

	conntrack_flush(&ct);
	CHECK((e = handshake()));
	/* A reset far outside the window changes nothing. */
	struct ct_packet far = tcp(WAN, 80, LAN, 40000, TCP_RST, 5001 + 0x40000000, 0, 0);
	CHECK_EQ(classify(&far, 3, &m), CT_INVALID);
	CHECK_EQ(e->tcp_state, CT_TCP_ESTABLISHED);
	/* Acknowledging data never sent; data far beyond the window. */
	struct ct_packet future_ack = tcp(WAN, 80, LAN, 40000, TCP_ACK, 5001, 1001 + 500000, 0);
	CHECK_EQ(classify(&future_ack, 3, &m), CT_INVALID);
	struct ct_packet beyond = tcp(LAN, 40000, WAN, 80, TCP_ACK, 1001 + 70000, 5001, 10);
	CHECK_EQ(classify(&beyond, 3, &m), CT_INVALID);
	/* A SYN+ACK from the initiator; a plain SYN from the responder. */
	struct ct_packet sa = tcp(LAN, 40000, WAN, 80, TCP_SYN | TCP_ACK, 1, 5001, 0);
	CHECK_EQ(classify(&sa, 3, &m), CT_INVALID);
	struct ct_packet rsyn = tcp(WAN, 80, LAN, 40000, TCP_SYN, 1, 0, 0);
	CHECK_EQ(classify(&rsyn, 3, &m), CT_INVALID);
	/* A blind reset inside the window but not at the expected sequence
	 * passes and changes nothing (twice: it does not move the edge the
	 * next one is checked against); one before what the receiver
	 * acknowledged is invalid. */
	struct ct_packet blind = tcp(WAN, 80, LAN, 40000, TCP_RST, 5001 + 1000, 0, 0);
	CHECK_EQ(classify(&blind, 4, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_ESTABLISHED);
	CHECK_EQ(classify(&blind, 4, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_ESTABLISHED);
	CHECK_EQ(e->tcp[CT_REPLY].end, 5001);
	struct ct_packet behind = tcp(WAN, 80, LAN, 40000, TCP_RST, 5000, 0, 0);
	CHECK_EQ(classify(&behind, 4, &m), CT_INVALID);
	CHECK_EQ(e->tcp_state, CT_TCP_ESTABLISHED);
	/* The responder sends data the initiator has not acknowledged yet:
	 * a reset at the sender's next sequence closes too. */
	struct ct_packet data = tcp(WAN, 80, LAN, 40000, TCP_ACK, 5001, 1001, 300);
	CHECK_EQ(classify(&data, 4, &m), CT_ESTABLISHED);
	struct ct_packet next = tcp(WAN, 80, LAN, 40000, TCP_RST, 5301, 0, 0);
	CHECK_EQ(classify(&next, 4, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_CLOSE);
	conntrack_flush(&ct);
	CHECK((e = handshake()));
	/* The reset at the expected sequence closes. */
	struct ct_packet in = tcp(WAN, 80, LAN, 40000, TCP_RST, 5001, 0, 0);
	CHECK_EQ(classify(&in, 4, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_CLOSE);
	CHECK(ct.counters.invalid >= 9);
}

TEST(conntrack_tcp_window_scale)
{
	struct ct_match m;
	struct ct_entry *e;

	fresh(64);
	struct ct_packet syn = tcp(LAN, 40000, WAN, 80, TCP_SYN, 1000, 0, 0);
	syn.wscale = 7;
	CHECK_EQ(conntrack_confirm(&ct, &syn, 0, 0, &e), 0);
	struct ct_packet synack = tcp(WAN, 80, LAN, 40000, TCP_SYN | TCP_ACK, 5000, 1001, 0);
	synack.wscale = 7;
	CHECK_EQ(classify(&synack, 1, &m), CT_ESTABLISHED);
	/* The responder's ACK opens 1000 << 7 bytes for the initiator. */
	struct ct_packet win = tcp(WAN, 80, LAN, 40000, TCP_ACK, 5001, 1001, 0);
	win.window = 1000;
	CHECK_EQ(classify(&win, 2, &m), CT_ESTABLISHED);
	struct ct_packet data = tcp(LAN, 40000, WAN, 80, TCP_ACK, 1001 + 120000, 5001, 1000);
	CHECK_EQ(classify(&data, 3, &m), CT_ESTABLISHED);
	struct ct_packet past = tcp(LAN, 40000, WAN, 80, TCP_ACK, 1001 + 130000, 5001, 1000);
	CHECK_EQ(classify(&past, 3, &m), CT_INVALID);
}

/* After a flush (or a restart), a connection's next segments pick it up
 * in the middle, as Linux's nf_conntrack_tcp_loose=1: established, windows
 * followed from what is seen but not enforced (the scales are unknown),
 * assured once answered, closed by resets at the exact sequence only. */
TEST(conntrack_tcp_picked_up_in_the_middle)
{
	struct ct_match m;
	struct ct_entry *e;

	fresh(64);
	/* Scaled windows (7) the tracker never saw: 300 << 7 open. */
	struct ct_packet data = tcp(LAN, 40000, WAN, 80, TCP_ACK | TCP_PSH, 100000, 7000, 1400);
	data.window = 300;
	CHECK_EQ(classify(&data, 0, &m), CT_NEW);               /* the rules see a new connection */
	CHECK_EQ(conntrack_confirm(&ct, &data, 0, 0, &e), 0);
	CHECK_EQ(e->tcp_state, CT_TCP_ESTABLISHED);
	CHECK(e->flags & CT_F_PICKED_UP);
	CHECK(!(e->flags & CT_F_ASSURED));
	CHECK_EQ(e->tcp[CT_ORIGINAL].end, 101400);
	CHECK_EQ(e->tcp[CT_REPLY].end, 7000);
	CHECK_EQ(e->expires, 432000 * S);
	/* More data beyond what 300 unscaled bytes allow: followed. */
	struct ct_packet more = tcp(LAN, 40000, WAN, 80, TCP_ACK, 101400 + 20000, 7000, 1400);
	CHECK_EQ(classify(&more, 1, &m), CT_NEW);               /* no reply yet */
	CHECK(m.entry == e);
	CHECK_EQ(e->tcp[CT_ORIGINAL].end, 122800);
	/* A blind reset from the side not heard yet: invalid; then its ACK. */
	struct ct_packet blind = tcp(WAN, 80, LAN, 40000, TCP_RST, 7000 + 500, 0, 0);
	CHECK_EQ(classify(&blind, 2, &m), CT_INVALID);
	struct ct_packet reply = tcp(WAN, 80, LAN, 40000, TCP_ACK, 7000, 122800, 0);
	reply.window = 500;
	CHECK_EQ(classify(&reply, 2, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp[CT_REPLY].maxwin, 500);
	CHECK(!(e->flags & CT_F_ASSURED));
	CHECK_EQ(classify(&more, 3, &m), CT_ESTABLISHED);
	CHECK(e->flags & CT_F_ASSURED);
	/* Its FIN and a reset at the exact sequence close as ever. */
	struct ct_packet fin = tcp(LAN, 40000, WAN, 80, TCP_FIN | TCP_ACK, 122800, 7000, 0);
	CHECK_EQ(classify(&fin, 4, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_FIN_WAIT);
	struct ct_packet rst = tcp(WAN, 80, LAN, 40000, TCP_RST, 7000, 0, 0);
	CHECK_EQ(classify(&rst, 5, &m), CT_ESTABLISHED);
	CHECK_EQ(e->tcp_state, CT_TCP_CLOSE);
	/* A segment of the other side first: it is the initiator now. */
	conntrack_flush(&ct);
	CHECK_EQ(classify(&reply, 6, &m), CT_NEW);
	CHECK_EQ(conntrack_confirm(&ct, &reply, 0, 6, &e), 0);
	CHECK_EQ(e->tuple[CT_ORIGINAL].src, WAN);
}

static void put_quote(uint8_t *q, uint8_t ihl, uint32_t src, uint32_t dst, uint8_t proto,
		      uint16_t sport, uint16_t dport)
{
	memset(q, 0, 64);
	q[0] = (uint8_t)(0x40 | ihl);
	q[9] = proto;
	memcpy(q + 12, &src, 4);
	memcpy(q + 16, &dst, 4);
	uint8_t *l4 = q + ihl * 4;
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
}

TEST(conntrack_icmp_echo_and_errors)
{
	struct ct_match m;
	struct ct_entry *e;
	uint8_t q[64];

	fresh(64);
	struct ct_packet req = { .tuple = { LAN, WAN, 77, ICMP_ECHO_REQUEST, CT_PROTO_ICMP },
				 .icmp_type = ICMP_ECHO_REQUEST };
	struct ct_packet rep = { .tuple = { WAN, LAN, 77, ICMP_ECHO_REPLY, CT_PROTO_ICMP },
				 .icmp_type = ICMP_ECHO_REPLY };
	CHECK_EQ(classify(&rep, 0, &m), CT_INVALID);  /* a reply to nothing */
	CHECK_EQ(conntrack_confirm(&ct, &rep, 0, 0, 0), -ERR_INVALID_ARG);
	CHECK_EQ(classify(&req, 0, &m), CT_NEW);
	CHECK_EQ(conntrack_confirm(&ct, &req, 0, 0, &e), 0);
	CHECK_EQ(classify(&rep, S, &m), CT_ESTABLISHED);
	CHECK_EQ(e->expires, 31 * S);

	/* A UDP flow, then errors about it from a router on the way. */
	struct ct_packet out = udp(LAN, 5000, WAN, 33434);
	CHECK_EQ(conntrack_confirm(&ct, &out, 0, 0, &e), 0);
	put_quote(q, 5, LAN, WAN, CT_PROTO_UDP, 5000, 33434);
	struct ct_packet err = { .tuple = { 0x01010101, LAN, 0, 0, CT_PROTO_ICMP },
				 .icmp_type = ICMP_TIME_EXCEEDED, .quote = q, .quote_len = 28 };
	CHECK_EQ(classify(&err, S, &m), CT_RELATED);
	CHECK(m.entry == e && m.dir == CT_REPLY);
	CHECK(!(e->flags & CT_F_REPLIED));    /* errors are not replies */
	/* Options in the quoted header. */
	put_quote(q, 7, LAN, WAN, CT_PROTO_UDP, 5000, 33434);
	err.quote_len = 36;
	CHECK_EQ(classify(&err, S, &m), CT_RELATED);
	/* Too short, a bad header length, not IPv4, a later fragment, unknown. */
	err.quote_len = 35;
	CHECK_EQ(classify(&err, S, &m), CT_INVALID);
	put_quote(q, 4, LAN, WAN, CT_PROTO_UDP, 5000, 33434);
	err.quote_len = 64;
	CHECK_EQ(classify(&err, S, &m), CT_INVALID);
	put_quote(q, 5, LAN, WAN, CT_PROTO_UDP, 5000, 33434);
	q[0] = 0x65;
	CHECK_EQ(classify(&err, S, &m), CT_INVALID);
	q[0] = 0x45;
	q[7] = 1;
	CHECK_EQ(classify(&err, S, &m), CT_INVALID);
	q[7] = 0;
	q[9] = 9;      /* a protocol no connection has */
	CHECK_EQ(classify(&err, S, &m), CT_INVALID);
	err.quote = 0;
	err.quote_len = 0;
	CHECK_EQ(classify(&err, S, &m), CT_INVALID);
	/* Another ICMP message: untracked, the rules decide. */
	struct ct_packet ts = { .tuple = { LAN, WAN, 0, 0, CT_PROTO_ICMP }, .icmp_type = 13 };
	CHECK_EQ(classify(&ts, S, &m), CT_NEW);
	CHECK_EQ(conntrack_confirm(&ct, &ts, 0, 0, 0), -ERR_INVALID_ARG);
}

TEST(conntrack_timeouts_from_the_configuration)
{
	uint32_t seconds[CT_TIMEOUT_CLASSES] = { 0 };
	struct ct_entry *e;

	fresh(64);
	seconds[CT_T_UDP_UNREPLIED] = 2;
	seconds[CT_T_TCP_CLOSE] = CT_TIMEOUT_MAX + 1;   /* out of range: the default */
	CHECK_EQ(conntrack_set_timeouts(&ct, seconds), 1);
	CHECK_EQ(ct.timeout_ms[CT_T_UDP_UNREPLIED], 2000);
	CHECK_EQ(ct.timeout_ms[CT_T_TCP_CLOSE], 10000);
	struct ct_packet p = udp(LAN, 1, WAN, 2);
	CHECK_EQ(conntrack_confirm(&ct, &p, 0, 0, &e), 0);
	CHECK_EQ(e->expires, 2000);
	seconds[CT_T_UDP_UNREPLIED] = 0;        /* a reload without the line */
	CHECK_EQ(conntrack_set_timeouts(&ct, seconds), 1);
	CHECK_EQ(ct.timeout_ms[CT_T_UDP_UNREPLIED], 30000);
}

TEST(conntrack_format_like_linux)
{
	char buf[200], small[20];
	struct ct_entry *e;
	struct ct_match m;

	fresh(64);
	CHECK((e = handshake()));
	conntrack_format_entry(buf, sizeof(buf), e, 2 + 1000);
	CHECK(!strcmp(buf, "tcp 6 431999 ESTABLISHED src=192.168.1.10 dst=8.8.8.8 sport=40000 dport=80 "
			   "src=8.8.8.8 dst=192.168.1.10 sport=80 dport=40000"));
	struct ct_packet u = udp(LAN, 5000, WAN, 53);
	struct ct_tuple masq = { WAN, 0x017100cbU, 53, 40000, CT_PROTO_UDP };
	CHECK_EQ(conntrack_confirm(&ct, &u, &masq, 0, &e), 0);
	conntrack_format_entry(buf, sizeof(buf), e, 1000);
	CHECK(!strcmp(buf, "udp 17 29 src=192.168.1.10 dst=8.8.8.8 sport=5000 dport=53 [UNREPLIED] "
			   "src=8.8.8.8 dst=203.0.113.1 sport=53 dport=40000"));
	struct ct_packet req = { .tuple = { LAN, WAN, 77, ICMP_ECHO_REQUEST, CT_PROTO_ICMP },
				 .icmp_type = ICMP_ECHO_REQUEST };
	CHECK_EQ(conntrack_confirm(&ct, &req, 0, 0, &e), 0);
	struct ct_packet rep = { .tuple = { WAN, LAN, 77, ICMP_ECHO_REPLY, CT_PROTO_ICMP },
				 .icmp_type = ICMP_ECHO_REPLY };
	conntrack_classify(&ct, &rep, 0, &m);
	conntrack_format_entry(buf, sizeof(buf), e, 40 * S);
	CHECK(!strcmp(buf, "icmp 1 0 src=192.168.1.10 dst=8.8.8.8 type=8 code=0 id=77 "
			   "src=8.8.8.8 dst=192.168.1.10 type=0 code=0 id=77"));
	conntrack_format_entry(small, sizeof(small), e, 0);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	for (size_t n = 0; n < 8; n++)
		conntrack_format_entry(small, n, e, 0);         /* tiny buffers: no overrun (ASan) */
}
