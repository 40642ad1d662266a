/*
 * NETLINK_ROUTE's answers, the reading side (rtnetlink(7)): what `ip addr`, `ip link`, `ip route`,
 * getifaddrs and if_nameindex ask. Inside the server, from netinfo
 * (netinfo.h: the netstack's interfaces and routes, and lo).
 *
 * A send is a batch of requests (struct nlmsghdr each); it first waits
 * (a bounded time, never the server) for an answer of the netstack's
 * newer than its start, then answers every request at once into the
 * socket's receive queue, as Linux's rtnetlink_rcv_msg and netlink_ack do:
 *   - RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH with
 *     NLM_F_DUMP: one RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWNEIGH
 *     (flag NLM_F_MULTI) per interface, IPv4 address, route of the main
 *     table or neighbour of the netstack's ARP table, in datagrams of at
 *     most NL_CHUNK bytes made one at a time, as Linux's netlink_dump: the
 *     first at the request, each next one when a receive takes a datagram
 *     from the socket (or peeks at one, MSG_PEEK) and leaves it at most
 *     half full (netlink_recvmsg),
 *     from where the last one stopped; when nothing is left, NLMSG_DONE
 *     in a datagram of its own. A dump however long never holds more of
 *     the queue than a datagram (no ENOBUFS for its length), and what it
 *     shows is the netstack's tables as they are when each datagram is
 *     made. Until its NLMSG_DONE the dump is being read and another dump
 *     asked is EBUSY (Linux's netlink_dump_start);
 *     an IPv6 family dumps nothing (there is no IPv6 here);
 *   - RTM_GETLINK without it: the interface of ifi_index or IFLA_IFNAME
 *     (ENODEV);
 *   - a request to change something (RTM_NEW*, RTM_DEL*, RTM_SET*): EPERM,
 *     as Linux answers a process without CAP_NET_ADMIN (the POSIX server's
 *     processes do not configure the netstack); any other GET: EOPNOTSUPP,
 *     as Linux answers one it has no handler for;
 *   - errors as NLMSG_ERROR with the request after it; NLM_F_ACK: an
 *     NLMSG_ERROR of 0 with the request's header (NLM_F_CAPPED);
 *   - a message that is not a request, or a control message, is only
 *     acknowledged if it asks.
 *
 * Answers are made into one datagram at a time (chunk) and queued on the
 * socket (netlink_queue_put, netlink.c), from netinfo (netinfo.h).
 */
#include "linux.h"
#include "linux_socket.h"
#include "netinfo.h"
#include "netlink.h"

/* <linux/netlink.h> */
#define NLMSG_NOOP     1
#define NLMSG_ERROR    2
#define NLMSG_DONE     3
#define NLMSG_MIN_TYPE 0x10
#define NLM_F_REQUEST  0x1
#define NLM_F_MULTI    0x2
#define NLM_F_ACK      0x4
#define NLM_F_DUMP     0x300
#define NLM_F_CAPPED   0x100
/* <linux/rtnetlink.h> */
#define RTM_BASE       16
#define RTM_NEWLINK    16
#define RTM_GETLINK    18
#define RTM_NEWADDR    20
#define RTM_GETADDR    22
#define RTM_NEWROUTE   24
#define RTM_GETROUTE   26
#define RTM_NEWNEIGH   28
#define RTM_GETNEIGH   30
#define RTM_MAX        123
#define IFLA_ADDRESS   1
#define IFLA_BROADCAST 2
#define IFLA_IFNAME    3
#define IFLA_MTU       4
#define IFLA_QDISC     6
#define IFLA_STATS     7
#define IFLA_TXQLEN    13
#define IFLA_OPERSTATE 16
#define IFLA_LINKMODE  17
#define IFLA_STATS64   23
#define IFLA_GROUP     27
#define IFLA_CARRIER   33
#define IFA_ADDRESS    1
#define IFA_LOCAL      2
#define IFA_LABEL      3
#define IFA_BROADCAST  4
#define IFA_CACHEINFO  6
#define IFA_FLAGS      8
#define IFA_F_PERMANENT 0x80
#define RTA_DST        1
#define RTA_OIF        4
#define RTA_GATEWAY    5
#define RTA_PRIORITY   6
#define RTA_PREFSRC    7
#define RTA_TABLE      15
#define RT_TABLE_MAIN  254
#define RTPROT_KERNEL  2
#define RTPROT_BOOT    3
#define RTPROT_DHCP    16
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_LINK  253
#define RT_SCOPE_HOST  254
#define RTN_UNICAST    1
#define NDA_DST        1
#define NDA_LLADDR     2
#define NDA_CACHEINFO  3
#define NDA_PROBES     4
#define NUD_REACHABLE  0x02
#define IF_OPER_UNKNOWN 0
#define IF_OPER_DOWN   2
#define IF_OPER_UP     6
#define ARPHRD_ETHER    1
#define ARPHRD_LOOPBACK 772
#define TXQLEN         1000

