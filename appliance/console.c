/*
 * The serial console: an operator's commands on COM1, answered on the
 * same line (the kernel's debug output). The kernel keeps the UART; the
 * console holds its IRQ (manifest `irq 4`), which entitles it to what
 * arrives (sys_serial_read) and to the line shown under the log
 * (sys_serial_line: the prompt and what is being typed, which the kernel
 * erases and draws again around other programs' output). Keys go through
 * the line editor (line_edit.h). The console asks the servers for the
 * rest: init for programs and memory (proto/init.h, with the manifest's
 * control=yes), the netstack's management service for interfaces
 * (proto/netmgmt.h, console_net.c: through a worker thread, waited for a
 * bounded time), a driver for injected faults (proto/netq.h,
 * console_fault.c: never waited for). A hung driver or netstack must not
 * take the console with it.
 *
 * The commands are the table `commands` (name, arguments, help, handler).
 * docs/console.md.
 */
#include "console.h"
#include "line_edit.h"

#include "proto/program.h"

#define PROMPT       "mica> "
#define SCREEN_WIDTH 80         /* columns the line under the log may use */
#define MAX_WORDS    16       /* a command and its arguments */
#define CTRL_L       0x0C       /* the key that asks for the line again */

static cap_slot_t irq = PROGRAM_IRQ_SLOT;
cap_slot_t console_notif, console_scratch;
long console_deferred;
static struct line_edit editor;

/* ---- talking to init ---- */

static const char *const state_names[] = {
	[PROGRAM_RUNNING] = "running",
	[PROGRAM_WAITING] = "restarting",
	[PROGRAM_DOWN] = "down",
	[PROGRAM_EXITED] = "exited",
	[PROGRAM_NOT_STARTED] = "not started",
	[PROGRAM_NO_DEVICE] = "no device",
};

/* Program i of the manifest: its name (NUL-terminated) and init's
 * words for it (proto/init.h, INIT_PROGRAM); false past the last. */
static bool program(uint64_t i, console_name name, uint64_t w[INIT_NAME_WORDS + 4])
{
	struct msg m;

	if (init_control(INIT_PROGRAM, NULL, i, &m))
		return false;
	msg_to_words(&m, w, INIT_NAME_WORDS + 4);
	memcpy(name, w, INIT_NAME_WORDS * 8);
	name[INIT_NAME_WORDS * 8] = 0;
	return true;
}

const char *netstack_absence(void)
{
	console_name name;
	uint64_t w[INIT_NAME_WORDS + 4];

	for (uint64_t i = 0; program(i, name, w); i++)
		if (!strcmp(name, "netstack") &&
		    (w[4] == PROGRAM_RUNNING || w[4] == PROGRAM_WAITING))
			return "the netstack is starting (not registered yet)";
	return "the netstack is not running";
}

static void cmd_ps(char **arg)
{
	console_name name;
	uint64_t w[INIT_NAME_WORDS + 4];

	printf("%-16s %-12s %8s %8s\n", "NAME", "STATE", "RESTARTS", "CRASHES");
	for (uint64_t i = 0; program(i, name, w); i++) {
		const char *state = w[4] < sizeof(state_names) / sizeof(state_names[0])
				    ? state_names[w[4]] : "?";
		if (w[4] == PROGRAM_WAITING)
			printf("%-16s %-12s %8lu %8lu  (in %lu ms)\n", name, state, w[5], w[6], w[7]);
		else
			printf("%-16s %-12s %8lu %8lu\n", name, state, w[5], w[6]);
	}
	posix_ps();
}

static void cmd_kill_or_start(uint64_t label, const char *what, const char *name)
{
	struct msg m;
	long err = init_control(label, name, 0, &m);

	if (err == -ERR_INVALID_ARG)
		printf("console: %s: no program named '%s' (see ps)\n", what, name);
	else if (err == -ERR_RANGE)
		printf("console: %s: %s cannot start: its device is missing or its module\n"
		       "    does not load (see init's messages)\n", what, name);
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
	if (!arg[0])
		printf("console: usage: kill NAME|[-SIGNAL] PID\n");
	else if (arg[1] || posix_kill_word(arg[0]))
		posix_kill(arg);
	else
		cmd_kill_or_start(INIT_KILL, "kill", arg[0]);
}

