/*
 * The network as a program sees it, differential: `netif PEER` (PEER:
 * the test's peer in its namespace, tests/system/test_posix_net.py; its
 * TCP port 7770 echoes after "echo\n"). The host's interfaces are not
 * Mica's, so what is printed is what both must agree on: the interface
 * ioctls of netdevice(7) (SIOCGIFCONF, SIOCGIFNAME, SIOCGIFINDEX,
 * SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR, SIOCGIFMTU,
 * SIOCGIFHWADDR) agree with each other, with if_nametoindex,
 * if_indextoname, if_nameindex and getifaddrs, and with NETLINK_ROUTE's
 * RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE dumps (rtnetlink(7): every
 * interface of SIOCGIFCONF in the link dump with the same number, name,
 * MTU and hardware address; its address in the address dump with its
 * mask's prefix length; a route of the main table to the peer's network
 * through it); netlink's port ids, sequence numbers, NLMSG_DONE, errors
 * and acknowledgements, a truncated datagram; lo is 1 and 127.0.0.1/8;
 * /proc/net/route, tcp and udp in proc(5)'s format with a listening TCP
 * socket, a bound UDP socket and a connection to the peer; UDP and TCP
 * over 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EBADF) X(EAGAIN) X(ENODEV) X(EFAULT) X(ENOTTY) \
	X(EADDRINUSE) X(EOPNOTSUPP) X(EPROTONOSUPPORT) X(ESOCKTNOSUPPORT) X(ENETUNREACH)
#include "check.h"

#include "nldump.h"

#define PEER_ECHO 7770
#define TCP_PORT  7790
#define UDP_PORT  7791
#define LO_UDP    7792
#define LO_TCP    7793
#define LO_NOBODY 7799
#define MAX_IFS   16
#define BUF       65536

static struct in_addr peer;

/* What SIOCGIFCONF and the ioctls say of each interface. */
struct iface {
	char name[IFNAMSIZ];
	struct in_addr addr, mask, brd;
	int index, mtu;
	short flags;
	unsigned short hwtype;
	unsigned char mac[6];
	bool in_links, in_addrs, on_peer_net;
};
static struct iface ifs[MAX_IFS];
static int nifs;

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static struct in_addr sin_addr(const struct sockaddr *sa)
{
	struct sockaddr_in in;
	memcpy(&in, sa, sizeof(in));
	return in.sin_addr;
}

static int popcount(unsigned v)
{
	return __builtin_popcount(v);
}

/* ---- the ioctls ---- */

