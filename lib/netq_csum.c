/* Checksum offload on the netq rings: include/lib/netq_csum.h. */
#include "lib/netq_csum.h"

#include "lib/inet_csum.h"

#define ETH_HLEN 14
#define PROTO_TCP 6
#define PROTO_UDP 17

/* inet_sum's big-endian sum of data[0..len), folded. */
static uint32_t sum_be(const uint8_t *data, size_t len)
{
	return netq_swap16(netq_sum_native(data, len));
}

bool netq_frame_l4(const uint8_t *f, unsigned len, struct netq_l4 *l4)
{
	if (len < ETH_HLEN + 20 || f[12] != 0x08 || f[13] != 0x00)
		return false;
	const uint8_t *ip = f + ETH_HLEN;
	unsigned ihl = (ip[0] & 0x0F) * 4u, total = inet_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || ETH_HLEN + total > len)
		return false;
	if (inet_get16(ip + 6) & 0x3FFF)        /* MF or a fragment offset */
		return false;
	unsigned need = ip[9] == PROTO_TCP ? 20 : ip[9] == PROTO_UDP ? 8 : 0;
	if (!need || total - ihl < need)
		return false;
	l4->ip = ETH_HLEN;
	l4->l4 = (uint16_t)(ETH_HLEN + ihl);
	l4->end = (uint16_t)(ETH_HLEN + total);
	l4->csum = (uint16_t)(l4->l4 + (ip[9] == PROTO_TCP ? 16 : 6));
	l4->proto = ip[9];
	return true;
}

uint16_t netq_pseudo_sum(const uint8_t *f, const struct netq_l4 *l4)
{
	uint32_t sum = inet_sum(f + l4->ip + 12, 8, 0);        /* source, destination */
	sum += l4->proto + (uint32_t)(l4->end - l4->l4);
	return (uint16_t)~inet_fold(sum);
}

void netq_csum_leave(uint8_t *f, const struct netq_l4 *l4, struct netq_desc *d)
{
	inet_put16(f + l4->csum, netq_pseudo_sum(f, l4));
	d->flags |= NETQ_F_CSUM_PARTIAL;
	d->csum_start = l4->l4;
	d->csum_offset = (uint16_t)(l4->csum - l4->l4);
}

void netq_csum_complete(uint8_t *f, unsigned end, unsigned start, unsigned offset)
{
	uint16_t c = inet_fold(sum_be(f + start, end - start));

	inet_put16(f + start + offset, c ? c : 0xFFFF);
}

void netq_csum_fill(uint8_t *f, const struct netq_l4 *l4)
{
	inet_put16(f + l4->csum, netq_pseudo_sum(f, l4));
	netq_csum_complete(f, l4->end, l4->l4, (unsigned)(l4->csum - l4->l4));
}

bool netq_csum_ok(const uint8_t *f, const struct netq_l4 *l4)
{
	if (l4->proto == PROTO_UDP && !inet_get16(f + l4->csum))
		return true;
	uint32_t sum = sum_be(f + l4->l4, (unsigned)(l4->end - l4->l4));
	sum += (uint16_t)~inet_fold(inet_sum(f + l4->ip + 12, 8, 0) + l4->proto +
				    (uint32_t)(l4->end - l4->l4));
	return inet_fold(sum) == 0;
}
