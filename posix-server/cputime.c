/*
 * CPU time of threads and processes, from the kernel's count per thread
 * (thread_read_regs with THREAD_REGS_CPUTIME, nanoseconds): the CPU-time
 * clocks (clock_gettime(2), pthread_getcpuclockid(3),
 * clock_getcpuclockid(3)), times(2) and getrusage(2)'s ru_utime. A
 * process's time is its live threads' counts plus what its ended threads
 * had (added as each ends, thread.c); its children's is what its waited-
 * for children (and their waited-for children) had, added at the wait
 * that reaps them, as Linux does. The kernel does not split user from
 * kernel time: all of it is reported as user time, system time is 0.
 */
#include "clock.h"
#include "syscall.h"

#define NS_PER_SEC 1000000000UL

uint64_t thread_cpu_ns(const struct thread *t)
{
	uint64_t ns = 0;

	if (t->kthread == CAP_SLOT_NONE ||
	    sys_thread_read_regs(t->kthread | THREAD_REGS_CPUTIME, (uint64_t)&ns) < 0)
		return 0;
	return ns;
}

uint64_t process_cpu_ns(const struct process *p)
{
	uint64_t ns = p->cpu_ended_ns;

	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc == p)
			ns += thread_cpu_ns(&threads[i]);
	return ns;
}

/* The CPU time of the processes that ended since the server started. */
static uint64_t ended_ns;

void process_cpu_ended(const struct process *p)
{
	ended_ns += p->cpu_ended_ns;
}

uint64_t processes_cpu_ns(void)
{
	uint64_t ns = ended_ns;

	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_RUNNING)
			ns += process_cpu_ns(&processes[i]);
	return ns;
}

void process_reaped(struct process *p, const struct process *c)
{
	p->cpu_children_ns += c->cpu_ended_ns + c->cpu_children_ns;
}

/* A CPU-time clock's id (Linux's encoding, pthread_getcpuclockid and
 * clock_getcpuclockid make them): ~id << 3, bit 2 for a thread, the low
 * bits the kind (0 CPUCLOCK_PROF, 1 CPUCLOCK_VIRT, 2 CPUCLOCK_SCHED; 3
 * is invalid, and a clock descriptor's, not supported). All kinds read
 * the same count here (no user/system split). */
#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_WHICH     3

static struct process *process_of_pid(int pid)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if ((processes[i].state == PROCESS_RUNNING || processes[i].state == PROCESS_ZOMBIE) &&
		    processes[i].pid == pid)
			return &processes[i];
	return NULL;
}

long cpu_clock(struct process *p, int64_t id, uint64_t *ns)
{
	if (id == LINUX_CLOCK_PROCESS_CPUTIME_ID) {
		*ns = process_cpu_ns(p);
		return 0;
	}
	if (id == LINUX_CLOCK_THREAD_CPUTIME_ID) {
		*ns = thread_cpu_ns(p->current);
		return 0;
	}
	if (id >= 0 || (id & CPUCLOCK_WHICH) == 3)
		return -LINUX_EINVAL;
	int who = ~(int)(id >> 3);
	if (id & CPUCLOCK_PERTHREAD) {
		/* A thread of the caller's process (0: the caller). */
		const struct thread *t = who ? thread_of_tid(who) : p->current;
		if (!t || t->proc != p)
			return -LINUX_EINVAL;
		*ns = thread_cpu_ns(t);
		return 0;
	}
	const struct process *q = who ? process_of_pid(who) : p;
	if (!q)
		return -LINUX_EINVAL;
	*ns = process_cpu_ns(q);
	return 0;
}

static struct linux_timeval ns_timeval(uint64_t ns)
{
	return (struct linux_timeval){ (int64_t)(ns / NS_PER_SEC),
				       (int64_t)(ns % NS_PER_SEC / 1000) };
}

void rusage_of_child(const struct process *c, struct linux_rusage *u)
{
	memset(u, 0, sizeof(*u));
	struct linux_timeval tv = ns_timeval(c->cpu_ended_ns + c->cpu_children_ns);
	u->utime.sec = tv.sec;
	u->utime.usec = tv.usec;
}

/* getrusage: RUSAGE_SELF the process's CPU time and largest resident
 * set (the pages it holds), RUSAGE_THREAD the caller's, RUSAGE_CHILDREN
 * its waited-for children's time. The counters are not kept (0). */
long posix_getrusage(struct process *p, struct user_regs *r)
{
	struct linux_rusage u;
	int who = (int)r->rdi;
	uint64_t ns;

	memset(&u, 0, sizeof(u));
	switch (who) {
	case LINUX_RUSAGE_SELF: ns = process_cpu_ns(p); break;
	case LINUX_RUSAGE_CHILDREN: ns = p->cpu_children_ns; break;
	case LINUX_RUSAGE_THREAD: ns = thread_cpu_ns(p->current); break;
	default: return -LINUX_EINVAL;
	}
	struct linux_timeval tv = ns_timeval(ns);
	u.utime.sec = tv.sec;
	u.utime.usec = tv.usec;
	if (who != LINUX_RUSAGE_CHILDREN)
		u.maxrss = (int64_t)(p->as.npages * (AS_PAGE_SIZE / 1024));
	return as_copy_out(&p->as, r->rsi, &u, sizeof(u)) < 0 ? -LINUX_EFAULT : 0;
}

/* times(2): the CPU times in clock ticks (AT_CLKTCK, 100 a second), and
 * the clock's ticks since boot as the result (Linux's is since a point
 * in the past too). buf may be NULL. */
long posix_times(struct process *p, struct user_regs *r)
{
	const uint64_t ns_per_tick = NS_PER_SEC / LINUX_CLOCKS_PER_SEC;
	int64_t tms[4] = { (int64_t)(process_cpu_ns(p) / ns_per_tick), 0,
			   (int64_t)(p->cpu_children_ns / ns_per_tick), 0 };

	if (r->rdi && as_copy_out(&p->as, r->rdi, tms, sizeof(tms)) < 0)
		return -LINUX_EFAULT;
	return (long)((uint64_t)sys_clock() / ns_per_tick);
}