static void ioctls(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), u = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct ifconf ic = { .ifc_len = 0, .ifc_buf = NULL };
	static struct ifreq reqs[MAX_IFS];

	int r = ioctl(s, SIOCGIFCONF, &ic);
	int asked = ic.ifc_len;
	printf("SIOCGIFCONF without a buffer: %s, a multiple of struct ifreq: %s\n", outcome(r),
	       yes(asked > 0 && asked % (int)sizeof(struct ifreq) == 0));
	ic.ifc_len = sizeof(reqs);
	ic.ifc_req = reqs;
	r = ioctl(s, SIOCGIFCONF, &ic);
	printf("SIOCGIFCONF: %s, the length asked: %s\n", outcome(r), yes(ic.ifc_len == asked));
	nifs = ic.ifc_len / (int)sizeof(struct ifreq);
	struct ifconf small = { .ifc_len = sizeof(struct ifreq) + 10, .ifc_req = reqs };
	r = ioctl(s, SIOCGIFCONF, &small);
	printf("SIOCGIFCONF with room for one and a bit: %s, one: %s\n", outcome(r),
	       yes(small.ifc_len == (int)sizeof(struct ifreq)));
	ic.ifc_req = reqs;
	ioctl(s, SIOCGIFCONF, &ic);

	bool lo = false, on_net = false, all_inet = true, round = true, addr_same = true;
	bool flags_ok = true, mask_ok = true, brd_ok = true, mtu_ok = true, hw_ok = true;
	bool unix_same = true, names_ok = true;
	for (int i = 0; i < nifs && i < MAX_IFS; i++) {
		struct iface *f = &ifs[i];
		struct ifreq q;
		memcpy(f->name, reqs[i].ifr_name, IFNAMSIZ);
		f->name[IFNAMSIZ - 1] = 0;
		all_inet &= reqs[i].ifr_addr.sa_family == AF_INET;
		f->addr = sin_addr(&reqs[i].ifr_addr);
		memset(&q, 0, sizeof(q));
		strcpy(q.ifr_name, f->name);
		round &= ioctl(s, SIOCGIFINDEX, &q) == 0;
		f->index = q.ifr_ifindex;
		struct ifreq byu = q;
		unix_same &= ioctl(u, SIOCGIFINDEX, &byu) == 0 && byu.ifr_ifindex == f->index;
		memset(&q, 0, sizeof(q));
		q.ifr_ifindex = f->index;
		round &= ioctl(s, SIOCGIFNAME, &q) == 0 && !strcmp(q.ifr_name, f->name);
		char name[IF_NAMESIZE];
		round &= (int)if_nametoindex(f->name) == f->index &&
			 if_indextoname((unsigned)f->index, name) && !strcmp(name, f->name);
		strcpy(q.ifr_name, f->name);
		addr_same &= ioctl(s, SIOCGIFADDR, &q) == 0 && q.ifr_addr.sa_family == AF_INET &&
			     sin_addr(&q.ifr_addr).s_addr == f->addr.s_addr;
		flags_ok &= ioctl(s, SIOCGIFFLAGS, &q) == 0;
		f->flags = q.ifr_flags;
		mask_ok &= ioctl(s, SIOCGIFNETMASK, &q) == 0;
		f->mask = sin_addr(&q.ifr_netmask);
		unsigned m = ntohl(f->mask.s_addr);
		mask_ok &= (m & (~m >> 1)) == 0 && m;           /* ones, then zeros */
		brd_ok &= ioctl(s, SIOCGIFBRDADDR, &q) == 0;
		f->brd = sin_addr(&q.ifr_broadaddr);
		mtu_ok &= ioctl(s, SIOCGIFMTU, &q) == 0;
		f->mtu = q.ifr_mtu;
		hw_ok &= ioctl(s, SIOCGIFHWADDR, &q) == 0;
		f->hwtype = q.ifr_hwaddr.sa_family;
		memcpy(f->mac, q.ifr_hwaddr.sa_data, 6);
		bool is_lo = !strcmp(f->name, "lo");
		names_ok &= f->name[0] != 0;
		flags_ok &= (f->flags & IFF_UP) && (f->flags & IFF_RUNNING) &&
			    !!(f->flags & IFF_LOOPBACK) == is_lo && !!(f->flags & IFF_BROADCAST) == !is_lo;
		if (is_lo) {
			lo = f->index == 1 && f->addr.s_addr == htonl(0x7F000001) &&
			     f->mask.s_addr == htonl(0xFF000000) && f->mtu == 65536 &&
			     f->hwtype == ARPHRD_LOOPBACK;
		} else {
			/* none (ip addr add without brd), or the network's */
			brd_ok &= !f->brd.s_addr || f->brd.s_addr == (f->addr.s_addr | ~f->mask.s_addr);
			mtu_ok &= f->mtu == 1500;
			static const unsigned char zero[6];
			hw_ok &= f->hwtype == ARPHRD_ETHER && memcmp(f->mac, zero, 6) && !(f->mac[0] & 1);
		}
		f->on_peer_net = !is_lo && (f->addr.s_addr & f->mask.s_addr) ==
					    (peer.s_addr & f->mask.s_addr) && m == 0xFFFFFF00;
		on_net |= f->on_peer_net;
	}
	printf("every entry AF_INET: %s; lo is 1, 127.0.0.1/8, MTU 65536, ARPHRD_LOOPBACK: %s; "
	       "one on the peer's /24: %s\n", yes(all_inet), yes(lo), yes(on_net));
	printf("names: %s; SIOCGIFINDEX, SIOCGIFNAME, if_nametoindex, if_indextoname agree: %s; "
	       "on an AF_UNIX socket too: %s\n", yes(names_ok), yes(round), yes(unix_same));
	printf("SIOCGIFADDR as SIOCGIFCONF: %s; flags up, running, loopback or broadcast: %s\n",
	       yes(addr_same), yes(flags_ok));
	printf("netmask contiguous: %s; broadcast: %s; MTU 1500: %s; Ethernet MAC: %s\n",
	       yes(mask_ok), yes(brd_ok), yes(mtu_ok), yes(hw_ok));

	struct ifreq q;
	memset(&q, 0, sizeof(q));
	strcpy(q.ifr_name, "nosuch9");
	printf("SIOCGIFINDEX nosuch9: %s\n", outcome(ioctl(s, SIOCGIFINDEX, &q)));
	printf("SIOCGIFFLAGS nosuch9: %s\n", outcome(ioctl(s, SIOCGIFFLAGS, &q)));
	q.ifr_ifindex = 9999;
	printf("SIOCGIFNAME 9999: %s\n", outcome(ioctl(s, SIOCGIFNAME, &q)));
	printf("if_nametoindex nosuch9: %u\n", if_nametoindex("nosuch9"));
	printf("SIOCGIFINDEX to a bad pointer: %s\n", outcome(ioctl(s, SIOCGIFINDEX, (void *)8)));
	int pfd[2];
	if (pipe(pfd) == 0) {
		strcpy(q.ifr_name, "lo");
		printf("SIOCGIFINDEX on a pipe: %s\n", outcome(ioctl(pfd[0], SIOCGIFINDEX, &q)));
		close(pfd[0]);
		close(pfd[1]);
	}
	close(s);
	close(u);
}

