/*
 * The console's window on the netstack: its interfaces, read on the
 * management protocol (proto/netmgmt.h) by a worker thread of the
 * console's own, so that a netstack that does not answer (hung, or
 * starved by a driver spinning above it) holds up the worker alone. The
 * main thread asks (net_refresh), waits at most NET_WAIT_MS for the
 * answer and goes back to the keys; while the worker still waits, a
 * command that needs the netstack says for how long it has not answered,
 * and the answer is announced when it comes. The names of the last
 * answer stay for Tab and `fault`.
 */
#include "console.h"

#include "lib/config_parser.h"
#include "lib/inet.h"
#include "lib/names.h"
#include "lib/netmgmt_client.h"

#define NET_MAX_IFS       8
#define NET_MAX_ROUTES    64            /* ROUTE_MAX (netstack/route.h) */
#define NET_MAX_ARP       16            /* lwIP's ARP table: 10 */
#define NET_WAIT_MS       1000          /* the longest a command waits for the netstack */
#define NET_WORKER_STACK  (16 * 1024)
#define WORKER_BIT_ASK    0x1

/*
 * The request and its answer. The main thread sets busy and signals the
 * worker; the worker fills in count and info, then signals
 * CONSOLE_BIT_NET; the main thread clears busy when that bit arrives and
 * reads them only then. So count and info are the worker's while busy,
 * the main thread's otherwise.
 */
static struct {
	bool busy;
	bool silence_told;      /* a command said the netstack had not answered */
	uint64_t asked_at;      /* clock ns */
	long count;             /* interfaces read; -1: no netstack registered */
	struct net_if_info info[NET_MAX_IFS];
	unsigned nroutes, narp;
	struct net_route routes[NET_MAX_ROUTES];
	struct net_arp arp[NET_MAX_ARP];
	struct net_proto_stats proto;   /* read with the interfaces */
	bool proto_read;
	/* A route to add or delete before reading (route add|del). */
	enum { CHANGE_NONE, CHANGE_ADD, CHANGE_DEL } change;
	uint32_t change_dest, change_gw;
	unsigned change_prefix;
	long change_metric, change_err;
	/* More to ask after the interfaces (net_ask_more): the worker runs it. */
	void (*job)(cap_slot_t mgmt);
} net;

static cap_slot_t worker_notif, worker_scratch;
/* The names of the last answer (main thread). */
static console_name names_last[NET_MAX_IFS];
static long names_count = -1;

/* ---- the worker ---- */

/* The routes and the ARP table, as far as they go. */
static void read_tables(void)
{
	net.nroutes = net.narp = 0;
	while (net.nroutes < NET_MAX_ROUTES &&
	       netmgmt_route(worker_scratch, net.nroutes, &net.routes[net.nroutes]) == 0)
		net.nroutes++;
	while (net.narp < NET_MAX_ARP && netmgmt_arp(worker_scratch, net.narp, &net.arp[net.narp]) == 0)
		net.narp++;
}

/* Read every interface, the routes and the neighbours, each time it is
 * asked; may block on the netstack for as long as it does not answer. */
static void net_worker(uint64_t arg)
{
	for (;;) {
		long n = -1, err = 0;

		sys_notify_wait(worker_notif, 0);
		sys_cap_delete(worker_scratch);
		/* The full capability is private (our manifest's `lookup
		 * netmgmt`); without it everything is read through the
		 * read-only one, and changes are refused. */
		long found = ns_lookup_now(NETMGMT_NAME, worker_scratch, NULL);
		if (found == -ERR_NO_RIGHTS)
			found = ns_lookup_now(NETMGMT_RO_NAME, worker_scratch, NULL);
		if (found >= 0) {
			for (n = 0; n < NET_MAX_IFS; n++)
				if ((err = netmgmt_if_info(worker_scratch, (unsigned)n, &net.info[n])))
					break;
			if (n == 0 && err != -ERR_RANGE)
				n = -1;         /* it ended while asked */
			if (net.change == CHANGE_ADD)
				net.change_err = netmgmt_route_add(worker_scratch, net.change_dest,
								   net.change_prefix, net.change_gw,
								   (unsigned)net.change_metric);
			else if (net.change == CHANGE_DEL)
				net.change_err = netmgmt_route_del(worker_scratch, net.change_dest,
								   net.change_prefix,
								   (int)net.change_metric);
			if (n > 0)
				read_tables();
			net.proto_read = n > 0 &&
					 netmgmt_proto_stats(worker_scratch, &net.proto) == 0;
			if (n >= 0 && net.job)
				net.job(worker_scratch);
		}
		sys_cap_delete(worker_scratch);
		net.count = n;
		sys_notify_signal(console_notif, CONSOLE_BIT_NET);
	}
}

