/*
 * The console's `fault` command: faults for the drivers (NETQ_FAULT,
 * proto/netq.h). A driver is never waited for: a fault it cannot take
 * now (it is not waiting for requests) is queued and retried from the
 * console's timer until it does, FAULT_PATIENCE_MS pass or the driver
 * registered under the name is another instance (then it is dropped: a
 * fault meant for a busy driver must not hit its successor).
 */
#include "console.h"

#include "lib/names.h"
#include "proto/netq.h"

#define FAULT_QUEUE        4    /* faults waiting for their driver at once */
#define FAULT_RETRY_MS     10   /* a clock tick */
#define FAULT_PATIENCE_MS  3000
#define MAX_INTERFACES     8

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
	uint64_t generation;            /* the driver's registration, when queued */
} queue[FAULT_QUEUE];
static unsigned queued;

unsigned fault_names(const char **out, unsigned max)
{
	unsigned n = 0;

	for (; n < NFAULTS && n < max; n++)
		out[n] = faults[n].name;
	return n;
}

/*
 * Hand the driver registered as ifname the fault, without waiting: 0, or
 * -ERR_WOULD_BLOCK (it is not waiting for requests: busy or hung), or
 * -ERR_INVALID_ARG (no driver registered under that name now), or
 * -ERR_NO_RIGHTS (the driver's name is private, proto/netq.h, and our
 * manifest has no `lookup` line for it), or -ERR_DELETED (another
 * instance than `generation`, unless that is 0).
 * The registration's generation goes to *generation.
 */
static long fault_send(const char *ifname, unsigned fault, uint64_t *generation)
{
	struct msg m = msg_make(NETQ_FAULT, 1);
	uint64_t expected = *generation;
	long err;

	sys_cap_delete(console_scratch);
	if ((err = ns_lookup_now(ifname, console_scratch, generation)) < 0)
		return err == -ERR_NO_RIGHTS ? err : -ERR_INVALID_ARG;
	if (expected && *generation != expected)
		err = -ERR_DELETED;
	else {
		/* A send, not a call: the driver is not expected to answer. */
		m.w[0] = faults[fault].kind;
		err = ipc_send(console_scratch | IPC_NONBLOCK, &m);
	}
	sys_cap_delete(console_scratch);
	return err;
}

/* The driver has the fault: say what it will do or, for one from the
 * queue (whose message named it), how long it waited. */
static void fault_sent(const char *ifname, unsigned fault, uint64_t after_ms, bool queued_first)
{
	if (queued_first)
		printf("console: fault: sent %s '%s' after %lu ms\n", ifname, faults[fault].name,
		       after_ms);
	else
		printf("console: fault: sent %s '%s' (%s)\n", ifname, faults[fault].name,
		       faults[fault].what);
}

/* Whether ifname is one of the netstack's interfaces; says why not. */
static bool interface_checked(const char *ifname)
{
	console_name names[MAX_INTERFACES];
	char silence[64];
	long n = interface_names(names, MAX_INTERFACES);

	for (long i = 0; i < n; i++)
		if (!strcmp(names[i], ifname))
			return true;
	/* Not in the netstack's last answer: ask it again. */
	if (!net_refresh()) {
		printf("console: fault: '%s' unknown: %s\n", ifname,
		       net_silence(silence, sizeof(silence)));
		return false;
	}
	n = interface_names(names, MAX_INTERFACES);
	for (long i = 0; i < n; i++)
		if (!strcmp(names[i], ifname))
			return true;
	if (n < 0)
		printf("console: fault: %s, so there are no interfaces\n", netstack_absence());
	else
		printf("console: fault: no interface named '%s' (ifconfig lists them)\n", ifname);
	return false;
}

void cmd_fault(char **arg)
{
	const char *ifname = arg[0], *kind = arg[1];
	unsigned fault = 0;
	uint64_t generation = 0;

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
	if (!interface_checked(ifname))
		return;
	long err = fault_send(ifname, fault, &generation);
	if (!err) {
		fault_sent(ifname, fault, 0, false);
	} else if (err == -ERR_INVALID_ARG) {
		printf("console: fault: %s has no driver now (see ps); not done\n", ifname);
	} else if (err == -ERR_NO_RIGHTS) {
		printf("console: fault: init will not give the console %s's driver: the manifest "
		       "needs `lookup %s` under the console; not done\n", ifname, ifname);
	} else if (queued == FAULT_QUEUE) {
		printf("console: fault: %s cannot take '%s' now and %u faults wait; not done\n",
		       ifname, faults[fault].name, FAULT_QUEUE);
	} else {
		struct queued_fault *q = &queue[queued++];
		memcpy(q->ifname, ifname, strnlen(ifname, sizeof(q->ifname) - 1) + 1);
		q->fault = fault;
		q->since = (uint64_t)sys_clock();
		q->generation = generation;
		printf("console: fault: %s is busy; '%s' queued, retried for up to %u ms\n", ifname,
		       faults[fault].name, FAULT_PATIENCE_MS);
		if (queued == 1)
			sys_notify_timer(console_notif, CONSOLE_BIT_TIMER,
					 q->since + FAULT_RETRY_MS * CONSOLE_MS);
	}
}

void faults_retry(void)
{
	uint64_t now = (uint64_t)sys_clock();
	unsigned kept = 0;

	for (unsigned i = 0; i < queued; i++) {
		struct queued_fault *q = &queue[i];
		long err = fault_send(q->ifname, q->fault, &q->generation);
		uint64_t ms = (now - q->since) / CONSOLE_MS;
		const char *name = faults[q->fault].name;
		if (!err) {
			fault_sent(q->ifname, q->fault, ms, true);
		} else if (err == -ERR_INVALID_ARG || err == -ERR_NO_RIGHTS) {
			printf("console: fault: %s lost its driver; '%s' not done\n", q->ifname, name);
		} else if (err == -ERR_DELETED) {
			printf("console: fault: %s has a new driver; '%s' not done\n", q->ifname, name);
		} else if (ms >= FAULT_PATIENCE_MS) {
			printf("console: fault: %s did not take '%s' within %u ms; not done\n",
			       q->ifname, name, FAULT_PATIENCE_MS);
		} else {
			queue[kept++] = *q;
		}
	}
	queued = kept;
	if (queued)
		sys_notify_timer(console_notif, CONSOLE_BIT_TIMER, now + FAULT_RETRY_MS * CONSOLE_MS);
}
