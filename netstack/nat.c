/* NAT: netstack/nat.h. */
#include "nat.h"

#include "lib/inet_csum.h"
#include "lib/string.h"
#include "uapi/errors.h"

#define IP_CSUM 10
#define IP_SRC 12
#define IP_DST 16
#define TCP_CSUM 16
#define UDP_CSUM 6
#define ICMP_CSUM 2
#define ICMP_ID 4

int nat_reply_tuple(struct conntrack *ct, const struct ct_tuple *orig, const struct nat_request *req,
		    uint64_t now, uint32_t random, struct ct_tuple *reply, struct nat_counters *counters)
{
	struct ct_tuple t = *orig;
	uint32_t lo, n;

	if (req->dnat) {
		t.dst = req->dnat_addr;
		if (req->dnat_port && (t.proto == CT_PROTO_TCP || t.proto == CT_PROTO_UDP))
			t.dport = req->dnat_port;
	}
	if (req->snat)
		t.src = req->snat_addr;
	*reply = ct_tuple_invert(&t);
	if (!conntrack_tuple_taken(ct, reply, now)) {
		counters->translated += req->snat || req->dnat;
		return 0;
	}
	if (!req->snat || (t.proto != CT_PROTO_TCP && t.proto != CT_PROTO_UDP && t.proto != CT_PROTO_ICMP)) {
		counters->clashes++;
		return -ERR_BUSY;
	}
	lo = t.proto == CT_PROTO_ICMP ? 0 : NAT_PORT_MIN;
	n = 65536 - lo;
	for (uint32_t i = 0; i < NAT_PROBES; i++) {
		t.sport = (uint16_t)(lo + (random + i) % n);    /* the port, or the echo identifier */
		*reply = ct_tuple_invert(&t);
		if (!conntrack_tuple_taken(ct, reply, now)) {
			counters->translated++;
			return 0;
		}
	}
	counters->ports_exhausted++;
	return -ERR_NO_MEMORY;
}

/* Where a datagram's parts are, after checking that they fit. */
struct datagram {
	uint8_t *ip, *l4;
	size_t l4_len;                  /* transport bytes present (0 in a later fragment) */
	uint8_t proto;
};

static inline __attribute__((always_inline)) bool parse(uint8_t *pkt, size_t len, struct datagram *d)
{
	if (len < 20 || pkt[0] >> 4 != 4)
		return false;
	size_t ihl = (size_t)(pkt[0] & 0xf) * 4, total = inet_get16(pkt + 2);
	if (ihl < 20 || ihl > len)
		return false;
	if (total < len && total >= ihl)
		len = total;            /* padding after the datagram is not its */
	d->ip = pkt;
	d->proto = pkt[9];
	d->l4 = pkt + ihl;
	d->l4_len = inet_get16(pkt + 6) & 0x1fff ? 0 : len - ihl;
	return true;
}

/* Where the transport checksum is, if present; udp says which rule. */
static uint8_t *l4_csum(const struct datagram *d, bool *udp)
{
	*udp = d->proto == CT_PROTO_UDP;
	if (d->proto == CT_PROTO_TCP && d->l4_len >= TCP_CSUM + 2)
		return d->l4 + TCP_CSUM;
	if (d->proto == CT_PROTO_UDP && d->l4_len >= UDP_CSUM + 2)
		return d->l4 + UDP_CSUM;
	if (d->proto == CT_PROTO_ICMP && d->l4_len >= ICMP_CSUM + 2)
		return d->l4 + ICMP_CSUM;
	return 0;
}

/* Replace an address; the IP checksum and (TCP, UDP: the pseudo-header)
 * the transport checksum follow. */
static void replace_addr(const struct datagram *d, unsigned at, uint32_t addr)
{
	uint32_t old;
	bool udp;
	uint8_t *c = l4_csum(d, &udp);

	__builtin_memcpy(&old, d->ip + at, 4);          /* inline, not a call */
	if (old == addr)
		return;
	__builtin_memcpy(d->ip + at, &addr, 4);
	inet_put16(d->ip + IP_CSUM, inet_csum_replace32(inet_get16(d->ip + IP_CSUM), old, addr));
	if (c && d->proto != CT_PROTO_ICMP)
		inet_put16(c, udp ? inet_udp_csum_replace32(inet_get16(c), old, addr)
				  : inet_csum_replace32(inet_get16(c), old, addr));
}

