/*
 * A process's identity, end and thread state: exit, ids, the thread
 * pointer (arch_prctl), and the signal calls, which record what the
 * process asks (nothing delivers signals yet).
 */
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
