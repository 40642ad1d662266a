/*
 * IPv4 reassembly as Linux does it (net/ipv4/ip_fragment.c, ip_frag_queue
 * and inet_frag_queue_insert since 4.19), around lwIP's own, which the
 * link wraps (ld --wrap=ip4_reass, the Makefile; lwIP's sources stay as
 * shipped):
 *
 * - a fragment that overlaps one already held without lying inside it
 *   (RFC 5722's rule, which Linux applies to IPv4 too), a last fragment
 *   that ends before data already held or elsewhere than an earlier last
 *   fragment, a later one past the known end, or an empty one: the whole
 *   datagram is dropped (lwIP kept the first of two overlapping
 *   fragments and reassembled the rest) — ipfrag_overlap, Linux's
 *   ReasmOverlaps; a duplicate (inside what is held) is dropped alone;
 * - fragments with IP options are reassembled (lwIP refused them): the
 *   options are taken off before lwIP sees a fragment, and the datagram
 *   gets the first fragment's back (see reassembled());
 * - a datagram in more fragments than reassembly holds
 *   (IP_REASS_MAX_PBUFS, 64) can never be put together: it is dropped
 *   whole as soon as it passes the bound (ipfrag_too_many), instead of
 *   holding 64 buffers for 15 s. Linux bounds memory only
 *   (ipfrag_high_thresh); the bound here is lwIP's, in fragments.
 *
 * Then the datagram's headers are put together in its first buffer:
 * tcp_input, udp_input and icmp_input read theirs from there, so a SYN in
 * 8-byte fragments got no answer (Linux pulls them together,
 * pskb_may_pull). docs/netstack.md, "Hardening".
 */
#include "netstack.h"

#include "frag_fit.h"

#include "lwip/inet_chksum.h"
#include "lwip/ip4_frag.h"
#include "lwip/memp.h"
#include "lwip/priv/memp_priv.h"
#include "lwip/prot/ip4.h"
#include "lwip/stats.h"
#include "lwip/sys.h"

#if MEMP_OVERFLOW_CHECK || MEMP_MEM_MALLOC
#error "reassembly.c walks lwIP's MEMP_REASSDATA pool as laid out without these"
#endif

/* lwIP's own (ip4_frag.c, private): what it writes over the header of
 * each fragment it holds, and the flag of a datagram whose last fragment
 * came. */
PACK_STRUCT_BEGIN
struct held_fragment {
	PACK_STRUCT_FIELD(struct pbuf *next_pbuf);
	PACK_STRUCT_FIELD(u16_t start);
	PACK_STRUCT_FIELD(u16_t end);
} PACK_STRUCT_STRUCT;
PACK_STRUCT_END
#define LASTFRAG 0x01

/* The most an IPv4 header and a TCP header take, options and all. */
#define HEADERS_MAX (60 + 60)
#define OPTIONS_MAX 40

struct pbuf *__real_ip4_reass(struct pbuf *p);
struct pbuf *__wrap_ip4_reass(struct pbuf *p);

static struct reassembly_counters counters;
static bool dropping;           /* the ICMP time exceeded of a datagram dropped here is not sent */

/* A first fragment's options, until its datagram is whole (at most one a
 * datagram lwIP holds). */
static struct first_options {
	uint32_t src, dst;
	uint16_t id;
	uint8_t len;                    /* 0: a free slot */
	uint32_t since_ms;
	uint8_t bytes[OPTIONS_MAX];
} first_options[MEMP_NUM_REASSDATA];

const struct reassembly_counters *reassembly_counters(void)
{
	return &counters;
}

bool reassembly_dropping(void)
{
	return dropping;
}

/* Every datagram lwIP holds, in MEMP_REASSDATA's pool: each element that
 * is not on the pool's free list. lwIP's list of them (reassdatagrams)
 * is private to ip4_frag.c. Returns how many went into held[]. */
static unsigned held_datagrams(struct ip_reassdata **held)
{
	const struct memp_desc *d = memp_pools[MEMP_REASSDATA];
	uint8_t *base = (uint8_t *)LWIP_MEM_ALIGN(d->base);
	unsigned n = 0;

	for (unsigned i = 0; i < d->num; i++) {
		struct ip_reassdata *r = (struct ip_reassdata *)(base + (size_t)i * d->size);
		bool free = false;
		for (struct memp *m = *d->tab; m && !free; m = m->next)
			free = (void *)m == (void *)r;
		if (!free)
			held[n++] = r;
	}
	return n;
}

static bool same_datagram(const struct ip_hdr *a, const struct ip_hdr *b)
{
	return ip4_addr_cmp(&a->src, &b->src) && ip4_addr_cmp(&a->dest, &b->dest) &&
	       IPH_ID(a) == IPH_ID(b);
}

static struct first_options *options_slot(const struct ip_hdr *h)
{
	for (unsigned i = 0; i < MEMP_NUM_REASSDATA; i++) {
		struct first_options *o = &first_options[i];
		if (o->len && o->src == h->src.addr && o->dst == h->dest.addr && o->id == IPH_ID(h))
			return o;
	}
	return NULL;
}

