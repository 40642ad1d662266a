/* Packet metadata for the firewall: netstack/packet_meta.h. */
#include "packet_meta.h"

#include "lib/inet_csum.h"
#include "lib/string.h"

#define TCP_OPT_END 0
#define TCP_OPT_NOP 1
#define TCP_OPT_WSCALE 3        /* RFC 7323 2.2: kind 3, length 3, shift */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The window scale option among opt[0..len), or CT_WSCALE_NONE. A
 * malformed option list ends the search. */
static uint8_t window_scale(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (opt[i] == TCP_OPT_END)
			break;
		if (opt[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			break;
		if (opt[i] == TCP_OPT_WSCALE && opt[i + 1] == 3)
			return opt[i + 2];
		i += opt[i + 1];
	}
	return CT_WSCALE_NONE;
}

static enum packet_meta_result parse_tcp(const uint8_t *l4, size_t l4_len, struct ct_packet *ct,
					 struct fw_packet *fw)
{
	if (l4_len < 20)
		return PACKET_META_MALFORMED;
	size_t doff = (size_t)(l4[12] >> 4) * 4;
	if (doff < 20 || doff > l4_len)
		return PACKET_META_MALFORMED;
	ct->tuple.sport = fw->sport = inet_get16(l4);
	ct->tuple.dport = fw->dport = inet_get16(l4 + 2);
	ct->seq = get32(l4 + 4);
	ct->ack = get32(l4 + 8);
	ct->tcp_flags = fw->tcp_flags = l4[13];
	ct->window = inet_get16(l4 + 14);
	ct->payload = (uint16_t)(l4_len - doff);
	ct->wscale = ct->tcp_flags & TCP_SYN ? window_scale(l4 + 20, doff - 20) : CT_WSCALE_NONE;
	return PACKET_META_OK;
}

static enum packet_meta_result parse_icmp(const uint8_t *l4, size_t l4_len, struct ct_packet *ct,
					  struct fw_packet *fw)
{
	if (l4_len < 8)
		return PACKET_META_MALFORMED;
	ct->icmp_type = fw->icmp_type = l4[0];
	ct->icmp_code = fw->icmp_code = l4[1];
	if (l4[0] == ICMP_ECHO_REQUEST || l4[0] == ICMP_ECHO_REPLY) {
		ct->tuple.sport = inet_get16(l4 + 4);
		ct->tuple.dport = l4[0];
	} else {
		ct->quote = l4 + 8;
		ct->quote_len = l4_len - 8;
	}
	return PACKET_META_OK;
}

enum packet_meta_result packet_meta_parse(const uint8_t *pkt, size_t len, struct ct_packet *ct,
					  struct fw_packet *fw)
{
	*ct = (struct ct_packet){ .wscale = CT_WSCALE_NONE };
	fw->saddr = fw->daddr = 0;
	fw->proto = fw->icmp_type = fw->icmp_code = fw->tcp_flags = 0;
	fw->sport = fw->dport = 0;
	fw->len = 0;
	if (len < 20 || pkt[0] >> 4 != 4)
		return PACKET_META_MALFORMED;
	size_t ihl = (size_t)(pkt[0] & 0xf) * 4, total = inet_get16(pkt + 2);
	if (ihl < 20 || total < ihl || total > len)
		return PACKET_META_MALFORMED;
	__builtin_memcpy(&fw->saddr, pkt + 12, 4);      /* inline, not a call */
	__builtin_memcpy(&fw->daddr, pkt + 16, 4);
	fw->proto = pkt[9];
	fw->len = (uint32_t)total;
	ct->tuple = (struct ct_tuple){ .src = fw->saddr, .dst = fw->daddr, .proto = fw->proto };
	if (inet_get16(pkt + 6) & 0x3fff)       /* more fragments, or an offset */
		return PACKET_META_FRAGMENT;
	const uint8_t *l4 = pkt + ihl;
	size_t l4_len = total - ihl;
	switch (fw->proto) {
	case CT_PROTO_TCP:
		return parse_tcp(l4, l4_len, ct, fw);
	case CT_PROTO_UDP:
		if (l4_len < 8)
			return PACKET_META_MALFORMED;
		ct->tuple.sport = fw->sport = inet_get16(l4);
		ct->tuple.dport = fw->dport = inet_get16(l4 + 2);
		return PACKET_META_OK;
	case CT_PROTO_ICMP:
		return parse_icmp(l4, l4_len, ct, fw);
	default:
		return PACKET_META_OK;
	}
}