static void net_ask(void)
{
	net.busy = true;
	net.asked_at = (uint64_t)sys_clock();
	sys_notify_signal(worker_notif, WORKER_BIT_ASK);
}

long net_start(void)
{
	long err;

	worker_notif = slot_alloc();
	worker_scratch = slot_alloc();
	if ((err = sys_obj_create(CAP_NOTIFICATION, worker_notif, 0)) < 0 ||
	    (err = program_thread(net_worker, 0, NET_WORKER_STACK, "console-net")) < 0)
		return err;
	net_ask();              /* the names, for Tab and fault */
	return 0;
}

/* ---- the main thread's side ---- */

const char *net_change_error(long err)
{
	return err == -ERR_NO_RIGHTS ? "refused: the console's manifest needs `lookup netmgmt` to "
				       "change the netstack" : mica_strerror(err);
}

void net_answered(void)
{
	uint64_t ms = ((uint64_t)sys_clock() - net.asked_at) / CONSOLE_MS;

	net.busy = false;
	names_count = net.count;
	for (long i = 0; i < net.count; i++) {
		memcpy(names_last[i], net.info[i].name, sizeof(net.info[i].name));
		names_last[i][sizeof(net.info[i].name)] = 0;
	}
	if (net.silence_told)
		printf("console: the netstack answered after %lu ms\n", ms);
	net.silence_told = false;
}

bool net_refresh(void)
{
	if (net.busy)
		return false;
	net_ask();
	uint64_t deadline = net.asked_at + NET_WAIT_MS * CONSOLE_MS;
	sys_notify_timer(console_notif, CONSOLE_BIT_TIMER, deadline);
	while (net.busy && (uint64_t)sys_clock() < deadline) {
		long bits = sys_notify_wait(console_notif, 0);
		if (bits < 0)
			break;
		console_deferred |= bits & ~CONSOLE_BIT_NET;
		if (bits & CONSOLE_BIT_NET)
			net_answered();
	}
	/* The timer was perhaps the fault queue's: let it look again. */
	console_deferred |= CONSOLE_BIT_TIMER;
	return !net.busy;
}

char *net_silence(char *buf, size_t size)
{
	fmt_snprintf(buf, size, "the netstack has not answered for %lu ms",
		     ((uint64_t)sys_clock() - net.asked_at) / CONSOLE_MS);
	net.silence_told = true;
	return buf;
}

long interface_names(console_name *names, unsigned max)
{
	long n = 0;

	for (; n < names_count && n < (long)max; n++)
		memcpy(names[n], names_last[n], sizeof(names[n]));
	return names_count < 0 ? -1 : n;
}

/* ---- ifconfig ---- */

/* The answer is in (and names an interface), or why not is said. */
static bool net_ready(const char *cmd)
{
	char silence[64];

	if (!net_refresh())
		printf("console: %s: %s\n", cmd, net_silence(silence, sizeof(silence)));
	else if (net.count < 0)
		printf("console: %s: %s\n", cmd, netstack_absence());
	else if (net.count == 0)
		printf("console: %s: the netstack has no interfaces\n", cmd);
	else
		return true;
	return false;
}


static char *ipv4(char *buf, size_t size, uint32_t addr)
{
	const uint8_t *a = (const uint8_t *)&addr;

	fmt_snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	return buf;
}

