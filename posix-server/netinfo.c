/*
 * The netstack's interfaces, routes and sockets for the server (netinfo.h):
 * a worker thread of the server's asks the netstack's management protocol
 * through its read-only capability (NETMGMT_RO_NAME) — NETMGMT_IF_INFO,
 * NETMGMT_ROUTE_GET, NETMGMT_ARP_GET, NETMGMT_SOCK_GET, each by index
 * until ERR_RANGE, and NETMGMT_PROTO_STATS for lo's counters — when woken, and tells the server by a bit of its
 * notification; the server copies the answer to `netinfo` and wakes the
 * calls waiting for it. The server never waits for the netstack: a call
 * waits (SYSCALL_BLOCK) up to NETINFO_WAIT for an answer newer than its
 * start, then goes on with what there is (no netstack: no interface but
 * lo).
 */
#include "clock.h"
#include "netinfo.h"
#include "syscall.h"

#include "lib/names.h"
#include "lib/netmgmt_client.h"

#define NETINFO_WAIT   (200UL * 1000000)        /* ns a call waits for an answer */
#define NETINFO_STACK  16384
#define NETINFO_NOTIFY 0x8                      /* a bit of the server's notification */
#define WORKER_ASK     0x1

struct netinfo netinfo;

/* The worker's: what it read (want: what it was asked for, set by the
 * server before each ask; done: set by the worker's release store). */
static struct netinfo asked;
static unsigned asked_want;
static bool asked_done;

/* The server's. */
static uint64_t last_at;                /* when the last answer came (ns of sys_clock) */
static unsigned last_have;              /* what it holds (NETINFO_*) */
static unsigned pending;                /* what waiting calls want and no ask asked */
static bool started, broken, busy;
static cap_slot_t worker_notif, server_notif, scratch;

static void worker(uint64_t arg)
{
	static struct net_proto_stats proto;

	for (;;) {
		unsigned n;

		sys_notify_wait(worker_notif, 0);
		asked.nifs = asked.nroutes = asked.nsocks = asked.narps = 0;
		asked.lo_packets = asked.lo_bytes = 0;
		sys_cap_delete(scratch);
		if (ns_lookup_now(NETMGMT_RO_NAME, scratch, NULL) >= 0) {
			for (n = 0; n < NETINFO_IFS && netmgmt_if_info(scratch, n, &asked.ifs[n]) == 0; n++)
				;
			asked.nifs = n;
			for (n = 0; n < NETINFO_ROUTES && netmgmt_route(scratch, n, &asked.routes[n]) == 0;
			     n++)
				;
			asked.nroutes = n;
			struct net_arp arp;
			for (n = 0; asked.narps < NETINFO_ARPS && netmgmt_arp(scratch, n, &arp) == 0; n++)
				if (arp.addr)
					asked.arps[asked.narps++] = arp;
			if (netmgmt_proto_stats(scratch, &proto) == 0) {
				asked.lo_packets = proto.lo_packets;
				asked.lo_bytes = proto.lo_bytes;
			}
			for (n = 0; (asked_want & NETINFO_SOCKETS) && n < NETINFO_SOCKS &&
				    netmgmt_sock(scratch, n, &asked.socks[n]) == 0; n++)
				;
			asked.nsocks = n;
		}
		sys_cap_delete(scratch);
		__atomic_store_n(&asked_done, true, __ATOMIC_RELEASE);
		sys_notify_signal(server_notif, NETINFO_NOTIFY);
	}
}

/* The worker and its capabilities, at the first call: false if they
 * cannot be had. */
static bool start(void)
{
	if (started || broken)
		return started;
	worker_notif = slot_alloc();
	server_notif = slot_alloc();
	scratch = slot_alloc();
	if (worker_notif == CAP_SLOT_NONE || server_notif == CAP_SLOT_NONE ||
	    scratch == CAP_SLOT_NONE ||
	    sys_obj_create(CAP_NOTIFICATION, worker_notif, 0) < 0 ||
	    sys_cap_copy(signal_notification, CAP_SLOT_SELF, server_notif, CAP_RIGHT_WRITE,
			 NETINFO_NOTIFY) < 0 ||
	    program_thread(worker, 0, NETINFO_STACK, "posix-netinfo") < 0) {
		printf("posix: cannot start the netstack's information worker: no interface shown\n");
		broken = true;
		return false;
	}
	started = true;
	return true;
}

