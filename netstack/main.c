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
#include "filter.h"
#include "heap.h"
#include "iperf.h"

#include "lib/inet.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"

struct iface ifaces[NETSTACK_MAX_NICS];
unsigned nifaces;
unsigned char *netstack_heap;

static cap_slot_t notif;

/* Busy rounds of the loop between looks at the endpoint for requests. */
#define SERVICE_POLL_ROUNDS 8
static uint64_t rand_state;
static struct appliance_config appliance;      /* from the file (args config=NAME) */
static bool from_file;
static char file_name[32];

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

/* ---- iperf (iperf.c) ---- */

static char iperf_client[32];
static unsigned iperf_client_seconds = 10;     /* iperf.time=S, 1..3600 */
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
		if (!iperf_client_start(&remote, 5001, iperf_client_seconds))
			printf("netstack: iperf: cannot start the client\n");
		return;
	}
}

/* ---- the configuration ---- */

/* The appliance configuration file: ifaces[] for its drivers (nic=, or
 * nic0, nic1 ... one per interface), each bound to its interface when its
 * driver first attaches (netstack_bind). A file that is wrong stops the
 * network, not the netstack: no interfaces, the message on the console. */
static void configure_from_file(const char *args)
{
	struct config_error err = { 0 };
	size_t size;
	const char *text = program_file(file_name, &size);
	char list[64];

	if (!text) {
		printf("netstack: config=%s: no such file (the manifest's `file` line)\n", file_name);
		return;
	}
	if (!appliance_config_parse(text, size, &appliance, &err)) {
		printf("netstack: %s:%u:%u: %s\n", file_name, err.line, err.column, err.message);
		printf("netstack: no network until the configuration is right\n");
		return;
	}
	from_file = true;
	if (!program_arg(args, "nic", list, sizeof(list)))
		list[0] = 0;
	for (char *s = list; nifaces < NETSTACK_MAX_NICS;) {
		struct iface *n = &ifaces[nifaces];
		if (list[0]) {
			char *e = s;
			while (*e && *e != ',')
				e++;
			if (e == s || (size_t)(e - s) > NS_NAME_MAX)
				break;
			memcpy(n->driver_name, s, (size_t)(e - s));
			s = *e ? e + 1 : e;
		} else if (nifaces < appliance.ninterfaces) {
			fmt_snprintf(n->driver_name, sizeof(n->driver_name), "nic%u", nifaces);
		} else {
			break;
		}
		memcpy(n->cfg.name, n->driver_name, sizeof(n->cfg.name));
		n->cfg.mtu = NIC_MTU_MAX;
		n->conf = -1;
		nifaces++;
		if (list[0] && !*s)
			break;
	}
	forward_configure(appliance.forwarding, appliance.routes, appliance.nroutes);
	listen_configure(&appliance);
}

/* The interfaces from the arguments (nic=eth0 eth0.addr=...): one per
 * driver, bound to it by name. 0 when they are wrong (said). */
static unsigned configure_from_args(const char *args)
{
	struct nic_config cfg[NETSTACK_MAX_NICS];
	char err[128], opt[8];
	unsigned n = config_parse(args, cfg, NETSTACK_MAX_NICS, err, sizeof(err));

	if (!n)
		printf("netstack: %s\n", err);
	for (unsigned i = 0; i < n; i++) {
		ifaces[i].cfg = cfg[i];
		memcpy(ifaces[i].driver_name, cfg[i].name, sizeof(ifaces[i].driver_name));
		ifaces[i].conf = -1;
	}
	forward_configure(program_arg(args, "forwarding", opt, sizeof(opt)) && !strcmp(opt, "on"),
			  NULL, 0);
	return n;
}

bool netstack_bind(struct iface *ifc, uint64_t pci_slot, const uint8_t mac[6])
{
	unsigned taken = 0;

	if (!from_file)
		return true;    /* bound by its driver's name */
	for (unsigned i = 0; i < nifaces; i++)
		if (ifaces[i].conf >= 0)
			taken |= 1U << ifaces[i].conf;
	int k = config_bind(&appliance, taken, pci_slot, mac);
	if (k < 0) {
		uint64_t s = pci_slot ? pci_slot - 1 : 0;
		printf("netstack: %s (PCI %02lx:%02lx.%lx, MAC %02x:%02x:%02x:%02x:%02x:%02x): "
		       "no interface of %s is this NIC; left down\n", ifc->driver_name, s >> 8,
		       (s >> 3) & 0x1F, s & 7, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
		       file_name);
		return false;
	}
	config_interface(&appliance, (unsigned)k, &ifc->cfg);
	ifc->conf = k;
	printf("netstack: %s is %s\n", ifc->driver_name, ifc->cfg.name);
	if (ifc->cfg.gw || (ifc->cfg.dhcp && !netif_default))
		netif_set_default(&ifc->netif);
	return true;
}

int forward_iface_of(int conf)
{
	for (unsigned i = 0; i < nifaces; i++)
		if (ifaces[i].conf == conf)
			return (int)i;
	return -1;
}

/* ---- the loop ---- */

