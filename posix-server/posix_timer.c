/*
 * POSIX per-process timers (Linux's timer_create(2), timer_settime(2),
 * timer_getoverrun(2), timer_delete(2)): on CLOCK_REALTIME,
 * CLOCK_MONOTONIC, CLOCK_BOOTTIME or a CPU-time clock (the process's,
 * a thread's, or one clock_getcpuclockid or pthread_getcpuclockid
 * names), one-shot or periodic, relative or TIMER_ABSTIME. At expiry:
 * SIGEV_SIGNAL sends its signal to the process, SIGEV_THREAD_ID to the
 * thread it names (glibc's and musl's SIGEV_THREAD ask for that), with
 * si_code SI_TIMER, si_timerid, si_overrun and the sigevent's si_value;
 * SIGEV_NONE sends nothing (timer_gettime tells its time). While its
 * signal is still pending, further expiries count as overruns (in the
 * pending siginfo and timer_getoverrun), as Linux queues a timer's
 * signal once. A timer's deadline is kept in its clock's ns (REALTIME
 * ones follow clock_settime); a CPU-time timer is looked at when it
 * could have expired at the earliest (now plus what is left, a tick at
 * least: the CPU time grows no faster than the clock), as ITIMER_PROF
 * (timer.c). Timers are the process's: not inherited by fork, deleted
 * at execve and exit.
 */
#include "linux_socket.h"       /* LINUX_EOPNOTSUPP */
#include "syscall.h"
#include "timers.h"

#define POSIX_TIMER_MAX   64            /* timers of all processes; an account's SHARE (share.h) */
#define POSIX_TIMER_EACH  32            /* of one process (then EAGAIN) */
#define DELAYTIMER_MAX    0x7FFFFFFF    /* si_overrun's largest (Linux's) */
#define NS_PER_SEC        1000000000ULL
#define CPU_TIMER_MIN     (NS_PER_SEC / 100)      /* a tick */

/* struct sigevent (x86_64, 64 bytes) and its sigev_notify values. */
struct linux_sigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;            /* SIGEV_THREAD_ID's */
	int32_t pad[11];
};
_Static_assert(sizeof(struct linux_sigevent) == 64, "struct sigevent is 64 bytes");
#define SIGEV_SIGNAL    0
#define SIGEV_NONE      1
#define SIGEV_THREAD    2       /* libc's; to the kernel as SIGEV_SIGNAL */
#define SIGEV_THREAD_ID 4

/* CPU-time clock ids (cputime.c's encoding): ~id << 3, bit 2 a thread's,
 * the low bits the kind (2: CPUCLOCK_SCHED). */
#define CPUCLOCK_ID(id, thread) ((int64_t)(~(uint64_t)(id) << 3) | ((thread) ? 4 : 0) | 2)

struct posix_timer {
	struct process *proc;   /* its process; NULL: free */
	int id;                 /* timer_create's id, the process's own */
	int64_t clock;          /* REALTIME, MONOTONIC, BOOTTIME, or a CPU-time id */
	int notify, signo, tid; /* sigevent's (tid: SIGEV_THREAD_ID's thread) */
	uint64_t value;         /* sigevent's sigev_value */
	uint64_t next;          /* the next expiry, ns of its clock (0: disarmed) */
	uint64_t interval;      /* ns (0: one-shot) */
	int overrun;            /* expiries its pending signal stands for, less one */
	int overrun_last;       /* the last delivered signal's (timer_getoverrun) */
};

static struct posix_timer timers[POSIX_TIMER_MAX];
static unsigned timers_used;    /* in use: none, nothing to look at */

/* t's clock now: true and *ns, or false (its thread or process is gone). */
static bool clock_now(const struct posix_timer *t, uint64_t *ns)
{
	return timer_clock_now(t->clock, ns) || cpu_clock(t->proc, t->clock, ns) == 0;
}

static bool cpu_timer(const struct posix_timer *t)
{
	return t->clock < 0;
}

uint64_t posix_timers_first(void)
{
	uint64_t first = 0, now = timers_used ? (uint64_t)sys_clock() : 0;

	for (unsigned i = 0; timers_used && i < POSIX_TIMER_MAX; i++) {
		const struct posix_timer *t = &timers[i];
		uint64_t at, cpu;
		if (!t->proc || !t->next)
			continue;
		if (!cpu_timer(t)) {
			at = timer_clock_deadline(t->clock, t->next);
		} else if (clock_now(t, &cpu)) {
			uint64_t left = t->next > cpu ? t->next - cpu : 0;
			at = !left ? now : now + (left > CPU_TIMER_MIN ? left : CPU_TIMER_MIN);
		} else {
			continue;
		}
		if (!first || at < first)
			first = at;
	}
	return first;
}