static struct iface *by_index(int index)
{
	for (int i = 0; i < nifs; i++)
		if (ifs[i].index == index)
			return &ifs[i];
	return NULL;
}

static void libc_lists(void)
{
	struct if_nameindex *ni = if_nameindex(), *n;
	int found = 0;
	bool lo1 = false;

	for (n = ni; n && n->if_index; n++) {
		struct iface *f = by_index((int)n->if_index);
		found += f && !strcmp(f->name, n->if_name);
		lo1 |= n->if_index == 1 && !strcmp(n->if_name, "lo");
	}
	printf("if_nameindex: %s, every SIOCGIFCONF interface in it: %s, lo 1: %s\n",
	       ni ? "a list" : strerror(errno), yes(found == nifs), yes(lo1));
	if (ni)
		if_freenameindex(ni);

	struct ifaddrs *ifa, *a;
	int r = getifaddrs(&ifa), inet = 0;
	bool same = true;
	for (a = r == 0 ? ifa : NULL; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
			continue;
		inet++;
		bool match = false;
		for (int i = 0; i < nifs; i++)
			match |= !strcmp(ifs[i].name, a->ifa_name) &&
				 sin_addr(a->ifa_addr).s_addr == ifs[i].addr.s_addr &&
				 a->ifa_netmask && sin_addr(a->ifa_netmask).s_addr == ifs[i].mask.s_addr &&
				 (a->ifa_flags & 0xFFFF) == (unsigned short)ifs[i].flags;
		same &= match;
	}
	printf("getifaddrs: %s, its IPv4 addresses as SIOCGIFCONF's: %s\n", outcome(r),
	       yes(same && inet == nifs));
	if (r == 0)
		freeifaddrs(ifa);
}

/* ---- netlink ---- */

static unsigned char buf[BUF] __attribute__((aligned(8)));

