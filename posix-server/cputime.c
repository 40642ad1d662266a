/*
 * CPU time of threads and processes: the CPU-time clocks
 * (clock_gettime(2), pthread_getcpuclockid(3), clock_getcpuclockid(3)),
 * times(2), getrusage(2), /proc/PID/stat. A thread's user time is the
 * kernel's count of its thread (thread_read_regs with
 * THREAD_REGS_CPUTIME, nanoseconds): what it ran in user mode and in the
 * kernel's trap and IPC paths on its own behalf. Its system time is what
 * the server spent on its messages — system calls, page faults,
 * exceptions — timed with the TSC around each (main.c's handle; a
 * waiting call tried again later is not timed). That is Linux's split
 * as near as a user-level server gets it: the kernel's part of a system
 * call is counted as user time, the emulation as system time. The
 * CPU-time clocks and ITIMER_PROF count both, ITIMER_VIRTUAL user time
 * only, as Linux's. A process's time is its live threads' counts plus
 * what its ended threads had (added as each ends, thread.c); its
 * children's is what its waited-for children (and their waited-for
 * children) had, added at the wait that reaps them, as Linux does.
 */
#include "syscall.h"

#define NS_PER_SEC 1000000000UL

uint64_t thread_system_ns(const struct thread *t)
{
	return vdso_tsc_ns(t->system_tsc);
}

uint64_t thread_cpu_ns(const struct thread *t)
{
	uint64_t ns = 0;

	if (t->kthread != CAP_SLOT_NONE &&
	    sys_thread_read_regs(t->kthread | THREAD_REGS_CPUTIME, (uint64_t)&ns) < 0)
		ns = 0;
	return ns + thread_system_ns(t);
}

uint64_t process_cpu_ns(const struct process *p)
{
	uint64_t ns = p->cpu_ended_ns;

	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc == p)
			ns += thread_cpu_ns(&threads[i]);
	return ns;
}

uint64_t process_system_ns(const struct process *p)
{
	uint64_t ns = p->cpu_ended_system_ns;

	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc == p)
			ns += thread_system_ns(&threads[i]);
	return ns;
}

uint64_t process_itimer_ns(const struct process *p, unsigned k)
{
	uint64_t all = process_cpu_ns(p);

	return k == 0 ? all - process_system_ns(p) : all;
}

/* The user time of the processes that ended since the server started. */
static uint64_t ended_user_ns;

void process_cpu_ended(const struct process *p)
{
	ended_user_ns += p->cpu_ended_ns - p->cpu_ended_system_ns;
}

uint64_t processes_user_ns(void)
{
	uint64_t ns = ended_user_ns;

	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_RUNNING)
			ns += process_cpu_ns(&processes[i]) - process_system_ns(&processes[i]);
	return ns;
}

void process_reaped(struct process *p, const struct process *c)
{
	p->cpu_children_ns += c->cpu_ended_ns + c->cpu_children_ns;
	p->cpu_children_system_ns += c->cpu_ended_system_ns + c->cpu_children_system_ns;
}

/* A CPU-time clock's id (Linux's encoding, pthread_getcpuclockid and
 * clock_getcpuclockid make them): ~id << 3, bit 2 for a thread, the low
 * bits the kind (0 CPUCLOCK_PROF, 1 CPUCLOCK_VIRT, 2 CPUCLOCK_SCHED; 3
 * is invalid, and a clock descriptor's, not supported). CPUCLOCK_VIRT
 * reads the user time, the others user and system time. */
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
	bool virt = (id & CPUCLOCK_WHICH) == 1;
	if (id & CPUCLOCK_PERTHREAD) {
		/* A thread of the caller's process (0: the caller). */
		const struct thread *t = who ? thread_of_tid(who) : p->current;
		if (!t || t->proc != p)
			return -LINUX_EINVAL;
		*ns = thread_cpu_ns(t) - (virt ? thread_system_ns(t) : 0);
		return 0;
	}
	const struct process *q = who ? process_of_pid(who) : p;
	if (!q)
		return -LINUX_EINVAL;
	*ns = process_cpu_ns(q) - (virt ? process_system_ns(q) : 0);
	return 0;
}

static struct linux_timeval ns_timeval(uint64_t ns)
{
	return (struct linux_timeval){ (int64_t)(ns / NS_PER_SEC),
				       (int64_t)(ns % NS_PER_SEC / 1000) };
}

/* u's user and system time from all (user and system) and system, ns. */
static void rusage_times(struct linux_rusage *u, uint64_t all, uint64_t system)
{
	struct linux_timeval user = ns_timeval(all - system), sys = ns_timeval(system);

	u->utime.sec = user.sec;
	u->utime.usec = user.usec;
	u->stime.sec = sys.sec;
	u->stime.usec = sys.usec;
}

void rusage_of_child(const struct process *c, struct linux_rusage *u)
{
	memset(u, 0, sizeof(*u));
	rusage_times(u, c->cpu_ended_ns + c->cpu_children_ns,
		     c->cpu_ended_system_ns + c->cpu_children_system_ns);
}

/* getrusage: RUSAGE_SELF the process's user and system time and largest
 * resident set (the pages it holds), RUSAGE_THREAD the caller's,
 * RUSAGE_CHILDREN its waited-for children's times. The counters are not
 * kept (0). */
long posix_getrusage(struct process *p, struct user_regs *r)
{
	struct linux_rusage u;
	int who = (int)r->rdi;

	memset(&u, 0, sizeof(u));
	switch (who) {
	case LINUX_RUSAGE_SELF: rusage_times(&u, process_cpu_ns(p), process_system_ns(p)); break;
	case LINUX_RUSAGE_CHILDREN: rusage_times(&u, p->cpu_children_ns, p->cpu_children_system_ns); break;
	case LINUX_RUSAGE_THREAD:
		rusage_times(&u, thread_cpu_ns(p->current), thread_system_ns(p->current));
		break;
	default: return -LINUX_EINVAL;
	}
	if (who != LINUX_RUSAGE_CHILDREN)
		u.maxrss = (int64_t)(p->as.npages * (AS_PAGE_SIZE / 1024));
	return as_copy_out(&p->as, r->rsi, &u, sizeof(u)) < 0 ? -LINUX_EFAULT : 0;
}

/* times(2): the user and system times in clock ticks (AT_CLKTCK, 100 a second), and
 * the clock's ticks since boot as the result (Linux's is since a point
 * in the past too). buf may be NULL. */
long posix_times(struct process *p, struct user_regs *r)
{
	const uint64_t ns_per_tick = NS_PER_SEC / LINUX_CLOCKS_PER_SEC;
	uint64_t all = process_cpu_ns(p), system = process_system_ns(p);
	uint64_t children_system = p->cpu_children_system_ns;
	int64_t tms[4] = { (int64_t)((all - system) / ns_per_tick), (int64_t)(system / ns_per_tick),
			   (int64_t)((p->cpu_children_ns - children_system) / ns_per_tick),
			   (int64_t)(children_system / ns_per_tick) };

	if (r->rdi && as_copy_out(&p->as, r->rdi, tms, sizeof(tms)) < 0)
		return -LINUX_EFAULT;
	return (long)((uint64_t)sys_clock() / ns_per_tick);
}
