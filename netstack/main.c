/*
 * The netstack: lwIP in one user-level server, over the NIC drivers'
 * queues (iface.c), serving sockets (socket_*.c) and management (netmgmt.c)
 * on one endpoint (service.c). docs/netstack.md.
 *
 * One thread, lwIP's NO_SYS mode. The loop drains every interface's rings
 * into lwIP, runs lwIP's timers, answers deferred socket calls, signals
 * the drivers once, and then sleeps in an endpoint receive: a client's
 * request, a driver's queue signal (the bound notification, one badge bit
 * per NIC), the name service's signal that a driver's name came or went
 * (NETSTACK_BIT_DRIVERS) or the timer (notify_timer, armed for lwIP's
 * next timeout) wakes it.
 */
#include "netstack.h"

#include "lib/inet.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"

struct iface ifaces[NETSTACK_MAX_NICS];
unsigned nifaces;
unsigned char *netstack_heap;

static cap_slot_t notif;
static uint64_t rand_state;

/* ---- what lwIP needs from its platform (arch/cc.h, sys.h) ---- */

u32_t sys_now(void)
{
	return (u32_t)((uint64_t)sys_clock() / 1000000);
}

uint32_t netstack_random(void)
{
	/* xorshift64*, seeded from the secret key (guard_init). */
	if (!rand_state)
		rand_state = guard_seed() | 1;
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (uint32_t)((rand_state * 0x2545F4914F6CDD1DULL) >> 32);
}

void netstack_assert_failed(const char *what, const char *file, int line)
{
	printf("netstack: lwIP assertion failed: %s (%s:%d)\n", what, file, line);
	exit(3);
}

int atoi(const char *s)
{
	int v = 0, sign = 1;

	if (*s == '-') {
		sign = -1;
		s++;
	}
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return sign * v;
}

/* ---- iperf (lwIP's lwiperf, iperf 2 compatible) ---- */

/*
 * lwiperf counts a session's bytes in 32 bits and hands us nothing wider,
 * so its count (and its rate) is the true one only if the session moved
 * less than 4 GiB. The interfaces' 64-bit byte counters bound that: they
 * are sampled about once a second (and 0 at the start), and what all
 * interfaces moved since the newest sample taken before the session began
 * is at least what the session moved.
 */
#define IPERF_SAMPLES 64
static struct { u32_t ms; uint64_t bytes; } iperf_samples[IPERF_SAMPLES];
static unsigned iperf_nsamples;

static uint64_t iperf_iface_bytes(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < nifaces; i++)
		sum += ifaces[i].counters.rx_bytes + ifaces[i].counters.tx_bytes;
	return sum;
}

static void iperf_sample_poll(void)
{
	u32_t now = sys_now();
	unsigned last = (iperf_nsamples - 1) % IPERF_SAMPLES;

	if (iperf_nsamples && now - iperf_samples[last].ms < 1000)
		return;
	iperf_samples[iperf_nsamples % IPERF_SAMPLES].ms = now;
	iperf_samples[iperf_nsamples % IPERF_SAMPLES].bytes = iperf_iface_bytes();
	iperf_nsamples++;
}

/* At least what a session that began `ms` ago moved. */
static uint64_t iperf_bytes_bound(u32_t ms)
{
	u32_t now = sys_now();
	uint64_t before = 0;            /* the start: nothing moved yet */

	for (unsigned n = 0; n < iperf_nsamples && n < IPERF_SAMPLES; n++) {
		unsigned k = (iperf_nsamples - 1 - n) % IPERF_SAMPLES;
		if (now - iperf_samples[k].ms >= ms) {
			before = iperf_samples[k].bytes;
			break;
		}
	}
	return iperf_iface_bytes() - before;
}

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local,
			 u16_t local_port, const ip_addr_t *remote, u16_t remote_port,
			 u32_t bytes, u32_t ms, u32_t kbps)
{
	static const char *const kinds[] = {
		[LWIPERF_TCP_DONE_SERVER] = "server done",
		[LWIPERF_TCP_DONE_CLIENT] = "client done",
		[LWIPERF_TCP_ABORTED_LOCAL] = "aborted here",
		[LWIPERF_TCP_ABORTED_LOCAL_DATAERROR] = "aborted here (data error)",
		[LWIPERF_TCP_ABORTED_LOCAL_TXERROR] = "aborted here (send error)",
		[LWIPERF_TCP_ABORTED_REMOTE] = "aborted by the peer",
	};
	const char *kind = type < sizeof(kinds) / sizeof(kinds[0]) ? kinds[type] : "?";

	if (iperf_bytes_bound(ms) < (1ull << 32)) {
		printf_limited("netstack: iperf: %s with %s:%u, %u bytes in %u ms, %u kbit/s\n",
			       kind, ipaddr_ntoa(remote), remote_port, bytes, ms, kbps);
	} else {
		printf_limited("netstack: iperf: %s with %s:%u after %u ms; it may have moved "
			       "4 GiB or more, which lwiperf cannot count: no rate\n",
			       kind, ipaddr_ntoa(remote), remote_port, ms);
	}
}

static char iperf_client[32];
static bool iperf_client_started;

