/*
 * The serial console: an operator's commands on COM1, answered on the
 * same line (the kernel's debug output). The kernel keeps the UART; the
 * console holds its IRQ (manifest `irq 4`), which entitles it to what
 * arrives (sys_serial_read). It asks the servers for the rest: init for
 * programs and memory (proto/init.h, with the manifest's control=yes),
 * the netstack's management service for interfaces (proto/netmgmt.h), a
 * driver for injected faults (proto/netq.h). It never waits on a driver:
 * a hung one would take the console with it.
 *
 * The commands are the table `commands` (name, arguments, help, handler).
 * docs/console.md.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netmgmt_client.h"
#include "proto/init.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"

#define BIT_IRQ 0x1
#define LINE_MAX 128
#define MAX_WORDS 4

static cap_slot_t notif, irq = PROGRAM_IRQ_SLOT, scratch;

/* ---- talking to init ---- */

static const char *const state_names[] = {
	[PROGRAM_RUNNING] = "running",
	[PROGRAM_WAITING] = "restarting",
	[PROGRAM_DOWN] = "down",
	[PROGRAM_EXITED] = "exited",
	[PROGRAM_NOT_STARTED] = "not started",
	[PROGRAM_NO_DEVICE] = "no device",
};

static void cmd_ps(char **arg)
{
	struct msg m;
	uint64_t w[INIT_NAME_WORDS + 4];

	printf("%-16s %-12s %8s %8s\n", "NAME", "STATE", "RESTARTS", "CRASHES");
	for (uint64_t i = 0; init_control(INIT_PROGRAM, NULL, i, &m) == 0; i++) {
		char name[INIT_NAME_WORDS * 8 + 1] = { 0 };
		msg_to_words(&m, w, INIT_NAME_WORDS + 4);
		memcpy(name, w, INIT_NAME_WORDS * 8);
		const char *state = w[4] < sizeof(state_names) / sizeof(state_names[0])
				    ? state_names[w[4]] : "?";
		printf("%-16s %-12s %8lu %8lu", name, state, w[5], w[6]);
		if (w[4] == PROGRAM_WAITING)
			printf("  (in %lu ms)", w[7]);
		printf("\n");
	}
}

static void cmd_kill_or_start(uint64_t label, const char *what, const char *name)
{
	struct msg m;
	long err = init_control(label, name, 0, &m);

	if (err == -ERR_INVALID_ARG)
		printf("console: %s: no program named '%s' (see ps)\n", what, name);
	else if (err == -ERR_RANGE)
		printf("console: %s: %s cannot start: its device is missing or its module does "
		       "not load (see init's messages)\n", what, name);
	else if (err == -ERR_BUSY)
		printf("console: %s: %s is %s\n", what, name,
		       label == INIT_KILL ? "not running" : "running or about to restart");
	else if (err)
		printf("console: %s %s: %s\n", what, name, mica_strerror(err));
	else
		printf("console: %s %s: done\n", what, name);
}

static void cmd_kill(char **arg)
{
	cmd_kill_or_start(INIT_KILL, "kill", arg[0]);
}

static void cmd_start(char **arg)
{
	cmd_kill_or_start(INIT_START, "start", arg[0]);
}

static void cmd_mem(char **arg)
{
	struct msg m;
	struct init_memory mem;
	long err = init_control(INIT_MEMORY, NULL, 0, &m);

	if (err) {
		printf("console: mem: %s\n", mica_strerror(err));
		return;
	}
	msg_to_words(&m, (uint64_t *)&mem, INIT_MEMORY_WORDS);
	printf("memory: ram %lu of %lu pages free, kernel %lu frames free, "
	       "quota %lu of %lu bytes used\n", mem.ram_pages_free, mem.ram_pages,
	       mem.kernel_frames_free, mem.quota_used, mem.quota_limit);
}

/* ---- the netstack and the drivers ---- */