/* An interface in lines of at most 80 columns (with counts of up to 7
 * digits): addresses, the driver, the netstack's counters, the driver's,
 * the buffers. */
static void print_interface(const struct net_if_info *in)
{
	const struct net_if_counters *c = &in->count;
	char addr[16], gw[32], mac[18], rx[24], tx[24], rxb[16], txb[16], again[24];
	unsigned prefix = 0;

	for (uint32_t mask = in->mask; mask; mask &= mask - 1)
		prefix++;
	if (in->gw)
		fmt_snprintf(gw, sizeof(gw), "gateway %s", ipv4(addr, sizeof(addr), in->gw));
	else
		fmt_snprintf(gw, sizeof(gw), "no gateway");
	if (!c->attached && !in->mac && !c->driver_restarts) {
		/* Never had a driver: no MAC, no link; an address only if set.
		 * One init will not give the netstack waits for nothing: why. */
		if (in->flags & NET_IF_DRIVER_REFUSED)
			printf("%.16s: no driver (init refused the name '%.24s': the manifest needs "
			       "`lookup %.24s` under the netstack)\n", in->name, in->driver,
			       in->driver);
		else if (in->addr)
			printf("%.16s: no driver yet, %s/%u, %s\n", in->name,
			       ipv4(addr, sizeof(addr), in->addr), prefix, gw);
		else
			printf("%.16s: no driver yet\n", in->name);
		return;
	}
	for (int k = 0, n = 0; k < 6; k++)
		n += fmt_snprintf(mac + n, sizeof(mac) - n, "%s%02lx", k ? ":" : "",
				  (in->mac >> (8 * k)) & 0xFF);
	printf("%.16s: link %s, %s/%u%s, %s\n", in->name, c->link_up ? "up" : "down",
	       ipv4(addr, sizeof(addr), in->addr), prefix, in->flags & NET_IF_DHCP ? " (dhcp)" : "",
	       gw);
	printf("    MAC %s, driver %s, re-attached %s\n", mac,
	       c->attached ? "attached" : "detached",
	       fmt_count(again, sizeof(again), c->driver_restarts, "time", "times"));
	printf("    rx %s, %s, %lu dropped\n",
	       fmt_count(rx, sizeof(rx), c->rx_packets, "packet", "packets"),
	       fmt_bytes(rxb, sizeof(rxb), c->rx_bytes), c->rx_dropped);
	printf("    tx %s, %s, %lu dropped\n",
	       fmt_count(tx, sizeof(tx), c->tx_packets, "packet", "packets"),
	       fmt_bytes(txb, sizeof(txb), c->tx_bytes), c->tx_dropped);
	printf("    driver's count: rx %lu, no buffer %lu, errors %lu; tx %lu, errors %lu\n",
	       c->drv_rx_packets, c->drv_rx_no_buffer, c->drv_rx_errors, c->drv_tx_packets,
	       c->drv_tx_errors);
	printf("    buffers: %lu free, %lu posted for rx, %lu in tx, %lu in the stack\n",
	       c->bufs_free, c->bufs_rx_posted, c->bufs_tx, c->bufs_lwip);
	printf("    bad descriptors %lu, buffers reclaimed from dead drivers %lu\n", c->bad_desc,
	       c->bufs_reclaimed);
	if (!c->fwd_packets && !c->fwd_no_route && !c->fwd_ttl && !c->fwd_martian &&
	    !c->fwd_too_big && !c->fwd_host_unreachable && !c->fwd_not_sent && !c->fwd_refused &&
	    !c->ip_rp_filter)
		return;         /* nothing was forwarded from here */
	printf("    forwarded %lu, fragmented %lu, refused %lu\n", c->fwd_packets,
	       c->fwd_fragmented, c->fwd_refused);
	printf("    dropped: no route %lu, TTL %lu, martian %lu, too big %lu,\n", c->fwd_no_route,
	       c->fwd_ttl, c->fwd_martian, c->fwd_too_big);
	printf("        no ARP answer %lu, not sent %lu; ICMP errors sent %lu, held back %lu\n",
	       c->fwd_host_unreachable, c->fwd_not_sent, c->fwd_icmp_sent, c->fwd_icmp_limited);
	printf("    dropped, to us or on: wrong way back (reverse path) %lu\n", c->ip_rp_filter);
}

