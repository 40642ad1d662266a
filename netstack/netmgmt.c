/*
 * The netstack's side of the management protocol (proto/netmgmt.h,
 * docs/netmgmt.md): requests through the NETMGMT_NAME capability, or
 * NETMGMT_RO_NAME's, which may only read (service.c), about interfaces
 * and counters. Answered at once; nothing
 * here waits (a driver's counters are asked for only if it is waiting,
 * iface_counters).
 */
#include "netstack.h"
#include "filter.h"

#include "lwip/etharp.h"
#include "lwip/stats.h"

static uint64_t if_info(uint64_t index, struct net_if_info *info)
{
	if (index >= nifaces)
		return ERR_RANGE;
	struct iface *n = &ifaces[index];
	*info = (struct net_if_info){ 0 };
	memcpy(info->name, n->cfg.name, sizeof(info->name) - 1);
	for (int i = 0; i < 6; i++)
		info->mac |= (uint64_t)n->netif.hwaddr[i] << (8 * i);
	info->addr = ip4_addr_get_u32(netif_ip4_addr(&n->netif));
	info->mask = ip4_addr_get_u32(netif_ip4_netmask(&n->netif));
	info->gw = ip4_addr_get_u32(netif_ip4_gw(&n->netif));
	if (!n->netif_started && !n->cfg.dhcp) {
		/* no driver yet: the static address it will have */
		info->addr = n->cfg.addr;
		info->mask = n->cfg.mask;
		info->gw = n->cfg.gw;
	}
	info->flags = (info->addr ? NET_IF_UP : 0) | (n->cfg.dhcp ? NET_IF_DHCP : 0) |
		      (n->driver_refused ? NET_IF_DRIVER_REFUSED : 0);
	size_t dn = strlen(n->driver_name);
	memcpy(info->driver, n->driver_name, dn < sizeof(info->driver) ? dn : sizeof(info->driver));
	iface_counters(n, &info->count);
	return 0;
}

_Static_assert(NET_ROUTE_CONNECTED == ROUTE_CONNECTED && NET_ROUTE_STATIC == ROUTE_STATIC &&
	       NET_ROUTE_DHCP == ROUTE_DHCP, "the protocol's origins are route.h's");

static uint64_t route_get(uint64_t index, struct net_route *out)
{
	const struct route_table *t = forward_table();

	if (index >= t->n)
		return ERR_RANGE;
	const struct route *r = &t->routes[index];
	*out = (struct net_route){ .dest = r->dest, .mask = r->mask, .gateway = r->gateway,
				   .iface = r->iface, .metric = r->metric, .origin = r->origin };
	return 0;
}

static uint64_t arp_get(uint64_t index, struct net_arp *out)
{
	ip4_addr_t *addr;
	struct netif *netif;
	struct eth_addr *mac;

	if (index >= ARP_TABLE_SIZE)
		return ERR_RANGE;
	*out = (struct net_arp){ .iface = -1 };
	if (!etharp_get_entry((size_t)index, &addr, &netif, &mac))
		return 0;
	out->addr = ip4_addr_get_u32(addr);
	out->iface = (int32_t)((struct iface *)netif->state)->index;
	for (int i = 0; i < 6; i++)
		out->mac |= (uint64_t)mac->addr[i] << (8 * i);
	return 0;
}

