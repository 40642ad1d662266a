/*
 * The calls about time that wait: nanosleep, clock_nanosleep, alarm,
 * setitimer, getitimer. The server's one notification (bound to its
 * thread) has a one-shot timer, armed for the earliest deadline of any
 * thread or process (signal_timer_arm): a sleep's, a poll's or a futex
 * wait's (t->sleep_at) or an alarm's (p->alarm_at). Its signal comes as a message: signal_timers
 * wakes the sleepers whose time has come and sends SIGALRM. The load
 * averages' sample every 5 s (procfs.c) is one of its deadlines.
 *
 * ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time, the
 * kernel's count of its threads (cputime.c; its user/system split is by
 * the tick's samples, too coarse for a timer, so both count the whole).
 * The timers processes make (timerfd.c, posix_timer.c: timers.h) are
 * armed and expired here with the rest. A process's CPU time grows no
 * faster than the clock (one CPU), so the earliest its timer can expire
 * is now plus what is left (a tick at least): the timer is armed for
 * then, and there the count is read again — SIGVTALRM or SIGPROF, or
 * armed again for what is left. A computing process gets its signal
 * within a tick of the expiry.
 */
#include "clock.h"
#include "procfs.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "timers.h"
#include "vdso_map.h"

#define NS_PER_SEC 1000000000UL
#define CPU_TIMER_MIN (NS_PER_SEC / 100)      /* a tick */

cap_slot_t signal_notification;

bool timer_clock_now(int64_t id, uint64_t *ns)
{
	switch (id) {
	case LINUX_CLOCK_REALTIME:
		*ns = (uint64_t)sys_clock() + (uint64_t)vdso_realtime_offset();
		return true;
	case LINUX_CLOCK_MONOTONIC: case LINUX_CLOCK_BOOTTIME:
		*ns = (uint64_t)sys_clock();
		return true;
	}
	return false;
}

uint64_t timer_clock_deadline(int64_t id, uint64_t at)
{
	return id == LINUX_CLOCK_REALTIME ? realtime_deadline(at) : at ? at : 1;
}

uint64_t timer_expiries(uint64_t *next, uint64_t interval, uint64_t now)
{
	if (!interval) {
		*next = 0;
		return 1;
	}
	uint64_t n = 1 + (now - *next) / interval;
	*next += n * interval;
	return n;
}

/* The earlier of two deadlines (0: none). */
static uint64_t earlier(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

void signal_timer_arm(void)
{
	uint64_t first = earlier(earlier(timerfds_first(), posix_timers_first()),
				 earlier(earlier(load_next_sample(), socket_linger_first()),
					 socket_batch_first()));

	for (unsigned i = 0; i < THREAD_MAX; i++) {
		const struct thread *t = &threads[i];
		if (t->state == THREAD_RUNNING && t->sleep_at && t->sleep_at != SLEEP_FOREVER &&
		    (!first || t->sleep_at < first))
			first = t->sleep_at;
	}
	uint64_t now = 0;
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *p = &processes[i];
		if (p->state != PROCESS_RUNNING)
			continue;
		if (p->alarm_at && (!first || p->alarm_at < first))
			first = p->alarm_at;
		if (!p->cpu_timer_at[0] && !p->cpu_timer_at[1])
			continue;
		uint64_t cpu = process_cpu_ns(p);
		now = now ? now : (uint64_t)sys_clock();
		for (unsigned k = 0; k < 2; k++) {
			/* At least a tick ahead: a process that does not run
			 * (stopped, waiting) is looked at 100 times a second. */
			uint64_t at = p->cpu_timer_at[k], left = at > cpu ? at - cpu : 0;
			uint64_t when = !at ? 0 : !left ? now
					: now + (left > CPU_TIMER_MIN ? left : CPU_TIMER_MIN);
			if (when && (!first || when < first))
				first = when;
		}
	}
	sys_notify_timer(signal_notification, first ? SIGNAL_TIMER_BIT : 0, first);
}

/* p's CPU-time timers whose time has come: their signals sent, each
 * armed again for its interval (0: off). */