bool net_ask_more(const char *cmd, void (*job)(cap_slot_t mgmt))
{
	char silence[64];
	bool ready;

	net.job = job;
	ready = net_refresh();
	if (!ready)
		printf("console: %s: %s\n", cmd, net_silence(silence, sizeof(silence)));
	else if (net.count < 0)
		printf("console: %s: %s\n", cmd, netstack_absence());
	if (ready)
		net.job = NULL;
	return ready && net.count >= 0;
}

/* What the netstack refused or cut from the wire beyond lwIP's own checks
 * (docs/netstack.md, "Hardening"), for every interface. */
static void print_guard(const struct net_proto_stats *p)
{
	printf("from the wire: bad source %lu, bad IP options %lu, source routes %lu\n",
	       p->ip_bad_src, p->ip_opterr, p->ip_source_route);
	printf("    UDP length bad %lu, trimmed %lu; TCP far sequence %lu, MSS raised %lu\n",
	       p->udp_lenerr, p->udp_trimmed, p->tcp_far_seq, p->tcp_mss_raised);
	printf("    half-open evicted %lu, out-of-order aged %lu; DHCP refused %lu, "
	       "leases raised %lu\n", p->tcp_half_open_evicted, p->tcp_ooseq_aged,
	       p->dhcp_refused, p->dhcp_lease_raised);
	printf("    SYNs to half-open: reset %lu, dropped %lu; challenge ACKs %lu, "
	       "over the limit %lu\n", p->tcp_syn_recv_reset, p->tcp_syn_recv_dropped,
	       p->tcp_challenge_ack, p->tcp_challenge_ack_limited);
	printf("    answers held back (500 ms each connection): half-open %lu, TIME-WAIT %lu\n",
	       p->tcp_ack_skipped_syn_recv, p->tcp_ack_skipped_time_wait);
	printf("    ICMP errors over the rate limit %lu\n", p->icmp_limited);
	printf("    IP fragments in %lu, dropped %lu (no room %lu, malformed %lu); datagrams "
	       "dropped: overlapping %lu, too many fragments %lu\n",
	       p->ipfrag_recv, p->ipfrag_drop, p->ipfrag_memerr, p->ipfrag_err,
	       p->ipfrag_overlap, p->ipfrag_too_many);
	printf("    lwIP timer ticks caught up %lu, lost %lu\n", p->timer_ticks_late,
	       p->timer_ticks_lost);
}

void cmd_ifconfig(char **arg)
{
	if (!net_ready("ifconfig"))
		return;
	for (long i = 0; i < net.count; i++)
		print_interface(&net.info[i]);
	if (net.proto_read) {
		print_guard(&net.proto);
		printf("UDP: %lu datagrams in, %lu dropped for a full socket receive buffer\n",
		       net.proto.udp_recv, net.proto.sock_udp_dropped);
		printf("    %lu sent that the interface refused (transmit queue full)\n",
		       net.proto.sock_udp_send_dropped);
	}
}

/* ---- route, arp ---- */

static const char *if_name(int32_t i, char *buf)
{
	if (i < 0 || i >= net.count)
		return "-";
	memcpy(buf, net.info[i].name, sizeof(net.info[i].name));
	buf[sizeof(net.info[i].name)] = 0;
	return buf;
}

/* `add|del NET/LEN|default [via GW] [metric N]` into net.change_*;
 * false (said) when it is not that. */