/* Drop the datagram lwIP holds as r, with every fragment of it, at once
 * and without the ICMP time exceeded its reassembly timer would send:
 * lwIP frees a datagram only from that timer (ip_reass_tmr, at a timer
 * of 0), so r's is set to 0 and every other's raised by the one the call
 * takes off. */
static void datagram_drop(struct ip_reassdata *r)
{
	struct ip_reassdata *held[MEMP_NUM_REASSDATA];
	unsigned n = held_datagrams(held);
	struct first_options *o = options_slot(&r->iphdr);

	if (o)
		o->len = 0;
	for (unsigned i = 0; i < n; i++)
		held[i]->timer = held[i] == r ? 0 : (u8_t)(held[i]->timer + 1);
	dropping = true;
	ip_reass_tmr();
	dropping = false;
}

/* A fragment dropped before lwIP's reassembly saw it: counted as lwIP
 * counts the ones it drops. */
static void fragment_drop(struct pbuf *p)
{
	IPFRAG_STATS_INC(ip_frag.recv);
	IPFRAG_STATS_INC(ip_frag.drop);
	pbuf_free(p);
}

/* The fragments r holds, in order (lwIP keeps them so), and how many
 * pbufs they take. */
static unsigned held_ranges(const struct ip_reassdata *r, struct frag_range *ranges,
			    unsigned *pbufs)
{
	unsigned n = 0;

	*pbufs = 0;
	for (struct pbuf *q = r->p; q && n < IP_REASS_MAX_PBUFS;) {
		const struct held_fragment *h = (const struct held_fragment *)q->payload;
		ranges[n++] = (struct frag_range){ h->start, h->end };
		*pbufs += pbuf_clen(q);
		q = h->next_pbuf;
	}
	return n;
}

/* The fragment p judged against the datagram lwIP holds for it; false
 * when it was dropped here (freed), with its datagram or alone. */
static bool fragment_take(struct pbuf *p)
{
	const struct ip_hdr *h = (const struct ip_hdr *)p->payload;
	unsigned hlen = IPH_HL_BYTES(h), iplen = lwip_ntohs(IPH_LEN(h));
	unsigned offset = (lwip_ntohs(IPH_OFFSET(h)) & IP_OFFMASK) * 8u;
	bool last = !(lwip_ntohs(IPH_OFFSET(h)) & IP_MF);
	struct ip_reassdata *held[MEMP_NUM_REASSDATA], *r = NULL;
	unsigned n = held_datagrams(held);
	for (unsigned i = 0; i < n && !r; i++)
		if (same_datagram(&held[i]->iphdr, h))
			r = held[i];
	unsigned end = offset + iplen - hlen;
	if (!r) {
		if (end != offset)
			return true;
		counters.overlap++;     /* Linux drops an empty fragment's queue too */
		fragment_drop(p);
		return false;
	}
	struct frag_range ranges[IP_REASS_MAX_PBUFS];
	unsigned pbufs, n_held = held_ranges(r, ranges, &pbufs);
	switch (frag_fit(ranges, n_held, r->flags & LASTFRAG, r->datagram_len, offset, end, last)) {
	case FRAG_NEW:
		if (pbufs + pbuf_clen(p) <= IP_REASS_MAX_PBUFS)
			return true;
		counters.too_many++;    /* it could never be whole */
		break;
	case FRAG_DUPLICATE:
		fragment_drop(p);
		return false;
	case FRAG_OVERLAP:
		counters.overlap++;
		break;
	}
	datagram_drop(r);
	fragment_drop(p);
	return false;
}

/* A fragment's options (hlen > IP_HLEN) taken off before lwIP, which
 * reassembles only plain headers; a first fragment's are kept for its
 * datagram. The guard checked them (ip4_options.c). */
static void options_take_off(struct pbuf *p, unsigned hlen)
{
	struct ip_hdr *h = (struct ip_hdr *)p->payload;
	unsigned optlen = hlen - IP_HLEN;

	if ((lwip_ntohs(IPH_OFFSET(h)) & IP_OFFMASK) == 0) {
		struct first_options *o = options_slot(h), *oldest = &first_options[0];
		for (unsigned i = 0; i < MEMP_NUM_REASSDATA && !o; i++) {
			struct first_options *c = &first_options[i];
			if (!c->len)
				o = c;
			else if ((int32_t)(c->since_ms - oldest->since_ms) < 0)
				oldest = c;
		}
		o = o ? o : oldest;
		*o = (struct first_options){ .src = h->src.addr, .dst = h->dest.addr,
					     .id = IPH_ID(h), .len = (uint8_t)optlen,
					     .since_ms = sys_now() };
		memcpy(o->bytes, (uint8_t *)h + IP_HLEN, optlen);
	}
	memmove((uint8_t *)h + optlen, h, IP_HLEN);
	pbuf_remove_header(p, optlen);
	h = (struct ip_hdr *)p->payload;
	IPH_VHL_SET(h, 4, IP_HLEN / 4);
	IPH_LEN_SET(h, lwip_htons((u16_t)(lwip_ntohs(IPH_LEN(h)) - optlen)));
	IPH_CHKSUM_SET(h, 0);
	IPH_CHKSUM_SET(h, inet_chksum(h, IP_HLEN));
	counters.options++;
}