/* The answer being made: a datagram. */
static uint8_t chunk[NL_CHUNK];
static uint32_t chunk_len;

/* The datagram made so far goes to q (dropped if it does not fit). */
static void flush(struct nlq *q)
{
	if (!chunk_len)
		return;
	if (!q->overrun && !netlink_queue_put(q, chunk, chunk_len))
		q->overrun = true;
	chunk_len = 0;
}

/* A message begun in the datagram (a new datagram if less than room
 * bytes are left): its header, or NULL when q overran. */
static struct nlmsghdr *msg_begin(struct nlq *q, uint16_t type, uint16_t flags, uint32_t seq,
				  uint32_t room)
{
	if (chunk_len + room > NL_CHUNK)
		flush(q);
	if (q->overrun)
		return NULL;
	struct nlmsghdr *h = (struct nlmsghdr *)(chunk + chunk_len);
	*h = (struct nlmsghdr){ sizeof(*h), type, flags, seq, (uint32_t)q->port };
	return h;
}

/* Append n bytes to message h (4-byte aligned, as NLMSG_ALIGN). */
static void *msg_put(struct nlmsghdr *h, const void *data, uint32_t n)
{
	uint8_t *at = (uint8_t *)h + h->len;
	uint32_t padded = (n + 3) & ~3U;

	memset(at, 0, padded);
	if (data)
		memcpy(at, data, n);
	h->len += padded;
	return at;
}

/* An attribute (struct rtattr: length, type, then the value). */
static void attr(struct nlmsghdr *h, uint16_t type, const void *data, uint32_t n)
{
	uint16_t hdr[2] = { (uint16_t)(4 + n), type };

	msg_put(h, hdr, 4);
	msg_put(h, data, n);
}

static void attr32(struct nlmsghdr *h, uint16_t type, uint32_t v)
{
	attr(h, type, &v, 4);
}

static void attr8(struct nlmsghdr *h, uint16_t type, uint8_t v)
{
	attr(h, type, &v, 1);
}

static void msg_end(struct nlmsghdr *h)
{
	chunk_len += h->len;
}

/* The room a message of ours takes at most (the largest is a link's). */
#define MSG_ROOM 512

static void link_msg(struct nlq *q, const struct netinfo_if *nif, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *h = msg_begin(q, RTM_NEWLINK, flags, seq, MSG_ROOM);
	const struct net_if_counters *c = NULL;
	uint8_t mac[6], brd[6];
	uint32_t stats[24] = { 0 };
	uint64_t stats64[24] = { 0 };

	if (!h)
		return;
	if (!nif->loopback)
		c = &netinfo.ifs[nif->index - 2].count;
	bool running = nif->flags & LINUX_IFF_RUNNING;
	struct { uint8_t family, pad; uint16_t type; int32_t index; uint32_t flags, change; } ifi = {
		0, 0, nif->loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER, nif->index,
		nif->flags | (running ? LINUX_IFF_LOWER_UP : 0), 0 };
	msg_put(h, &ifi, sizeof(ifi));
	attr(h, IFLA_IFNAME, nif->name, (uint32_t)strlen(nif->name) + 1);
	attr32(h, IFLA_TXQLEN, TXQLEN);
	attr8(h, IFLA_OPERSTATE, nif->loopback ? IF_OPER_UNKNOWN : running ? IF_OPER_UP : IF_OPER_DOWN);
	attr8(h, IFLA_LINKMODE, 0);
	attr32(h, IFLA_MTU, nif->mtu);
	attr32(h, IFLA_GROUP, 0);
	attr8(h, IFLA_CARRIER, running);
	attr(h, IFLA_QDISC, "noqueue", 8);
	for (int i = 0; i < 6; i++) {
		mac[i] = (uint8_t)(nif->mac >> (8 * i));
		brd[i] = nif->loopback ? 0 : 0xFF;
	}
	attr(h, IFLA_ADDRESS, mac, 6);
	attr(h, IFLA_BROADCAST, brd, 6);
	/* struct rtnl_link_stats and _stats64: packets, bytes, errors, drops,
	 * each way (the rest the netstack does not count); lo's: what went
	 * through the netstack's loopback, each datagram both ways. */
	uint64_t v[8] = { netinfo.lo_packets, netinfo.lo_packets, netinfo.lo_bytes,
			  netinfo.lo_bytes, 0, 0, 0, 0 };
	if (c) {
		uint64_t w[8] = { c->rx_packets, c->tx_packets, c->rx_bytes, c->tx_bytes,
				  c->drv_rx_errors, c->drv_tx_errors,
				  c->rx_dropped + c->drv_rx_no_buffer, c->tx_dropped };
		memcpy(v, w, sizeof(v));
	}
	for (int i = 0; i < 8; i++) {
		stats[i] = (uint32_t)v[i];
		stats64[i] = v[i];
	}
	attr(h, IFLA_STATS, stats, sizeof(stats));
	attr(h, IFLA_STATS64, stats64, sizeof(stats64));
	msg_end(h);
}

