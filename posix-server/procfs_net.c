/*
 * /proc/net/dev: the netstack's interfaces and their counters, asked
 * over its management protocol (proto/netmgmt.h, NETMGMT_IF_INFO) by a
 * worker thread of the server's, so that the server never waits for the
 * netstack: a read at offset 0 asks the worker and waits (the process's
 * call, not the server) until the answer comes or NETDEV_WAIT has
 * passed; then the file is made from the last answer there is (none: no
 * interface). The worker's answer comes as a bit of the server's
 * notification (procfs_notified). The lines are in Linux's format; the
 * fields the netstack does not count (fifo, frame, compressed,
 * multicast, colls, carrier) are 0.
 */
#include "clock.h"
#include "procfs.h"
#include "syscall.h"

#include "lib/names.h"
#include "lib/netmgmt_client.h"
#include "proto/netmgmt.h"

#define NETDEV_MAX    8                         /* interfaces shown */
#define NETDEV_WAIT   (200UL * 1000000)         /* ns a read waits for an answer */
#define NETDEV_STACK  16384
#define PROCFS_NOTIFY_NET 0x8                   /* a bit of the server's notification */
#define WORKER_ASK    0x1

/* The worker's: what it read, and how many (-1: not yet, set by the
 * server before each ask; the worker's store releases info). */
static struct net_if_info asked[NETDEV_MAX];
static long asked_count = -1;

/* The server's: the last answer, and when it came (ns of sys_clock). */
static struct net_if_info last[NETDEV_MAX];
static unsigned last_count;
static uint64_t last_at;

static bool started, broken, busy;
static cap_slot_t worker_notif, server_notif, scratch;

static void worker(uint64_t arg)
{
	for (;;) {
		long n = 0;

		sys_notify_wait(worker_notif, 0);
		sys_cap_delete(scratch);
		if (ns_lookup_now(NETMGMT_NAME, scratch, NULL) >= 0)
			while (n < NETDEV_MAX && netmgmt_if_info(scratch, (unsigned)n, &asked[n]) == 0)
				n++;
		sys_cap_delete(scratch);
		__atomic_store_n(&asked_count, n, __ATOMIC_RELEASE);
		sys_notify_signal(server_notif, PROCFS_NOTIFY_NET);
	}
}

/* The worker and its capabilities, at the first read: false if they
 * cannot be had (the file then has no interface). */
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
			 PROCFS_NOTIFY_NET) < 0 ||
	    program_thread(worker, 0, NETDEV_STACK, "posix-netdev") < 0) {
		printf("posix: cannot start the worker of /proc/net/dev: no interfaces shown\n");
		broken = true;
		return false;
	}
	started = true;
	return true;
}

void procfs_notified(uint64_t bits)
{
	long n = __atomic_load_n(&asked_count, __ATOMIC_ACQUIRE);

	if (!(bits & PROCFS_NOTIFY_NET) || !busy || n < 0)
		return;
	memcpy(last, asked, (size_t)n * sizeof(last[0]));
	last_count = (unsigned)n;
	last_at = (uint64_t)sys_clock();
	busy = false;
	threads_wake_all();
}

long procfs_net_dev(struct process *p, uint64_t off)
{
	uint64_t now = (uint64_t)sys_clock();
	struct thread *t = p->current;          /* the thread whose read it is */

	if (off == 0 && !t->sleep_at && start()) {
		if (!busy) {
			busy = true;
			asked_count = -1;
			sys_notify_signal(worker_notif, WORKER_ASK);
		}
		t->sleep_at = now + NETDEV_WAIT;
		t->sleep_rem = 0;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	if (off == 0 && t->sleep_at) {
		/* An answer since this read began, or its time is up. */
		if (last_at < t->sleep_at - NETDEV_WAIT && now < t->sleep_at)
			return SYSCALL_BLOCK;
		t->sleep_at = 0;
	}
	procfs_printf("Inter-|   Receive                                                |  Transmit\n"
		      " face |bytes    packets errs drop fifo frame compressed multicast|"
		      "bytes    packets errs drop fifo colls carrier compressed\n");
	for (unsigned i = 0; i < last_count; i++) {
		const struct net_if_info *in = &last[i];
		const struct net_if_counters *c = &in->count;
		char name[sizeof(in->name) + 1];
		memcpy(name, in->name, sizeof(in->name));
		name[sizeof(in->name)] = 0;
		procfs_printf("%6s: %7lu %7lu %4lu %4lu %4lu %5lu %10lu %9lu %8lu %7lu %4lu %4lu %4lu "
			      "%5lu %7lu %10lu\n",
			      name, c->rx_bytes, c->rx_packets, c->drv_rx_errors,
			      c->rx_dropped + c->drv_rx_no_buffer, 0UL, 0UL, 0UL, 0UL, c->tx_bytes,
			      c->tx_packets, c->drv_tx_errors, c->tx_dropped, 0UL, 0UL, 0UL, 0UL);
	}
	return 0;
}
