/*
 * System-call dispatch: a table from Linux's call number to its handler
 * (syscall.h; syscall_dispatch there, inline: every call comes through
 * it), and the answer for every number without one: -ENOSYS,
 * logged by the call's name once per process (at most
 * UNSUPPORTED_LOG_LINES lines a process, then one line saying so).
 */
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

static void log_unsupported(struct process *p, uint64_t nr)
{
	if (nr < LINUX_SYSCALL_MAX) {
		uint64_t bit = 1UL << (nr % 64);
		if (p->unsupported_seen[nr / 64] & bit)
			return;
		p->unsupported_seen[nr / 64] |= bit;
	}
	if (p->unsupported_logged > UNSUPPORTED_LOG_LINES)
		return;
	if (++p->unsupported_logged > UNSUPPORTED_LOG_LINES)
		printf("posix: %s (pid %d): more unsupported calls, no longer logged\n", p->name,
		       p->pid);
	else if (nr < LINUX_SYSCALL_MAX && names[nr])
		printf("posix: %s (pid %d): unsupported syscall %s (%lu): ENOSYS\n", p->name, p->pid,
		       names[nr], nr);
	else
		printf("posix: %s (pid %d): unknown syscall %lu: ENOSYS\n", p->name, p->pid, nr);
}

long syscall_unsupported(struct process *p, uint64_t nr)
{
	log_unsupported(p, nr);
	return -LINUX_ENOSYS;
}

void syscall_trace_line(struct thread *t, uint64_t nr, const struct user_regs *r, long result)
{
	struct process *p = t->proc;

	printf("posix: %s (pid %d, tid %d): %s(%lx, %lx, %lx, %lx, %lx, %lx) = %ld\n", p->name,
	       p->pid, t->tid, nr < LINUX_SYSCALL_MAX && names[nr] ? names[nr] : "?", r->rdi,
	       r->rsi, r->rdx, r->r10, r->r8, r->r9, result);
}

enum dispatch_result syscall_dispatch_traced(struct thread *t, struct user_regs *r)
{
	return syscall_dispatch_body(t, r, true);
}
