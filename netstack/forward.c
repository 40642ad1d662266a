/*
 * Forwarding IPv4 between the interfaces (docs/netstack.md, "Forwarding"):
 * a datagram not for the appliance, when forwarding is on, leaves by the
 * interface and next hop the routing table (route.c) gives, with its TTL
 * one less (the checksum adjusted, RFC 1624), from the pool buffer it
 * arrived in. What cannot go is answered with ICMP as RFC 1812 asks (time
 * exceeded, net unreachable, fragmentation needed with the next hop's MTU,
 * RFC 1191; host unreachable from nexthop.c), at most FWD_ICMP_RATE a
 * second; a datagram too big without DF is cut by lwIP's ip4_frag.
 * Broadcast, multicast, martian and link-local addresses are never
 * forwarded. Datagrams for the appliance pass listen.c's check of the
 * services on the interface they came by.
 *
 * The path is our own, entered from lwIP's IPv4 input hook (guard.c), not
 * lwIP's ip4_forward: the firewall's forward decision needs the interface
 * a datagram leaves by, which ip4_forward never shows a hook; and our
 * routing table (static routes, metrics) is not lwIP's one-gateway-per-
 * netif. ARP on the way out is lwIP's (etharp_output, its bounded table);
 * what waits for a next hop's address waits in nexthop.c; the next hop
 * for lwIP's own traffic comes from the same table
 * (LWIP_HOOK_ETHARP_GET_GW, forward_gateway).
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4_frag.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"

#define FWD_ICMP_RATE  100      /* ICMP errors a second, as a token bucket */
#define FWD_ICMP_BURST 50       /* ... holding at most this many */

static bool forwarding;
static bool sending;
static uint16_t sending_seg;    /* the aggregate being sent: its segment size */
static const struct pbuf *sending_p;    /* and its pbuf (the frame linkoutput gets) */
static struct route_table table;
static bool table_stale = true;
static uint32_t seen[NETSTACK_MAX_NICS][3];     /* address, mask, gateway the table was made from */
static struct appliance_route statics[APPLIANCE_MAX_ROUTES];
static unsigned nstatics;
static struct route added[ROUTE_MAX / 4];       /* from the console */
static unsigned nadded;

static struct token_bucket icmp_bucket;

bool forward_sending(void)
{
	return sending;
}

uint16_t forward_seg_size(const struct pbuf *p)
{
	return p == sending_p ? sending_seg : 0;
}

bool forward_enabled(void)
{
	return forwarding;
}

void forward_configure(bool on, const struct appliance_route *routes, unsigned n)
{
	forwarding = on;
	nstatics = n < APPLIANCE_MAX_ROUTES ? n : APPLIANCE_MAX_ROUTES;
	if (nstatics)
		memcpy(statics, routes, nstatics * sizeof(*statics));
	table_stale = true;
}

static unsigned prefix_of(uint32_t mask)
{
	unsigned n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

/* The table again, from what the interfaces and the configuration say
 * now: connected routes, the gateway an interface has (from its
 * arguments or its DHCP lease) as a default route, the static routes. */
static void table_rebuild(void)
{
	route_table_init(&table);
	for (unsigned i = 0; i < nifaces; i++) {
		struct netif *n = &ifaces[i].netif;
		uint32_t addr = ip4_addr_get_u32(netif_ip4_addr(n));
		uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(n));
		uint32_t gw = ip4_addr_get_u32(netif_ip4_gw(n));
		if (!addr)
			continue;
		route_add(&table, &(struct route){ .dest = addr & mask, .prefix_len = (uint8_t)prefix_of(mask),
						   .origin = ROUTE_CONNECTED, .iface = (int8_t)i });
		if (gw)
			route_add(&table, &(struct route){ .origin = ifaces[i].cfg.dhcp ? ROUTE_DHCP : ROUTE_STATIC,
							   .iface = (int8_t)i, .gateway = gw });
	}
	for (unsigned i = 0; i < nstatics; i++) {
		const struct appliance_route *r = &statics[i];
		int iface = r->iface < 0 ? -1 : forward_iface_of(r->iface);
		if (r->iface >= 0 && iface < 0)
			continue;       /* its interface has no NIC (yet) */
		route_add(&table, &(struct route){ .dest = r->dest, .prefix_len = (uint8_t)r->prefix_len,
						   .origin = ROUTE_STATIC, .iface = (int8_t)iface,
						   .metric = (uint16_t)r->metric, .gateway = r->gateway });
	}
	for (unsigned i = 0; i < nadded; i++)
		route_add(&table, &added[i]);
	table_stale = false;
}

