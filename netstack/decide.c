/*
 * The decision points where the firewall (docs/firewall.md, filter.h)
 * judges datagrams, each with the datagram (p->payload at its IPv4
 * header; the Ethernet header at DECIDE_OUTPUT) and the interfaces it came
 * in by and goes out of (NULL where there is none yet or none at all):
 *
 *   DECIDE_PREROUTING   every datagram that arrived, before routing
 *                       (forward.c): classified (conntrack), and its
 *                       destination translated (dnat, or a reply to a
 *                       masqueraded connection), so that routing sees
 *                       where it really goes
 *   DECIDE_INPUT        one for the appliance itself, before lwIP takes it
 *                       (guard.c): chain input; a new connection is added
 *   DECIDE_FORWARD      one to forward, once the route chose its way out:
 *                       chain forward
 *   DECIDE_POSTROUTING  one forwarded, about to leave (TTL already less):
 *                       chain postrouting for a new connection (masquerade
 *                       takes the out interface's address as it is now),
 *                       the connection added, its source translated
 *   DECIDE_OUTPUT       a frame the appliance itself sends (iface.c):
 *                       classified, chain output; not translated
 *
 * A datagram's way from prerouting to input or postrouting is one call
 * chain on the netstack's one thread; what prerouting found is kept for
 * the points after it (`cur`). Translation rewrites the headers in the
 * buffer the datagram arrived in, with incremental checksums (nat.c); the
 * payload stays where it is (a first fragment's or a chained datagram's
 * headers are read from a copy, packet_view.h). Without a chain in the
 * configuration nothing here runs. Fixed-size copies are __builtin_memcpy:
 * inline, where the freestanding build would call a byte loop.
 */
#include "netstack.h"
#include "filter.h"
#include "packet_meta.h"
#include "packet_view.h"

#include "lib/inet_csum.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"

/* What a datagram is, between the points of its way. */
struct judged {
	struct ct_packet ct;
	struct fw_packet fw;
	struct ct_match m;
	struct ct_tuple arrived;        /* its tuple as it arrived */
	struct nat_request nat;         /* prerouting's decision for a new connection */
	bool follower;                  /* a later fragment: its first decided */
	uint64_t now;                   /* ms, read once per datagram (a system call) */
	struct ct_tuple target;         /* a follower's translation */
	struct packet_view v;
};

static struct {
	const struct pbuf *p;           /* NULL: nothing pending */
	uint8_t header[20];             /* the IP header prerouting left (TTL, protocol,
					   checksum aside): the same datagram */
	struct judged j;
} cur;

static struct ratelimit log_limit;

/* The fw_packet interface index of a netif (FW_NO_IFACE for none). */
static uint8_t iface_of(const struct netif *n)
{
	const struct iface *ifc = n ? n->state : NULL;

	return ifc && ifc->conf >= 0 ? (uint8_t)ifc->conf : FW_NO_IFACE;
}

/* ---- fragments after the first (filter_frag.c) ---- */

/* A first fragment went through, to be translated as target. */
static void frag_remember(const struct judged *j, const struct ct_tuple *target)
{
	filter_frag_remember(j->arrived.src, j->arrived.dst, inet_get16(j->v.ip + 4), j->arrived.proto,
			     j->now, target);
}

/* A later fragment follows its first: false when that was not let through. */
static bool frag_follow(struct judged *j)
{
	if (!filter_frag_follow(j->v.ip, j->now, &j->target)) {
		filter.count.fragments_dropped++;
		return false;
	}
	j->follower = true;
	return true;
}

/* ---- classifying and translating ---- */