static void ask(void)
{
	busy = true;
	asked_want = pending | NETINFO_IFS_ROUTES;
	pending = 0;
	asked_done = false;
	sys_notify_signal(worker_notif, WORKER_ASK);
}

void netinfo_notified(uint64_t bits)
{
	if (!(bits & NETINFO_NOTIFY) || !busy || !__atomic_load_n(&asked_done, __ATOMIC_ACQUIRE))
		return;
	netinfo.nifs = asked.nifs;
	netinfo.nroutes = asked.nroutes;
	netinfo.narps = asked.narps;
	netinfo.lo_packets = asked.lo_packets;
	netinfo.lo_bytes = asked.lo_bytes;
	memcpy(netinfo.ifs, asked.ifs, asked.nifs * sizeof(asked.ifs[0]));
	memcpy(netinfo.routes, asked.routes, asked.nroutes * sizeof(asked.routes[0]));
	memcpy(netinfo.arps, asked.arps, asked.narps * sizeof(asked.arps[0]));
	if (asked_want & NETINFO_SOCKETS) {
		netinfo.nsocks = asked.nsocks;
		memcpy(netinfo.socks, asked.socks, asked.nsocks * sizeof(asked.socks[0]));
	}
	last_have = asked_want;
	last_at = (uint64_t)sys_clock();
	busy = false;
	if (pending)
		ask();          /* calls that came meanwhile want more */
	threads_wake_all();
}

long netinfo_wait(struct process *p, unsigned want)
{
	uint64_t now = (uint64_t)sys_clock();
	struct thread *t = p->current;          /* the thread whose call it is */

	want |= NETINFO_IFS_ROUTES;
	if (!t->sleep_at) {
		if (!start())
			return 0;
		if (busy)
			pending |= want;        /* an answer begun before this call is not enough */
		else {
			pending |= want;
			ask();
		}
		t->sleep_at = now + NETINFO_WAIT;
		t->sleep_rem = 0;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	/* An answer since this call began with what it wants, or its time
	 * is up. */
	bool fresh = last_at >= t->sleep_at - NETINFO_WAIT && (last_have & want) == want;
	if (!fresh && now < t->sleep_at)
		return SYSCALL_BLOCK;
	t->sleep_at = 0;
	return 0;
}

bool netinfo_if(unsigned i, struct netinfo_if *out)
{
	*out = (struct netinfo_if){ 0 };
	if (i == 0) {
		out->index = NETINFO_LO_INDEX;
		memcpy(out->name, "lo", 3);
		out->addr = __builtin_bswap32(0x7F000001);
		out->mask = __builtin_bswap32(0xFF000000);
		out->mtu = NETINFO_LO_MTU;
		out->flags = LINUX_IFF_UP | LINUX_IFF_LOOPBACK | LINUX_IFF_RUNNING;
		out->loopback = true;
		return true;
	}
	if (i - 1 >= netinfo.nifs)
		return false;
	const struct net_if_info *in = &netinfo.ifs[i - 1];
	out->index = (int)i + 1;
	memcpy(out->name, in->name, sizeof(out->name));
	out->name[sizeof(out->name) - 1] = 0;
	out->addr = in->addr;
	out->mask = in->addr ? in->mask : 0;
	out->brd = in->addr ? in->addr | ~in->mask : 0;
	out->mac = in->mac;
	out->mtu = NETINFO_MTU;
	out->flags = LINUX_IFF_UP | LINUX_IFF_BROADCAST | LINUX_IFF_MULTICAST |
		     (in->count.link_up ? LINUX_IFF_RUNNING : 0);
	return true;
}

bool netinfo_if_by_index(int index, struct netinfo_if *out)
{
	return index >= 1 && netinfo_if((unsigned)index - 1, out);
}

bool netinfo_route_if(const struct net_route *r, struct netinfo_if *out)
{
	if (r->iface >= 0)
		return netinfo_if_by_index(r->iface + 2, out);
	/* A static route naming no interface: the one whose network holds
	 * the gateway (as the netstack's forward_route_add picks it). */
	for (unsigned i = 1; r->gateway && netinfo_if(i, out); i++)
		if (out->mask && ((out->addr ^ r->gateway) & out->mask) == 0)
			return true;
	return false;
}

bool netinfo_if_by_name(const char *name, struct netinfo_if *out)
{
	for (unsigned i = 0; netinfo_if(i, out); i++)
		if (!strcmp(out->name, name))
			return true;
	return false;
}
