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

#include "lib/names.h"
#include "lib/netmgmt_client.h"

#define NET_MAX_IFS       8
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
} net;

static cap_slot_t worker_notif, worker_scratch;
/* The names of the last answer (main thread). */
static console_name names_last[NET_MAX_IFS];
static long names_count = -1;

/* ---- the worker ---- */

/* Read every interface, each time it is asked; may block on the netstack
 * for as long as it does not answer. */
static void net_worker(uint64_t arg)
{
	for (;;) {
		long n = -1, err = 0;

		sys_notify_wait(worker_notif, 0);
		sys_cap_delete(worker_scratch);
		if (ns_lookup_now(NETMGMT_NAME, worker_scratch, NULL) >= 0) {
			for (n = 0; n < NET_MAX_IFS; n++)
				if ((err = netmgmt_if_info(worker_scratch, (unsigned)n, &net.info[n])))
					break;
			if (n == 0 && err != -ERR_RANGE)
				n = -1;         /* it ended while asked */
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
		/* Never had a driver: no MAC, no link; an address only if set. */
		if (in->addr)
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
}

void cmd_ifconfig(char **arg)
{
	char silence[64];

	if (!net_refresh())
		printf("console: ifconfig: %s\n", net_silence(silence, sizeof(silence)));
	else if (net.count < 0)
		printf("console: ifconfig: %s\n", netstack_absence());
	else if (net.count == 0)
		printf("console: ifconfig: the netstack has no interfaces\n");
	for (long i = 0; !net.busy && i < net.count; i++)
		print_interface(&net.info[i]);
}