/* Start the iperf client (iperf.client=A.B.C.D) once an interface is up. */
static void iperf_client_poll(void)
{
	uint32_t a;

	if (!iperf_client[0] || iperf_client_started)
		return;
	for (unsigned i = 0; i < nifaces; i++) {
		if (!ifaces[i].up_reported)
			continue;
		iperf_client_started = true;
		if (!inet_parse_ipv4(iperf_client, strlen(iperf_client), &a)) {
			printf("netstack: iperf.client=%s: expected A.B.C.D\n", iperf_client);
			return;
		}
		ip_addr_t remote;
		ip_addr_set_ip4_u32(&remote, a);
		if (!lwiperf_start_tcp_client_default(&remote, iperf_report, NULL))
			printf("netstack: iperf: cannot start the client\n");
		return;
	}
}

/* ---- the loop ---- */

static void sleep_until_woken(struct msg *m, cap_slot_t reply)
{
	u32_t wait = sys_timeouts_sleeptime();

	if (wait != SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		sys_notify_timer(notif, NETSTACK_BIT_TIMER,
				 (uint64_t)sys_clock() + (uint64_t)wait * 1000000);
	if (service_receive(m, reply) != 0)
		*m = msg_make(IPC_LABEL_NOTIFY, 0);
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	struct nic_config cfg[NETSTACK_MAX_NICS];
	char err[128], opt[32];
	long e;

	nifaces = config_parse(pi->args, cfg, NETSTACK_MAX_NICS, err, sizeof(err));
	if (!nifaces) {
		printf("netstack: %s\n", err);
		return 1;
	}
	if (!(netstack_heap = mem_heap(MEM_SIZE + 64))) {
		printf("netstack: no heap for lwIP\n");
		return 1;
	}
	cap_slot_t endpoint = slot_alloc();
	notif = slot_alloc();
	cap_slot_t reply = slot_alloc();
	struct thread_config tc = { .fields = THREAD_CFG_NOTIFY, .notification = notif };
	if ((e = sys_obj_create(CAP_ENDPOINT, endpoint, 0)) < 0 ||
	    (e = sys_obj_create(CAP_NOTIFICATION, notif, 0)) < 0 ||
	    (e = sys_obj_create(CAP_REPLY, reply, 0)) < 0 ||
	    (e = sys_thread_configure(PROGRAM_THREAD_SLOT, (uint64_t)&tc)) < 0) {
		printf("netstack: setting up: %s\n", mica_strerror(e));
		return 1;
	}
	guard_init();
	lwip_init();
	for (unsigned i = 0; i < nifaces; i++) {
		struct iface *n = &ifaces[i];
		n->cfg = cfg[i];
		n->index = i;
		if ((e = iface_init(n, notif)) < 0) {
			printf("netstack: %s: cannot set up: %s\n", n->cfg.name, mica_strerror(e));
			return 1;
		}
		if (n->cfg.gw || (i == 0 && n->cfg.dhcp))
			netif_set_default(&n->netif);
	}
	if (!netif_default)
		netif_set_default(&ifaces[0].netif);
	/* Attach to the drivers already there; the others when their names
	 * come (the same path as a restarted driver's). */
	for (unsigned i = 0; i < nifaces; i++)
		iface_driver_changed(&ifaces[i]);
	if (!program_arg(pi->args, "iperf", opt, sizeof(opt)) || strcmp(opt, "off"))
		lwiperf_start_tcp_server_default(iperf_report, NULL);
	program_arg(pi->args, "iperf.client", iperf_client, sizeof(iperf_client));
	if (service_init(endpoint) < 0)
		return 1;
	/* Which interfaces, and which still wait for their driver: with no
	 * NIC for it, its driver never comes. */
	char count[32], list[128] = "";
	size_t used = 0;
	for (unsigned i = 0; i < nifaces && used < sizeof(list); i++)
		used += (size_t)fmt_snprintf(list + used, sizeof(list) - used, "%s%s%s",
					     i ? ", " : "", ifaces[i].cfg.name,
					     ifaces[i].attached ? "" : " (no driver yet)");
	printf("netstack: serving %s: %s; sockets at 'net'%s\n",
	       fmt_count(count, sizeof(count), nifaces, "interface", "interfaces"), list,
	       strcmp(opt, "off") ? ", iperf server on TCP port 5001" : "");

	struct msg m = msg_make(IPC_LABEL_NOTIFY, 0);
	for (;;) {
		if (ipc_tag_label(m.tag) == IPC_LABEL_NOTIFY) {
			if (m.badge & NETSTACK_BIT_DRIVERS)
				for (unsigned i = 0; i < nifaces; i++)
					iface_driver_changed(&ifaces[i]);
		} else if (!service_request(&m, reply)) {
			/* The reply waits in that object; receive with another. */
			reply = slot_alloc();
			if (reply == CAP_SLOT_NONE || sys_obj_create(CAP_REPLY, reply, 0) < 0) {
				printf("netstack: out of reply objects\n");
				return 1;
			}
		}
		bool busy;
		do {
			busy = false;
			for (unsigned i = 0; i < nifaces; i++)
				busy |= iface_service(&ifaces[i]);
			sys_check_timeouts();
			iperf_client_poll();
			iperf_sample_poll();
			socket_poll();
			for (unsigned i = 0; i < nifaces; i++)
				iface_flush(&ifaces[i]);
		} while (busy);
		bool sleep = true;
		for (unsigned i = 0; i < nifaces && sleep; i++)
			sleep = iface_may_sleep(&ifaces[i]);
		if (sleep)
			sleep_until_woken(&m, reply);
		else
			m = msg_make(IPC_LABEL_NOTIFY, 0);
	}
}
