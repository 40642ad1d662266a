/*
 * CLOCK_REALTIME (docs/posix.md, "Time"): the kernel's clock since boot
 * plus an offset kept in the vDSO's data page, so that processes read it
 * without a call (vdso/vdso.c) and the server adds the same (sys_info.c).
 * The offset starts from the CMOS clock (rtc.c); clock_settime and
 * settimeofday change it for every process at once (everybody is root
 * here: no EPERM but for the CPU-time clocks, which nobody may set);
 * MONOTONIC and BOOTTIME never move. Absolute deadlines on REALTIME
 * (clock_nanosleep TIMER_ABSTIME, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME,
 * FUTEX_LOCK_PI) wait in the kernel clock like every other, marked
 * (thread.sleep_rem SLEEP_REALTIME) so that a change of the offset moves them: a
 * clock set past a deadline wakes its sleeper, one set back keeps it
 * asleep longer, as Linux's REALTIME timers behave. Relative timeouts
 * (nanosleep, poll, select, FUTEX_WAIT) are on the kernel clock and do
 * not move. adjtimex and clock_adjtime read the clock's state as Linux
 * tells it for a clock no NTP daemon keeps, check their modes as Linux
 * checks a privileged caller's, and step the clock for ADJ_SETOFFSET;
 * the NTP discipline's settings are EPERM (the clock is never slewed).
 */
#include "clock.h"
#include "linux_socket.h"       /* LINUX_EOPNOTSUPP */
#include "rtc.h"
#include "syscall.h"
#include "timers.h"
#include "vdso_map.h"

#define NS_PER_SEC 1000000000UL
/* Linux's largest settable time (TIME_SETTOD_SEC_MAX: KTIME_SEC_MAX less
 * 30 years of uptime), so that the clock cannot wrap while it runs. */
#define SETTOD_SEC_MAX (INT64_MAX / (int64_t)NS_PER_SEC - 30LL * 365 * 86400)

void realtime_start(const struct program_info *pi)
{
	const char *why;
	int64_t sec;
	int r = rtc_read(pi, &sec, &why);

	/* The clock is read once (setting CLOCK_REALTIME does not write it,
	 * as Linux's settimeofday does not): the ports are closed again, so
	 * that a switch between the server and a process it serves does not
	 * change the CPU's I/O permission bitmap (a redirected getpid's 24
	 * guest instructions). */
	if (pi->ioport_count)
		sys_ioport_close(pi->ioport_first, pi->ioport_count);
	if (r < 0) {
		printf("posix: CMOS clock: %s; CLOCK_REALTIME starts at the epoch\n", why);
		return;
	}
	int64_t offset = sec * (int64_t)NS_PER_SEC - sys_clock();
	vdso_set_realtime_offset(offset > 0 ? offset : 0);
}

uint64_t realtime_deadline(uint64_t ns)
{
	uint64_t offset = (uint64_t)vdso_realtime_offset();

	return ns > offset ? ns - offset : 1;
}

/* CLOCK_REALTIME set to ns from now on: 0, or -EINVAL for a time before
 * the boot (ns below the kernel clock: Linux refuses it, so that
 * REALTIME minus MONOTONIC never turns negative). The marked deadlines
 * keep their REALTIME value; those now past wake. */
static long realtime_set(uint64_t ns)
{
	uint64_t now = (uint64_t)sys_clock();
	uint64_t old = (uint64_t)vdso_realtime_offset();

	if (ns < now)
		return -LINUX_EINVAL;
	uint64_t offset = ns - now;
	vdso_set_realtime_offset((int64_t)offset);
	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state != THREAD_RUNNING || !t->sleep_at || t->sleep_at == SLEEP_FOREVER ||
		    t->sleep_rem != SLEEP_REALTIME)
			continue;
		uint64_t at = t->sleep_at + old;        /* its REALTIME deadline */
		t->sleep_at = at > offset ? at - offset : 1;
	}
	if (offset != old)
		timerfds_clock_was_set();
	signal_timers();        /* wakes the ones now due, arms the timer again */
	return 0;
}

/* A settable time: Linux's timespec64_valid_settod. */
static bool valid_settod(int64_t sec, int64_t nsec)
{
	return sec >= 0 && sec < SETTOD_SEC_MAX && nsec >= 0 && nsec < (int64_t)NS_PER_SEC;
}

/* clock_settime(2): REALTIME only; the other clocks EINVAL (as Linux:
 * checked before the time is read), PROCESS_ and THREAD_CPUTIME_ID too
 * (Linux's have no setter), but a CPU-time clock by its encoded id
 * (clock_getcpuclockid) EPERM, or EINVAL for one that does not exist;
 * a bad time EINVAL. */
