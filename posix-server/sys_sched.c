/*
 * Niceness, I/O priority and scheduling policy as Linux reports them:
 * getpriority and setpriority (getpriority(2)), ioprio_get and
 * ioprio_set (ioprio_set(2)), the sched_* queries (sched(7)). Each
 * process keeps its nice value (-20..19) and its I/O priority; fork's
 * child inherits them and execve keeps them, as Linux's. Everybody is
 * root, so any value in range is allowed. They are kept and reported,
 * not enforced: the server runs every process's calls in the order they
 * come and the kernel schedules their threads at one priority
 * (docs/posix.md, "Niceness"). Linux keeps nice per thread; here a tid
 * names its process, whose value is every thread's. The scheduling
 * policy and static priority (sched_setscheduler, sched_setparam) are
 * kept and reported the same way: SCHED_OTHER, priority 0 until set.
 */
#include "syscall.h"

#define PRIO_PROCESS 0
#define PRIO_PGRP    1
#define PRIO_USER    2
#define NICE_MIN     (-20)
#define NICE_MAX     19

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP    2
#define IOPRIO_WHO_USER    3
#define IOPRIO_CLASS_NONE  0
#define IOPRIO_CLASS_RT    1
#define IOPRIO_CLASS_BE    2
#define IOPRIO_CLASS_IDLE  3
#define IOPRIO_CLASS(v)    (((v) >> 13) & 7)
#define IOPRIO_LEVEL(v)    ((v) & 7)
#define IOPRIO_VALUE(c, l) ((c) << 13 | (l))

#define SCHED_OTHER 0
#define SCHED_FIFO  1
#define SCHED_RR    2
#define SCHED_BATCH 3
#define SCHED_IDLE  5
#define SCHED_DEADLINE 6
#define SCHED_RESET_ON_FORK 0x40000000
#define SCHED_RT_PRIORITY_MAX 99        /* Linux's MAX_RT_PRIO - 1 */
#define SCHED_RR_TIMESLICE_NS (100UL * 1000000)  /* Linux's RR_TIMESLICE */

static bool rt_policy(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

/* Whether q is one of those which and who name for p (Linux's
 * PRIO_PROCESS: a pid or tid, 0 the caller; PRIO_PGRP: a process group,
 * 0 the caller's; PRIO_USER: a user id, 0 the caller's, and everybody is
 * root, uid 0). which is known. */
static bool named(const struct process *p, const struct process *q, int which, int who)
{
	if (q->state != PROCESS_RUNNING)
		return false;
	switch (which) {
	case PRIO_PROCESS: {
		if (!who)
			return q == p;
		const struct thread *t = thread_of_tid(who);
		return t && t->proc == q;
	}
	case PRIO_PGRP:
		return q->pgid == (who ? who : p->pgid);
	default:
		return who == 0;
	}
}

/* getpriority(2), the system call: 20 - nice of the one with the lowest
 * nice value among those named (1..40: the C library's wrapper turns it
 * into the nice value), or -ESRCH (none), -EINVAL (which). */
long posix_getpriority(struct process *p, struct user_regs *r)
{
	int which = (int)r->rdi, who = (int)r->rsi;
	long best = -LINUX_ESRCH;

	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -LINUX_EINVAL;
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (named(p, &processes[i], which, who) && 20 - processes[i].nice > best)
			best = 20 - processes[i].nice;
	return best;
}

/* setpriority(2): nice (cut to -20..19) for every one named; 0, or
 * -ESRCH (none), -EINVAL (which). */
long posix_setpriority(struct process *p, struct user_regs *r)
{
	int which = (int)r->rdi, who = (int)r->rsi, nice = (int)r->rdx;
	long err = -LINUX_ESRCH;

	if (which < PRIO_PROCESS || which > PRIO_USER)
		return -LINUX_EINVAL;
	nice = nice < NICE_MIN ? NICE_MIN : nice > NICE_MAX ? NICE_MAX : nice;
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		if (named(p, &processes[i], which, who)) {
			processes[i].nice = (int8_t)nice;
			err = 0;
		}
	}
	return err;
}

/* The I/O priority q's I/O gets: the one set, or, with none set (class
 * NONE), best effort at the level its nice value gives (Linux's
 * task_nice_ioprio: (nice + 20) / 5). */
static int ioprio_effective(const struct process *q)
{
	if (IOPRIO_CLASS(q->ioprio) != IOPRIO_CLASS_NONE)
		return q->ioprio;
	return IOPRIO_VALUE(IOPRIO_CLASS_BE, (q->nice + 20) / 5);
}