static unsigned prefix_len(uint32_t mask)
{
	unsigned n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

static void addr_msg(struct nlq *q, const struct netinfo_if *nif, uint32_t seq)
{
	struct nlmsghdr *h = msg_begin(q, RTM_NEWADDR, NLM_F_MULTI, seq, MSG_ROOM);

	if (!h)
		return;
	struct { uint8_t family, prefixlen, flags, scope; uint32_t index; } ifa = {
		LINUX_AF_INET, (uint8_t)prefix_len(nif->mask), IFA_F_PERMANENT,
		nif->loopback ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE, (uint32_t)nif->index };
	struct { uint32_t prefered, valid, cstamp, tstamp; } cache = { ~0U, ~0U, 0, 0 };
	msg_put(h, &ifa, sizeof(ifa));
	attr(h, IFA_ADDRESS, &nif->addr, 4);
	attr(h, IFA_LOCAL, &nif->addr, 4);
	if (nif->brd)
		attr(h, IFA_BROADCAST, &nif->brd, 4);
	attr(h, IFA_LABEL, nif->name, (uint32_t)strlen(nif->name) + 1);
	attr32(h, IFA_FLAGS, IFA_F_PERMANENT);
	attr(h, IFA_CACHEINFO, &cache, sizeof(cache));
	msg_end(h);
}

static void route_msg(struct nlq *q, const struct net_route *r, uint32_t seq)
{
	struct netinfo_if nif;
	struct nlmsghdr *h;

	if (!netinfo_route_if(r, &nif) || !(h = msg_begin(q, RTM_NEWROUTE, NLM_F_MULTI,
									 seq, MSG_ROOM)))
		return;
	bool connected = r->origin == NET_ROUTE_CONNECTED;
	struct { uint8_t family, dst_len, src_len, tos, table, protocol, scope, type; uint32_t flags; }
	rtm = { LINUX_AF_INET, (uint8_t)prefix_len(r->mask), 0, 0, RT_TABLE_MAIN,
		connected ? RTPROT_KERNEL : r->origin == NET_ROUTE_DHCP ? RTPROT_DHCP : RTPROT_BOOT,
		connected ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, RTN_UNICAST, 0 };
	msg_put(h, &rtm, sizeof(rtm));
	attr32(h, RTA_TABLE, RT_TABLE_MAIN);
	if (rtm.dst_len)
		attr(h, RTA_DST, &r->dest, 4);
	if (r->metric)
		attr32(h, RTA_PRIORITY, r->metric);
	if (connected && nif.addr)
		attr(h, RTA_PREFSRC, &nif.addr, 4);
	if (r->gateway)
		attr(h, RTA_GATEWAY, &r->gateway, 4);
	attr32(h, RTA_OIF, (uint32_t)nif.index);
	msg_end(h);
}

/* A neighbour of the netstack's ARP table, as Linux's neigh_fill_info
 * shows an IPv4 one that answered: its address, MAC, REACHABLE (lwIP
 * keeps no more of its state than that it answered), cache times 0. */
static void neigh_msg(struct nlq *q, const struct net_arp *a, uint32_t seq)
{
	struct nlmsghdr *h;

	if (a->iface < 0 || (unsigned)a->iface >= netinfo.nifs ||
	    !(h = msg_begin(q, RTM_NEWNEIGH, NLM_F_MULTI, seq, MSG_ROOM)))
		return;
	struct { uint8_t family, pad1; uint16_t pad2; int32_t index; uint16_t state;
		 uint8_t flags, type; } ndm = { LINUX_AF_INET, 0, 0, a->iface + 2, NUD_REACHABLE, 0,
						RTN_UNICAST };
	uint32_t cache[4] = { 0, 0, 0, 0 };    /* confirmed, used, updated, refcnt */
	uint8_t mac[6];
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(a->mac >> (8 * i));
	msg_put(h, &ndm, sizeof(ndm));
	attr(h, NDA_DST, &a->addr, 4);
	attr(h, NDA_LLADDR, mac, 6);
	attr(h, NDA_CACHEINFO, cache, sizeof(cache));
	attr32(h, NDA_PROBES, 0);
	msg_end(h);
}

/* NLMSG_DONE after a dump, in a datagram of its own: Linux's rtnetlink
 * dumps say there may be more as long as they added anything, so their
 * end comes by itself in the next datagram (netlink_dump). */
static void done_msg(struct nlq *q, uint32_t seq)
{
	flush(q);
	struct nlmsghdr *h = msg_begin(q, NLMSG_DONE, NLM_F_MULTI, seq, 20);
	int32_t zero = 0;

	if (!h)
		return;
	msg_put(h, &zero, 4);
	msg_end(h);
	flush(q);
}

/* NLMSG_ERROR for the request req (err: 0 for an acknowledgement, or
 * -errno): the request's header, and for an error its whole message as
 * far as a datagram holds it. */
static void error_msg(struct nlq *q, const struct nlmsghdr *req, int err)
{
	uint32_t copy = err ? req->len : sizeof(*req);
	uint16_t flags = err ? 0 : NLM_F_CAPPED;

	if (20 + copy > NL_CHUNK) {
		copy = sizeof(*req);
		flags = NLM_F_CAPPED;
	}
	flush(q);
	struct nlmsghdr *h = msg_begin(q, NLMSG_ERROR, flags, req->seq, 20 + copy);
	if (!h)
		return;
	int32_t e = err;
	msg_put(h, &e, 4);
	msg_put(h, req, copy);
	msg_end(h);
	flush(q);
}

/* The family byte after a request's header (struct rtgenmsg, the first
 * byte of ifinfomsg, ifaddrmsg and rtmsg alike). */
static uint8_t family_of(const struct nlmsghdr *req)
{
	return ((const uint8_t *)req)[sizeof(*req)];
}

/* The message of the dump's item i (an interface, route or neighbour;
 * none for one it skips) into the datagram: false when i is past the
 * last. */
static bool dump_item(struct nlq *q, unsigned i)
{
	struct netinfo_if nif;

	if (!q->dump_inet && q->dump_kind != RTM_GETLINK)
		return false;
	switch (q->dump_kind) {
	case RTM_GETLINK:
		if (!netinfo_if(i, &nif))
			return false;
		link_msg(q, &nif, NLM_F_MULTI, q->dump_seq);
		return true;
	case RTM_GETADDR:
		if (!netinfo_if(i, &nif))
			return false;
		if (nif.addr)
			addr_msg(q, &nif, q->dump_seq);
		return true;
	case RTM_GETROUTE:
		if (i >= netinfo.nroutes)
			return false;
		route_msg(q, &netinfo.routes[i], q->dump_seq);
		return true;
	case RTM_GETNEIGH:
		if (i >= netinfo.narps)
			return false;
		neigh_msg(q, &netinfo.arps[i], q->dump_seq);
		return true;
	}
	return false;
}

/* The dump's next datagram, from where the last one stopped, as full as
 * whole messages make it (Linux's netlink_dump: one skb a call); nothing
 * left: its NLMSG_DONE, and the dump ends (an overrun ends it too). */
static void dump_next(struct nlq *q)
{
	chunk_len = 0;
	while (chunk_len + MSG_ROOM <= NL_CHUNK && dump_item(q, q->dump_pos))
		q->dump_pos++;
	if (!chunk_len) {
		q->dumping = false;
		done_msg(q, q->dump_seq);
		return;
	}
	flush(q);
	if (q->overrun)
		q->dumping = false;
}

/* A dump, as Linux's netlink_dump_start: EBUSY while another is being
 * read; else its first datagram now (or its NLMSG_DONE, for a dump of
 * nothing), the others as receives come (netlink_dump_read). */
static void dump(struct nlq *q, const struct nlmsghdr *req, unsigned kind)
{
	uint8_t family = family_of(req);

	if (q->dumping) {
		error_msg(q, req, -LINUX_EBUSY);
		return;
	}
	flush(q);
	q->dumping = true;
	q->dump_kind = (uint16_t)kind;
	q->dump_inet = family == LINUX_AF_UNSPEC || family == LINUX_AF_INET;
	q->dump_pos = 0;
	q->dump_seq = req->seq;
	dump_next(q);
}

void netlink_dump_read(struct nlq *q)
{
	if (q->dumping && q->bytes <= NL_QUEUE / 2)
		dump_next(q);
}

/* RTM_GETLINK of one interface: by ifi_index, else by IFLA_IFNAME. 0
 * or -errno. */
static int get_link(struct nlq *q, const struct nlmsghdr *req)
{
	struct netinfo_if nif;
	int32_t index = 0;
	char name[16] = { 0 };
	const uint8_t *b = (const uint8_t *)req;

	if (req->len < sizeof(*req) + 16)
		return -LINUX_EINVAL;
	memcpy(&index, b + sizeof(*req) + 4, 4);
	for (uint32_t at = sizeof(*req) + 16; at + 4 <= req->len;) {
		uint16_t len, type;
		memcpy(&len, b + at, 2);
		memcpy(&type, b + at + 2, 2);
		if (len < 4 || at + len > req->len)
			break;
		if ((type & 0x3FFF) == IFLA_IFNAME && (size_t)len - 4 <= sizeof(name))
			memcpy(name, b + at + 4, len - 4u);
		at += (len + 3u) & ~3U;
	}
	name[sizeof(name) - 1] = 0;
	bool found = index > 0 ? netinfo_if_by_index(index, &nif)
		   : name[0] ? netinfo_if_by_name(name, &nif) : false;
	if (!found)
		return index > 0 || name[0] ? -LINUX_ENODEV : -LINUX_EINVAL;
	flush(q);
	link_msg(q, &nif, 0, req->seq);
	flush(q);
	return 0;
}

/* One request, as Linux's netlink_rcv_skb and rtnetlink_rcv_msg. */
static void request(struct nlq *q, const struct nlmsghdr *req)
{
	int err = 0;

	if ((req->flags & NLM_F_REQUEST) && req->type >= NLMSG_MIN_TYPE) {
		unsigned kind = (req->type - RTM_BASE) & 3;
		unsigned base = req->type & ~3U;
		if (req->type > RTM_MAX)
			err = -LINUX_EOPNOTSUPP;
		else if (req->len < sizeof(*req) + 1)
			err = 0;                /* Linux: "at least 1 byte", else ignored */
		else if (kind != 2)
			err = -LINUX_EPERM;
		else if ((req->flags & NLM_F_DUMP) &&
			 (base == RTM_NEWLINK || base == RTM_NEWADDR || base == RTM_NEWROUTE ||
			  base == RTM_NEWNEIGH)) {
			dump(q, req, req->type);
			return;                 /* a dump is not acknowledged */
		} else if (req->type == RTM_GETLINK) {
			err = get_link(q, req);
		} else {
			err = -LINUX_EOPNOTSUPP;
		}
	}
	if (err || (req->flags & NLM_F_ACK))
		error_msg(q, req, err);
}

void netlink_answer(struct nlq *q, const uint8_t *msgs, uint64_t total)
{
	chunk_len = 0;
	for (uint64_t at = 0; at + sizeof(struct nlmsghdr) <= total;) {
		struct nlmsghdr h;
		memcpy(&h, msgs + at, sizeof(h));
		if (h.len < sizeof(h) || h.len > total - at)
			break;          /* as Linux: the rest is ignored */
		request(q, (const struct nlmsghdr *)(msgs + at));       /* 4-byte aligned */
		at += (h.len + 3u) & ~3U;
	}
	flush(q);
}