/* A dump's messages checked as each_msg's (netif_walk): each header's
 * type, NLM_F_MULTI, seq and port id; the body to each_msg. */
struct dump_check {
	unsigned short type;
	unsigned seq, port;
	bool ok;
	void (*each_msg)(const unsigned char *body, const unsigned char *end);
};

static void each_checked(const struct nlmsghdr *h, const unsigned char *body,
			 const unsigned char *end, void *ctx)
{
	struct dump_check *c = ctx;

	c->ok &= h->nlmsg_seq == c->seq && h->nlmsg_pid == c->port &&
		 (h->nlmsg_flags & NLM_F_MULTI) && h->nlmsg_type == c->type;
	c->each_msg(body, end);
}

/* Read a dump's replies until NLMSG_DONE; check each message's header
 * (type, NLM_F_MULTI, seq, pid) and hand its body to each_msg. The
 * number of messages, or -1 when something was wrong. */
static int read_dump(int s, unsigned short type, unsigned seq, unsigned port,
		     void (*each_msg)(const unsigned char *body, const unsigned char *end))
{
	struct dump_check c = { type, seq, port, true, each_msg };
	struct nlmsghdr done = { 0 };
	int count = nl_walk(s, buf, sizeof(buf), each_checked, &c, &done);

	c.ok &= done.nlmsg_seq == seq && done.nlmsg_pid == port && (done.nlmsg_flags & NLM_F_MULTI);
	return count >= 0 && c.ok ? count : -1;
}

static bool links_ok;

static void each_link(const unsigned char *body, const unsigned char *end)
{
	struct ifinfomsg ii;
	unsigned len;

	memcpy(&ii, body, sizeof(ii));
	const unsigned char *a = body + sizeof(ii);
	const unsigned char *name = nl_attr(a, end, IFLA_IFNAME, &len);
	struct iface *f = by_index(ii.ifi_index);
	if (!f)
		return;         /* one without an IPv4 address */
	unsigned mtu = 0, maclen = 0;
	const unsigned char *m = nl_attr(a, end, IFLA_MTU, &len), *mac;
	if (m)
		memcpy(&mtu, m, 4);
	mac = nl_attr(a, end, IFLA_ADDRESS, &maclen);
	f->in_links = name && !strcmp((const char *)name, f->name);
	links_ok &= f->in_links && (int)mtu == f->mtu && ii.ifi_type == f->hwtype &&
		    (ii.ifi_flags & 0xFFFF) == (unsigned short)f->flags && mac && maclen == 6 &&
		    !memcmp(mac, f->mac, 6);
}

static bool addrs_ok;

static void each_addr(const unsigned char *body, const unsigned char *end)
{
	struct ifaddrmsg ia;
	unsigned len;

	memcpy(&ia, body, sizeof(ia));
	const unsigned char *a = body + sizeof(ia);
	const unsigned char *local = nl_attr(a, end, IFA_LOCAL, &len);
	const unsigned char *label = nl_attr(a, end, IFA_LABEL, &len);
	struct iface *f = by_index((int)ia.ifa_index);
	struct in_addr in = { 0 };
	if (local)
		memcpy(&in, local, 4);
	if (ia.ifa_family != AF_INET)
		addrs_ok = false;
	if (!f || in.s_addr != f->addr.s_addr)
		return;
	f->in_addrs = true;
	addrs_ok &= ia.ifa_prefixlen == popcount(ntohl(f->mask.s_addr)) && label &&
		    !strcmp((const char *)label, f->name) && nl_attr(a, end, IFA_ADDRESS, &len);
}

static bool peer_route;

