/*
 * Software segmentation of TCP/IPv4 aggregates (include/lib/netq_gso.h).
 */
#include "lib/netq_gso.h"

#include "lib/inet_csum.h"
#include "lib/string.h"
#include "proto/netq.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

bool netq_gso_parse(const uint8_t *f, unsigned first, uint32_t total, uint16_t seg_size,
		    struct netq_gso *g)
{
	if (first < 14 + 20 || first > total || !seg_size || inet_get16(f + 12) != 0x0800)
		return false;
	const uint8_t *ip = f + 14;
	unsigned ihl = (ip[0] & 0x0Fu) * 4, ip_total = inet_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != 6 || (inet_get16(ip + 6) & 0x3FFF) ||
	    14 + ip_total > total || 14 + ihl + 20 > first)
		return false;
	unsigned thl = (ip[ihl + 12] >> 4) * 4u;
	if (thl < 20 || 14 + ihl + thl > first || ihl + thl > ip_total)
		return false;
	g->ip = 14;
	g->tcp = (uint16_t)(14 + ihl);
	g->hdr_len = (uint16_t)(14 + ihl + thl);
	g->seg_size = seg_size;
	g->payload = ip_total - ihl - thl;
	g->nsegs = g->payload ? (g->payload + seg_size - 1) / seg_size : 1;
	return true;
}

unsigned netq_gso_headers(const uint8_t *hdr, const struct netq_gso *g, unsigned i, uint8_t *out)
{
	uint32_t at = i * (uint32_t)g->seg_size;
	unsigned len = g->payload - at < g->seg_size ? g->payload - at : g->seg_size;
	bool last = i + 1 >= g->nsegs;

	memcpy(out, hdr, g->hdr_len);
	uint8_t *ip = out + g->ip, *tcp = out + g->tcp;
	inet_put16(ip + 2, (uint16_t)(g->hdr_len - g->ip + len));
	inet_put16(ip + 4, (uint16_t)(inet_get16(hdr + g->ip + 4) + i));
	inet_put16(ip + 10, 0);
	inet_put16(ip + 10, inet_fold(inet_sum(ip, g->tcp - g->ip, 0)));
	uint32_t seq = ((uint32_t)inet_get16(tcp + 4) << 16 | inet_get16(tcp + 6)) + at;
	inet_put16(tcp + 4, (uint16_t)(seq >> 16));
	inet_put16(tcp + 6, (uint16_t)seq);
	if (!last)
		tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i)
		tcp[13] &= (uint8_t)~TCP_CWR;
	inet_put16(tcp + 16, 0);
	return len;
}

bool netq_gso_tso_check(const uint8_t *hdr, unsigned first, uint32_t total,
			const struct netq_desc *d0, unsigned max_frame, struct netq_gso *g)
{
	if (!(d0->flags & NETQ_F_TSO4) || !(d0->flags & NETQ_F_CSUM_PARTIAL) || first > d0->len ||
	    !netq_gso_parse(hdr, first, total, d0->seg_size, g))
		return false;
	return g->hdr_len <= NETQ_GSO_HDR_MAX && g->ip + inet_get16(hdr + g->ip + 2) == total &&
	       g->payload > 0 && d0->csum_start == g->tcp && d0->csum_offset == 16 &&
	       (unsigned)g->hdr_len + g->seg_size <= max_frame;
}

uint16_t netq_gso_pseudo_sum0(const uint8_t *hdr, const struct netq_gso *g)
{
	uint8_t proto[2] = { 0, 6 };

	return (uint16_t)~inet_fold(inet_sum(proto, 2, inet_sum(hdr + g->ip + 12, 8, 0)));
}