static bool route_change(char **arg)
{
	const char *net_arg = arg[1], *slash;
	unsigned long prefix = 0;

	net.change_metric = -1;
	net.change_gw = 0;
	if (!net_arg)
		return false;
	if (!strcmp(net_arg, "default")) {
		net.change_dest = 0;
	} else if (!(slash = strchr(net_arg, '/')) ||
		   !inet_parse_ipv4(net_arg, (size_t)(slash - net_arg), &net.change_dest) ||
		   !config_parse_uint(slash + 1, 32, &prefix)) {
		printf("console: route: expected NET/LEN or default, not '%s'\n", net_arg);
		return false;
	}
	net.change_prefix = (unsigned)prefix;
	for (char **a = arg + 2; *a; a += 2) {
		unsigned long metric;
		if (!strcmp(a[0], "via") && a[1] && inet_parse_ipv4(a[1], strlen(a[1]), &net.change_gw))
			continue;
		if (!strcmp(a[0], "metric") && a[1] && config_parse_uint(a[1], 0xFFFF, &metric)) {
			net.change_metric = (long)metric;
			continue;
		}
		printf("console: route: expected 'via A.B.C.D' or 'metric N', not '%s'\n", a[0]);
		return false;
	}
	if (net.change == CHANGE_ADD && !net.change_gw) {
		printf("console: route: add needs 'via GATEWAY'\n");
		return false;
	}
	if (net.change == CHANGE_ADD && net.change_metric < 0)
		net.change_metric = 0;
	return true;
}

void cmd_route(char **arg)
{
	static const char *const origins[] = { "connected", "static", "dhcp" };
	char dest[24], gw[16], name[17];

	net.change = !arg[0] ? CHANGE_NONE : !strcmp(arg[0], "add") ? CHANGE_ADD :
		     !strcmp(arg[0], "del") ? CHANGE_DEL : -1;
	if ((int)net.change < 0) {
		printf("console: route: expected add or del, not '%s'\n", arg[0]);
		net.change = CHANGE_NONE;
		return;
	}
	if (net.change != CHANGE_NONE && !route_change(arg)) {
		net.change = CHANGE_NONE;
		return;
	}
	bool ready = net_ready("route");
	if (net.change != CHANGE_NONE && ready) {
		if (net.change_err)
			printf("console: route %s: %s\n", arg[0], net_change_error(net.change_err));
		else
			printf("console: route %s: done\n", arg[0]);
	}
	net.change = CHANGE_NONE;
	if (!ready || arg[0])
		return;
	printf("%-19s %-15s %-16s %6s  %s\n", "destination", "gateway", "interface", "metric",
	       "from");
	for (unsigned i = 0; i < net.nroutes; i++) {
		const struct net_route *r = &net.routes[i];
		unsigned prefix = 0;
		for (uint32_t m = r->mask; m; m &= m - 1)
			prefix++;
		if (!prefix)
			fmt_snprintf(dest, sizeof(dest), "default");
		else
			fmt_snprintf(dest, sizeof(dest), "%s/%u", ipv4(gw, sizeof(gw), r->dest), prefix);
		if (r->gateway)
			ipv4(gw, sizeof(gw), r->gateway);
		else
			fmt_snprintf(gw, sizeof(gw), "-");
		printf("%-19s %-15s %-16s %6u  %s\n", dest, gw, if_name(r->iface, name), r->metric,
		       r->origin < 3 ? origins[r->origin] : "?");
	}
}

void cmd_arp(char **arg)
{
	char addr[16], name[17];

	if (!net_ready("arp"))
		return;
	printf("%-15s %-17s %s\n", "address", "MAC", "interface");
	for (unsigned i = 0; i < net.narp; i++) {
		const struct net_arp *a = &net.arp[i];
		if (!a->addr)
			continue;
		printf("%-15s %02lx:%02lx:%02lx:%02lx:%02lx:%02lx %s\n", ipv4(addr, sizeof(addr), a->addr),
		       a->mac & 0xFF, (a->mac >> 8) & 0xFF, (a->mac >> 16) & 0xFF, (a->mac >> 24) & 0xFF,
		       (a->mac >> 32) & 0xFF, (a->mac >> 40) & 0xFF, if_name(a->iface, name));
	}
}
