/*
 * The console's window on the POSIX server (proto/posix.h): its
 * processes beside init's programs in `ps`, `kill [-SIGNAL] PID`, and
 * `run PROGRAM [ARGS]`, which starts a program with the console as its
 * terminal: until it ends, every key goes to the server's terminal
 * (echo, lines and ^C are the server's line discipline), the program's
 * output comes out through the kernel's log as it writes it, and the
 * prompt is away. The server answers at once (it never waits while it
 * answers), so these are plain calls; the job's end is asked for on the
 * console's timer every POSIX_POLL_MS, and with each key. ^] leaves the
 * program running and brings the prompt back.
 */
#include "console.h"

#include "lib/names.h"
#include "proto/posix.h"

#define POSIX_POLL_MS  50       /* how often the job's end is asked for */
#define CTRL_RBRACKET  0x1D     /* ^]: back to the prompt, the job left running */

static cap_slot_t posix_cap = CAP_SLOT_NONE;
static struct {
	bool active;            /* keys go to the job */
	long pid;
	char name[32];
} job;

/* The server's capability into posix_cap: false if it is not running. */
static bool posix_find(void)
{
	if (posix_cap == CAP_SLOT_NONE)
		posix_cap = slot_alloc();
	sys_cap_delete(posix_cap);
	return ns_lookup_now(POSIX_NAME, posix_cap, NULL) >= 0;
}

/* What to say when posix_find fails: just after init restarted the server
 * it runs but has not registered its name yet. */
static void posix_absent(const char *what)
{
	printf("console: %s: the POSIX server is not running, or not ready yet (see ps)\n", what);
}

/* A call on posix_cap: the reply's label (0 or an ERR_*), or the call's error. */
static long posix_call(struct msg *m)
{
	long err = ipc_call(posix_cap, m);

	return err ? err : -(long)ipc_tag_label(m->tag);
}

/* Linux's errno values a request may answer, in words. */
static const char *posix_error(long err)
{
	switch (-err) {
	case 2: return "no such program in the root filesystem";
	case 3: return "no such process";
	case 7: return "too many arguments";
	case 8: return "not a program the POSIX server can start";
	case 11: return "the POSIX server has no process slot left";
	case 13: return "not an executable file";
	case 22: return "invalid signal or pid";
	default: return "failed";
	}
}

static const struct {
	const char *name;
	int number;
} signals[] = {
	{ "HUP", 1 }, { "INT", 2 }, { "QUIT", 3 }, { "ILL", 4 }, { "TRAP", 5 }, { "ABRT", 6 },
	{ "BUS", 7 }, { "FPE", 8 }, { "KILL", 9 }, { "USR1", 10 }, { "SEGV", 11 },
	{ "USR2", 12 }, { "PIPE", 13 }, { "ALRM", 14 }, { "TERM", 15 }, { "CHLD", 17 },
	{ "CONT", 18 }, { "STOP", 19 }, { "TSTP", 20 }, { "TTIN", 21 }, { "TTOU", 22 },
	{ "WINCH", 28 },
};

static const char *signal_name(long sig)
{
	for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signals[i].number == sig)
			return signals[i].name;
	return "?";
}

/* A number of the whole word s (an optional '-' first): false if it is none. */
static bool number(const char *s, long *out)
{
	bool minus = *s == '-';
	long v = 0;

	s += minus;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = minus ? -v : v;
	return true;
}

/* SIGNAL of `kill -SIGNAL`: a number, a name, or SIG and a name. -1: none. */
static long signal_number(const char *s)
{
	long n;

	if (number(s, &n))
		return n >= 0 && n <= 64 ? n : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcmp(signals[i].name, s))
			return signals[i].number;
	return -1;
}

bool posix_kill_word(const char *word)
{
	long n;

	return word[0] == '-' || number(word, &n);
}

void posix_kill(char **arg)
{
	long pid, sig = 15;
	struct msg m = msg_make(POSIX_KILL, 2);
	/* The signal's word: the first of two, or a lone -WORD (Linux's
	 * kill too takes a group only after a signal: kill -TERM -7). */
	const char *signal = arg[1] || arg[0][0] == '-' ? arg[0] : NULL;

	if (arg[1] && arg[0][0] != '-') {     /* kill 4 5: not a signal, nor two pids */
		printf("console: kill: '%s' is not -SIGNAL (kill [-SIGNAL] PID: the signal first, "
		       "one process)\n", arg[0]);
		return;
	}
	if (signal && (sig = signal_number(signal + 1)) < 0) {
		printf("console: kill: unknown signal '%s' (a number, or a name: INT, TERM, KILL, ...)\n",
		       signal);
		return;
	}
	if (!arg[1] && signal) {        /* kill -INT, kill -9: not group 9 */
		printf("console: kill: %s: to whom? (kill %s PID, or kill %s -PGID for a group)\n",
		       signal, signal, signal);
		return;
	}
	const char *word = arg[1] ? arg[1] : arg[0];
	if (!number(word, &pid) || pid == 0 || pid == -1) {
		printf("console: kill: '%s' is not a process id (or -PGID)\n", word);
		return;
	}
	if (!posix_find()) {
		posix_absent("kill");
		return;
	}
	m.w[0] = (uint64_t)pid;
	m.w[1] = (uint64_t)sig;
	long err = posix_call(&m);
	if (err)
		printf("console: kill %ld: %s\n", pid, mica_strerror(err));
	else if ((long)m.w[0] < 0)
		printf("console: kill %ld: %s\n", pid, posix_error((long)m.w[0]));
	else if (!sig)
		printf("console: kill %ld: there is such a process\n", pid);
	else
		printf("console: kill %ld: sent SIG%s (%ld)\n", pid, signal_name(sig), sig);
}