/* The datagram's metadata and its connection; false to drop it. */
static bool classify(struct pbuf *p, unsigned offset, struct netif *in, struct judged *j)
{
	j->follower = false;
	j->nat = (struct nat_request){ 0 };
	j->now = filter_now();
	if (!packet_view(p, offset, &j->v)) {
		filter.count.malformed++;
		return false;
	}
	enum packet_meta_result r = packet_meta_parse(j->v.ip, j->v.len, &j->ct, &j->fw);
	j->arrived = j->ct.tuple;
	j->fw.iif = iface_of(in);
	j->fw.oif = FW_NO_IFACE;
	if (r == PACKET_META_FRAGMENT && packet_view_later_fragment(&j->v))
		return frag_follow(j);
	if (r != PACKET_META_OK) {
		filter.count.malformed++;
		return false;
	}
	j->fw.len = j->v.total;
	if (j->v.copied && j->ct.tuple.proto == CT_PROTO_TCP)
		j->ct.payload = (uint16_t)(j->ct.payload + (j->v.total - j->v.len));
	conntrack_classify(&filter.ct, &j->ct, j->now, &j->m);
	j->fw.ct_state = j->m.state;
	return true;
}

/* The header (IP_HLEN..60 bytes, as it says) is in p's first pbuf and
 * its checksum is right. */
static bool header_ok(const struct pbuf *p)
{
	const uint8_t *ip = p->payload;
	unsigned hlen = (ip[0] & 0xFu) * 4;
	uint32_t sum = 0;

	if (p->len < IP_HLEN || hlen < IP_HLEN || hlen > p->len)
		return false;
	for (unsigned i = 0; i < hlen; i += 2)
		sum += inet_get16(ip + i);
	return !inet_fold(sum);
}

/* Rewrite to t's destination part (destination NAT, or a reply coming
 * back to a masqueraded host) or to all of t (source NAT, after routing). */
static void rewrite(struct pbuf *p, struct judged *j, const struct ct_tuple *t, bool whole)
{
	struct ct_tuple to = *t;

	if (j->v.copied && !packet_view(p, j->v.offset, &j->v))
		return;         /* (the copy again: forwarding changed the TTL since) */
	const uint8_t *ip = j->v.ip, *l4 = ip + (ip[0] & 0xF) * 4;
	if (!whole) {
		/* The source part stays as the packet has it now. */
		__builtin_memcpy(&to.src, ip + 12, 4);
		bool ports = to.proto == CT_PROTO_TCP || to.proto == CT_PROTO_UDP;
		if (ports && l4 + 2 <= ip + j->v.len)
			to.sport = inet_get16(l4);
		else if (to.proto == CT_PROTO_ICMP && l4 + 6 <= ip + j->v.len)
			to.sport = inet_get16(l4 + 4);     /* the echo identifier */
	}
	if (nat_rewrite(j->v.ip, j->v.len, &to) == 0)
		packet_view_put_back(p, &j->v);
	else
		filter.nat.malformed++;
}

static bool translated(const struct ct_entry *e)
{
	return e && (e->flags & (CT_F_SNAT | CT_F_DNAT));
}

/* ---- verdicts ---- */

static void log_packet(const struct judged *j, int rule, const char *verdict)
{
	const struct fw_packet *f = &j->fw;
	const uint8_t *s = (const uint8_t *)&f->saddr, *d = (const uint8_t *)&f->daddr;
	const char *in = f->iif != FW_NO_IFACE ? filter.cfg->interfaces[f->iif].name : "";
	const char *out = f->oif != FW_NO_IFACE ? filter.cfg->interfaces[f->oif].name : "";

	printf_limit(&log_limit, "netstack: firewall: %s%s%s IN=%s OUT=%s SRC=%u.%u.%u.%u "
		     "DST=%u.%u.%u.%u LEN=%u PROTO=%u SPT=%u DPT=%u (rule line %u)\n",
		     filter.cfg->firewall.rules[rule].log_prefix,
		     filter.cfg->firewall.rules[rule].log_prefix[0] ? " " : "", verdict, in, out,
		     s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3], f->len, f->proto, f->sport,
		     f->dport, filter.cfg->firewall.rules[rule].line);
}

