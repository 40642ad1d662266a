/*
 * A process's identity, end and thread state: exit, ids, the thread
 * pointer (arch_prctl), and the signal calls, which record what the
 * process asks (nothing delivers signals yet).
 */
#include "layout.h"
#include "syscall.h"

long posix_exit(struct process *p, struct user_regs *r)
{
	/* One thread per process: its end is the process's. */
	p->state = PROCESS_ENDED;
	p->exit_status = (int)(r->rdi & 0xFF);
	return 0;
}

long posix_exit_group(struct process *p, struct user_regs *r)
{
	return posix_exit(p, r);
}

long posix_getpid(struct process *p, struct user_regs *r)
{
	return p->pid;
}

long posix_getppid(struct process *p, struct user_regs *r)
{
	return p->ppid;
}

long posix_gettid(struct process *p, struct user_regs *r)
{
	return p->pid;
}

/* Everybody is root, for now. */
long posix_getuid(struct process *p, struct user_regs *r)
{
	return 0;
}

long posix_geteuid(struct process *p, struct user_regs *r)
{
	return 0;
}

long posix_getgid(struct process *p, struct user_regs *r)
{
	return 0;
}

long posix_getegid(struct process *p, struct user_regs *r)
{
	return 0;
}

long posix_set_tid_address(struct process *p, struct user_regs *r)
{
	p->clear_child_tid = r->rdi;
	return p->pid;
}

/* The robust-futex list matters when threads die holding locks: accepted. */
long posix_set_robust_list(struct process *p, struct user_regs *r)
{
	return r->rsi == 24 ? 0 : -LINUX_EINVAL;
}

long posix_arch_prctl(struct process *p, struct user_regs *r)
{
	switch (r->rdi) {
	case LINUX_ARCH_SET_FS:
		if (r->rsi >= USER_SPACE_TOP)
			return -LINUX_EPERM;
		r->fs_base = r->rsi;
		return 0;
	case LINUX_ARCH_GET_FS:
		return as_copy_out(&p->as, r->rsi, &r->fs_base, 8) < 0 ? -LINUX_EFAULT : 0;
	default:
		return -LINUX_EINVAL;
	}
}

long posix_rt_sigaction(struct process *p, struct user_regs *r)
{
	uint64_t sig = r->rdi, act = r->rsi, old = r->rdx;
	struct linux_sigaction a;

	if (r->r10 != 8 || sig < 1 || sig > LINUX_NSIG)
		return -LINUX_EINVAL;
	if (act && (sig == LINUX_SIGKILL || sig == LINUX_SIGSTOP))
		return -LINUX_EINVAL;
	if (act && as_copy_in(&p->as, &a, act, sizeof(a)) < 0)
		return -LINUX_EFAULT;
	if (old && as_copy_out(&p->as, old, &p->actions[sig - 1], sizeof(a)) < 0)
		return -LINUX_EFAULT;
	if (act)
		p->actions[sig - 1] = a;
	return 0;
}

long posix_rt_sigprocmask(struct process *p, struct user_regs *r)
{
	uint64_t how = r->rdi, set = r->rsi, old = r->rdx, mask = 0;
	const uint64_t unblockable = 1UL << (LINUX_SIGKILL - 1) | 1UL << (LINUX_SIGSTOP - 1);

	if (r->r10 != 8)
		return -LINUX_EINVAL;
	if (set && as_copy_in(&p->as, &mask, set, 8) < 0)
		return -LINUX_EFAULT;
	if (set && how > LINUX_SIG_SETMASK)
		return -LINUX_EINVAL;
	if (old && as_copy_out(&p->as, old, &p->sigmask, 8) < 0)
		return -LINUX_EFAULT;
	if (set) {
		if (how == LINUX_SIG_BLOCK)
			p->sigmask |= mask;
		else if (how == LINUX_SIG_UNBLOCK)
			p->sigmask &= ~mask;
		else
			p->sigmask = mask;
		p->sigmask &= ~unblockable;
	}
	return 0;
}

long posix_sched_yield(struct process *p, struct user_regs *r)
{
	return 0;
}

/* Resource limits: RLIMIT_NOFILE is the process's (at most FD_MAX, which
 * is also its hard limit); the stack is 8 MiB; nothing else is limited.
 * A new limit of another resource is accepted and not kept. */
static long rlimit(struct process *p, uint64_t resource, uint64_t new, uint64_t old)
{
	struct linux_rlimit lim = { LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY }, want;

	if (resource >= LINUX_RLIM_NLIMITS)
		return -LINUX_EINVAL;
	if (resource == LINUX_RLIMIT_NOFILE)
		lim = (struct linux_rlimit){ p->nofile, FD_MAX };
	else if (resource == LINUX_RLIMIT_STACK)
		lim.cur = POSIX_STACK_SIZE;
	if (new && as_copy_in(&p->as, &want, new, sizeof(want)) < 0)
		return -LINUX_EFAULT;
	if (new && want.cur > want.max)
		return -LINUX_EINVAL;
	if (new && resource == LINUX_RLIMIT_NOFILE && want.max > FD_MAX)
		return -LINUX_EPERM;
	if (old && as_copy_out(&p->as, old, &lim, sizeof(lim)) < 0)
		return -LINUX_EFAULT;
	if (new && resource == LINUX_RLIMIT_NOFILE)
		p->nofile = want.cur;
	return 0;
}

long posix_prlimit64(struct process *p, struct user_regs *r)
{
	if (r->rdi && (int)r->rdi != p->pid)
		return -LINUX_ESRCH;
	return rlimit(p, r->rsi, r->rdx, r->r10);
}

long posix_getrlimit(struct process *p, struct user_regs *r)
{
	return rlimit(p, r->rdi, 0, r->rsi);
}

long posix_setrlimit(struct process *p, struct user_regs *r)
{
	return rlimit(p, r->rdi, r->rsi, 0);
}
