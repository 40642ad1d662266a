/*
 * The console's network commands: interfaces from the netstack's
 * management protocol (proto/netmgmt.h), faults for the drivers
 * (proto/netq.h). A driver is never waited for: a fault it cannot take
 * now (it is not waiting for requests) is queued and retried from the
 * console's timer until it does or FAULT_PATIENCE_MS pass.
 */
#include "console.h"

#include "lib/names.h"
#include "lib/netmgmt_client.h"
#include "proto/netq.h"

#define FAULT_QUEUE        4    /* faults waiting for their driver at once */
#define FAULT_RETRY_MS     10   /* a clock tick */
#define FAULT_PATIENCE_MS  3000
#define MS                 1000000ULL   /* clock nanoseconds */

/* ---- interfaces ---- */

/* Look the netstack's management service up into console_scratch. */
static bool netmgmt_found(void)
{
	sys_cap_delete(console_scratch);
	return ns_lookup_now(NETMGMT_NAME, console_scratch, NULL) >= 0;
}

long interface_names(console_name *names, unsigned max)
{
	struct net_if_info in;
	unsigned n = 0;

	if (!netmgmt_found())
		return -1;
	for (; n < max && netmgmt_if_info(console_scratch, n, &in) == 0; n++) {
		memcpy(names[n], in.name, sizeof(in.name));
		names[n][sizeof(in.name)] = 0;
	}
	sys_cap_delete(console_scratch);
	return n;
}