/* A reject's answer, as the rule says, to the datagram at p (its IPv4
 * header) that came in by in: never to an ICMP error, a broadcast or
 * multicast, a later fragment or a reset; rate-limited. */
static void answer(struct pbuf *p, struct netif *in, const struct judged *j, const struct fw_result *r)
{
	const struct ct_tuple *a = &j->arrived;
	ip4_addr_t to;

	ip4_addr_set_u32(&to, a->dst);
	if (!in || j->follower || ip4_addr_ismulticast(&to) || ip4_addr_isbroadcast(&to, in))
		return;
	if (r->reject_with == FW_REJECT_ICMP) {
		forward_icmp_error(in->state, p, ICMP_DEST_UNREACH, r->reject_code, 0);
		return;
	}
	if (a->proto != CT_PROTO_TCP || (j->ct.tcp_flags & TCP_RST) || !forward_answer_token())
		return;
	uint32_t ack = j->ct.seq + j->ct.payload + !!(j->ct.tcp_flags & TCP_SYN) +
		       !!(j->ct.tcp_flags & TCP_FIN);
	filter_send_reset(a->dst, a->src, a->dport, a->sport, j->ct.tcp_flags & TCP_ACK ? j->ct.ack : 0,
			  ack);
}

/* Run a filter chain on j; true when the datagram may go on. */
static bool judge(enum fw_chain chain, struct pbuf *p, struct netif *in, struct judged *j)
{
	struct fw_result r;

	if (j->follower)
		return true;
	firewall_eval(filter.fw, chain, &j->fw, j->now, &r);
	if (r.log_rule >= 0)
		log_packet(j, r.log_rule, fw_verdict_name(r.verdict));
	if (r.verdict == FW_ACCEPT)
		return true;
	if (r.verdict == FW_REJECT) {
		filter.count.rejected++;
		if (chain != FW_OUTPUT)
			answer(p, in, j, &r);
	} else {
		filter.count.dropped++;
	}
	return false;
}

/* Add the connection a new datagram starts, translated as j->nat says;
 * false when it must be dropped. A datagram that cannot start one (an
 * ICMP message other than an echo request) passes untracked. */
static bool confirm(struct judged *j, struct ct_entry **e)
{
	struct ct_tuple reply;
	uint64_t now = j->now;

	*e = NULL;
	if (j->m.entry || j->m.state != CT_NEW)
		return true;
	j->ct.tuple = j->arrived;
	if (nat_reply_tuple(&filter.ct, &j->arrived, &j->nat, now, netstack_random(), &reply,
			    &filter.nat) < 0) {
		filter.count.nat_failed++;
		return false;
	}
	int err = conntrack_confirm(&filter.ct, &j->ct, &reply, now, e);
	if (err == -ERR_INVALID_ARG)
		return true;
	if (err < 0) {
		if (err == -ERR_NO_MEMORY)
			filter.count.table_full++;
		else
			filter.count.nat_failed++;
		return false;
	}
	return true;
}

/* ---- the points ---- */

static bool prerouting(struct pbuf *p, struct netif *in)
{
	struct judged *j = &cur.j;

	cur.p = NULL;
	if (!header_ok(p))
		return true;    /* lwIP drops it */
	if (!classify(p, 0, in, j))
		return false;
	struct ct_entry *e = j->m.entry;
	if (j->follower) {
		rewrite(p, j, &j->target, false);
	} else if (j->m.state == CT_RELATED && translated(e)) {
		if (j->v.copied || nat_rewrite_icmp_error(j->v.ip, j->v.len, e, j->m.dir))
			filter.nat.malformed++;
	} else if (translated(e)) {
		struct ct_tuple t = nat_target(e, j->m.dir);
		rewrite(p, j, &t, false);
	} else if (!e && j->m.state == CT_NEW) {
		struct fw_result r;
		firewall_eval(filter.fw, FW_PREROUTING, &j->fw, j->now, &r);
		if (r.verdict == FW_DNAT) {
			const struct fw_rule *rule = &filter.cfg->firewall.rules[r.rule];
			j->nat = (struct nat_request){ .dnat = true, .dnat_addr = rule->nat_addr,
						       .dnat_port = rule->nat_port };
			struct ct_tuple t = j->arrived;
			t.dst = rule->nat_addr;
			if (rule->nat_port && (t.proto == CT_PROTO_TCP || t.proto == CT_PROTO_UDP))
				t.dport = rule->nat_port;
			rewrite(p, j, &t, false);
		}
	}
	/* The rules after routing see the destination as it is now. */
	__builtin_memcpy(&j->fw.daddr, j->v.ip + 16, 4);
	if (!j->follower && (j->fw.proto == CT_PROTO_TCP || j->fw.proto == CT_PROTO_UDP))
		j->fw.dport = inet_get16(j->v.ip + (j->v.ip[0] & 0xF) * 4 + 2);
	cur.p = p;
	__builtin_memcpy(cur.header, p->payload, sizeof(cur.header));
	return true;
}

