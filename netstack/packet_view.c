/* A datagram's bytes for the firewall: netstack/packet_view.h. */
#include "netstack.h"
#include "packet_view.h"

#include "lib/inet_csum.h"
#include "lwip/prot/ip4.h"

bool packet_view_copy(struct pbuf *p, unsigned offset, struct packet_view *v)
{
	uint16_t frag = inet_get16((const uint8_t *)p->payload + offset + 6);
	size_t n = v->total < PACKET_VIEW_MAX ? v->total : PACKET_VIEW_MAX;
	if (n < IP_HLEN || pbuf_copy_partial(p, v->buf, (u16_t)n, (u16_t)offset) != n)
		return false;
	v->ip = v->buf;
	v->len = n;
	v->length_field = inet_get16(v->buf + 2);
	v->frag_field = frag;
	inet_put16(v->buf + 2, (uint16_t)n);
	inet_put16(v->buf + 6, frag & IP_DF);
	return true;
}

void packet_view_put_back(struct pbuf *p, struct packet_view *v)
{
	if (!v->copied)
		return;
	inet_put16(v->buf + 2, v->length_field);
	inet_put16(v->buf + 6, v->frag_field);
	pbuf_take_at(p, v->buf, (u16_t)v->len, (u16_t)v->offset);
	inet_put16(v->buf + 2, (uint16_t)v->len);
	inet_put16(v->buf + 6, v->frag_field & IP_DF);
}

bool packet_view_later_fragment(const struct packet_view *v)
{
	return (v->copied ? v->frag_field : inet_get16(v->ip + 6)) & IP_OFFMASK;
}
