/*
 * System-call dispatch: a table from Linux's call number to its handler
 * (syscall.h; syscall_dispatch there, inline: every call comes through
 * it), and the answer for every number without one: -ENOSYS,
 * logged by the call's name once for the server's life, by the first
 * process that makes it (a shell's every command asks for the same calls
 * at start-up; issue 18: "logged once by its Linux name"); a number with
 * no name is logged once per process. At most UNSUPPORTED_LOG_LINES
 * lines a process, then one line saying so.
 * With `syscount=1` (off by default) each process's calls are counted by
 * number and the count logged in one line when it ends.
 */
#include "socket.h"
#include "syscall.h"

#define UNSUPPORTED_LOG_LINES 16

const syscall_fn syscall_handlers[LINUX_SYSCALL_MAX] = {
#define POSIX_SYSCALL_ENTRY(name) [LINUX_NR_##name] = posix_##name,
	POSIX_SYSCALLS(POSIX_SYSCALL_ENTRY)
#undef POSIX_SYSCALL_ENTRY
};

const bool syscall_all_regs[LINUX_SYSCALL_MAX] = {
#define POSIX_ALL_REGS_ENTRY(name) [LINUX_NR_##name] = true,
	POSIX_SYSCALLS_ALL_REGS(POSIX_ALL_REGS_ENTRY)
#undef POSIX_ALL_REGS_ENTRY
};

static const char *const names[LINUX_SYSCALL_MAX] = {
#define LINUX_NAME_ENTRY(nr, name) [nr] = #name,
	LINUX_SYSCALLS(LINUX_NAME_ENTRY)
#undef LINUX_NAME_ENTRY
};

bool syscall_trace;
bool syscall_count;
bool syscall_slow;

/* syscount=1: each process's completed calls by number, the calls made
 * again after waiting (SYSCALL_BLOCK), and its sockets' bytes. */
static struct {
	uint32_t calls[LINUX_SYSCALL_MAX];
	uint64_t retried, sent, received;
} counts[PROCESS_MAX];
#define COUNT_LOG_TOP 12        /* the most frequent calls a line names */

void syscall_count_bytes(const struct process *p, long sent, long received)
{
	if (!syscall_count)
		return;
	if (sent > 0)
		counts[p->index].sent += (uint64_t)sent;
	if (received > 0)
		counts[p->index].received += (uint64_t)received;
}

void syscall_count_report(const struct process *p)
{
	if (!syscall_count)
		return;
	typeof(counts[0]) *c = &counts[p->index];
	uint64_t total = 0;
	bool shown[LINUX_SYSCALL_MAX] = { false };
	char line[COUNT_LOG_TOP * 32], *at = line;

	for (unsigned nr = 0; nr < LINUX_SYSCALL_MAX; nr++)
		total += c->calls[nr];
	line[0] = 0;
	for (unsigned k = 0; k < COUNT_LOG_TOP; k++) {
		unsigned best = LINUX_SYSCALL_MAX;
		for (unsigned nr = 0; nr < LINUX_SYSCALL_MAX; nr++)
			if (!shown[nr] && c->calls[nr] &&
			    (best == LINUX_SYSCALL_MAX || c->calls[nr] > c->calls[best]))
				best = nr;
		if (best == LINUX_SYSCALL_MAX)
			break;
		shown[best] = true;
		size_t room = (size_t)(line + sizeof(line) - at);
		int n = fmt_snprintf(at, room, "%s%s %u", k ? ", " : "",
				     names[best] ? names[best] : "?", c->calls[best]);
		if (n < 0 || (size_t)n >= room)
			break;
		at += n;
	}
	printf("posix: %s (pid %d) calls: %lu in all, %lu made again after waiting; "
	       "sockets sent %lu received %lu bytes; %s\n", p->name, p->pid, total, c->retried,
	       c->sent, c->received, line);
	memset(c, 0, sizeof(*c));
	socket_count_report(p);
}

long errno_of(long mica_err)
{
	switch (mica_err) {
	case 0: return 0;
	case -ERR_NO_MEMORY: return -LINUX_ENOMEM;
	case -ERR_INVALID_ARG: return -LINUX_EINVAL;
	case -ERR_RANGE: return -LINUX_ENOMEM;
	default: return -LINUX_EFAULT;
	}
}

/* A bit per call number < LINUX_SYSCALL_MAX already logged, by any
 * process: each is logged once for the server's life. */
static uint64_t logged_once[(LINUX_SYSCALL_MAX + 63) / 64];

static void log_unsupported(struct process *p, uint64_t nr)
{
	if (nr < LINUX_SYSCALL_MAX && (logged_once[nr / 64] & 1UL << (nr % 64)))
		return;
	if (nr >= LINUX_SYSCALL_MAX && nr - LINUX_SYSCALL_MAX < 64 * 8) {
		/* a number past the table's: once per process */
		uint64_t k = nr - LINUX_SYSCALL_MAX, bit = 1UL << (k % 64);
		if (p->unsupported_seen[k / 64] & bit)
			return;
		p->unsupported_seen[k / 64] |= bit;
	}
	if (p->unsupported_logged > UNSUPPORTED_LOG_LINES)
		return;
	/* Marked only when a line is printed: a call first made by a process
	 * past its line budget is still logged by the next one. */
	if (nr < LINUX_SYSCALL_MAX)
		logged_once[nr / 64] |= 1UL << (nr % 64);
	/* A name is logged once for the server's life (a line each at most);
	 * what every process may say again goes through its account's
	 * limiter. */
	if (++p->unsupported_logged > UNSUPPORTED_LOG_LINES)
		printf_limit(process_log_limit(p),
			     "posix: %s (pid %d): more unsupported calls, no longer logged\n",
			     p->name, p->pid);
	else if (nr < LINUX_SYSCALL_MAX && names[nr])
		printf("posix: %s (pid %d): unsupported syscall %s (%lu): ENOSYS\n", p->name, p->pid,
		       names[nr], nr);
	else
		printf_limit(process_log_limit(p), "posix: %s (pid %d): unknown syscall %lu: ENOSYS\n",
			     p->name, p->pid, nr);
}

long syscall_unsupported(struct process *p, uint64_t nr)
{
	log_unsupported(p, nr);
	return -LINUX_ENOSYS;
}

void syscall_note(struct thread *t, uint64_t nr, const struct user_regs *r, long result,
		  bool blocked)
{
	struct process *p = t->proc;

	if (blocked) {
		if (syscall_count)
			counts[p->index].retried++;
		return;
	}
	/* (A call that ended the process is not counted: its count is
	 * logged and cleared already.) */
	if (syscall_count && nr < LINUX_SYSCALL_MAX && p->state == PROCESS_RUNNING)
		counts[p->index].calls[nr]++;
	if (syscall_trace)
		printf("posix: %s (pid %d, tid %d): %s(%lx, %lx, %lx, %lx, %lx, %lx) = %ld\n", p->name,
		       p->pid, t->tid, nr < LINUX_SYSCALL_MAX && names[nr] ? names[nr] : "?", r->rdi,
		       r->rsi, r->rdx, r->r10, r->r8, r->r9, result);
}

enum dispatch_result syscall_dispatch_traced(struct thread *t, struct user_regs *r)
{
	return syscall_dispatch_body(t, r, true);
}