static void cmd_ifconfig(char **arg)
{
	struct net_if_info in;

	sys_cap_delete(scratch);
	if (ns_lookup_now(NETMGMT_NAME, scratch, NULL) < 0) {
		printf("console: ifconfig: the netstack is not running\n");
		return;
	}
	for (unsigned i = 0; netmgmt_if_info(scratch, i, &in) == 0; i++) {
		const struct net_if_counters *c = &in.count;
		uint8_t *a = (uint8_t *)&in.addr;
		unsigned prefix = 0;
		for (uint32_t mask = in.mask; mask; mask &= mask - 1)
			prefix++;
		printf("%s: link %s, %u.%u.%u.%u/%u%s, MAC", in.name, c->link_up ? "up" : "down",
		       a[0], a[1], a[2], a[3], prefix, in.flags & NET_IF_DHCP ? " (dhcp)" : "");
		for (int k = 0; k < 6; k++)
			printf("%c%02lx", k ? ':' : ' ', (in.mac >> (8 * k)) & 0xFF);
		printf("\n    rx %lu packets %lu bytes %lu dropped; tx %lu packets %lu bytes "
		       "%lu dropped\n    driver: %s, restarted %lu times; rx %lu, no buffer %lu, "
		       "errors %lu; tx %lu, errors %lu; bad descriptors %lu\n"
		       "    buffers: %lu free, %lu posted for rx, %lu in tx, %lu in the stack, "
		       "%lu reclaimed from dead drivers\n",
		       c->rx_packets, c->rx_bytes, c->rx_dropped, c->tx_packets, c->tx_bytes,
		       c->tx_dropped, c->attached ? "attached" : "detached", c->driver_restarts,
		       c->drv_rx_packets, c->drv_rx_no_buffer, c->drv_rx_errors, c->drv_tx_packets,
		       c->drv_tx_errors, c->bad_desc, c->bufs_free, c->bufs_rx_posted, c->bufs_tx,
		       c->bufs_lwip, c->bufs_reclaimed);
	}
	sys_cap_delete(scratch);
}

static const struct {
	const char *name;
	enum netq_fault kind;
	const char *what;
} faults[] = {
	{ "wild", NETQ_FAULT_WILD_WRITE, "write past the end of its device memory" },
	{ "port", NETQ_FAULT_FOREIGN_PORT, "touch an I/O port it was not given" },
	{ "kernel", NETQ_FAULT_KERNEL_READ, "read kernel memory" },
	{ "hang", NETQ_FAULT_HANG, "spin forever" },
	{ "rings", NETQ_FAULT_CORRUPT_RINGS, "scribble on the shared rings" },
};
#define NFAULTS (sizeof(faults) / sizeof(faults[0]))

static void cmd_fault(char **arg)
{
	const char *ifname = arg[0], *kind = arg[1];
	unsigned i = 0;

	while (i < NFAULTS && strcmp(faults[i].name, kind))
		i++;
	if (i == NFAULTS) {
		printf("console: fault: unknown kind '%s' (wild, port, kernel, hang, rings)\n", kind);
		return;
	}
	sys_cap_delete(scratch);
	long err = ns_lookup_now(ifname, scratch, NULL);
	if (err < 0) {
		printf("console: fault: no driver registered as '%s'\n", ifname);
		return;
	}
	/* A send, not a call: the driver is not expected to answer; and only
	 * to a driver waiting for requests (a hung one would hold us). */
	struct msg m = msg_make(NETQ_FAULT, 1);
	m.w[0] = faults[i].kind;
	err = ipc_send(scratch | IPC_NONBLOCK, &m);
	sys_cap_delete(scratch);
	if (err == -ERR_WOULD_BLOCK)
		printf("console: fault: %s is busy (not waiting for requests); try again\n", ifname);
	else if (err)
		printf("console: fault %s: %s\n", ifname, mica_strerror(err));
	else
		printf("console: fault: told %s to %s\n", ifname, faults[i].what);
}

/* ---- commands ---- */

static void cmd_help(char **arg);