static char *ipv4(char *buf, size_t size, uint32_t addr)
{
	const uint8_t *a = (const uint8_t *)&addr;

	fmt_snprintf(buf, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	return buf;
}

static void print_interface(const struct net_if_info *in)
{
	const struct net_if_counters *c = &in->count;
	char addr[16], gw[32], mac[18], rx[24], tx[24], rxb[16], txb[16], restarts[24];
	unsigned prefix = 0;

	for (uint32_t mask = in->mask; mask; mask &= mask - 1)
		prefix++;
	if (in->gw)
		fmt_snprintf(gw, sizeof(gw), "gateway %s", ipv4(addr, sizeof(addr), in->gw));
	else
		fmt_snprintf(gw, sizeof(gw), "no gateway");
	for (int k = 0, n = 0; k < 6; k++)
		n += fmt_snprintf(mac + n, sizeof(mac) - n, "%s%02lx", k ? ":" : "",
				  (in->mac >> (8 * k)) & 0xFF);
	printf("%s: link %s, %s/%u%s, %s, MAC %s\n", in->name, c->link_up ? "up" : "down",
	       ipv4(addr, sizeof(addr), in->addr), prefix, in->flags & NET_IF_DHCP ? " (dhcp)" : "",
	       gw, mac);
	printf("    rx %s, %s, %lu dropped; tx %s, %s, %lu dropped\n",
	       fmt_count(rx, sizeof(rx), c->rx_packets, "packet", "packets"),
	       fmt_bytes(rxb, sizeof(rxb), c->rx_bytes), c->rx_dropped,
	       fmt_count(tx, sizeof(tx), c->tx_packets, "packet", "packets"),
	       fmt_bytes(txb, sizeof(txb), c->tx_bytes), c->tx_dropped);
	printf("    driver: %s, restarted %s; rx %lu, no buffer %lu, errors %lu; tx %lu, errors %lu; "
	       "bad descriptors %lu\n", c->attached ? "attached" : "detached",
	       fmt_count(restarts, sizeof(restarts), c->driver_restarts, "time", "times"),
	       c->drv_rx_packets, c->drv_rx_no_buffer, c->drv_rx_errors, c->drv_tx_packets,
	       c->drv_tx_errors, c->bad_desc);
	printf("    buffers: %lu free, %lu posted for rx, %lu in tx, %lu in the stack, "
	       "%lu reclaimed from dead drivers\n", c->bufs_free, c->bufs_rx_posted, c->bufs_tx,
	       c->bufs_lwip, c->bufs_reclaimed);
}

void cmd_ifconfig(char **arg)
{
	struct net_if_info in;

	if (!netmgmt_found()) {
		printf("console: ifconfig: the netstack is not running\n");
		return;
	}
	for (unsigned i = 0; netmgmt_if_info(console_scratch, i, &in) == 0; i++)
		print_interface(&in);
	sys_cap_delete(console_scratch);
}

/* ---- faults ---- */

static const struct {
	const char *name;
	enum netq_fault kind;
	const char *what;
} faults[] = {
#define CONSOLE_FAULT(name, value, word, what) { word, NETQ_FAULT_##name, what },
	NETQ_FAULTS(CONSOLE_FAULT)
#undef CONSOLE_FAULT
};
#define NFAULTS (sizeof(faults) / sizeof(faults[0]))

/* Faults a busy driver has not taken yet, oldest first. */
static struct queued_fault {
	console_name ifname;
	unsigned fault;                 /* index into faults[] */
	uint64_t since;                 /* clock ns */
} queue[FAULT_QUEUE];
static unsigned queued;

unsigned fault_names(const char **out, unsigned max)
{
	unsigned n = 0;

	for (; n < NFAULTS && n < max; n++)
		out[n] = faults[n].name;
	return n;
}

/* Hand the driver registered as ifname the fault, without waiting: 0, or
 * -ERR_WOULD_BLOCK (it is not waiting for requests: busy or hung), or
 * -ERR_INVALID_ARG (no driver registered under that name now). */
static long fault_send(const char *ifname, unsigned fault)
{
	struct msg m = msg_make(NETQ_FAULT, 1);
	long err;

	sys_cap_delete(console_scratch);
	if (ns_lookup_now(ifname, console_scratch, NULL) < 0)
		return -ERR_INVALID_ARG;
	/* A send, not a call: the driver is not expected to answer. */
	m.w[0] = faults[fault].kind;
	err = ipc_send(console_scratch | IPC_NONBLOCK, &m);
	sys_cap_delete(console_scratch);
	return err;
}

static void fault_told(const char *ifname, unsigned fault, const char *after)
{
	printf("console: fault: told %s to %s (%s)%s\n", ifname, faults[fault].name,
	       faults[fault].what, after);
}

void cmd_fault(char **arg)
{
	const char *ifname = arg[0], *kind = arg[1];
	console_name names[8];
	unsigned fault = 0;
	long n = interface_names(names, 8), i = 0;

	while (fault < NFAULTS && strcmp(faults[fault].name, kind))
		fault++;
	if (fault == NFAULTS) {
		char kinds[64];
		unsigned k = 0;
		for (unsigned f = 0; f < NFAULTS; f++)
			k += (unsigned)fmt_snprintf(kinds + k, sizeof(kinds) - k, "%s%s", f ? ", " : "",
						    faults[f].name);
		printf("console: fault: unknown kind '%s' (%s)\n", kind, kinds);
		return;
	}
	if (n < 0) {
		printf("console: fault: the netstack is not running, so there are no interfaces\n");
		return;
	}
	while (i < n && strcmp(names[i], ifname))
		i++;
	if (i == n) {
		printf("console: fault: no interface named '%s' (ifconfig lists them)\n", ifname);
		return;
	}
	long err = fault_send(ifname, fault);
	if (!err) {
		fault_told(ifname, fault, "");
	} else if (queued == FAULT_QUEUE) {
		printf("console: fault: %s cannot take %s now and %u faults already wait; not done\n",
		       ifname, faults[fault].name, FAULT_QUEUE);
	} else {
		struct queued_fault *q = &queue[queued++];
		memcpy(q->ifname, ifname, strnlen(ifname, sizeof(q->ifname) - 1) + 1);
		q->fault = fault;
		q->since = (uint64_t)sys_clock();
		printf("console: fault: %s is busy; %s queued, retried for up to %u ms\n", ifname,
		       faults[fault].name, FAULT_PATIENCE_MS);
		if (queued == 1)
			sys_notify_timer(console_notif, CONSOLE_BIT_TIMER, q->since + FAULT_RETRY_MS * MS);
	}
}

void faults_retry(void)
{
	uint64_t now = (uint64_t)sys_clock();
	unsigned kept = 0;
	char after[32];

	for (unsigned i = 0; i < queued; i++) {
		struct queued_fault *q = &queue[i];
		long err = fault_send(q->ifname, q->fault);
		uint64_t ms = (now - q->since) / MS;
		if (!err) {
			fmt_snprintf(after, sizeof(after), " after %lu ms", ms);
			fault_told(q->ifname, q->fault, after);
		} else if (ms >= FAULT_PATIENCE_MS) {
			printf("console: fault: %s did not take %s within %u ms (%s); not done\n",
			       q->ifname, faults[q->fault].name, FAULT_PATIENCE_MS,
			       err == -ERR_INVALID_ARG ? "no driver registered under that name"
						       : "never waiting for requests: busy or hung");
		} else {
			queue[kept++] = *q;
		}
	}
	queued = kept;
	if (queued)
		sys_notify_timer(console_notif, CONSOLE_BIT_TIMER, now + FAULT_RETRY_MS * MS);
}