static void each_route(const unsigned char *body, const unsigned char *end)
{
	struct rtmsg r;
	unsigned len, oif = 0, table;
	struct in_addr dst = { 0 };

	memcpy(&r, body, sizeof(r));
	const unsigned char *a = body + sizeof(r), *v;
	table = r.rtm_table;
	if ((v = nl_attr(a, end, RTA_TABLE, &len)))
		memcpy(&table, v, 4);
	if ((v = nl_attr(a, end, RTA_DST, &len)))
		memcpy(&dst, v, 4);
	if ((v = nl_attr(a, end, RTA_OIF, &len)))
		memcpy(&oif, v, 4);
	struct iface *f = by_index((int)oif);
	if (r.rtm_family == AF_INET && table == RT_TABLE_MAIN && r.rtm_dst_len == 24 && f &&
	    f->on_peer_net && dst.s_addr == (peer.s_addr & htonl(0xFFFFFF00)) &&
	    r.rtm_protocol == RTPROT_KERNEL && r.rtm_scope == RT_SCOPE_LINK)
		peer_route = true;
}

/* One reply datagram's first message: its type, and for NLMSG_ERROR
 * the error and the request's sequence number in it. */
static int reply(int s, unsigned short *type, int *error, unsigned *req_seq)
{
	struct pollfd pfd = { s, POLLIN, 0 };

	if (poll(&pfd, 1, 5000) != 1)
		return -1;
	ssize_t n = recv(s, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(struct nlmsghdr))
		return -1;
	struct nlmsghdr h, inner;
	memcpy(&h, buf, sizeof(h));
	*type = h.nlmsg_type;
	if (h.nlmsg_type == NLMSG_ERROR && n >= (ssize_t)(sizeof(h) + 4 + sizeof(inner))) {
		memcpy(error, buf + sizeof(h), 4);
		memcpy(&inner, buf + sizeof(h) + 4, sizeof(inner));
		*req_seq = inner.nlmsg_seq;
	}
	return (int)n;
}