long posix_clock_settime(struct process *p, struct user_regs *r)
{
	int64_t id = (int64_t)(int32_t)r->rdi;
	struct linux_timespec ts;
	uint64_t ns;

	if (id != LINUX_CLOCK_REALTIME && id >= 0)
		return -LINUX_EINVAL;
	if (id < 0) {
		long err = cpu_clock(p, id, &ns);
		return err ? err : -LINUX_EPERM;
	}
	if (as_copy_in(&p->as, &ts, r->rsi, sizeof(ts)) < 0)
		return -LINUX_EFAULT;
	if (!valid_settod(ts.sec, ts.nsec))
		return -LINUX_EINVAL;
	return realtime_set((uint64_t)ts.sec * NS_PER_SEC + (uint64_t)ts.nsec);
}

/* settimeofday(2): tv (NULL: the time stays) in microseconds, tz (NULL:
 * the zone stays) within +-15 hours, kept for gettimeofday (Linux's
 * sys_tz; the clock itself is UTC whatever it says). EFAULT, EINVAL as
 * Linux, in its order: tv and tz read and tv checked before anything
 * changes. Linux's first tz-only call also shifts a clock kept in local
 * time (warp_clock); the CMOS clock is UTC here, so it does not. */
long posix_settimeofday(struct process *p, struct user_regs *r)
{
	struct linux_timeval tv;
	struct linux_timezone tz;

	if (r->rdi && as_copy_in(&p->as, &tv, r->rdi, sizeof(tv)) < 0)
		return -LINUX_EFAULT;
	if (r->rsi && as_copy_in(&p->as, &tz, r->rsi, sizeof(tz)) < 0)
		return -LINUX_EFAULT;
	if (r->rdi && (tv.usec < 0 || tv.usec >= 1000000 || !valid_settod(tv.sec, 0)))
		return -LINUX_EINVAL;
	if (r->rsi) {
		if (tz.minuteswest > 15 * 60 || tz.minuteswest < -15 * 60)
			return -LINUX_EINVAL;
		vdso_set_timezone(tz.minuteswest, tz.dsttime);
	}
	if (r->rdi)
		return realtime_set((uint64_t)tv.sec * NS_PER_SEC + (uint64_t)tv.usec * 1000);
	return 0;
}

/* struct timex (x86_64, 208 bytes: adjtimex(2)). */
struct linux_timex {
	uint32_t modes;
	int32_t pad0;
	int64_t offset, freq, maxerror, esterror;
	int32_t status, pad1;
	int64_t constant, precision, tolerance;
	struct linux_timeval time;
	int64_t tick, ppsfreq, jitter;
	int32_t shift, pad2;
	int64_t stabil, jitcnt, calcnt, errcnt, stbcnt;
	int32_t tai;
	int32_t pad3[11];
};
_Static_assert(sizeof(struct linux_timex) == 208, "struct timex is 208 bytes");

#define ADJ_OFFSET_SS_READ 0xa001       /* reads, as modes 0 */
#define ADJ_FREQUENCY      0x0002
#define ADJ_SETOFFSET      0x0100
#define ADJ_MICRO          0x1000
#define ADJ_NANO           0x2000
#define ADJ_TICK           0x4000
#define ADJ_ADJTIME        0x8000       /* adjtime(3)'s single shot */
#define PPM_SCALE          65536000L    /* freq's unit per ppm (NSEC_PER_USEC << 16) */
#define STA_UNSYNC         0x0040
#define TIME_ERROR         5            /* the clock is not synchronized */
#define NTP_PHASE_LIMIT_US 16000000     /* maxerror, esterror of a clock never synchronized */
#define MAXFREQ_SCALED_PPM (500L << 16) /* tolerance: 500 ppm, scaled by 2^16 */

/* Linux's timekeeping_validate_timex for a caller with CAP_SYS_TIME
 * (everybody is root here), in its order: a tick off by more than 10%,
 * an ADJ_SETOFFSET time whose fraction is negative or a second or more
 * (microseconds, nanoseconds with ADJ_NANO), a frequency whose scaling
 * would overflow: -EINVAL; else 0. */
static long timex_validate(const struct linux_timex *tx)
{
	if (!(tx->modes & ADJ_ADJTIME) && (tx->modes & ADJ_TICK) &&
	    (tx->tick < 900000 / LINUX_CLOCKS_PER_SEC || tx->tick > 1100000 / LINUX_CLOCKS_PER_SEC))
		return -LINUX_EINVAL;
	if ((tx->modes & ADJ_SETOFFSET) &&
	    (tx->time.usec < 0 || tx->time.usec >= ((tx->modes & ADJ_NANO) ? 1000000000 : 1000000)))
		return -LINUX_EINVAL;
	if ((tx->modes & ADJ_FREQUENCY) &&
	    (tx->freq < INT64_MIN / PPM_SCALE || tx->freq > INT64_MAX / PPM_SCALE))
		return -LINUX_EINVAL;
	return 0;
}

