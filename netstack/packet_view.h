/*
 * A datagram's bytes for the firewall's parser and NAT (decide.c). In
 * place when its first pbuf holds it all and it is not a first fragment;
 * otherwise its first bytes (PACKET_VIEW_MAX at most: the headers) are
 * copied to buf, and the copy's length and fragment fields say "whole" so
 * that the parser reads its transport header; a rewrite of the copy is
 * put back into the pbuf (the headers only) with those fields as they
 * were. No payload byte is copied for a datagram in one pbuf.
 */
#ifndef MICA_NETSTACK_PACKET_VIEW_H
#define MICA_NETSTACK_PACKET_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/inet_csum.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip4.h"

#define PACKET_VIEW_MAX 128     /* header bytes parsed from a copy */

struct packet_view {
	uint8_t *ip;                    /* the IPv4 header: in the pbuf, or buf */
	size_t len;                     /* bytes at ip */
	uint32_t total;                 /* the datagram's length */
	unsigned offset;                /* of its IP header in the pbuf */
	bool copied;
	uint16_t length_field, frag_field;      /* the real ones, of a copy */
	uint8_t buf[PACKET_VIEW_MAX];
};

/* packet_view's copy (v->offset, total and copied set). */
bool packet_view_copy(struct pbuf *p, unsigned offset, struct packet_view *v);

/* The datagram whose IPv4 header is at offset in p; false when p holds
 * less than its header or than its length field says. Inline: a datagram
 * in place (most) costs no call. */
static inline bool packet_view(struct pbuf *p, unsigned offset, struct packet_view *v)
{
	if (p->len < offset + IP_HLEN)
		return false;
	uint8_t *ip = (uint8_t *)p->payload + offset;
	uint16_t frag = inet_get16(ip + 6);

	v->offset = offset;
	v->total = inet_get16(ip + 2);
	if (p->tot_len < offset + v->total)
		return false;
	v->copied = p->len < offset + v->total || ((frag & IP_MF) && !(frag & IP_OFFMASK));
	if (v->copied)
		return packet_view_copy(p, offset, v);
	v->ip = ip;
	v->len = p->len - offset;
	return true;
}
/* A rewritten copy goes back into p (nothing to do in place). */
void packet_view_put_back(struct pbuf *p, struct packet_view *v);
/* It is a fragment other than the first. */
bool packet_view_later_fragment(const struct packet_view *v);

#endif