static void cmd_run(char **arg)
{
	if (!arg[0])
		printf("console: usage: run PROGRAM [ARGS]\n");
	else
		posix_run(arg);
}

static void cmd_start(char **arg)
{
	cmd_kill_or_start(INIT_START, "start", arg[0]);
}

static void cmd_mem(char **arg)
{
	struct msg m;
	struct init_memory mem;
	char free_ram[16], ram[16], kernel[16], small[16], used[16], limit[16];
	long err = init_control(INIT_MEMORY, NULL, 0, &m);

	if (err) {
		printf("console: mem: %s\n", mica_strerror(err));
		return;
	}
	msg_to_words(&m, (uint64_t *)&mem, INIT_MEMORY_WORDS);
	/* Pages and frames are 4 KiB; everything is said in bytes. */
	uint64_t ram_free = mem.ram_pages_free * PAGE_SIZE, ram_total = mem.ram_pages * PAGE_SIZE;
	uint64_t kernel_free = mem.kernel_frames_free * PAGE_SIZE;
	uint64_t kernel_kept = mem.kernel_small_frames * PAGE_SIZE;
	/* Then exact, for comparing (a leak of one page shows). */
	printf("memory: RAM %s free of %s (%lu of %lu bytes)\n",
	       fmt_bytes(free_ram, sizeof(free_ram), ram_free),
	       fmt_bytes(ram, sizeof(ram), ram_total), ram_free, ram_total);
	printf("    kernel memory %s free (%lu bytes)\n",
	       fmt_bytes(kernel, sizeof(kernel), kernel_free), kernel_free);
	/* Carved once when small objects first needed them, kept since:
	 * free + kept is what a leak check compares. */
	printf("    kernel memory %s kept for small objects (%lu bytes)\n",
	       fmt_bytes(small, sizeof(small), kernel_kept), kernel_kept);
	printf("    kernel quota %s of %s used (%lu of %lu bytes)\n",
	       fmt_bytes(used, sizeof(used), mem.quota_used),
	       fmt_bytes(limit, sizeof(limit), mem.quota_limit), mem.quota_used, mem.quota_limit);
}

/* ---- commands ---- */

static void cmd_help(char **arg);

/* What a command's argument is, for Tab. */
enum arg_kind { ARG_NONE, ARG_PROGRAM, ARG_INTERFACE, ARG_FAULT };