const struct route_table *forward_table(void)
{
	/* An address, a mask or a gateway (a DHCP lease) that changed makes
	 * the table stale: looking costs a few loads per datagram. */
	for (unsigned i = 0; i < nifaces; i++) {
		struct netif *n = &ifaces[i].netif;
		uint32_t now[3] = { ip4_addr_get_u32(netif_ip4_addr(n)),
				    ip4_addr_get_u32(netif_ip4_netmask(n)),
				    ip4_addr_get_u32(netif_ip4_gw(n)) };
		if (memcmp(now, seen[i], sizeof(now))) {
			memcpy(seen[i], now, sizeof(now));
			table_stale = true;
		}
	}
	if (table_stale)
		table_rebuild();
	return &table;
}

/* Interfaces that can carry a datagram: those with an address. A driver
 * that is restarting keeps its routes (the frame is dropped at the NIC,
 * counted, and TCP sends it again), so no host is told "unreachable" for
 * the moment it takes. */
static uint32_t up_mask(void)
{
	uint32_t up = 0;

	for (unsigned i = 0; i < nifaces; i++)
		if (!ip4_addr_isany(netif_ip4_addr(&ifaces[i].netif)))
			up |= 1U << i;
	return up;
}

long forward_route_add(uint32_t dest, uint64_t prefix_len, uint32_t gateway, uint64_t metric)
{
	if (prefix_len > 32 || metric > 0xFFFF || !gateway)
		return -ERR_INVALID_ARG;
	struct route r = { .dest = dest, .prefix_len = (uint8_t)prefix_len, .origin = ROUTE_STATIC,
			   .iface = -1, .metric = (uint16_t)metric, .gateway = gateway };
	/* By the interface whose network holds the gateway, as the file's. */
	for (unsigned i = 0; i < nifaces && r.iface < 0; i++) {
		struct netif *n = &ifaces[i].netif;
		uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(n));
		if (!ip4_addr_isany(netif_ip4_addr(n)) &&
		    (gateway & mask) == (ip4_addr_get_u32(netif_ip4_addr(n)) & mask))
			r.iface = (int8_t)i;
	}
	if (r.iface < 0)
		return -ERR_INVALID_ARG;        /* on no interface's network */
	if (nadded == sizeof(added) / sizeof(added[0]))
		return -ERR_NO_MEMORY;
	/* The table says whether it may be: it checks the route and refuses
	 * a second one to the same place with the same metric. */
	int err = route_add((struct route_table *)forward_table(), &r);
	if (err)
		return err;
	added[nadded++] = r;
	return 0;
}

long forward_route_del(uint32_t dest, uint64_t prefix_len, long metric)
{
	const struct route_table *t = forward_table();
	const struct route *found = NULL;

	for (unsigned i = 0; i < t->n && !found; i++) {
		const struct route *r = &t->routes[i];
		if (r->dest == dest && r->prefix_len == prefix_len && r->origin == ROUTE_STATIC &&
		    (metric < 0 || r->metric == metric))
			found = r;
	}
	if (!found)
		return -ERR_INVALID_ARG;
	unsigned m = found->metric;
	bool removed = false;
	for (unsigned i = 0; i < nadded && !removed; i++)
		if (added[i].dest == dest && added[i].prefix_len == prefix_len && added[i].metric == m) {
			added[i] = added[--nadded];
			removed = true;
		}
	for (unsigned i = 0; i < nstatics && !removed; i++)
		if (statics[i].dest == dest && statics[i].prefix_len == prefix_len &&
		    statics[i].metric == m) {
			statics[i] = statics[--nstatics];
			removed = true;
		}
	table_stale = true;
	/* Not ours to remove: an interface's own gateway (its argument). */
	return removed ? 0 : -ERR_INVALID_ARG;
}

static bool lookup(uint32_t dst, struct route_hop *hop)
{
	return route_lookup(forward_table(), dst, up_mask(), hop);
}

bool forward_source_valid(const ip4_addr_t *src, struct netif *inp)
{
	struct route_hop hop;

	if (ip4_addr_isany(netif_ip4_addr(inp)) || ip4_addr_isany(src))
		return true;    /* a DHCP client asking, or lwIP's to judge */
	return lookup(ip4_addr_get_u32(src), &hop) && &ifaces[hop.iface].netif == inp;
}

const ip4_addr_t *forward_gateway(struct netif *netif, const ip4_addr_t *dest)
{
	static ip4_addr_t next;
	struct route_hop hop;

	if (!lookup(ip4_addr_get_u32(dest), &hop) || &ifaces[hop.iface].netif != netif ||
	    !hop.route->gateway)
		return NULL;
	ip4_addr_set_u32(&next, hop.next_hop);
	return &next;
}

/* One ICMP error may go now (the token bucket). */
static bool icmp_token(void)
{
	return token_take(&icmp_bucket, (uint64_t)sys_clock(), FWD_ICMP_RATE, FWD_ICMP_BURST);
}

