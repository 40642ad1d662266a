/*
 * A new connection's SYN for one this host holds in TIME-WAIT: the peer
 * has forgotten the old connection (its own TIME-WAIT is over, Linux's
 * 60 s against lwIP's 2 MSL of 120 s, longer when lwIP's timers fall
 * behind on a loaded host) and opens a new one from the same port. lwIP
 * answers such a SYN with an ACK and ignores the peer's reset to it
 * (RFC 1337), so the peer's connect waited until the TIME-WAIT ended.
 * Here it goes as on Linux (net/ipv4/tcp_minisocks.c,
 * tcp_timewait_state_process, with net.ipv4.tcp_rfc1337=0):
 *
 * - a SYN without ACK or RST whose sequence number is after the one the
 *   old connection expected next ends the TIME-WAIT, and the listener
 *   takes it (RFC 1122 4.2.2.13: the new incarnation's sequence numbers
 *   lie past the old one's); only when a listener is there to take it
 *   (Linux keeps the TIME-WAIT and answers with an ACK otherwise: the
 *   connection's port may be one this host chose to connect from) and
 *   the segment is one lwIP would take (its checksums and TCP header
 *   length right, as Linux checks them before it looks for the
 *   connection);
 * - any other SYN gets lwIP's ACK, which the peer answers with a reset
 *   at the sequence number expected next (RFC 9293 3.10.7.3, SYN-SENT);
 *   that reset ends the TIME-WAIT, so the peer's next SYN is taken.
 *
 * docs/netstack.md, "Hardening" (the guard's hooks call these).
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lwip/inet_chksum.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"

/* The datagram's IPv4 header checksum and the segment's TCP checksum
 * are right, or the NIC checked them (p at the IPv4 header, hlen its
 * length, iplen the datagram's). The hook runs before lwIP checks the
 * header's (ip4_input), and Linux drops a datagram whose header sum is
 * wrong (ip_rcv_core) before TCP sees it. */
static bool checksum_ok(struct pbuf *p, struct netif *inp, unsigned hlen, unsigned iplen,
			const ip_addr_t *src, const ip_addr_t *dest)
{
	if ((inp->chksum_flags & NETIF_CHECKSUM_CHECK_IP) && inet_chksum(p->payload, (u16_t)hlen))
		return false;
	if (!(inp->chksum_flags & NETIF_CHECKSUM_CHECK_TCP))
		return true;
	if (pbuf_remove_header(p, hlen))
		return false;
	uint16_t len = (uint16_t)(iplen - hlen);
	bool ok = ip_chksum_pseudo_partial(p, IP_PROTO_TCP, len, len, src, dest) == 0;
	pbuf_add_header(p, hlen);
	return ok;
}

/* A listener that would take a SYN to dest:dport arriving on inp (as
 * tcp_input looks for one). */
static bool listening(const ip_addr_t *dest, uint16_t dport, struct netif *inp)
{
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		if (l->local_port == dport &&
		    (l->netif_idx == NETIF_NO_INDEX || l->netif_idx == netif_get_index(inp)) &&
		    (ip_addr_isany(&l->local_ip) || ip_addr_cmp(&l->local_ip, dest)))
			return true;
	return false;
}

void time_wait_syn(struct pbuf *p, struct netif *inp, unsigned hlen, unsigned iplen)
{
	const uint8_t *iph = p->payload, *tcph = iph + hlen;

	if (!tcp_tw_pcbs || (tcph[13] & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return;
	ip_addr_t src, dest;
	uint32_t a;
	memcpy(&a, iph + 12, 4);
	ip_addr_set_ip4_u32(&src, a);
	memcpy(&a, iph + 16, 4);
	ip_addr_set_ip4_u32(&dest, a);
	uint16_t sport = inet_get16(tcph), dport = inet_get16(tcph + 2);
	unsigned doff = (tcph[12] >> 4) * 4u;
	if (doff < TCP_HLEN || hlen + doff > iplen)
		return;         /* tcp_input drops it */
	uint32_t seq = (uint32_t)inet_get16(tcph + 4) << 16 | inet_get16(tcph + 6);
	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
		if (pcb->remote_port != sport || pcb->local_port != dport ||
		    !ip_addr_cmp(&pcb->remote_ip, &src) || !ip_addr_cmp(&pcb->local_ip, &dest) ||
		    (pcb->netif_idx != NETIF_NO_INDEX && pcb->netif_idx != netif_get_index(inp)))
			continue;
		if (TCP_SEQ_GT(seq, pcb->rcv_nxt) && listening(&dest, dport, inp) &&
		    checksum_ok(p, inp, hlen, iplen, &src, &dest))
			tcp_abort(pcb);         /* TIME-WAIT: freed, nothing sent */
		return;
	}
}

bool time_wait_reset(struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
	if (pcb->state != TIME_WAIT || !(TCPH_FLAGS(hdr) & TCP_RST) || hdr->seqno != pcb->rcv_nxt)
		return false;
	tcp_abort(pcb);
	return true;
}