static void netlink(void)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK }, got;
	socklen_t len = sizeof(got);

	printf("socket NETLINK_GENERIC+100: %s\n",
	       outcome(socket(AF_NETLINK, SOCK_RAW, 100)));
	printf("socket AF_NETLINK SOCK_STREAM: %s\n",
	       outcome(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE)));
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	printf("socket NETLINK_ROUTE: %s\n", s >= 0 ? "a descriptor" : strerror(errno));
	memset(&got, 0xA5, sizeof(got));
	int r = getsockname(s, (struct sockaddr *)&got, &len);
	printf("getsockname before bind: %s, family %u, port %u, length %u\n", outcome(r),
	       got.nl_family, got.nl_pid, (unsigned)len);
	r = bind(s, (struct sockaddr *)&me, sizeof(me));
	len = sizeof(got);
	getsockname(s, (struct sockaddr *)&got, &len);
	unsigned port = got.nl_pid;
	printf("bind port 0: %s, port is the pid: %s\n", outcome(r), yes(got.nl_pid == (unsigned)getpid()));
	int s2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	bind(s2, (struct sockaddr *)&me, sizeof(me));
	len = sizeof(got);
	getsockname(s2, (struct sockaddr *)&got, &len);
	printf("a second socket's port: negative: %s\n", yes((int)got.nl_pid < 0));
	int s3 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl taken = { .nl_family = AF_NETLINK, .nl_pid = port };
	printf("bind a third to the first's port: %s\n",
	       outcome(bind(s3, (struct sockaddr *)&taken, sizeof(taken))));
	close(s3);
	close(s2);
	printf("recv with nothing asked, MSG_DONTWAIT: %s\n",
	       outcome(recv(s, buf, sizeof(buf), MSG_DONTWAIT)));

	struct ifinfomsg ii = { 0 };
	links_ok = true;
	r = nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 100, &ii, sizeof(ii));
	int n = read_dump(s, RTM_NEWLINK, 100, port, each_link);
	bool all = true;
	for (int i = 0; i < nifs; i++)
		all &= ifs[i].in_links;
	printf("RTM_GETLINK dump: sent %s, headers and NLMSG_DONE: %s, every interface with "
	       "its number, name, MTU, type, flags and MAC: %s\n", yes(r > 0), yes(n >= nifs),
	       yes(all && links_ok));

	struct ifaddrmsg ia = { .ifa_family = AF_INET };
	addrs_ok = true;
	r = nl_send(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 101, &ia, sizeof(ia));
	n = read_dump(s, RTM_NEWADDR, 101, port, each_addr);
	all = true;
	for (int i = 0; i < nifs; i++)
		all &= ifs[i].in_addrs;
	printf("RTM_GETADDR dump: %s, every address with its prefix length and label: %s\n",
	       yes(r > 0 && n >= nifs), yes(all && addrs_ok));

	struct rtmsg rt = { .rtm_family = AF_INET };
	peer_route = false;
	r = nl_send(s, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 102, &rt, sizeof(rt));
	n = read_dump(s, RTM_NEWROUTE, 102, port, each_route);
	printf("RTM_GETROUTE dump: %s, a main-table route to the peer's /24 through its "
	       "interface: %s\n", yes(r > 0 && n > 0), yes(peer_route));

	/* Two requests in one send: both answered, in order. */
	unsigned char two[64] __attribute__((aligned(8)));
	struct nlmsghdr h1 = { sizeof(struct nlmsghdr) + sizeof(ii), RTM_GETLINK, NLM_F_REQUEST, 103, 0 };
	struct nlmsghdr h2 = { sizeof(struct nlmsghdr), NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 104, 0 };
	ii.ifi_index = 1;
	memset(two, 0, sizeof(two));
	memcpy(two, &h1, sizeof(h1));
	memcpy(two + sizeof(h1), &ii, sizeof(ii));
	memcpy(two + 32, &h2, sizeof(h2));
	r = (int)send(s, two, 48, 0);
	unsigned short t1 = 0, t2 = 0;
	int e1 = 0, e2 = -1;
	unsigned q1 = 0, q2 = 0;
	reply(s, &t1, &e1, &q1);
	memcpy(&h1, buf, sizeof(h1));
	reply(s, &t2, &e2, &q2);
	printf("two requests in one send: %s; answers: type %u seq %u, type %u error %d seq %u\n",
	       outcome(r), t1, h1.nlmsg_seq, t2, e2, q2);

	/* One interface, acknowledged. */
	unsigned short type = 0;
	int error = 0;
	unsigned seq = 0;
	ii.ifi_index = 1;
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 105, &ii, sizeof(ii));
	r = reply(s, &type, &error, &seq);
	struct nlmsghdr h;
	memcpy(&h, buf, sizeof(h));
	unsigned nl;
	const unsigned char *name = r > 0 ? nl_attr(buf + sizeof(h) + sizeof(ii), buf + h.nlmsg_len,
						 IFLA_IFNAME, &nl) : NULL;
	printf("RTM_GETLINK of 1: type %u, seq %u, not multi: %s, lo: %s\n", type, h.nlmsg_seq,
	       yes(!(h.nlmsg_flags & NLM_F_MULTI)), yes(name && !strcmp((const char *)name, "lo")));
	r = reply(s, &type, &error, &seq);
	printf("... then its acknowledgement: type %u, error %d, seq %u\n", type, error, seq);
	ii.ifi_index = 9999;
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST, 106, &ii, sizeof(ii));
	r = reply(s, &type, &error, &seq);
	printf("RTM_GETLINK of 9999: type %u, error %s, seq %u\n", type, raw_outcome(error), seq);
	nl_send(s, 0x7FF, NLM_F_REQUEST, 107, &ii, sizeof(ii));
	r = reply(s, &type, &error, &seq);
	printf("an unknown type: type %u, error %s, seq %u\n", type, raw_outcome(error), seq);
	nl_send(s, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 108, NULL, 0);
	r = reply(s, &type, &error, &seq);
	printf("NLMSG_NOOP with NLM_F_ACK: type %u, error %d, seq %u\n", type, error, seq);
	nl_send(s, NLMSG_NOOP, NLM_F_REQUEST, 109, NULL, 0);
	struct pollfd pfd = { s, POLLIN, 0 };
	printf("NLMSG_NOOP without: anything to read: %s\n", yes(poll(&pfd, 1, 100) == 1));

	/* A datagram cut short: MSG_TRUNC. */
	ii.ifi_index = 0;
	nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 110, &ii, sizeof(ii));
	poll(&pfd, 1, 5000);
	unsigned char small[16];
	ssize_t whole = recv(s, small, sizeof(small), MSG_PEEK | MSG_TRUNC);
	struct iovec v = { small, sizeof(small) };
	struct msghdr mh = { .msg_iov = &v, .msg_iovlen = 1 };
	struct sockaddr_nl from;
	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	ssize_t got16 = recvmsg(s, &mh, 0);
	printf("a 16-byte receive of a dump: whole length more: %s, %zd bytes, MSG_TRUNC: %s, "
	       "from port %u, name length %u\n", yes(whole > 16), got16,
	       yes(mh.msg_flags & MSG_TRUNC), from.nl_pid, (unsigned)mh.msg_namelen);
	while (poll(&pfd, 1, 200) == 1 && recv(s, buf, sizeof(buf), 0) > 0)
		;
	close(s);
}

