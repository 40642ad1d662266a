/* Receive merging of TCP/IPv4 segments: include/lib/netq_merge.h. */
#include "lib/netq_merge.h"

#include "lib/inet_csum.h"
#include "lib/string.h"
#include "proto/netq.h"

#define ETH_HLEN 14
#define IP_HLEN 20
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define IP_DF 0x4000

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)inet_get16(p) << 16 | inet_get16(p + 2);
}

bool netq_merge_parse(const uint8_t *f, unsigned len, struct netq_merge_seg *s)
{
	const unsigned fixed = ETH_HLEN + IP_HLEN + 20;

	if (len <= fixed || inet_get16(f + 12) != 0x0800)
		return false;       /* not IPv4, or no room for a payload */
	/* The headers are copied first (the options once their length is
	 * known); everything below reads the copy. */
	memcpy(s->hdr, f, fixed);
	const uint8_t *ip = s->hdr + ETH_HLEN, *tcp = ip + IP_HLEN;
	if (ip[0] != 0x45 || ip[9] != 6 || (inet_get16(ip + 6) & 0x3FFF) ||
	    ETH_HLEN + (unsigned)inet_get16(ip + 2) != len || inet_fold(inet_sum(ip, IP_HLEN, 0)))
		return false;
	unsigned thl = (tcp[12] >> 4) * 4u;
	if (thl < 20 || ETH_HLEN + IP_HLEN + thl >= len)
		return false;
	memcpy(s->hdr + fixed, f + fixed, thl - 20);
	if ((tcp[13] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return false;   /* SYN, FIN, RST, URG, ECE, CWR, or no ACK */
	s->hdr_len = (uint16_t)(ETH_HLEN + IP_HLEN + thl);
	s->payload = (uint16_t)(len - s->hdr_len);
	s->id = inet_get16(ip + 4);
	s->seq = get32(tcp + 4);
	s->tcp_flags = tcp[13];
	return true;
}

void netq_merge_start(struct netq_merge *m, const struct netq_merge_seg *s)
{
	m->head = *s;
	m->n = 1;
	m->payload = s->payload;
	m->next_seq = s->seq + s->payload;
	m->last_id = s->id;
	/* A head that cannot lead an aggregate on the queues (its segment
	 * size out of range, or too short to hold a chain's headers) stays
	 * alone. */
	m->closed = (s->tcp_flags & TCP_PSH) || s->payload < NETQ_SEG_MIN ||
		    s->payload > NETQ_SEG_MAX ||
		    (unsigned)s->hdr_len + s->payload < NETQ_CHAIN_HEAD_MIN;
}

/* Do a and b's headers agree where every segment of a flow's aggregate
 * must? (Both parsed: 20-byte IPv4 headers. __builtin_memcmp: the
 * compiler inlines those of a constant size, -ffreestanding or not.) */
static bool same_flow(const struct netq_merge_seg *a, const struct netq_merge_seg *b)
{
	const uint8_t *x = a->hdr, *y = b->hdr;
	const unsigned ip = ETH_HLEN, tcp = ETH_HLEN + IP_HLEN;

	return a->hdr_len == b->hdr_len &&
	       !__builtin_memcmp(x, y, ETH_HLEN) &&                /* addresses, type */
	       !__builtin_memcmp(x + ip, y + ip, 2) &&             /* version, IHL, TOS */
	       !__builtin_memcmp(x + ip + 6, y + ip + 6, 4) &&     /* flags, TTL, protocol */
	       !__builtin_memcmp(x + ip + 12, y + ip + 12, 8) &&   /* addresses */
	       !__builtin_memcmp(x + tcp, y + tcp, 4) &&           /* ports */
	       !__builtin_memcmp(x + tcp + 8, y + tcp + 8, 5) &&   /* ack, data offset */
	       !__builtin_memcmp(x + tcp + 14, y + tcp + 14, 2) && /* window */
	       !__builtin_memcmp(x + tcp + 18, y + tcp + 18, a->hdr_len - tcp - 18); /* urgent, options */
}

bool netq_merge_add(struct netq_merge *m, const struct netq_merge_seg *s, unsigned max_segs)
{
	const struct netq_merge_seg *h = &m->head;
	bool df = inet_get16(h->hdr + ETH_HLEN + 6) & IP_DF;

	if (!m->n || m->closed || m->n >= max_segs || s->payload > h->payload ||
	    s->seq != m->next_seq ||
	    (uint32_t)h->hdr_len + m->payload + s->payload > NETQ_GSO_FRAME_MAX)
		return false;
	if (s->id != (uint16_t)(m->last_id + 1) && !(df && s->id == m->last_id))
		return false;
	if (!same_flow(h, s))
		return false;
	m->n++;
	m->payload += s->payload;
	m->next_seq += s->payload;
	m->last_id = s->id;
	/* Only the last may be short or say PSH. */
	m->closed = s->payload < h->payload || (s->tcp_flags & TCP_PSH);
	if (s->tcp_flags & TCP_PSH)
		m->head.tcp_flags |= TCP_PSH;
	return true;
}

void netq_merge_headers(const struct netq_merge *m, uint8_t *out)
{
	uint8_t *ip = out + ETH_HLEN;

	memcpy(out, m->head.hdr, m->head.hdr_len);
	inet_put16(ip + 2, (uint16_t)(m->head.hdr_len - ETH_HLEN + m->payload));
	inet_put16(ip + 10, 0);
	inet_put16(ip + 10, inet_fold(inet_sum(ip, IP_HLEN, 0)));
	ip[IP_HLEN + 13] = m->head.tcp_flags;
}