static const struct command {
	const char *name;
	int args;
	const char *usage;      /* name and arguments, as help shows them */
	const char *help;
	void (*run)(char **arg);        /* arg: the command's arguments */
} commands[] = {
	{ "ps", 0, "ps", "programs: state, restarts, crashes in a row", cmd_ps },
	{ "kill", 1, "kill NAME", "kill a program (restarted at once if its policy says so)",
	  cmd_kill },
	{ "start", 1, "start NAME", "start a program that is down", cmd_start },
	{ "ifconfig", 0, "ifconfig", "interfaces, addresses and counters", cmd_ifconfig },
	{ "mem", 0, "mem", "free memory: init's RAM, the kernel's frames and quota", cmd_mem },
	{ "fault", 2, "fault IFNAME KIND",
	  "make a driver misbehave: wild, port, kernel, hang, rings", cmd_fault },
	{ "help", 0, "help", "this list", cmd_help },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void cmd_help(char **arg)
{
	printf("commands:\n");
	for (unsigned c = 0; c < NCOMMANDS; c++)
		printf("  %-20s%s\n", commands[c].usage, commands[c].help);
}

static void execute(char *line)
{
	char *w[MAX_WORDS + 1];
	int n = 0;

	for (char *p = line; *p && n <= MAX_WORDS;) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (n == 0)
		return;
	unsigned c = 0;
	while (c < NCOMMANDS && strcmp(commands[c].name, w[0]))
		c++;
	if (c == NCOMMANDS) {
		printf("console: unknown command '%s' (try help)\n", w[0]);
		return;
	}
	if (n - 1 != commands[c].args) {
		printf("console: usage: %s\n", commands[c].usage);
		return;
	}
	commands[c].run(w + 1);
}

/* ---- the UART ---- */

static char line[LINE_MAX];
static unsigned len;
static bool overlong;

static void received(char c)
{
	if (c == '\r' || c == '\n') {
		if (overlong)
			printf("console: line longer than %u characters ignored\n", LINE_MAX - 1);
		else if (len) {
			line[len] = 0;
			execute(line);
		}
		len = 0;
		overlong = false;
	} else if (c == 0x7F || c == '\b') {
		if (len)
			len--;
	} else if ((unsigned char)c >= ' ' && (unsigned char)c < 0x7F) {
		if (len < LINE_MAX - 1)
			line[len++] = c;
		else
			overlong = true;
	}
}

/* Take what the UART has: echo it in one write (so a line typed at once
 * stays one line among other programs' output), then act on it. */
static void drain(void)
{
	char in[64], echo[3 * sizeof(in) + 1];
	long got = sys_serial_read(irq, (uint64_t)in, sizeof(in));
	unsigned n = got > 0 ? (unsigned)got : 0, e = 0;

	for (unsigned i = 0; i < n; i++) {
		char c = in[i];
		if (c == '\r' || c == '\n')
			echo[e++] = '\n';
		else if (c == 0x7F || c == '\b')
			e += (unsigned)fmt_snprintf(echo + e, 4, "\b \b");
		else if ((unsigned char)c >= ' ' && (unsigned char)c < 0x7F)
			echo[e++] = c;
	}
	echo[e] = 0;
	if (e)
		puts_raw(echo);
	for (unsigned i = 0; i < n; i++)
		received(in[i]);
	if (n == sizeof(in))
		drain();
}

int main(uint64_t arg)
{
	long err;

	(void)arg;
	notif = slot_alloc();
	scratch = slot_alloc();
	struct thread_config cfg = { .fields = THREAD_CFG_NOTIFY, .notification = notif };
	if ((err = sys_obj_create(CAP_NOTIFICATION, notif, 0)) < 0 ||
	    (err = sys_thread_configure(PROGRAM_THREAD_SLOT, (uint64_t)&cfg)) < 0 ||
	    (err = sys_irq_bind(irq, notif, BIT_IRQ)) < 0) {
		printf("console: setting up (needs `irq 4`): %s\n", mica_strerror(err));
		return 1;
	}
	printf("console: ready; type help\n");
	for (;;) {
		drain();
		sys_notify_wait(notif, 0);
		drain();
		sys_irq_ack(irq);
	}
}