/* ---- /proc/net ---- */

/* The file's lines: the first into first; whether each is width wide;
 * whether one has want (NULL: none). */
static bool proc_lines(const char *path, char *first, size_t size, size_t width, const char *want,
		       bool *widths)
{
	FILE *f = fopen(path, "r");
	char line[512];
	bool found = false;

	*widths = true;
	first[0] = 0;
	for (int i = 0; f && fgets(line, sizeof(line), f); i++) {
		size_t n = strlen(line);
		*widths &= n == width + 1;
		if (i == 0) {
			size_t k = n < size - 1 ? n : size - 1;
			memcpy(first, line, k);
			first[k] = 0;
			while (*first && first[strlen(first) - 1] <= ' ')
				first[strlen(first) - 1] = 0;
		}
		if (want && strstr(line, want))
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

static void proc_net(void)
{
	char first[256], want[128];
	bool widths;
	struct iface *net = NULL;

	for (int i = 0; i < nifs; i++)
		if (ifs[i].on_peer_net)
			net = &ifs[i];
	snprintf(want, sizeof(want), "%s\t%08X\t00000000\t0001\t", net ? net->name : "?",
		 peer.s_addr & htonl(0xFFFFFF00));
	bool found = proc_lines("/proc/net/route", first, sizeof(first), 127, want, &widths);
	printf("/proc/net/route: %s\n", first);
	printf("... lines of 127: %s; the peer's network through its interface: %s\n", yes(widths),
	       yes(found));

	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bind(l, (struct sockaddr *)&sa, sizeof(sa));
	listen(l, 4);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	sa.sin_port = htons(UDP_PORT);
	bind(u, (struct sockaddr *)&sa, sizeof(sa));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PEER_ECHO), .sin_addr = peer };
	int r = connect(c, (struct sockaddr *)&to, sizeof(to));
	if (r == 0 && write(c, "echo\n", 5) != 5)
		r = -1;
	usleep(100000);

	snprintf(want, sizeof(want), "00000000:%04X 00000000:0000 0A ", TCP_PORT);
	found = proc_lines("/proc/net/tcp", first, sizeof(first), 149, want, &widths);
	printf("/proc/net/tcp: %s\n", first);
	snprintf(want, sizeof(want), ":%04X 01 ", PEER_ECHO);
	bool conn = proc_lines("/proc/net/tcp", first, sizeof(first), 149, want, &widths);
	snprintf(want, sizeof(want), "%08X:%04X 01 ", peer.s_addr, PEER_ECHO);
	conn &= proc_lines("/proc/net/tcp", first, sizeof(first), 149, want, &widths);
	printf("... lines of 149: %s; the listener: %s; the connection to the peer (%s): %s\n",
	       yes(widths), yes(found), outcome(r), yes(conn));
	snprintf(want, sizeof(want), "00000000:%04X 00000000:0000 07 ", UDP_PORT);
	found = proc_lines("/proc/net/udp", first, sizeof(first), 127, want, &widths);
	printf("/proc/net/udp: %s\n", first);
	printf("... lines of 127: %s; the bound socket: %s\n", yes(widths), yes(found));
	close(c);
	close(u);
	close(l);
}