/* The better of two I/O priorities (Linux's ioprio_best): the lower
 * class (RT before BE before IDLE), then the lower level. */
static int ioprio_best(int a, int b)
{
	int ka = IOPRIO_CLASS(a) ? IOPRIO_CLASS(a) : IOPRIO_CLASS_BE;
	int kb = IOPRIO_CLASS(b) ? IOPRIO_CLASS(b) : IOPRIO_CLASS_BE;

	if (ka != kb)
		return ka < kb ? a : b;
	return IOPRIO_LEVEL(a) <= IOPRIO_LEVEL(b) ? a : b;
}

/* ioprio_set's and ioprio_get's `which` as getpriority's, or -1. */
static int ioprio_which(int which)
{
	switch (which) {
	case IOPRIO_WHO_PROCESS: return PRIO_PROCESS;
	case IOPRIO_WHO_PGRP: return PRIO_PGRP;
	case IOPRIO_WHO_USER: return PRIO_USER;
	default: return -1;
	}
}

/* ioprio_get(2): the I/O priority of the one named by IOPRIO_WHO_PROCESS
 * (as set: class NONE when none was); of a group or user, the best of
 * theirs as their I/O gets it. -ESRCH (none), -EINVAL (which). */
long posix_ioprio_get(struct process *p, struct user_regs *r)
{
	int which = ioprio_which((int)r->rdi), who = (int)r->rsi;
	long best = -LINUX_ESRCH;

	if (which < 0)
		return -LINUX_EINVAL;
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *q = &processes[i];
		if (!named(p, q, which, who))
			continue;
		int prio = which == PRIO_PROCESS ? q->ioprio : ioprio_effective(q);
		best = best < 0 ? prio : ioprio_best((int)best, prio);
	}
	return best;
}

/* ioprio_set(2): the value checked as Linux's ioprio_check_cap (classes
 * RT and BE: levels 0..7; IDLE: any; NONE: level 0; other classes
 * EINVAL), then set for every one named. 0, or -EINVAL, -ESRCH. */
long posix_ioprio_set(struct process *p, struct user_regs *r)
{
	int which = ioprio_which((int)r->rdi), who = (int)r->rsi, prio = (int)r->rdx;
	long err = -LINUX_ESRCH;

	switch (IOPRIO_CLASS(prio)) {
	case IOPRIO_CLASS_RT: case IOPRIO_CLASS_BE: case IOPRIO_CLASS_IDLE:
		break;
	case IOPRIO_CLASS_NONE:
		if (IOPRIO_LEVEL(prio))
			return -LINUX_EINVAL;
		break;
	default:
		return -LINUX_EINVAL;
	}
	if (which < 0)
		return -LINUX_EINVAL;
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		if (named(p, &processes[i], which, who)) {
			processes[i].ioprio = prio;
			err = 0;
		}
	}
	return err;
}

/* The process a sched_* call's pid names (0: the caller; a tid: its
 * process), or NULL. Linux keeps a policy per thread; here a process's
 * is every thread's, as its nice value. */
static struct process *sched_target(struct process *p, int pid)
{
	if (!pid)
		return p;
	struct thread *t = thread_of_tid(pid);
	return t ? t->proc : NULL;
}

/* The prelude of the sched_* getters: *q is the process pid names; 0, or
 * -EINVAL for a negative pid, -ESRCH for none. */
static long sched_query(struct process *p, int pid, const struct process **q)
{
	if (pid < 0)
		return -LINUX_EINVAL;
	*q = sched_target(p, pid);
	return *q ? 0 : -LINUX_ESRCH;
}

/* A getter's answer, n bytes at v, copied out to the caller's addr: 0,
 * or -EFAULT. */
static long sched_answer(struct process *p, uint64_t addr, const void *v, size_t n)
{
	return as_copy_out(&p->as, addr, v, n) < 0 ? -LINUX_EFAULT : 0;
}

/* sched_getscheduler(2): the policy set (SCHED_OTHER unless
 * sched_setscheduler said otherwise), with SCHED_RESET_ON_FORK if it was
 * given. -EINVAL for a negative pid, -ESRCH for none. */
long posix_sched_getscheduler(struct process *p, struct user_regs *r)
{
	const struct process *q;
	long err = sched_query(p, (int)r->rdi, &q);

	return err ? err : q->policy | (q->reset_on_fork ? SCHED_RESET_ON_FORK : 0);
}

/* sched_getparam(2): the static priority, 1..99 under SCHED_FIFO and
 * SCHED_RR, 0 under the others. -EINVAL for a NULL param too. */