/* ADJ_SETOFFSET: the clock stepped by tx's time (seconds and micro- or,
 * with ADJ_NANO, nanoseconds; Linux's timekeeping_inject_offset): EINVAL
 * when the time it would be is not settable. */
static long timex_step(const struct linux_timex *tx)
{
	int64_t frac = (tx->modes & ADJ_NANO) ? tx->time.usec : tx->time.usec * 1000;
	int64_t now = (int64_t)sys_clock() + vdso_realtime_offset();
	int64_t sec = now / (int64_t)NS_PER_SEC, nsec = now % (int64_t)NS_PER_SEC + frac;

	if (tx->time.sec > SETTOD_SEC_MAX || tx->time.sec < -SETTOD_SEC_MAX)
		return -LINUX_EINVAL;
	sec += tx->time.sec + nsec / (int64_t)NS_PER_SEC;
	nsec %= (int64_t)NS_PER_SEC;
	if (!valid_settod(sec, nsec))
		return -LINUX_EINVAL;
	return realtime_set((uint64_t)sec * NS_PER_SEC + (uint64_t)nsec);
}

/* adjtimex(2) of CLOCK_REALTIME: modes checked as Linux's for a
 * privileged caller; ADJ_SETOFFSET steps the clock (with ADJ_NANO or
 * ADJ_MICRO only); modes 0 and ADJ_OFFSET_SS_READ read; the NTP
 * discipline's other settings (offset, frequency, status, errors, time
 * constant, tick, TAI) are EPERM (not yet: the clock is stepped, never
 * slewed). Then the kernel clock's state as Linux's adjtimex tells it
 * for a clock no NTP daemon ever set: STA_UNSYNC and the result
 * TIME_ERROR, no offset or frequency correction, the largest error
 * estimates, Linux's constants (time constant 2, precision 1 us, tick
 * 10000 us for USER_HZ 100) and CLOCK_REALTIME in microseconds. */
static long timex_read(struct process *p, uint64_t va)
{
	struct linux_timex tx;
	long err;

	if (as_copy_in(&p->as, &tx, va, sizeof(tx)) < 0)
		return -LINUX_EFAULT;
	if ((err = timex_validate(&tx)) < 0)
		return err;
	if (tx.modes & ADJ_SETOFFSET) {
		if (tx.modes & ~(uint32_t)(ADJ_SETOFFSET | ADJ_NANO | ADJ_MICRO))
			return -LINUX_EPERM;
		if ((err = timex_step(&tx)) < 0)
			return err;
	} else if (tx.modes && tx.modes != ADJ_OFFSET_SS_READ) {
		return -LINUX_EPERM;
	}
	uint64_t ns = (uint64_t)sys_clock() + (uint64_t)vdso_realtime_offset();
	memset(&tx, 0, sizeof(tx));
	tx.maxerror = tx.esterror = NTP_PHASE_LIMIT_US;
	tx.status = STA_UNSYNC;
	tx.constant = 2;
	tx.precision = 1;
	tx.tolerance = MAXFREQ_SCALED_PPM;
	tx.time = (struct linux_timeval){ (int64_t)(ns / NS_PER_SEC), (int64_t)(ns % NS_PER_SEC / 1000) };
	tx.tick = 1000000 / LINUX_CLOCKS_PER_SEC;
	return as_copy_out(&p->as, va, &tx, sizeof(tx)) < 0 ? -LINUX_EFAULT : TIME_ERROR;
}

long posix_adjtimex(struct process *p, struct user_regs *r)
{
	return timex_read(p, r->rdi);
}

/* clock_adjtime(2): CLOCK_REALTIME as adjtimex; the other clocks Linux
 * has cannot be adjusted (EOPNOTSUPP, a CPU-time clock's too), an
 * unknown id is EINVAL (a clock descriptor's too: none here). The
 * struct is read first (EFAULT), as Linux. */
long posix_clock_adjtime(struct process *p, struct user_regs *r)
{
	int64_t id = (int64_t)(int32_t)r->rdi;
	struct linux_timex tx;

	if (as_copy_in(&p->as, &tx, r->rsi, sizeof(tx)) < 0)
		return -LINUX_EFAULT;
	if (id == LINUX_CLOCK_REALTIME)
		return timex_read(p, r->rsi);
	if ((id >= 0 && (id > 11 || id == 10)) || (id < 0 && (id & 7) == 3))
		return -LINUX_EINVAL;
	return -LINUX_EOPNOTSUPP;
}