static void proto_stats(struct net_proto_stats *p)
{
#define FROM_LWIP(name, source) p->name = lwip_stats.source;
#define OWN(name)
	NET_PROTO_COUNTERS(FROM_LWIP, OWN)
#undef FROM_LWIP
#undef OWN
	/* The netstack's own, one line each. */
	p->sock_udp_dropped = socket_udp_dropped();
	p->sock_udp_send_dropped = socket_udp_send_dropped();
	socket_sessions(&p->sock_sessions, &p->sock_clients_died);
	socket_rx_kept(&p->sock_rx_kept_most, &p->sock_rx_collapsed);
	socket_rx_lent(&p->sock_rx_lent, &p->sock_rx_lent_now);
	p->tcp_ack_delayed = rcv_window_acks_delayed();
	p->tcp_ack_forced = rcv_window_acks_forced();
	p->ip_bad_src = guard_counters()->ip_bad_src;
	p->ip_source_route = guard_counters()->ip_source_route;
	p->udp_trimmed = guard_counters()->udp_trimmed;
	p->tcp_mss_raised = guard_counters()->tcp_mss_raised;
	p->tcp_far_seq = guard_counters()->tcp_far_seq;
	p->tcp_ooseq_aged = guard_counters()->tcp_ooseq_aged;
	p->tcp_half_open_evicted = guard_counters()->tcp_half_open_evicted;
	p->tcp_half_open_clocks = guard_counters()->tcp_half_open_clocks;
	p->tcp_syn_recv_reset = guard_counters()->tcp_syn_recv_reset;
	p->tcp_syn_recv_dropped = guard_counters()->tcp_syn_recv_dropped;
	p->tcp_options_ignored = guard_counters()->tcp_options_ignored;
	p->tcp_challenge_ack = guard_counters()->tcp_challenge_ack;
	p->tcp_challenge_ack_limited = guard_counters()->tcp_challenge_ack_limited;
	p->tcp_ack_skipped_syn_recv = guard_counters()->tcp_ack_skipped_syn_recv;
	p->tcp_ack_skipped_time_wait = guard_counters()->tcp_ack_skipped_time_wait;
	p->ipfrag_overlap = reassembly_counters()->overlap;
	p->ipfrag_too_many = reassembly_counters()->too_many;
	p->ipfrag_options = reassembly_counters()->options;
	p->timer_ticks_late = timers_counters()->late;
	p->timer_ticks_lost = timers_counters()->lost;
	p->icmp_limited = icmp_limited();
	p->dhcp_refused = guard_counters()->dhcp_refused;
	p->dhcp_lease_raised = guard_counters()->dhcp_lease_raised;
	loopback_counters(&p->lo_packets, &p->lo_bytes);
}

/* Whether a request of this label only reads (what a read-only
 * capability may ask): the reads are listed, so a label added later that
 * changes something is refused there until it is listed here. */
static bool only_reads(uint64_t label)
{
	switch (label) {
	case NETMGMT_IF_INFO: case NETMGMT_PROTO_STATS: case NETMGMT_ARP_GET:
	case NETMGMT_SOCK_GET: case NETMGMT_ROUTE_GET: case NETMGMT_FW_RULE:
	case NETMGMT_CT_STATS: case NETMGMT_CT_GET:
		return true;
	default:
		return false;
	}
}

void netmgmt_request(struct msg *m, cap_slot_t reply, bool read_only)
{
	union {
		struct net_if_info info;
		struct net_proto_stats proto;
		struct net_route route;
		struct net_arp arp;
		struct net_sock sock;
		uint64_t w[IPC_MAX_WORDS];
	} out;
	uint64_t w[4];

	msg_to_words(m, w, 4);
	if (read_only && !only_reads(ipc_tag_label(m->tag))) {
		service_answer(reply, ERR_NO_RIGHTS, NULL, 0);
		return;
	}
	switch (ipc_tag_label(m->tag)) {
	case NETMGMT_IF_INFO:
		service_answer(reply, if_info(w[0], &out.info), out.w, NET_IF_INFO_WORDS);
		return;
	case NETMGMT_PROTO_STATS:
		proto_stats(&out.proto);
		service_answer(reply, 0, out.w, NET_PROTO_STATS_WORDS);
		return;
	case NETMGMT_ROUTE_GET:
		service_answer(reply, route_get(w[0], &out.route), out.w, NET_ROUTE_WORDS);
		return;
	case NETMGMT_ROUTE_ADD:
		service_answer(reply, (uint64_t)-forward_route_add((uint32_t)w[0], w[1], (uint32_t)w[2],
								   w[3]), NULL, 0);
		return;
	case NETMGMT_ROUTE_DEL:
		service_answer(reply, (uint64_t)-forward_route_del((uint32_t)w[0], w[1],
								   w[2] > 0xFFFF ? -1 : (long)w[2]),
			       NULL, 0);
		return;
	case NETMGMT_SOCK_GET:
		service_answer(reply, netmgmt_sock_get(w[0], &out.sock), out.w, NET_SOCK_WORDS);
		return;
	case NETMGMT_ARP_GET:
		service_answer(reply, arp_get(w[0], &out.arp), out.w, NET_ARP_WORDS);
		return;
	default:
		if (filter_mgmt_request(m, reply))
			return;
		service_answer(reply, ERR_NO_SYSCALL, NULL, 0);
		return;
	}
}