/*
 * Tell the source of the datagram at p (its IPv4 header, hlen bytes, total
 * bytes in all) why it went no further: type and code, and for
 * fragmentation needed the next hop's MTU. Never about an ICMP error, a
 * fragment past the first, or without a route back (RFC 1812 4.3.2.7).
 */
static void icmp_error(struct iface *in, struct pbuf *p, unsigned hlen, unsigned total,
		       uint8_t type, uint8_t code, uint16_t mtu)
{
	const uint8_t *iph = p->payload;
	uint32_t src;
	struct route_hop hop;

	memcpy(&src, iph + 12, 4);
	if (inet_get16(iph + 6) & IP_OFFMASK)
		return;
	if (iph[9] == IP_PROTO_ICMP && total > hlen) {
		uint8_t t;
		if (pbuf_copy_partial(p, &t, 1, (u16_t)hlen) != 1 ||
		    (t != ICMP_ECHO && t != ICMP_ER))
			return;         /* errors are not answered with errors */
	}
	if (!lookup(src, &hop))
		return;
	if (!icmp_token()) {
		in->counters.fwd_icmp_limited++;
		return;
	}
	unsigned quote = hlen + 8 < total ? hlen + 8 : total;
	struct pbuf *q = pbuf_alloc(PBUF_IP, (u16_t)(8 + quote), PBUF_RAM);
	if (!q)
		return;
	uint8_t *icmp = q->payload;
	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	inet_put16(icmp + 6, mtu);
	pbuf_copy_partial(p, icmp + 8, (u16_t)quote, 0);
	u16_t sum = inet_chksum(icmp, (u16_t)(8 + quote));     /* in network order */
	memcpy(icmp + 2, &sum, 2);
	struct netif *out = &ifaces[hop.iface].netif;
	ip4_addr_t dst;
	ip4_addr_set_u32(&dst, src);
	ip4_output_if(q, netif_ip4_addr(out), &dst, ICMP_TTL, 0, IP_PROTO_ICMP, out);
	pbuf_free(q);
	in->counters.fwd_icmp_sent++;
}

void forward_icmp_error(struct iface *in, struct pbuf *p, uint8_t type, uint8_t code, uint16_t mtu)
{
	const uint8_t *iph = p->payload;

	icmp_error(in, p, (iph[0] & 0xFu) * 4, inet_get16(iph + 2), type, code, mtu);
}

/* An address no datagram may be forwarded from or to: "this network",
 * loopback, link-local (RFC 3927: never routed), class E and the limited
 * broadcast. (Multicast and broadcast to us are lwIP's, never forwarded.) */
static bool martian(uint32_t a_net)
{
	uint32_t a = __builtin_bswap32(a_net);
	uint8_t first = (uint8_t)(a >> 24);

	return first == 0 || first == 127 || first >= 240 || (a >> 16) == 0xA9FE;
}

/* For the appliance itself (lwIP's): one of our addresses, a broadcast
 * of any interface's network, or multicast. */
static bool for_us(const ip4_addr_t *dst)
{
	struct netif *n;

	if (ip4_addr_ismulticast(dst) || ip4_addr_get_u32(dst) == IPADDR_BROADCAST)
		return true;
	NETIF_FOREACH(n)
		if (!loopback_netif(n) &&       /* 127/8 from a wire: a martian */
		    (ip4_addr_cmp(dst, netif_ip4_addr(n)) || ip4_addr_isbroadcast(dst, n)))
			return true;
	return false;
}

/* The TCP header's length of the datagram at p (IPv4 header hlen bytes). */
static unsigned aggregate_tcp_hlen(struct pbuf *p, unsigned hlen)
{
	return (unsigned)(pbuf_get_at(p, (u16_t)(hlen + 12)) >> 4) * 4;
}

/* The segment size when the datagram at p (IPv4 header hlen bytes, total
 * long) is a TCP aggregate that arrived over several buffers (iface.c,
 * offload.c; lwIP may hold a copy in one pbuf) and still is one:
 * unfragmented TCP whose headers are in the first pbuf; else 0 (it goes
 * as any datagram). */
static uint16_t aggregate_seg_size(struct pbuf *p, unsigned hlen, unsigned total)
{
	const uint8_t *iph = p->payload;
	uint16_t seg = offload_rx_seg_size();

	if (!seg || iph[9] != IP_PROTO_TCP || (inet_get16(iph + 6) & (IP_MF | IP_OFFMASK)) ||
	    p->len < hlen + 20 || aggregate_tcp_hlen(p, hlen) < 20 ||
	    p->len < hlen + aggregate_tcp_hlen(p, hlen) || total > NETQ_GSO_FRAME_MAX - 14)
		return 0;
	return seg;
}

static int drop(struct pbuf *p, uint64_t *counter)
{
	(*counter)++;
	IP_STATS_INC(ip.drop);
	pbuf_free(p);
	return 1;
}