/* Whether the IP header at ip is the one prerouting left (TTL, protocol
 * and checksum aside): two 8-byte compares. */
static bool same_header(const uint8_t *ip)
{
	uint64_t was[2], is[2];

	__builtin_memcpy(&was[0], cur.header, 8);
	__builtin_memcpy(&was[1], cur.header + 12, 8);
	__builtin_memcpy(&is[0], ip, 8);
	__builtin_memcpy(&is[1], ip + 12, 8);
	return was[0] == is[0] && was[1] == is[1];
}

/* What prerouting found about p, or (a datagram that did not pass there)
 * found now; NULL to drop it. */
static struct judged *current(struct pbuf *p, struct netif *in)
{
	if (cur.p == p && same_header(p->payload))
		return &cur.j;
	cur.p = NULL;
	if (!header_ok(p))
		return NULL;
	return classify(p, 0, in, &cur.j) ? &cur.j : NULL;
}

/* The end of a datagram's way: a first fragment's fate is kept. */
static bool done(struct judged *j, const struct ct_entry *e)
{
	cur.p = NULL;
	if (!j->follower && j->v.copied && (j->v.frag_field & IP_MF)) {
		struct ct_tuple t = e ? nat_target(e, CT_ORIGINAL) :
				    j->m.entry ? nat_target(j->m.entry, j->m.dir) : j->arrived;
		frag_remember(j, &t);
	}
	return true;
}

/* A DHCP client's exchange on an interface whose address comes from
 * DHCP (server port 67, client port 68, either way): let through
 * untracked, before the rules, as Linux's DHCP clients get their replies
 * on a raw socket beside netfilter. */
static bool dhcp_client(const struct judged *j, const struct netif *n, bool arriving)
{
	const struct iface *ifc = n ? n->state : NULL;

	return ifc && ifc->cfg.dhcp && j->fw.proto == CT_PROTO_UDP && !j->follower &&
	       j->fw.sport == (arriving ? 67 : 68) && j->fw.dport == (arriving ? 68 : 67);
}

static bool input(struct pbuf *p, struct netif *in)
{
	struct judged *j = current(p, in);
	struct ct_entry *e;

	if (!j)
		return !header_ok(p);   /* lwIP drops a bad header; we, a bad datagram */
	if (dhcp_client(j, in, true)) {
		cur.p = NULL;
		return true;
	}
	if (!judge(FW_INPUT, p, in, j) || !confirm(j, &e)) {
		cur.p = NULL;
		return false;
	}
	return done(j, e);
}

static bool forward(struct pbuf *p, struct netif *in, struct netif *out)
{
	struct judged *j = current(p, in);

	if (!j)
		return false;
	j->fw.oif = iface_of(out);
	if (!judge(FW_FORWARD, p, in, j)) {
		cur.p = NULL;
		return false;
	}
	return true;
}