static void cpu_timers(struct process *p)
{
	static const int sigs[2] = { LINUX_SIGVTALRM, LINUX_SIGPROF };
	uint64_t cpu;

	if (!p->cpu_timer_at[0] && !p->cpu_timer_at[1])
		return;
	cpu = process_cpu_ns(p);
	for (unsigned k = 0; k < 2; k++) {
		uint64_t *at = &p->cpu_timer_at[k], interval = p->cpu_timer_interval[k];
		if (!*at || *at > cpu)
			continue;
		*at = interval ? *at + interval : 0;
		if (*at && *at <= cpu)
			*at = cpu + interval;
		signal_send(p, sigs[k], LINUX_SI_KERNEL, 0, 0);
	}
}

void signal_timers(void)
{
	uint64_t now = (uint64_t)sys_clock();

	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state == THREAD_RUNNING && t->blocked && t->sleep_at && t->sleep_at <= now)
			thread_mark(t);
	}
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *p = &processes[i];
		if (p->state != PROCESS_RUNNING)
			continue;
		if (p->alarm_at && p->alarm_at <= now) {
			p->alarm_at = p->alarm_interval ? p->alarm_at + p->alarm_interval : 0;
			if (p->alarm_at && p->alarm_at <= now)
				p->alarm_at = now + p->alarm_interval;
			signal_send(p, LINUX_SIGALRM, LINUX_SI_KERNEL, 0, 0);
		}
		if (p->state == PROCESS_RUNNING)
			cpu_timers(p);
	}
	timerfds_expire();
	posix_timers_expire();
	load_sample(now);
	if (socket_lingering)
		socket_linger_end(-1, now);
	if (socket_batched)
		socket_batch_expire(now);
	signal_timer_arm();
}

/* Sleep until deadline (ns of the clock); rem: where an interrupted sleep
 * writes what was left (0: nowhere). The first try sets the deadline;
 * the tries after it end the call once it has passed. */
static long sleep_until(struct process *p, uint64_t deadline, uint64_t rem)
{
	if (!p->current->sleep_at) {
		if (deadline <= (uint64_t)sys_clock())
			return 0;
		p->current->sleep_at = deadline;
		p->current->sleep_rem = rem;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	if (p->current->sleep_at > (uint64_t)sys_clock())
		return SYSCALL_BLOCK;
	p->current->sleep_at = 0;
	return 0;
}

/* A timespec at va in nanoseconds into *ns: 0, -EFAULT or -EINVAL. */
static long timespec_in(struct process *p, uint64_t va, uint64_t *ns)
{
	struct linux_timespec ts;

	if (as_copy_in(&p->as, &ts, va, sizeof(ts)) < 0)
		return -LINUX_EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_SEC)
		return -LINUX_EINVAL;
	*ns = (uint64_t)ts.sec > UINT64_MAX / 2 / NS_PER_SEC ? UINT64_MAX / 2
							      : (uint64_t)ts.sec * NS_PER_SEC + (uint64_t)ts.nsec;
	return 0;
}

long posix_nanosleep(struct process *p, struct user_regs *r)
{
	uint64_t ns = 0;
	long err;

	if (!p->current->sleep_at && (err = timespec_in(p, r->rdi, &ns)))
		return err;
	return sleep_until(p, (uint64_t)sys_clock() + ns, r->rsi);
}

long posix_clock_nanosleep(struct process *p, struct user_regs *r)
{
	uint64_t ns = 0, flags = r->rsi;
	long err;

	switch (r->rdi) {
	case LINUX_CLOCK_REALTIME: case LINUX_CLOCK_MONOTONIC: case LINUX_CLOCK_BOOTTIME:
	case LINUX_CLOCK_PROCESS_CPUTIME_ID:
		break;
	default:
		return -LINUX_EINVAL;
	}
	if (!p->current->sleep_at && (err = timespec_in(p, r->rdx, &ns)))
		return err;
	if ((flags & LINUX_TIMER_ABSTIME) && r->rdi == LINUX_CLOCK_REALTIME)
		return sleep_until(p, realtime_deadline(ns), SLEEP_REALTIME);
	if (flags & LINUX_TIMER_ABSTIME)
		return sleep_until(p, ns ? ns : 1, 0);
	return sleep_until(p, (uint64_t)sys_clock() + ns, r->r10);
}