/* ---- 127.0.0.1 ---- */

static void loopback(void)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_port = htons(LO_UDP),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, from;
	socklen_t len = sizeof(from);
	char got[16] = "";
	struct timeval tv = { 2, 0 };

	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	printf("UDP bind 127.0.0.1: %s\n", outcome(bind(a, (struct sockaddr *)&lo, sizeof(lo))));
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("UDP sendto 127.0.0.1: %s\n",
	       outcome(sendto(b, "hello", 5, 0, (struct sockaddr *)&lo, sizeof(lo))));
	ssize_t n = recvfrom(a, got, sizeof(got) - 1, 0, (struct sockaddr *)&from, &len);
	printf("... received: %s %s from 127.0.0.1: %s\n", outcome(n), n > 0 ? got : "",
	       yes(from.sin_addr.s_addr == htonl(INADDR_LOOPBACK)));
	/* Nobody at the port: the datagram goes (ICMP's port unreachable
	 * does not reach an unconnected socket). */
	struct sockaddr_in nobody = lo;
	nobody.sin_port = htons(LO_NOBODY);
	tv.tv_sec = 0;
	tv.tv_usec = 300000;
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("UDP sendto 127.0.0.1 where nobody listens: %s\n",
	       outcome(sendto(b, "x", 1, 0, (struct sockaddr *)&nobody, sizeof(nobody))));
	printf("... recv: %s\n", outcome(recv(b, got, sizeof(got), 0)));
	/* To the interface's own address on the peer's network: looped
	 * back, never on the wire. */
	struct sockaddr_in own = lo;
	for (int i = 0; i < nifs; i++)
		if (ifs[i].on_peer_net)
			own.sin_addr = ifs[i].addr;
	own.sin_port = htons(LO_UDP + 10);
	int self = socket(AF_INET, SOCK_DGRAM, 0);
	bind(self, (struct sockaddr *)&own, sizeof(own));
	tv.tv_sec = 2;
	setsockopt(self, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("UDP sendto our own address: %s\n",
	       outcome(sendto(b, "self", 4, 0, (struct sockaddr *)&own, sizeof(own))));
	memset(got, 0, sizeof(got));
	n = recv(self, got, sizeof(got) - 1, 0);
	printf("... received: %s %s\n", outcome(n), n > 0 ? got : "");
	close(self);
	close(a);
	close(b);

	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	lo.sin_port = htons(LO_TCP);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bind(l, (struct sockaddr *)&lo, sizeof(lo));
	listen(l, 1);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int r = connect(c, (struct sockaddr *)&lo, sizeof(lo));
	printf("TCP connect 127.0.0.1: %s\n", outcome(r));
	int s = r == 0 ? accept(l, NULL, NULL) : -1;     /* none to wait for otherwise */
	memset(got, 0, sizeof(got));
	n = write(c, "over lo", 7);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t m = read(s, got, sizeof(got) - 1);
	printf("... accepted: %s, wrote %s, read %s %s\n", yes(s >= 0), outcome(n), outcome(m), got);
	close(s);
	close(c);
	close(l);
}

int main(int argc, char **argv)
{
	if (argc < 2 || inet_pton(AF_INET, argv[1], &peer) != 1) {
		fprintf(stderr, "usage: netif PEER\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ioctls();
	libc_lists();
	netlink();
	proc_net();
	loopback();
	printf("netif: done\n");
	return 0;
}