static const struct command {
	const char *name;
	int args;                       /* how many; negative: at most -args */
	enum arg_kind arg_kind[MAX_WORDS - 1];
	const char *usage;      /* name and arguments, as help shows them */
	const char *help;
	void (*run)(char **arg);        /* arg: the command's arguments, NULL after them */
} commands[] = {
	{ "ps", 0, { 0 }, "ps", "programs: state, restarts, crashes in a row", cmd_ps },
	{ "kill", -2, { ARG_PROGRAM }, "kill NAME|[-SIGNAL] PID",
	  "kill a program (restarted at once if its policy says so);\n"
	  "                      signal a POSIX process (TERM; -SIGNAL -PGID: a group)", cmd_kill },
	{ "run", -(MAX_WORDS - 1), { 0 }, "run PROGRAM [ARGS]",
	  "run a POSIX program on this terminal until it ends (^] leaves it)", cmd_run },
	{ "start", 1, { ARG_PROGRAM }, "start NAME", "start a program that is down", cmd_start },
	{ "ifconfig", 0, { 0 }, "ifconfig", "interfaces, addresses, gateways and counters",
	  cmd_ifconfig },
	{ "route", -6, { 0 }, "route [add|del NET/LEN|default via GW [metric N]]",
	  "the routing table; add or delete a static route", cmd_route },
	{ "arp", 0, { 0 }, "arp", "the neighbours: IPv4 and MAC addresses", cmd_arp },
	{ "rules", 0, { 0 }, "rules", "the firewall's rules with their counters", cmd_rules },
	{ "conntrack", -1, { 0 }, "conntrack [flush]",
	  "the connection table: counters and connections; flush empties it", cmd_conntrack },
	{ "reload", -1, { 0 }, "reload [FILE]",
	  "read the firewall's rules again (from another of the netstack's files)", cmd_reload },
	{ "mem", 0, { 0 }, "mem", "free memory: init's RAM, the kernel's memory and quota",
	  cmd_mem },
	{ "fault", 2, { ARG_INTERFACE, ARG_FAULT }, "fault IFNAME KIND",
	  "make a driver misbehave: wild, port, kernel, hang, rings", cmd_fault },
	{ "help", -1, { 0 }, "help [COMMAND]", "this list, or one command's line", cmd_help },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_named(const char *name);

/* A command's usage and help; a usage too wide for its column has the
 * help under it. */
static void help_line(const struct command *c)
{
	if (strlen(c->usage) < 20)
		printf("  %-20s%s\n", c->usage, c->help);
	else
		printf("  %s\n%22s%s\n", c->usage, "", c->help);
}

static void cmd_help(char **arg)
{
	if (arg[0]) {
		const struct command *c = command_named(arg[0]);
		if (c)
			help_line(c);
		else
			printf("console: help: no command '%s' (help lists them)\n", arg[0]);
		return;
	}
	printf("commands:\n");
	for (unsigned c = 0; c < NCOMMANDS; c++)
		help_line(&commands[c]);
	printf("keys: Tab completes; Up/Down recall lines; Left/Right, Home/End (^A/^E) move;\n"
	       "  ^U/^K delete to the start/end, ^W the word before the cursor;\n"
	       "  ^C abandons the line, ^L draws it again. Under make run, ^A is QEMU's:\n"
	       "  type ^A ^A for one ^A; ^A X quits QEMU. While a program runs here (run),\n"
	       "  keys are its own and ^] brings the prompt back\n");
}

/* The most arguments c takes. */
static int most_args(const struct command *c)
{
	return c->args < 0 ? -c->args : c->args;
}

static const struct command *command_named(const char *name)
{
	for (unsigned c = 0; c < NCOMMANDS; c++)
		if (!strcmp(commands[c].name, name))
			return &commands[c];
	return NULL;
}

static void execute(char *line)
{
	char *w[MAX_WORDS + 1];
	int n = line_edit_words(line, w, MAX_WORDS);

	if (n == LINE_EDIT_WORDS_QUOTE) {
		printf("console: a quote (' or \") is not closed; nothing run\n");
		return;
	}
	if (n == LINE_EDIT_WORDS_TOO_MANY) {
		printf("console: more than %d words; nothing run\n", MAX_WORDS);
		return;
	}
	if (n == 0)
		return;
	const struct command *c = command_named(w[0]);
	if (!c) {
		printf("console: unknown command '%s' (try help)\n", w[0]);
		return;
	}
	if (n - 1 > most_args(c) || (c->args >= 0 && n - 1 != c->args)) {
		printf("console: usage: %s\n", c->usage);
		return;
	}
	w[n] = NULL;
	c->run(w + 1);
}

/* Tab's candidates (line_edit_candidates_fn): the commands, then what the
 * command's argument names. The strings live until the next call. */
static unsigned candidates(void *ctx, unsigned index, const char *const *words,
			   const char **out, unsigned max)
{
	static console_name names[LINE_EDIT_MATCHES];
	uint64_t w[INIT_NAME_WORDS + 4];
	const struct command *c;
	unsigned n = 0;

	if (index == 0) {
		for (; n < NCOMMANDS && n < max; n++)
			out[n] = commands[n].name;
		return n;
	}
	if (!(c = command_named(words[0])) || index > (unsigned)most_args(c))
		return 0;
	switch (c->arg_kind[index - 1]) {
	case ARG_PROGRAM:
		for (; n < max && n < LINE_EDIT_MATCHES && program(n, names[n], w); n++)
			out[n] = names[n];
		return n;
	case ARG_INTERFACE: {
		/* Fresh names if the netstack answers soon, else its last ones. */
		net_refresh();
		long got = interface_names(names, max < LINE_EDIT_MATCHES ? max : LINE_EDIT_MATCHES);
		for (; (long)n < got; n++)
			out[n] = names[n];
		return n;
	}
	case ARG_FAULT:
		return fault_names(out, max);
	default:
		return 0;
	}
}

/* ---- the UART and the line under the log ---- */

/* Hand the kernel the line to show (prompt, what is typed, the cursor),
 * unless it has it already; with no line (hidden) it shows none. */
static void show_line(bool hidden, bool again)
{
	static char shown[SERIAL_LINE_MAX + 1];
	static unsigned shown_len, shown_column;
	char view[SERIAL_LINE_MAX + 1];
	unsigned column = 0, n = 0;

	if (!hidden)
		n = line_edit_view(&editor, PROMPT, SCREEN_WIDTH, view, sizeof(view), &column);
	if (!again && n == shown_len && column == shown_column && !memcmp(view, shown, n))
		return;
	sys_serial_line(irq, (uint64_t)view, n, column);
	memcpy(shown, view, n);
	shown_len = n;
	shown_column = column;
}

static void key(char c)
{
	char line[LINE_EDIT_MAX + 1];

	switch (line_edit_key(&editor, c)) {
	case LINE_EDIT_ENTER:
		/* The line stays on the screen as typed, the answer below it. */
		show_line(true, false);
		printf("%s%s\n", PROMPT, editor.entered);
		memcpy(line, editor.entered, sizeof(line));
		execute(line);
		break;
	case LINE_EDIT_CANCEL:
		show_line(true, false);
		printf("%s%s^C\n", PROMPT, editor.entered);
		break;
	case LINE_EDIT_LIST:
		/* The line as typed, the candidates under it, then the line again. */
		show_line(true, false);
		printf("%s%s\n", PROMPT, editor.buf);
		for (unsigned i = 0; i < editor.nmatches; i++)
			printf("%s%s", i ? "  " : "", editor.matches[i]);
		printf("\n");
		break;
	case LINE_EDIT_FULL:
		printf("console: a line holds at most %u characters\n", LINE_EDIT_MAX);
		break;
	case LINE_EDIT_TOO_LONG:
		show_line(true, false);
		printf("%s%s\n", PROMPT, editor.entered);
		printf("console: not run: the line was longer than %u characters\n", LINE_EDIT_MAX);
		break;
	case LINE_EDIT_BELL:
		puts_raw("\a");
		break;
	case LINE_EDIT_REDRAW:
		if (c == CTRL_L)        /* draw it even if the kernel has it */
			show_line(false, true);
		break;
	case LINE_EDIT_NONE:
		break;
	}
}

/* Take what the UART has, act on it key by key, then show the line. */
static void drain(void)
{
	char in[64];
	long got;

	do {
		got = sys_serial_read(irq, (uint64_t)in, sizeof(in));
		for (long i = 0; i < got; i++) {
			if (posix_job_active()) {
				/* The program has the keys; the rest of them too. */
				posix_keys(in + i, (unsigned)(got - i));
				break;
			}
			key(in[i]);
		}
	} while (got == sizeof(in));
	show_line(posix_job_active(), false);
}

int main(uint64_t arg)
{
	long err;

	(void)arg;
	console_notif = slot_alloc();
	console_scratch = slot_alloc();
	struct thread_config cfg = { .fields = THREAD_CFG_NOTIFY, .notification = console_notif };
	if ((err = sys_obj_create(CAP_NOTIFICATION, console_notif, 0)) < 0 ||
	    (err = sys_thread_configure(PROGRAM_THREAD_SLOT, (uint64_t)&cfg)) < 0 ||
	    (err = sys_irq_bind(irq, console_notif, CONSOLE_BIT_IRQ)) < 0) {
		printf("console: setting up (needs `irq 4`): %s\n", mica_strerror(err));
		return 1;
	}
	if ((err = net_start()) < 0)
		printf("console: no worker for the netstack (%s): ifconfig will not answer\n",
		       mica_strerror(err));
	line_edit_init(&editor, candidates, NULL);
	printf("console: ready; type help\n");
	drain();
	for (;;) {
		/* What a command's wait took first, then what came since. */
		long bits = sys_notify_wait(console_notif | (console_deferred ? IPC_NONBLOCK : 0), 0);
		bits = (bits > 0 ? bits : 0) | console_deferred;
		console_deferred = 0;
		if (bits & CONSOLE_BIT_NET)
			net_answered();
		if (bits & CONSOLE_BIT_TIMER) {
			bool was = posix_job_active();
			posix_tick();
			faults_retry();
			if (was && !posix_job_active())
				show_line(false, false);        /* the prompt is back */
		}
		if (bits & CONSOLE_BIT_IRQ) {
			/* What came before the acknowledgement, and while it was
			 * on its way: an edge on the masked line is lost. */
			drain();
			sys_irq_ack(irq);
			drain();
		}
	}
}
