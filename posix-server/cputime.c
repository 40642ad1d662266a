/*
 * CPU time of threads and processes, from the kernel's count per thread
 * (thread_read_regs with THREAD_REGS_CPUTIMES: nanoseconds, and the
 * timer's samples): the CPU-time clocks (clock_gettime(2),
 * pthread_getcpuclockid(3), clock_getcpuclockid(3)), times(2),
 * getrusage(2), /proc/PID/stat. A process's time is its live threads'
 * counts plus what its ended threads had (added as each ends, thread.c);
 * its children's is what its waited-for children (and their waited-for
 * children) had, added at the wait that reaps them, as Linux does.
 *
 * User and system time apart, as Linux's tick-based accounting: the
 * kernel's timer samples at each tick whom the CPU works for — a thread
 * in user mode (user), or the server handling its call or page fault
 * (system: the POSIX server works in its behalf as Linux's kernel
 * would). The CPU time (which the CPU-time clocks tell whole) is split
 * in the samples' proportion (Linux's cputime_adjust), a process's
 * never less than told before. Nothing is added to a system call's
 * path: the samples cost the tick alone.
 */
#include "clock.h"
#include "syscall.h"

#define NS_PER_SEC 1000000000UL

/* t's count and samples (all 0 without a kernel thread). */
static struct thread_cputimes thread_times(const struct thread *t)
{
	struct thread_cputimes c = { 0, 0, 0 };

	if (t->kthread == CAP_SLOT_NONE ||
	    sys_thread_read_regs(t->kthread | THREAD_REGS_CPUTIMES, (uint64_t)&c) < 0)
		return (struct thread_cputimes){ 0, 0, 0 };
	return c;
}

uint64_t thread_cpu_ns(const struct thread *t)
{
	return thread_times(t).ns;
}

void thread_cpu_ended(const struct thread *t)
{
	struct thread_cputimes c = thread_times(t);

	t->proc->cpu_ended_ns += c.ns;
	t->proc->cpu_ended_ticks[0] += c.user_ticks;
	t->proc->cpu_ended_ticks[1] += c.system_ticks;
}

/* p's count and samples, its live threads' and its ended ones'. */
static struct thread_cputimes process_times(const struct process *p)
{
	struct thread_cputimes c = { p->cpu_ended_ns, p->cpu_ended_ticks[0], p->cpu_ended_ticks[1] };

	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc == p) {
			struct thread_cputimes t = thread_times(&threads[i]);
			c.ns += t.ns;
			c.user_ticks += t.user_ticks;
			c.system_ticks += t.system_ticks;
		}
	return c;
}

uint64_t process_cpu_ns(const struct process *p)
{
	return process_times(p).ns;
}

/* The system part of c's time: in the samples' proportion (none: all
 * user, as Linux's cputime_adjust). */
static uint64_t system_part(const struct thread_cputimes *c)
{
	uint64_t samples = c->user_ticks + c->system_ticks;

	if (!c->system_ticks)
		return 0;
	/* ns * system / samples without overflow (no 128-bit division). */
	return c->ns / samples * c->system_ticks + c->ns % samples * c->system_ticks / samples;
}

void thread_cpu_split(const struct thread *t, uint64_t *user, uint64_t *system)
{
	struct thread_cputimes c = thread_times(t);

	*system = system_part(&c);
	*user = c.ns - *system;
}

void process_cpu_split(struct process *p, uint64_t *user, uint64_t *system)
{
	struct thread_cputimes c = process_times(p);
	uint64_t s = system_part(&c), u = c.ns - s;

	/* Never less than told before (Linux's prev_cputime): the part that
	 * would shrink stays, the other takes what is left. */
	if (s < p->cpu_prev[1]) {
		s = p->cpu_prev[1];
		u = c.ns > s ? c.ns - s : 0;
	}
	if (u < p->cpu_prev[0]) {
		u = p->cpu_prev[0];
		s = c.ns > u ? c.ns - u : 0;
	}
	if (u + s < p->cpu_prev[0] + p->cpu_prev[1]) {     /* the count read back: keep */
		u = p->cpu_prev[0];
		s = p->cpu_prev[1];
	}
	p->cpu_prev[0] = *user = u;
	p->cpu_prev[1] = *system = s;
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

/* The system time of ended c's own threads. */
static uint64_t ended_system_ns(const struct process *c)
{
	struct thread_cputimes t = { c->cpu_ended_ns, c->cpu_ended_ticks[0], c->cpu_ended_ticks[1] };
	uint64_t s = system_part(&t);

	return s < c->cpu_prev[1] ? c->cpu_prev[1] : s > c->cpu_ended_ns ? c->cpu_ended_ns : s;
}

void process_reaped(struct process *p, const struct process *c)
{
	p->cpu_children_ns += c->cpu_ended_ns + c->cpu_children_ns;
	p->cpu_children_system_ns += ended_system_ns(c) + c->cpu_children_system_ns;
}

/* A CPU-time clock's id (Linux's encoding, pthread_getcpuclockid and
 * clock_getcpuclockid make them): ~id << 3, bit 2 for a thread, the low
 * bits the kind (0 CPUCLOCK_PROF, 1 CPUCLOCK_VIRT, 2 CPUCLOCK_SCHED; 3
 * is invalid, and a clock descriptor's, not supported). All kinds read
 * the whole count here (CPUCLOCK_VIRT, user time alone, is not apart). */
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

/* ru_utime and ru_stime of user and system ns. */
static void rusage_times(struct linux_rusage *u, uint64_t user, uint64_t system)
{
	struct linux_timeval tv = ns_timeval(user);

	u->utime.sec = tv.sec;
	u->utime.usec = tv.usec;
	tv = ns_timeval(system);
	u->stime.sec = tv.sec;
	u->stime.usec = tv.usec;
}

void rusage_of_child(const struct process *c, struct linux_rusage *u)
{
	uint64_t system = ended_system_ns(c) + c->cpu_children_system_ns;

	memset(u, 0, sizeof(*u));
	rusage_times(u, c->cpu_ended_ns + c->cpu_children_ns - system, system);
}

/* getrusage: RUSAGE_SELF the process's user and system time and largest
 * resident set (the pages it holds), RUSAGE_THREAD the caller's,
 * RUSAGE_CHILDREN its waited-for children's times. The counters are not
 * kept (0). */
long posix_getrusage(struct process *p, struct user_regs *r)
{
	struct linux_rusage u;
	int who = (int)r->rdi;
	uint64_t user, system;

	memset(&u, 0, sizeof(u));
	switch (who) {
	case LINUX_RUSAGE_SELF:
		process_cpu_split(p, &user, &system);
		break;
	case LINUX_RUSAGE_CHILDREN:
		system = p->cpu_children_system_ns;
		user = p->cpu_children_ns - system;
		break;
	case LINUX_RUSAGE_THREAD:
		thread_cpu_split(p->current, &user, &system);
		break;
	default:
		return -LINUX_EINVAL;
	}
	rusage_times(&u, user, system);
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
	uint64_t user, system;

	process_cpu_split(p, &user, &system);
	int64_t tms[4] = { (int64_t)(user / ns_per_tick), (int64_t)(system / ns_per_tick),
			   (int64_t)((p->cpu_children_ns - p->cpu_children_system_ns) / ns_per_tick),
			   (int64_t)(p->cpu_children_system_ns / ns_per_tick) };

	if (r->rdi && as_copy_out(&p->as, r->rdi, tms, sizeof(tms)) < 0)
		return -LINUX_EFAULT;
	return (long)((uint64_t)sys_clock() / ns_per_tick);
}