void posix_ps(void)
{
	static const char *const states[] = { "?", "running", "waiting", "zombie", "stopped" };
	struct posix_ps e;
	struct msg m;
	bool header = false;

	if (!posix_find())
		return;
	for (uint64_t slot = 0;; slot++) {
		m = msg_make(POSIX_PS, 1);
		m.w[0] = slot;
		if (posix_call(&m))
			break;
		msg_to_words(&m, (uint64_t *)&e, POSIX_PS_WORDS);
		if (!e.pid)
			continue;
		if (!header) {
			printf("%6s %6s %6s %6s  %-8s %-9s %s\n", "PID", "PPID", "PGID", "SID", "STATE",
			       "TTY", "COMMAND");
			header = true;
		}
		e.name[sizeof(e.name) - 1] = 0;
		printf("%6ld %6ld %6ld %6ld  %-8s %-9s %s\n", e.pid, e.ppid, e.pgid, e.sid,
		       states[e.state < 5 ? e.state : 0],
		       e.flags & POSIX_PS_FOREGROUND ? "console+" :
		       e.flags & POSIX_PS_TERMINAL ? "console" : "-", e.name);
	}
	if (!header)
		printf("(no POSIX processes)\n");
}

void posix_run(char **arg)
{
	static char bytes[POSIX_RUN_BYTES];
	static uint64_t w[1 + POSIX_RUN_BYTES / 8];
	struct msg m;
	size_t used = 0;
	unsigned argc = 0;

	for (; arg[argc]; argc++) {
		size_t len = strlen(arg[argc]) + 1;
		if (used + len > POSIX_RUN_BYTES) {
			printf("console: run: the arguments are longer than %u bytes\n", POSIX_RUN_BYTES);
			return;
		}
		memcpy(bytes + used, arg[argc], len);
		used += len;
	}
	if (!posix_find()) {
		posix_absent("run");
		return;
	}
	w[0] = argc;
	memcpy(&w[1], bytes, used);
	m = msg_from_words(POSIX_RUN, w, 1 + (unsigned)(used + 7) / 8);
	long err = posix_call(&m);
	long pid = (long)m.w[0];
	if (err) {
		printf("console: run: %s\n", mica_strerror(err));
	} else if (pid == -16) {
		printf("console: run: pid %ld still has the terminal (kill -KILL %ld ends it)\n",
		       (long)m.w[1], (long)m.w[1]);
	} else if (pid < 0) {
		printf("console: run: %s: %s\n", arg[0], posix_error(pid));
	} else {
		job.active = true;
		job.pid = pid;
		memset(job.name, 0, sizeof(job.name));
		memcpy(job.name, arg[0], strnlen(arg[0], sizeof(job.name) - 1));
		printf("console: %s runs as pid %ld on this terminal (^] for the prompt)\n", arg[0], pid);
		sys_notify_timer(console_notif, CONSOLE_BIT_TIMER,
				 (uint64_t)sys_clock() + POSIX_POLL_MS * CONSOLE_MS);
	}
}

bool posix_job_active(void)
{
	return job.active;
}

/* n typed bytes to the job (0: only ask how it is); its end said. */
static void terminal(const char *in, unsigned n)
{
	uint64_t w[1 + POSIX_TERMINAL_BYTES / 8] = { n };
	struct posix_job j;

	if (n)
		memcpy(&w[1], in, n);
	struct msg m = msg_from_words(POSIX_TERMINAL, w, 1 + (n + 7) / 8);
	long err = posix_call(&m);
	if (err) {
		printf("\nconsole: the POSIX server is gone (%s); the terminal is closed\n",
		       mica_strerror(err));
		job.active = false;
		return;
	}
	msg_to_words(&m, (uint64_t *)&j, POSIX_JOB_WORDS);
	if (j.state == POSIX_JOB_RUNNING && j.pid == job.pid)
		return;
	job.active = false;
	if (j.state != POSIX_JOB_ENDED)
		printf("console: %s (pid %ld) is gone\n", job.name, job.pid);
	else if (j.signal)
		printf("console: %s (pid %ld) killed by signal %ld (SIG%s)\n", job.name, j.pid, j.signal,
		       signal_name(j.signal));
	else
		printf("console: %s (pid %ld) exited with status %ld\n", job.name, j.pid, j.status);
}

void posix_keys(const char *in, unsigned n)
{
	for (unsigned i = 0; i < n && job.active;) {
		unsigned k = 0;
		while (i + k < n && k < POSIX_TERMINAL_BYTES && in[i + k] != CTRL_RBRACKET)
			k++;
		if (k)
			terminal(in + i, k);
		i += k;
		if (i < n && in[i] == CTRL_RBRACKET && job.active) {
			job.active = false;
			printf("\nconsole: %s (pid %ld) left running (kill -KILL %ld ends it)\n",
			       job.name, job.pid, job.pid);
			i++;
		}
	}
}

void posix_tick(void)
{
	if (!job.active)
		return;
	terminal(NULL, 0);
	if (job.active)
		sys_notify_timer(console_notif, CONSOLE_BIT_TIMER,
				 (uint64_t)sys_clock() + POSIX_POLL_MS * CONSOLE_MS);
}