void forward_transmit(struct iface *in, struct iface *out, struct pbuf *p, const ip4_addr_t *next,
		      uint16_t seg_size)
{
	unsigned total = inet_get16((const uint8_t *)p->payload + 2);
	unsigned hlen = (*(const uint8_t *)p->payload & 0xFu) * 4, segments = 1;
	err_t err;

	if (seg_size) {
		unsigned headers = hlen + aggregate_tcp_hlen(p, hlen);
		if (total > headers)
			segments = (total - headers + seg_size - 1) / seg_size;
	}
	sending = true;
	sending_seg = seg_size;
	sending_p = p;
	if (seg_size) {
		/* An aggregate: its segments fit the MTU (segment.c). */
		err = out->netif.output(&out->netif, p, next);
	} else if (total > out->netif.mtu) {
		err = ip4_frag(p, &out->netif, next);
		if (err == ERR_OK)
			in->counters.fwd_fragmented++;
	} else {
		err = out->netif.output(&out->netif, p, next);
	}
	sending = false;
	sending_seg = 0;
	sending_p = NULL;
	if (err != ERR_OK) {
		drop(p, &in->counters.fwd_not_sent);
		return;
	}
	/* An aggregate counts as the segments it holds, as on the wire. */
	in->counters.fwd_packets += segments;
	pbuf_free(p);
}

int forward_ip4(struct pbuf *p, struct netif *inp)
{
	struct iface *in = inp->state;
	uint8_t *iph = p->payload;
	ip4_addr_t src, dst;

	/* What lwIP would refuse, it refuses (and counts). */
	if (p->len < IP_HLEN)
		return 0;
	unsigned hlen = (iph[0] & 0xFu) * 4, total = inet_get16(iph + 2);
	if (hlen < IP_HLEN || hlen > p->len || total < hlen || total > p->tot_len)
		return 0;
	if (!netstack_decide(DECIDE_PREROUTING, p, inp, NULL))
		return drop(p, &in->counters.fwd_refused);
	memcpy(&src, iph + 12, 4);      /* as destination NAT left them */
	memcpy(&dst, iph + 16, 4);
	if (for_us(&dst))
		return listen_admits(p, in) ? 0 : drop(p, &in->counters.svc_refused);
	if (!forwarding || ip4_addr_isany(netif_ip4_addr(inp)) || inet_chksum(iph, (u16_t)hlen))
		return 0;       /* lwIP's: dropped as not ours */
	if (martian(ip4_addr_get_u32(&src)) || martian(ip4_addr_get_u32(&dst)))
		return drop(p, &in->counters.fwd_martian);
	pbuf_realloc(p, (u16_t)total);  /* the Ethernet padding goes */

	struct route_hop hop;
	if (!lookup(ip4_addr_get_u32(&dst), &hop)) {
		icmp_error(in, p, hlen, total, ICMP_DUR, ICMP_DUR_NET, 0);
		return drop(p, &in->counters.fwd_no_route);
	}
	if (iph[8] <= 1) {
		icmp_error(in, p, hlen, total, ICMP_TE, ICMP_TE_TTL, 0);
		return drop(p, &in->counters.fwd_ttl);
	}
	struct iface *out = &ifaces[hop.iface];
	if (!netstack_decide(DECIDE_FORWARD, p, inp, &out->netif))
		return drop(p, &in->counters.fwd_refused);
	bool df = inet_get16(iph + 6) & IP_DF;
	uint16_t seg = aggregate_seg_size(p, hlen, total);
	if (seg && df && hlen + aggregate_tcp_hlen(p, hlen) + seg > out->netif.mtu) {
		/* As Linux for GSO: against the segments' size, not the
		 * aggregate's. */
		icmp_error(in, p, hlen, total, ICMP_DUR, ICMP_DUR_FRAG, out->netif.mtu);
		return drop(p, &in->counters.fwd_too_big);
	}
	if (!seg && total > out->netif.mtu && df) {
		icmp_error(in, p, hlen, total, ICMP_DUR, ICMP_DUR_FRAG, out->netif.mtu);
		return drop(p, &in->counters.fwd_too_big);
	}
	/* TTL - 1: the word at 8 is TTL and protocol. */
	uint16_t word = inet_get16(iph + 8), less = (uint16_t)(word - 0x100);
	inet_put16(iph + 10, inet_csum_replace16(inet_get16(iph + 10), word, less));
	inet_put16(iph + 8, less);
	if (!netstack_decide(DECIDE_POSTROUTING, p, inp, &out->netif))
		return drop(p, &in->counters.fwd_refused);

	ip4_addr_t next;
	ip4_addr_set_u32(&next, hop.next_hop);
	nexthop_output(in, out, p, &next, seg);
	return 1;
}

bool forward_answer_token(void)
{
	return icmp_token();
}
