/*
 * A process's identity, end and thread state: exit (of a thread) and
 * exit_group (of them all), ids, the thread pointer (arch_prctl),
 * resource limits. Signals are signal.c's, threads thread.c's.
 */
#include "layout.h"
#include "syscall.h"

/* The calling thread ends; the last one's end is its process's, with
 * its status. */
long posix_exit(struct process *p, struct user_regs *r)
{
	if (p->nthreads > 1) {
		p->current->state = THREAD_ENDED;       /* thread_exit, main.c */
		return 0;
	}
	p->state = PROCESS_ENDED;
	p->exit_status = (int)(r->rdi & 0xFF);
	return 0;
}

/* Every thread ends, and the process with the status. */
long posix_exit_group(struct process *p, struct user_regs *r)
{
	p->state = PROCESS_ENDED;
	p->exit_status = (int)(r->rdi & 0xFF);
	return 0;
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
	return p->current->tid;
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

/* getgroups(2): no supplementary groups (as a process whose credentials
 * have none): 0, whatever size asks; a negative size is EINVAL. */
long posix_getgroups(struct process *p, struct user_regs *r)
{
	return (int)r->rdi < 0 ? -LINUX_EINVAL : 0;
}

/* Where the thread's end writes 0 and wakes a futex waiter (futex.c). */
long posix_set_tid_address(struct process *p, struct user_regs *r)
{
	p->current->clear_child_tid = r->rdi;
	return p->current->tid;
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

/* sched_yield: answered with ipc_reply, which queues the caller behind
 * the threads of its priority that are ready (abi.md, yield), and not
 * with the next receive, whose fast path would switch straight back to
 * it (main.c). Its thread is marked without `wake` (wake_waiting passes
 * over it) only so that main's loop takes its slower branch. */
long posix_sched_yield(struct process *p, struct user_regs *r)
{
	call_yields = true;
	threads_mark_bit(p->current->index);
	return 0;
}

/* The CPUs a thread may run on (sched_setaffinity(2)): there is one,
 * CPU 0, in a mask of one long. pid 0 or a live thread's tid. */
static long affinity_check(struct process *p, uint64_t pid, uint64_t len)
{
	if (pid && !thread_of_tid((int)pid))
		return -LINUX_ESRCH;
	if (len < sizeof(uint64_t) || (len & (sizeof(uint64_t) - 1)))
		return -LINUX_EINVAL;
	return 0;
}

long posix_sched_getaffinity(struct process *p, struct user_regs *r)
{
	uint64_t mask = 1;
	long err = affinity_check(p, r->rdi, r->rsi);

	if (err)
		return err;
	return as_copy_out(&p->as, r->rdx, &mask, sizeof(mask)) < 0 ? -LINUX_EFAULT
								     : (long)sizeof(mask);
}

/* Any mask with CPU 0 in it is kept as it is: the one CPU. */
long posix_sched_setaffinity(struct process *p, struct user_regs *r)
{
	uint64_t mask = 0;

	if (r->rdi && !thread_of_tid((int)r->rdi))
		return -LINUX_ESRCH;
	if (as_copy_in(&p->as, &mask, r->rdx, r->rsi < sizeof(mask) ? r->rsi : sizeof(mask)) < 0)
		return -LINUX_EFAULT;
	if (r->rsi < sizeof(mask))
		mask &= (1UL << (8 * r->rsi)) - 1;
	return mask & 1 ? 0 : -LINUX_EINVAL;
}

/* Resource limits (Linux's getrlimit(2)): RLIMIT_NOFILE is the
 * process's (its hard limit FD_MAX at most), RLIMIT_NPROC the threads its
 * account may have (SHARE(THREAD_MAX) at most: share.c), both kept
 * with their hard limits and inherited by fork; the stack is 8 MiB;
 * nothing else is limited. A hard limit past those bounds is EPERM (the
 * server's tables are fixed); a new limit of another resource is
 * accepted and not kept. */
static long rlimit(struct process *p, uint64_t resource, uint64_t new, uint64_t old)
{
	struct linux_rlimit lim = { LINUX_RLIM_INFINITY, LINUX_RLIM_INFINITY }, want;
	uint64_t bound = 0, *cur = NULL, *max = NULL;

	if (resource >= LINUX_RLIM_NLIMITS)
		return -LINUX_EINVAL;
	if (resource == LINUX_RLIMIT_NOFILE) {
		cur = &p->nofile;
		max = &p->nofile_max;
		bound = FD_MAX;
	} else if (resource == LINUX_RLIMIT_NPROC) {
		cur = &p->nproc;
		max = &p->nproc_max;
		bound = SHARE(THREAD_MAX);
	} else if (resource == LINUX_RLIMIT_STACK) {
		lim.cur = POSIX_STACK_SIZE;
	}
	if (cur)
		lim = (struct linux_rlimit){ *cur, *max };
	if (new && as_copy_in(&p->as, &want, new, sizeof(want)) < 0)
		return -LINUX_EFAULT;
	if (new && want.cur > want.max)
		return -LINUX_EINVAL;
	if (new && cur && want.max > bound)
		return -LINUX_EPERM;
	if (old && as_copy_out(&p->as, old, &lim, sizeof(lim)) < 0)
		return -LINUX_EFAULT;
	if (new && cur) {
		*cur = want.cur;
		*max = want.max;
	}
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