static void sleep_until_woken(struct msg *m, cap_slot_t reply)
{
	u32_t wait = timers_sleeptime();

	if (wait != SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		sys_notify_timer(notif, NETSTACK_BIT_TIMER,
				 (uint64_t)sys_clock() + (uint64_t)wait * 1000000);
	if (service_receive(m, reply, false) != 0)
		*m = msg_make(IPC_LABEL_NOTIFY, 0);
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	char opt[32];
	long e;

	if (program_arg(pi->args, "config", file_name, sizeof(file_name)))
		configure_from_file(pi->args);
	else if (!(nifaces = configure_from_args(pi->args)))
		return 1;
	if (!(netstack_heap = pool_heap_init()) ||
	    !heap_init(&lwip_heap, netstack_heap, NETSTACK_HEAP_LOG2)) {
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
	if (from_file)
		filter_init(&appliance, file_name);     /* its hash key from guard's */
	lwip_init();
	timers_start();
	guard_start();
	if ((e = pool_init(nifaces)) < 0) {
		printf("netstack: no pool of buffers: %s\n", mica_strerror(e));
		return 1;
	}
	for (unsigned i = 0; i < nifaces; i++) {
		struct iface *n = &ifaces[i];
		n->index = i;
		if ((e = iface_init(n, notif)) < 0) {
			printf("netstack: %s: cannot set up: %s\n", n->cfg.name, mica_strerror(e));
			return 1;
		}
		if (!from_file && (n->cfg.gw || (i == 0 && n->cfg.dhcp)))
			netif_set_default(&n->netif);
	}
	if (!netif_default && nifaces)
		netif_set_default(&ifaces[0].netif);
	/* Attach to the drivers already there; the others when their names
	 * come (the same path as a restarted driver's). */
	for (unsigned i = 0; i < nifaces; i++)
		iface_driver_changed(&ifaces[i]);
	uint16_t iperf_port = listen_iperf_port();
	bool iperf_on = !program_arg(pi->args, "iperf", opt, sizeof(opt)) || strcmp(opt, "off");
	if (iperf_on && iperf_port && !iperf_server_start(iperf_port))
		printf("netstack: iperf: cannot listen on TCP port %u\n", iperf_port);
	program_arg(pi->args, "iperf.client", iperf_client, sizeof(iperf_client));
	if (program_arg(pi->args, "iperf.time", opt, sizeof(opt))) {
		int t = atoi(opt);
		bool digits = opt[0] != 0;
		for (const char *c = opt; *c; c++)
			digits &= *c >= '0' && *c <= '9';
		if (digits && strlen(opt) <= 4 && t >= 1 && t <= 3600)
			iperf_client_seconds = (unsigned)t;
		else
			printf("netstack: iperf.time=%s: expected 1..3600 (seconds); 10 s\n", opt);
	}
	/* Merging lwIP's segments (segment.c) is on unless merge=off. */
	segment_merge_configure(!program_arg(pi->args, "merge", opt, sizeof(opt)) || strcmp(opt, "off"));
	if (service_init(endpoint) < 0)
		return 1;
	/* Which interfaces, and which still wait for their driver: with no
	 * NIC for it, its driver never comes. */
	char count[32], list[128] = "none";
	size_t used = 0;
	if (nifaces)
		list[0] = 0;
	for (unsigned i = 0; i < nifaces && used < sizeof(list); i++)
		used += (size_t)fmt_snprintf(list + used, sizeof(list) - used, "%s%s%s",
					     i ? ", " : "", ifaces[i].cfg.name,
					     ifaces[i].attached ? "" : " (no driver yet)");
	char iperf[40] = "";
	if (iperf_port && iperf_on)
		fmt_snprintf(iperf, sizeof(iperf), ", iperf server on TCP port %u", iperf_port);
	printf("netstack: serving %s: %s; sockets at 'net'%s\n",
	       fmt_count(count, sizeof(count), nifaces, "interface", "interfaces"), list, iperf);

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
		bool busy, request = false;
		unsigned rounds = 0;
		do {
			busy = false;
			for (unsigned i = 0; i < nifaces; i++)
				busy |= iface_service(&ifaces[i]);
			busy |= loopback_poll();
			timers_run();
			iperf_client_poll();
			socket_poll();
			filter_housekeeping();
			for (unsigned i = 0; i < nifaces; i++)
				iface_flush(&ifaces[i]);
			/* A data path that never runs dry (a sender that keeps
			 * the NIC busy) must not keep requests — sockets, the
			 * management protocol — waiting until it does: every
			 * SERVICE_POLL_ROUNDS busy rounds, one look at the
			 * endpoint that does not wait. */
			if (busy && ++rounds % SERVICE_POLL_ROUNDS == 0 &&
			    service_receive(&m, reply, true) == 0) {
				request = true;
				break;
			}
		} while (busy);
		if (request)
			continue;       /* served at the top, then the rounds go on */
		bool sleep = true;
		for (unsigned i = 0; i < nifaces && sleep; i++)
			sleep = iface_may_sleep(&ifaces[i]);
		if (sleep)
			sleep_until_woken(&m, reply);
		else
			m = msg_make(IPC_LABEL_NOTIFY, 0);
	}
}