/* Replace a 16-bit transport field at l4 + at (when present). */
static void replace_l4_word(const struct datagram *d, unsigned at, uint16_t v)
{
	bool udp;
	uint8_t *c = l4_csum(d, &udp);

	if (d->l4_len < at + 2u)
		return;
	uint16_t old = inet_get16(d->l4 + at);
	if (old == v)
		return;
	inet_put16(d->l4 + at, v);
	if (c)
		inet_put16(c, udp ? inet_udp_csum_replace16(inet_get16(c), old, v)
				  : inet_csum_replace16(inet_get16(c), old, v));
}

/* Whether d already carries to (most packets of a connection translated
 * one way need nothing done the other way). */
static bool already(const struct datagram *d, const struct ct_tuple *to)
{
	uint32_t src, dst;

	__builtin_memcpy(&src, d->ip + IP_SRC, 4);
	__builtin_memcpy(&dst, d->ip + IP_DST, 4);
	if (src != to->src || dst != to->dst)
		return false;
	if (d->proto == CT_PROTO_TCP || d->proto == CT_PROTO_UDP)
		return d->l4_len >= 4 && inet_get16(d->l4) == to->sport && inet_get16(d->l4 + 2) == to->dport;
	if (d->proto == CT_PROTO_ICMP)
		return d->l4_len >= ICMP_ID + 2 && inet_get16(d->l4 + ICMP_ID) == to->sport;
	return true;
}

int nat_rewrite(uint8_t *pkt, size_t len, const struct ct_tuple *to)
{
	struct datagram d;

	if (!parse(pkt, len, &d) || d.proto != to->proto)
		return -ERR_INVALID_ARG;
	if (already(&d, to))
		return 0;
	replace_addr(&d, IP_SRC, to->src);
	replace_addr(&d, IP_DST, to->dst);
	if (d.proto == CT_PROTO_TCP || d.proto == CT_PROTO_UDP) {
		replace_l4_word(&d, 0, to->sport);
		replace_l4_word(&d, 2, to->dport);
	} else if (d.proto == CT_PROTO_ICMP) {
		replace_l4_word(&d, ICMP_ID, to->sport);
	}
	return 0;
}

int nat_rewrite_icmp_error(uint8_t *pkt, size_t len, const struct ct_entry *e, enum ct_dir dir)
{
	struct datagram d;
	struct ct_tuple target = nat_target(e, dir), inner = ct_tuple_invert(&target), quoted;
	uint32_t outer_src;

	if (!parse(pkt, len, &d) || d.proto != CT_PROTO_ICMP || d.l4_len < 8 ||
	    !ct_parse_quote(d.l4 + 8, d.l4_len - 8, &quoted) || quoted.proto != inner.proto)
		return -ERR_INVALID_ARG;
	if (nat_rewrite(d.l4 + 8, d.l4_len - 8, &inner))
		return -ERR_INVALID_ARG;
	memcpy(&outer_src, d.ip + IP_SRC, 4);
	if (outer_src == e->tuple[dir].src)
		replace_addr(&d, IP_SRC, target.src);
	replace_addr(&d, IP_DST, target.dst);
	inet_put16(d.l4 + ICMP_CSUM, 0);
	inet_put16(d.l4 + ICMP_CSUM, inet_fold(inet_sum(d.l4, d.l4_len, 0)));
	return 0;
}

int nat_rewrite_icmp_quote(uint8_t *pkt, size_t len, const struct ct_tuple *sent,
			   const struct ct_tuple *translated)
{
	/* As an error about a connection whose original tuple is what was
	 * sent and whose reply tuple is the translated one inverted. */
	struct ct_entry e = { .tuple = { *sent, ct_tuple_invert(translated) } };
	struct ct_tuple quoted;
	struct datagram d;

	if (!parse(pkt, len, &d) || d.proto != CT_PROTO_ICMP || d.l4_len < 8 ||
	    !ct_parse_quote(d.l4 + 8, d.l4_len - 8, &quoted) || !ct_tuple_equal(&quoted, translated))
		return -ERR_INVALID_ARG;
	return nat_rewrite_icmp_error(pkt, len, &e, CT_REPLY);
}

unsigned nat_forget_address(struct conntrack *ct, uint32_t addr)
{
	uint32_t cursor = 0;
	unsigned removed = 0;
	struct ct_entry *e;

	while ((e = conntrack_next(ct, &cursor)))
		if (e->flags & CT_F_SNAT && e->tuple[CT_REPLY].dst == addr) {
			conntrack_remove(ct, e);
			removed++;
		}
	return removed;
}