/* t expired n times: its signal sent, or (still pending) the overruns
 * counted in its pending siginfo. */
static void notify(struct posix_timer *t, uint64_t n)
{
	struct process *p = t->proc;
	struct thread *th = NULL;

	if (t->notify == SIGEV_NONE)
		return;
	if (t->notify == SIGEV_THREAD_ID && (!(th = thread_of_tid(t->tid)) || th->proc != p))
		return;         /* its thread is gone: nobody to tell (as Linux) */
	struct signal_source *pending = th ? &th->siginfo[t->signo - 1] : &p->siginfo[t->signo - 1];
	uint64_t bit = 1UL << (t->signo - 1);
	if (((th ? th->sigpending : p->sigpending) & bit) && pending->code == LINUX_SI_TIMER &&
	    pending->pid == t->id) {
		uint64_t o = (uint64_t)t->overrun + n;
		t->overrun = pending->status = o > DELAYTIMER_MAX ? DELAYTIMER_MAX : (int)o;
		return;
	}
	t->overrun = n - 1 > DELAYTIMER_MAX ? DELAYTIMER_MAX : (int)(n - 1);
	struct signal_source src = { LINUX_SI_TIMER, t->id, t->overrun, t->value };
	if (th)
		signal_send_thread_source(th, t->signo, &src);
	else
		signal_send_source(p, t->signo, &src);
}

/* Count t's expiries up to now (its deadline moved past now): how many. */
static uint64_t expiries(struct posix_timer *t)
{
	uint64_t now;

	if (!t->proc || !t->next || !clock_now(t, &now) || now < t->next)
		return 0;
	return timer_expiries(&t->next, t->interval, now);
}

void posix_timers_expire(void)
{
	for (unsigned i = 0; timers_used && i < POSIX_TIMER_MAX; i++) {
		struct posix_timer *t = &timers[i];
		uint64_t n;
		if (t->proc && t->proc->state == PROCESS_RUNNING && (n = expiries(t)))
			notify(t, n);
	}
}

void posix_timers_release(const struct process *p)
{
	for (unsigned i = 0; timers_used && i < POSIX_TIMER_MAX; i++)
		if (timers[i].proc == p) {
			timers[i].proc = NULL;
			timers_used--;
		}
}

/* p's timer id: it, or NULL (EINVAL). */
static struct posix_timer *timer_of(const struct process *p, uint64_t id)
{
	for (unsigned i = 0; i < POSIX_TIMER_MAX; i++)
		if (timers[i].proc == p && timers[i].id == (int)id)     /* timer_t: an int */
			return &timers[i];
	return NULL;
}

void posix_timer_delivered(const struct process *p, int id, int overrun)
{
	struct posix_timer *t = timer_of(p, (uint64_t)id);

	if (t)
		t->overrun_last = overrun;
}

/* The clock timer_create is asked for, as the timer keeps it: 0 and
 * *clock, or -EINVAL (no such clock, thread or process), -EOPNOTSUPP
 * (a clock without timers: MONOTONIC_RAW, the COARSE ones). */
static long timer_clock(struct process *p, int64_t id, int64_t *clock)
{
	uint64_t ns;

	switch (id) {
	case LINUX_CLOCK_REALTIME: case LINUX_CLOCK_MONOTONIC: case LINUX_CLOCK_BOOTTIME:
		*clock = id;
		return 0;
	case LINUX_CLOCK_MONOTONIC_RAW: case LINUX_CLOCK_REALTIME_COARSE:
	case LINUX_CLOCK_MONOTONIC_COARSE:
		return -LINUX_EOPNOTSUPP;
	case LINUX_CLOCK_PROCESS_CPUTIME_ID:
		*clock = CPUCLOCK_ID(p->pid, false);
		return 0;
	case LINUX_CLOCK_THREAD_CPUTIME_ID:
		*clock = CPUCLOCK_ID(p->current->tid, true);
		return 0;
	}
	if (id >= 0 || cpu_clock(p, id, &ns))
		return -LINUX_EINVAL;
	/* 0 names the caller (cputime.c): as the caller's own id. */
	int who = ~(int)(id >> 3);
	*clock = who ? id : CPUCLOCK_ID(id & 4 ? p->current->tid : p->pid, id & 4);
	return 0;
}

/* timer_create(clockid, sevp, timerid): sevp NULL is SIGEV_SIGNAL of
 * SIGALRM with the id as si_value. EFAULT, EINVAL (clock, notify,
 * signal, SIGEV_THREAD_ID's thread not the caller's process's),
 * EOPNOTSUPP, EAGAIN (no timer left). */