/* Options of room bytes for the whole datagram h: its first fragment's,
 * whole options while they fit, then end-of-list. */
static void options_put_back(const struct ip_hdr *h, uint8_t *to, unsigned room)
{
	struct first_options *o = options_slot(h);
	unsigned used = 0;

	if (o && sys_now() - o->since_ms <= IP_REASS_MAXAGE * 1000u) {
		for (unsigned i = 0; i < o->len;) {
			/* End of list, or a length the guard would have refused
			 * (ip4_options_check): the rest is not put back. */
			unsigned len = o->bytes[i] == 1 ? 1 : i + 1 < o->len ? o->bytes[i + 1] : 0;
			if (o->bytes[i] == 0 || len < (o->bytes[i] == 1 ? 1u : 2u) || i + len > o->len ||
			    used + len > room)
				break;
			memcpy(to + used, o->bytes + i, len);
			used += len;
			i += len;
		}
	}
	if (o)
		o->len = 0;
	memset(to + used, 0, room - used);
}

/* The whole datagram p (lwIP's: a plain header, then the fragments'
 * data) with its header hlen bytes long, as long as the header of the
 * fragment that completed it: ip4_input takes that many bytes off (it
 * measured them before reassembly), so a longer or shorter header would
 * shift the payload. The options there are the first fragment's, as far
 * as they fit (Linux's datagram has the first fragment's header). Its
 * headers, up to HEADERS_MAX bytes, are in its first pbuf. NULL when no
 * memory was left (counted in ip_frag.memerr) or that header would make
 * it longer than 65535 bytes (ip_frag.err). */
static struct pbuf *reassembled(struct pbuf *p, unsigned hlen)
{
	u16_t body = (u16_t)(p->tot_len - IP_HLEN);
	u16_t want = (u16_t)LWIP_MIN(p->tot_len, HEADERS_MAX);

	if (hlen + (unsigned)body > 0xFFFF) {
		/* The completing fragment's options make it longer than an
		 * IPv4 datagram can be: dropped, as Linux's ip_frag_reasm
		 * drops an oversized one. */
		IPFRAG_STATS_INC(ip_frag.err);
		pbuf_free(p);
		return NULL;
	}
	if (hlen == IP_HLEN) {
		struct first_options *o = options_slot(p->payload);
		if (o)
			o->len = 0;     /* no room for them (below) */
		if (!p->next || p->len >= want)
			return p;
	}
	u16_t more = (u16_t)LWIP_MIN(body, HEADERS_MAX - 60);
	struct pbuf *head = pbuf_alloc(PBUF_RAW, (u16_t)(hlen + more), PBUF_RAM);
	if (!head) {
		IPFRAG_STATS_INC(ip_frag.memerr);
		pbuf_free(p);
		return NULL;
	}
	struct ip_hdr *h = (struct ip_hdr *)head->payload;
	pbuf_copy_partial(p, h, IP_HLEN, 0);
	pbuf_copy_partial(p, (uint8_t *)h + hlen, more, IP_HLEN);
	if (hlen > IP_HLEN)
		options_put_back(h, (uint8_t *)h + IP_HLEN, hlen - IP_HLEN);
	IPH_VHL_SET(h, 4, hlen / 4);
	IPH_LEN_SET(h, lwip_htons((u16_t)(hlen + body)));
	IPH_CHKSUM_SET(h, 0);
	IPH_CHKSUM_SET(h, inet_chksum(h, (u16_t)hlen));
	struct pbuf *rest = pbuf_free_header(p, (u16_t)(IP_HLEN + more));
	if (rest)
		pbuf_cat(head, rest);
	return head;
}

/* lwIP's ip4_reass with Linux's rules around it (above). Returns as
 * ip4_reass: the datagram, or NULL (not whole yet, or dropped). */
struct pbuf *__wrap_ip4_reass(struct pbuf *p)
{
	const struct ip_hdr *h = (const struct ip_hdr *)p->payload;
	unsigned hlen = IPH_HL_BYTES(h);

	/* ip4_input checked that the header is in the first pbuf, but not
	 * that the datagram is as long as it: lwIP drops such a fragment
	 * (with options or not). */
	if (lwip_ntohs(IPH_LEN(h)) < hlen || p->len < hlen)
		return __real_ip4_reass(p);
	if (!fragment_take(p))
		return NULL;
	if (hlen > IP_HLEN) {
		options_take_off(p, hlen);
	} else if ((lwip_ntohs(IPH_OFFSET(h)) & IP_OFFMASK) == 0) {
		/* A first fragment without options: none kept from an
		 * earlier datagram with the same addresses and ID. */
		struct first_options *o = options_slot(h);
		if (o)
			o->len = 0;
	}
	p = __real_ip4_reass(p);
	return p ? reassembled(p, hlen) : NULL;
}