long posix_sched_getparam(struct process *p, struct user_regs *r)
{
	const struct process *q;
	long err = r->rsi ? sched_query(p, (int)r->rdi, &q) : -LINUX_EINVAL;

	if (err)
		return err;
	int priority = rt_policy(q->policy) ? q->rt_priority : 0;
	return sched_answer(p, r->rsi, &priority, sizeof(priority));
}

/* sched_setscheduler(2) (policy >= 0) and sched_setparam(2) (policy -1:
 * the one the process has), checked in the order of Linux's
 * do_sched_setscheduler and __sched_setscheduler: a NULL param or a
 * negative pid EINVAL, a bad param pointer EFAULT, nobody ESRCH, an
 * unknown policy EINVAL, a priority past 99, one not 1..99 under FIFO and
 * RR or not 0 under the others EINVAL (SCHED_DEADLINE needs
 * sched_setattr's parameters: EINVAL). Everybody is root: allowed. */
static long set_scheduler(struct process *p, int pid, long policy, uint64_t param)
{
	int priority;
	bool reset;

	if (!param || pid < 0)
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &priority, param, sizeof(priority)) < 0)
		return -LINUX_EFAULT;
	struct process *q = sched_target(p, pid);
	if (!q)
		return -LINUX_ESRCH;
	if (policy < 0) {
		policy = q->policy;
		reset = q->reset_on_fork;
	} else {
		reset = policy & SCHED_RESET_ON_FORK;
		policy &= ~(long)SCHED_RESET_ON_FORK;
	}
	switch (policy) {
	case SCHED_OTHER: case SCHED_FIFO: case SCHED_RR: case SCHED_BATCH: case SCHED_IDLE:
		break;
	default:
		return -LINUX_EINVAL;   /* SCHED_DEADLINE too: no runtime, deadline or period */
	}
	if ((unsigned)priority > SCHED_RT_PRIORITY_MAX ||
	    rt_policy((int)policy) != (priority != 0))
		return -LINUX_EINVAL;
	q->policy = (uint8_t)policy;
	q->rt_priority = (uint8_t)priority;
	q->reset_on_fork = reset;
	return 0;
}

long posix_sched_setscheduler(struct process *p, struct user_regs *r)
{
	long policy = (int)r->rsi;

	return policy < 0 ? -LINUX_EINVAL : set_scheduler(p, (int)r->rdi, policy, r->rdx);
}

long posix_sched_setparam(struct process *p, struct user_regs *r)
{
	return set_scheduler(p, (int)r->rdi, -1, r->rsi);
}

/* sched_rr_get_interval(2): the time slice: Linux's default
 * sched_rr_timeslice_ms under SCHED_RR, 0 under SCHED_FIFO (none) and
 * under the others: Linux's fair class answers its base slice in whole
 * jiffies (get_rr_interval_fair), under EEVDF (6.6 on) at most 3 ms,
 * which is 0 jiffies at Debian's HZ of 250. -EINVAL for a negative pid,
 * -ESRCH, -EFAULT. */
long posix_sched_rr_get_interval(struct process *p, struct user_regs *r)
{
	const struct process *q;
	long err = sched_query(p, (int)r->rdi, &q);

	if (err)
		return err;
	struct linux_timespec ts = ns_timespec(q->policy == SCHED_RR ? SCHED_RR_TIMESLICE_NS : 0);
	return sched_answer(p, r->rsi, &ts, sizeof(ts));
}

void sched_fork(struct process *c, const struct process *p)
{
	c->policy = p->policy;
	c->rt_priority = p->rt_priority;
	c->reset_on_fork = false;
	if (!p->reset_on_fork)
		return;
	/* Linux's sched_fork: a real-time policy becomes SCHED_OTHER, a
	 * negative nice 0; the flag is not inherited. */
	if (rt_policy(c->policy)) {
		c->policy = SCHED_OTHER;
		c->rt_priority = 0;
	}
	if (c->nice < 0)
		c->nice = 0;
}

/* sched_get_priority_max(2), _min: 99 and 1 for SCHED_FIFO and SCHED_RR,
 * 0 for the others; an unknown policy is EINVAL. */
static long priority_bound(uint64_t policy, long rt)
{
	switch (policy) {
	case SCHED_FIFO: case SCHED_RR: return rt;
	case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE: case SCHED_DEADLINE: return 0;
	default: return -LINUX_EINVAL;
	}
}

long posix_sched_get_priority_max(struct process *p, struct user_regs *r)
{
	return priority_bound(r->rdi, 99);
}

long posix_sched_get_priority_min(struct process *p, struct user_regs *r)
{
	return priority_bound(r->rdi, 1);
}