long posix_timer_create(struct process *p, struct user_regs *r)
{
	struct linux_sigevent ev = { .signo = LINUX_SIGALRM, .notify = SIGEV_SIGNAL };
	bool given = r->rsi != 0;
	int64_t clock;
	long err;

	if (given && as_copy_in(&p->as, &ev, r->rsi, sizeof(ev)) < 0)
		return -LINUX_EFAULT;
	if ((err = timer_clock(p, (int64_t)(int32_t)r->rdi, &clock)))
		return err;
	switch (ev.notify) {
	case SIGEV_THREAD_ID: {
		const struct thread *t = thread_of_tid(ev.tid);
		if (!t || t->proc != p)
			return -LINUX_EINVAL;
	}
		/* fall through */
	case SIGEV_SIGNAL: case SIGEV_THREAD:
		if (ev.signo < 1 || ev.signo > LINUX_NSIG)
			return -LINUX_EINVAL;
		break;
	case SIGEV_NONE:
		break;
	default:
		return -LINUX_EINVAL;
	}
	unsigned i, free = POSIX_TIMER_MAX, mine = 0, account = 0;
	for (i = 0; i < POSIX_TIMER_MAX; i++) {
		if (!timers[i].proc && free == POSIX_TIMER_MAX)
			free = i;
		mine += timers[i].proc == p;
		account += timers[i].proc && timers[i].proc->account == p->account;
	}
	if (share_check(account, free, POSIX_TIMER_MAX) < 0 || mine >= POSIX_TIMER_EACH)
		return -LINUX_EAGAIN;
	int id = 0;     /* the lowest the process does not use */
	while (timer_of(p, (uint64_t)id))
		id++;
	if (as_copy_out(&p->as, r->rdx, &id, sizeof(id)) < 0)
		return -LINUX_EFAULT;
	timers_used++;
	timers[free] = (struct posix_timer){
		.proc = p, .id = id, .clock = clock,
		.notify = ev.notify == SIGEV_THREAD ? SIGEV_SIGNAL : ev.notify,
		.signo = ev.signo, .tid = ev.tid,
		.value = given ? ev.value : (uint64_t)id,
	};
	return 0;
}

/* t's setting now: time left to its next expiry (0: disarmed), interval. */
static struct linux_itimerspec timer_value(struct posix_timer *t)
{
	uint64_t now = 0, n = expiries(t);

	if (n)
		notify(t, n);
	clock_now(t, &now);
	uint64_t left = t->next > now ? t->next - now : 0;
	if (t->next && !left)
		left = 1;
	return (struct linux_itimerspec){ ns_timespec(t->interval), ns_timespec(left) };
}

/* timer_settime(id, flags, new, old), in Linux's order: new read
 * (EFAULT), its times checked (EINVAL), the id (EINVAL), old written
 * (EFAULT). Flags other than TIMER_ABSTIME are ignored, as Linux. */
long posix_timer_settime(struct process *p, struct user_regs *r)
{
	struct linux_itimerspec it, old;
	uint64_t value, interval, now = 0;
	struct posix_timer *t;
	long err;

	if (as_copy_in(&p->as, &it, r->rdx, sizeof(it)) < 0)
		return -LINUX_EFAULT;
	if ((err = timespec_ns(&it.value, &value)) || (err = timespec_ns(&it.interval, &interval)))
		return err;
	if (!(t = timer_of(p, r->rdi)))
		return -LINUX_EINVAL;
	old = timer_value(t);
	clock_now(t, &now);
	t->overrun = t->overrun_last = 0;
	t->interval = value ? interval : 0;
	t->next = !value ? 0 : r->rsi & LINUX_TIMER_ABSTIME ? value : now + value;
	if (t->next && t->next <= now) {        /* already due: now, as Linux */
		uint64_t n = expiries(t);
		if (n)
			notify(t, n);
	}
	signal_timer_arm();
	if (r->r10 && as_copy_out(&p->as, r->r10, &old, sizeof(old)) < 0)
		return -LINUX_EFAULT;
	return 0;
}

long posix_timer_gettime(struct process *p, struct user_regs *r)
{
	struct posix_timer *t = timer_of(p, r->rdi);

	if (!t)
		return -LINUX_EINVAL;
	struct linux_itimerspec it = timer_value(t);
	return as_copy_out(&p->as, r->rsi, &it, sizeof(it)) < 0 ? -LINUX_EFAULT : 0;
}

long posix_timer_getoverrun(struct process *p, struct user_regs *r)
{
	const struct posix_timer *t = timer_of(p, r->rdi);

	return t ? t->overrun_last : -LINUX_EINVAL;
}

/* timer_delete: the timer goes; a signal of it already pending stays. */
long posix_timer_delete(struct process *p, struct user_regs *r)
{
	struct posix_timer *t = timer_of(p, r->rdi);

	if (!t)
		return -LINUX_EINVAL;
	t->proc = NULL;
	timers_used--;
	signal_timer_arm();
	return 0;
}