static struct linux_timeval ns_timeval(uint64_t ns)
{
	return (struct linux_timeval){ (int64_t)(ns / NS_PER_SEC), (int64_t)(ns % NS_PER_SEC / 1000) };
}

/* Timer which's value now into *it (left before it expires, interval). */
static void itimer_get(const struct process *p, uint64_t which, struct linux_itimerval *it)
{
	uint64_t at, now, interval;

	if (which == LINUX_ITIMER_REAL) {
		at = p->alarm_at;
		now = (uint64_t)sys_clock();
		interval = p->alarm_interval;
	} else {
		at = p->cpu_timer_at[which - 1];
		now = at ? process_cpu_ns(p) : 0;
		interval = p->cpu_timer_interval[which - 1];
	}
	uint64_t left = at > now ? at - now : 0;
	if (at && !left)
		left = 1000;    /* due: not yet signalled */
	it->value = ns_timeval(left);
	it->interval = ns_timeval(interval);
}

static void itimer_set(struct process *p, uint64_t which, uint64_t value_ns, uint64_t interval_ns)
{
	if (which == LINUX_ITIMER_REAL) {
		p->alarm_at = value_ns ? (uint64_t)sys_clock() + value_ns : 0;
		p->alarm_interval = value_ns ? interval_ns : 0;
	} else {
		p->cpu_timer_at[which - 1] = value_ns ? process_cpu_ns(p) + value_ns : 0;
		p->cpu_timer_interval[which - 1] = value_ns ? interval_ns : 0;
	}
	signal_timer_arm();
}

long posix_alarm(struct process *p, struct user_regs *r)
{
	struct linux_itimerval old;
	uint64_t secs = (uint32_t)r->rdi;

	itimer_get(p, LINUX_ITIMER_REAL, &old);
	itimer_set(p, LINUX_ITIMER_REAL, secs * NS_PER_SEC, 0);
	if (!old.value.sec && !old.value.usec)
		return 0;
	/* Rounded to the nearest second, and at least 1 (as Linux). */
	long left = old.value.sec + (old.value.usec >= 500000);
	return left ? left : 1;
}

static long timeval_ns(const struct linux_timeval *tv, uint64_t *ns)
{
	if (tv->sec < 0 || tv->usec < 0 || tv->usec >= 1000000)
		return -LINUX_EINVAL;
	*ns = (uint64_t)tv->sec * NS_PER_SEC + (uint64_t)tv->usec * 1000;
	return 0;
}

/* setitimer: ITIMER_REAL on the clock, ITIMER_VIRTUAL and ITIMER_PROF
 * on the process's CPU time. A value below the clock's resolution is
 * kept as it is (Linux rounds up to a tick). */
long posix_setitimer(struct process *p, struct user_regs *r)
{
	struct linux_itimerval it, old = { { 0, 0 }, { 0, 0 } };
	uint64_t value = 0, interval = 0;
	long err;

	if (r->rdi > 2)
		return -LINUX_EINVAL;
	if (r->rsi && as_copy_in(&p->as, &it, r->rsi, sizeof(it)) < 0)
		return -LINUX_EFAULT;
	if (r->rsi && ((err = timeval_ns(&it.value, &value)) || (err = timeval_ns(&it.interval, &interval))))
		return err;
	itimer_get(p, r->rdi, &old);
	if (r->rdx && as_copy_out(&p->as, r->rdx, &old, sizeof(old)) < 0)
		return -LINUX_EFAULT;
	if (r->rsi)
		itimer_set(p, r->rdi, value, interval);
	return 0;
}

long posix_getitimer(struct process *p, struct user_regs *r)
{
	struct linux_itimerval it = { { 0, 0 }, { 0, 0 } };

	if (r->rdi > 2)
		return -LINUX_EINVAL;
	itimer_get(p, r->rdi, &it);
	return as_copy_out(&p->as, r->rsi, &it, sizeof(it)) < 0 ? -LINUX_EFAULT : 0;
}
