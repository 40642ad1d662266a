/*
 * NETMGMT_SOCK_GET (proto/netmgmt.h, docs/netmgmt.md): the netstack's
 * TCP and UDP pcbs one at a time, for the POSIX server's /proc/net/tcp
 * and /proc/net/udp (proc(5)). The index-th is found by walking lwIP's
 * lists in a fixed order — TCP listening, active (connected, opening,
 * closing), TIME-WAIT, bound, then UDP — so a table of n pcbs costs its
 * reader n requests of O(n) each; n is at most MEMP_NUM_TCP_PCB +
 * MEMP_NUM_TCP_PCB_LISTEN + MEMP_NUM_UDP_PCB (lwipopts.h). Nothing here
 * waits or changes a pcb.
 */
#include "netstack.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/udp.h"

/* lwIP's enum tcp_state as Linux's TCP_* (include/net/tcp_states.h). */
static uint8_t linux_state(enum tcp_state s)
{
	switch (s) {
	case ESTABLISHED: return 1;
	case SYN_SENT:    return 2;
	case SYN_RCVD:    return 3;
	case FIN_WAIT_1:  return 4;
	case FIN_WAIT_2:  return 5;
	case TIME_WAIT:   return 6;
	case CLOSED:      return 7;
	case CLOSE_WAIT:  return 8;
	case LAST_ACK:    return 9;
	case LISTEN:      return 10;
	case CLOSING:     return 11;
	}
	return 7;
}

/* The ends every pcb kind shares (IP_PCB and local_port come first in
 * struct tcp_pcb_listen as in struct tcp_pcb). */
static void ends(struct net_sock *out, const ip_addr_t *local, uint16_t local_port)
{
	out->local_addr = ip4_addr_get_u32(ip_2_ip4(local));
	out->local_port = local_port;
}

uint64_t netmgmt_sock_get(uint64_t index, struct net_sock *out)
{
	struct tcp_pcb *const *lists[] = { &tcp_active_pcbs, &tcp_tw_pcbs, &tcp_bound_pcbs };

	*out = (struct net_sock){ .proto = 6 };
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		if (index-- == 0) {
			ends(out, &l->local_ip, l->local_port);
			out->state = 10;
			return 0;
		}
	for (unsigned k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
		for (const struct tcp_pcb *pcb = *lists[k]; pcb; pcb = pcb->next)
			if (index-- == 0) {
				ends(out, &pcb->local_ip, pcb->local_port);
				out->remote_addr = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip));
				out->remote_port = pcb->remote_port;
				out->state = linux_state(pcb->state);
				if (pcb->state != CLOSED && pcb->state != TIME_WAIT) {
					out->tx_queue = pcb->snd_lbb - pcb->lastack;
					uint32_t wnd = TCP_WND_MAX(pcb);
					out->rx_queue = pcb->rcv_wnd < wnd ? wnd - pcb->rcv_wnd : 0;
				}
				return 0;
			}
	for (const struct udp_pcb *u = udp_pcbs; u; u = u->next)
		if (index-- == 0) {
			*out = (struct net_sock){ .proto = 17 };
			ends(out, &u->local_ip, u->local_port);
			out->remote_addr = ip4_addr_get_u32(ip_2_ip4(&u->remote_ip));
			out->remote_port = u->remote_port;
			out->state = u->flags & UDP_FLAGS_CONNECTED ? 1 : 7;
			return 0;
		}
	return ERR_RANGE;
}
