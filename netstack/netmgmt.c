/*
 * The netstack's side of the management protocol (proto/netmgmt.h,
 * docs/netmgmt.md): requests through the NETMGMT_NAME capability
 * (service.c) about interfaces and counters. Answered at once; nothing
 * here waits (a driver's counters are asked for only if it is waiting,
 * iface_counters).
 */
#include "netstack.h"

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
	info->flags = (info->addr ? NET_IF_UP : 0) | (n->cfg.dhcp ? NET_IF_DHCP : 0);
	iface_counters(n, &info->count);
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
	socket_sessions(&p->sock_sessions, &p->sock_clients_died);
	p->ip_bad_src = guard_counters()->ip_bad_src;
	p->udp_trimmed = guard_counters()->udp_trimmed;
	p->tcp_mss_raised = guard_counters()->tcp_mss_raised;
	p->tcp_far_seq = guard_counters()->tcp_far_seq;
}

void netmgmt_request(struct msg *m, cap_slot_t reply)
{
	union {
		struct net_if_info info;
		struct net_proto_stats proto;
		uint64_t w[IPC_MAX_WORDS];
	} out;
	uint64_t w[1];

	msg_to_words(m, w, 1);
	switch (ipc_tag_label(m->tag)) {
	case NETMGMT_IF_INFO:
		service_answer(reply, if_info(w[0], &out.info), out.w, NET_IF_INFO_WORDS);
		return;
	case NETMGMT_PROTO_STATS:
		proto_stats(&out.proto);
		service_answer(reply, 0, out.w, NET_PROTO_STATS_WORDS);
		return;
	default:
		service_answer(reply, ERR_NO_SYSCALL, NULL, 0);
		return;
	}
}