static bool postrouting(struct pbuf *p, struct netif *in, struct netif *out)
{
	struct judged *j = current(p, in);
	struct ct_entry *e = NULL;

	if (!j)
		return false;
	j->fw.oif = iface_of(out);
	if (j->follower) {
		rewrite(p, j, &j->target, true);
		return done(j, NULL);
	}
	if (!j->m.entry && j->m.state == CT_NEW) {
		struct fw_result r;
		firewall_eval(filter.fw, FW_POSTROUTING, &j->fw, j->now, &r);
		if (r.verdict == FW_MASQUERADE || r.verdict == FW_SNAT) {
			j->nat.snat = true;
			j->nat.snat_addr = r.verdict == FW_SNAT ? filter.cfg->firewall.rules[r.rule].nat_addr
								: ip4_addr_get_u32(netif_ip4_addr(out));
			if (!j->nat.snat_addr) {
				filter.count.nat_failed++;
				cur.p = NULL;
				return false;
			}
		}
		if (!confirm(j, &e)) {
			cur.p = NULL;
			return false;
		}
	}
	const struct ct_entry *t = e ? e : j->m.entry;
	if (translated(t) && j->m.state != CT_RELATED) {
		struct ct_tuple to = nat_target(t, e ? CT_ORIGINAL : j->m.dir);
		rewrite(p, j, &to, true);
	}
	return done(j, e);
}

/*
 * An ICMP error of the appliance's own (time exceeded, no route, fragmentation
 * needed, a reject's) about a datagram it translated quotes that datagram
 * as it was sent, as Linux's NAT does: about a connection in the table,
 * translated back as an error that crossed the router would be; about a
 * port forward's first datagram (added only after routing), from what
 * prerouting found about the datagram being forwarded now.
 */
static void quote_back(const struct judged *j)
{
	if (j->v.copied)
		return;                 /* (lwIP makes errors in one buffer) */
	if (j->m.state == CT_RELATED && translated(j->m.entry)) {
		if (nat_rewrite_icmp_error(j->v.ip, j->v.len, j->m.entry, j->m.dir))
			filter.nat.malformed++;
	} else if (cur.p && !cur.j.follower) {
		struct ct_tuple now = cur.j.arrived;
		now.dst = cur.j.fw.daddr;
		if (now.proto == CT_PROTO_TCP || now.proto == CT_PROTO_UDP)
			now.dport = cur.j.fw.dport;
		if (!ct_tuple_equal(&now, &cur.j.arrived))
			nat_rewrite_icmp_quote(j->v.ip, j->v.len, &cur.j.arrived, &now);
	}
}

/* A frame of the appliance's own: chain output, the connection added. */
static bool output(struct pbuf *p, struct netif *out)
{
	struct judged j;
	struct ct_entry *e;

	if (filter_reset_sending() || p->len < SIZEOF_ETH_HDR ||
	    inet_get16((const uint8_t *)p->payload + 12) != ETHTYPE_IP)
		return true;
	if (!classify(p, SIZEOF_ETH_HDR, NULL, &j))
		return false;
	if (j.ct.quote)
		quote_back(&j);
	if (dhcp_client(&j, out, false))
		return true;
	j.fw.oif = iface_of(out);
	if (!judge(FW_OUTPUT, p, NULL, &j) || !confirm(&j, &e))
		return false;
	if (!j.follower && j.v.copied && (j.v.frag_field & IP_MF))
		frag_remember(&j, &j.arrived);
	return true;
}

bool netstack_decide(enum decide_point point, struct pbuf *p, struct netif *in,
		     struct netif *out)
{
	if (!filter.on)
		return true;
	if (filter.closed)
		return false;
	switch (point) {
	case DECIDE_PREROUTING:
		return prerouting(p, in);
	case DECIDE_INPUT:
		return input(p, in);
	case DECIDE_FORWARD:
		return forward(p, in, out);
	case DECIDE_POSTROUTING:
		return postrouting(p, in, out);
	case DECIDE_OUTPUT:
		return output(p, out);
	}
	return false;
}
