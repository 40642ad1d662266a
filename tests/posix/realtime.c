/*
 * CLOCK_REALTIME and CPU time, differential (clock_gettime(2),
 * clock_settime(2), settimeofday(2), clock_nanosleep(2), futex(2),
 * getrusage(2)): the calendar time is today's (the year from time() at
 * least 2024; time, gettimeofday and clock_gettime within a second of
 * each other); REALTIME minus MONOTONIC holds still; an absolute
 * REALTIME clock_nanosleep, pthread_cond_timedwait and sem_timedwait
 * end after their deadline; clock_settime's and settimeofday's errors
 * for what may not be set (EINVAL, EFAULT, EPERM for a CPU-time clock);
 * user time grows while the process computes, system time while it
 * makes system calls, and user and
 * system time add up to CLOCK_PROCESS_CPUTIME_ID (Mica splits them by
 * the timer's samples, docs/posix.md "Threads"); adjtimex and
 * clock_adjtime read the clock's state (adjtimex(2)) with Linux's
 * errors. Only relations are printed, never times.
 *
 * With the argument "set" (Mica only: it refuses to run elsewhere, so
 * that it never changes a host's clock) it sets the clock as root: an
 * hour forward and back, MONOTONIC untouched; a time before the boot is
 * EINVAL; sleepers with absolute REALTIME deadlines (clock_nanosleep
 * TIMER_ABSTIME, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME) wake when the
 * clock is set past their deadline and sleep on when it is set back;
 * settimeofday's zone comes back from the gettimeofday system call (libc's
 * may zero it: musl's and newer glibc's do); then the clock is
 * put back on its course. With "now" it prints CLOCK_REALTIME's seconds
 * (the system test compares them with the host's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EFAULT) X(EPERM) X(ETIMEDOUT) X(EOPNOTSUPP) X(EAGAIN) X(ECANCELED)
#include "check.h"

#define NS 1000000000LL
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CLOCK_REALTIME 256

static int64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static struct timespec ts_of(int64_t ns)
{
	return (struct timespec){ ns / NS, ns % NS };
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

/* ---- what both systems print alike ---- */

static void calendar(void)
{
	time_t t = time(NULL);
	struct tm tm;
	struct timeval tv;

	gmtime_r(&t, &tm);
	printf("the year from time() is 2024 or later: %s\n", yes(tm.tm_year + 1900 >= 2024));
	gettimeofday(&tv, NULL);
	printf("gettimeofday within a second of time(): %s\n",
	       yes(tv.tv_sec >= t && tv.tv_sec <= t + 1));
	int64_t rt = now(CLOCK_REALTIME) / NS;
	printf("clock_gettime(REALTIME) within a second of time(): %s\n", yes(rt >= t && rt <= t + 2));
	int64_t coarse = now(CLOCK_REALTIME_COARSE), fine = now(CLOCK_REALTIME);
	printf("REALTIME_COARSE within 50 ms of REALTIME: %s\n",
	       yes(coarse <= fine && fine - coarse < 50000000));
}

/* REALTIME - MONOTONIC now (the smaller of two readings' gaps, so that a
 * preemption between the two reads does not count). */
static int64_t realtime_less_monotonic(void)
{
	int64_t gap = INT64_MAX, d = 0;

	for (int i = 0; i < 5; i++) {
		int64_t m0 = now(CLOCK_MONOTONIC), r = now(CLOCK_REALTIME), m1 = now(CLOCK_MONOTONIC);
		if (m1 - m0 < gap) {
			gap = m1 - m0;
			d = r - m0;
		}
	}
	return d;
}

static void steady(void)
{
	int64_t d0 = realtime_less_monotonic();
	struct timespec pause = { 0, 100000000 };

	nanosleep(&pause, NULL);
	int64_t d1 = realtime_less_monotonic();
	printf("REALTIME - MONOTONIC steady over 100 ms (50 ms): %s\n",
	       yes(d1 - d0 < 50000000 && d0 - d1 < 50000000));
	printf("REALTIME ahead of MONOTONIC: %s\n", yes(d0 > 0));
}

static void absolute_sleeps(void)
{
	int64_t at = now(CLOCK_REALTIME) + 100000000;
	struct timespec ts = ts_of(at);

	show("clock_nanosleep(REALTIME, TIMER_ABSTIME, now + 100 ms)",
	     syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL));
	printf("  after its deadline: %s\n", yes(now(CLOCK_REALTIME) >= at));
	ts = ts_of(now(CLOCK_REALTIME) - NS);
	show("clock_nanosleep(REALTIME, TIMER_ABSTIME, a second ago)",
	     syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL));
	ts = (struct timespec){ 0, NS };
	show("clock_nanosleep(REALTIME, TIMER_ABSTIME, nsec 10^9)",
	     syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL));

	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	at = now(CLOCK_REALTIME) + 50000000;
	ts = ts_of(at);
	pthread_mutex_lock(&m);
	int r = pthread_cond_timedwait(&c, &m, &ts);
	pthread_mutex_unlock(&m);
	printf("pthread_cond_timedwait(REALTIME now + 50 ms): %s, after its deadline: %s\n", err(r),
	       yes(now(CLOCK_REALTIME) >= at));

	sem_t s;
	sem_init(&s, 0, 0);
	at = now(CLOCK_REALTIME) + 50000000;
	ts = ts_of(at);
	r = sem_timedwait(&s, &ts);
	printf("sem_timedwait(REALTIME now + 50 ms): %s, after its deadline: %s\n",
	       err(r < 0 ? errno : 0), yes(now(CLOCK_REALTIME) >= at));
}

/* Every call here is refused before anything changes (Linux checks the
 * clock and the value before the caller's right to set it): they are
 * safe to make as root on the host. */
static void settime_errors(void)
{
	struct timespec ts = { 0, 0 };

	ts = ts_of(now(CLOCK_MONOTONIC));
	show("clock_settime(MONOTONIC)", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts));
	show("clock_settime(BOOTTIME)", syscall(SYS_clock_settime, CLOCK_BOOTTIME, &ts));
	show("clock_settime(REALTIME_COARSE)", syscall(SYS_clock_settime, CLOCK_REALTIME_COARSE, &ts));
	show("clock_settime(100)", syscall(SYS_clock_settime, 100, &ts));
	show("clock_settime(MONOTONIC, NULL)", syscall(SYS_clock_settime, CLOCK_MONOTONIC, NULL));
	show("clock_settime(PROCESS_CPUTIME_ID)",
	     syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ts));
	show("clock_settime(THREAD_CPUTIME_ID)", syscall(SYS_clock_settime, CLOCK_THREAD_CPUTIME_ID, &ts));
	clockid_t cpu;
	clock_getcpuclockid(0, &cpu);
	show("clock_settime(clock_getcpuclockid(0))", syscall(SYS_clock_settime, cpu, &ts));
	/* Linux's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) of a pid past
	 * PID_MAX_LIMIT, which no process has. */
	cpu = (clockid_t)(~(unsigned)0x3FFFFFFF << 3 | 2);
	show("clock_settime(the CPU clock of a pid nobody has)", syscall(SYS_clock_settime, cpu, &ts));
	/* Second 0 besides the bad field: were the field let through, a
	 * time before the boot is refused too. */
	ts = (struct timespec){ 0, NS };
	show("clock_settime(REALTIME, nsec 10^9)", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	ts = (struct timespec){ 0, -1 };
	show("clock_settime(REALTIME, nsec -1)", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	ts = (struct timespec){ -1, 0 };
	show("clock_settime(REALTIME, sec -1)", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	show("clock_settime(REALTIME, NULL)", syscall(SYS_clock_settime, CLOCK_REALTIME, NULL));

	struct timeval tv = { 0, 1000000 };
	show("settimeofday(usec 10^6)", syscall(SYS_settimeofday, &tv, NULL));
	tv = (struct timeval){ 0, -1 };
	show("settimeofday(usec -1)", syscall(SYS_settimeofday, &tv, NULL));
	tv = (struct timeval){ -1, 0 };
	show("settimeofday(sec -1)", syscall(SYS_settimeofday, &tv, NULL));
	show("settimeofday(bad pointer)", syscall(SYS_settimeofday, (void *)8, NULL));
	show("settimeofday(NULL, NULL)", syscall(SYS_settimeofday, NULL, NULL));
}

static int64_t us(struct timeval tv)
{
	return tv.tv_sec * 1000000LL + tv.tv_usec;
}

/* User and system time from getrusage, in microseconds. */
static void times_now(int64_t *user, int64_t *sys)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	*user = us(u.ru_utime);
	*sys = us(u.ru_stime);
}

static volatile uint64_t sink;

static void cpu_split(void)
{
	int64_t u0, s0, u1, s1, u2, s2;

	times_now(&u0, &s0);
	int64_t until = now(CLOCK_PROCESS_CPUTIME_ID) + 300000000;
	while (now(CLOCK_PROCESS_CPUTIME_ID) < until)
		for (int i = 0; i < 100000; i++)
			sink += (uint64_t)i * i;
	times_now(&u1, &s1);
	/* (How much system time a loaded host's Linux charges to a loop
	 * that makes no system calls varies: not asked.) */
	printf("computing: user time grew: %s\n", yes(u1 > u0));
	int64_t cpu = now(CLOCK_PROCESS_CPUTIME_ID) / 1000;
	times_now(&u2, &s2);
	printf("user + system within 20 ms of CLOCK_PROCESS_CPUTIME_ID: %s\n",
	       yes(u2 + s2 - cpu < 20000 && cpu - (u2 + s2) < 20000));
	/* System calls that do little. */
	until = now(CLOCK_PROCESS_CPUTIME_ID) + 300000000;
	while (now(CLOCK_PROCESS_CPUTIME_ID) < until)
		for (int i = 0; i < 200; i++)
			syscall(SYS_getppid);
	times_now(&u1, &s1);
	/* (How Linux splits such a loop varies with the host: only the
	 * growth is asked.) */
	printf("system calls: system time grew: %s\n", yes(s1 > s2));
	struct tms t;
	long ticks = sysconf(_SC_CLK_TCK);
	times(&t);
	printf("times(): tms_stime as getrusage's ru_stime (within a tick): %s\n",
	       yes(t.tms_stime * (1000000 / ticks) - s1 < 20000 &&
		   s1 - t.tms_stime * (1000000 / ticks) < 20000));
}

/* adjtimex and clock_adjtime reading the clock's state (modes 0, and
 * ADJ_OFFSET_SS_READ), and clock_adjtime's errors. */
static void timex(void)
{
	struct timex tx;
	struct timeval tv;

	memset(&tx, 0, sizeof(tx));
	int r = adjtimex(&tx);
	gettimeofday(&tv, NULL);
	/* What holds whether an NTP daemon keeps the host's clock or not
	 * (Mica's is never synchronized: TIME_ERROR, STA_UNSYNC). */
	printf("adjtimex: TIME_ERROR with STA_UNSYNC or TIME_OK without: %s\n",
	       yes(r == ((tx.status & STA_UNSYNC) ? TIME_ERROR : TIME_OK)));
	printf("adjtimex: precision %ld, tolerance %ld, tick %ld\n", (long)tx.precision,
	       (long)tx.tolerance, (long)tx.tick);
	printf("adjtimex: maxerror and esterror at most 16 s: %s\n",
	       yes(tx.maxerror <= 16000000 && tx.esterror <= 16000000));
	/* time.tv_usec is in nanoseconds while STA_NANO is set (adjtimex(2)):
	 * a host whose NTP daemon asked for ADJ_NANO has it. */
	int64_t per_us = tx.status & STA_NANO ? 1000 : 1;
	int64_t at = tx.time.tv_sec * 1000000LL + tx.time.tv_usec / per_us, was = us(tv);
	printf("adjtimex: its time (tv_usec below a second in its unit) within a second of "
	       "gettimeofday: %s\n",
	       yes(tx.time.tv_usec >= 0 && tx.time.tv_usec < 1000000 * per_us && was - at >= 0 &&
		   was - at < 1000000));
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_OFFSET_SS_READ;
	int ss = adjtimex(&tx);
	memset(&tx, 0, sizeof(tx));
	int rt = (int)syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
	printf("adjtimex(ADJ_OFFSET_SS_READ) and clock_adjtime(REALTIME) as adjtimex: %s\n",
	       yes(ss == r && rt == r));
	report("clock_adjtime(MONOTONIC)", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx));
	report("clock_adjtime(BOOTTIME)", syscall(SYS_clock_adjtime, CLOCK_BOOTTIME, &tx));
	report("clock_adjtime(PROCESS_CPUTIME_ID)",
	       syscall(SYS_clock_adjtime, CLOCK_PROCESS_CPUTIME_ID, &tx));
	report("clock_adjtime(clock 10)", syscall(SYS_clock_adjtime, 10, &tx));
	report("clock_adjtime(clock 99)", syscall(SYS_clock_adjtime, 99, &tx));
	report("clock_adjtime(bad pointer)", syscall(SYS_clock_adjtime, CLOCK_REALTIME, (void *)8));
	report("clock_adjtime(MONOTONIC, bad pointer)", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC,
							       (void *)8));
	/* What a privileged caller (the host's test runs as root, and
	 * everybody is root on Mica) is refused before anything changes. */
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_TICK;
	tx.tick = 1;
	report("adjtimex(ADJ_TICK 1)", adjtimex(&tx));
	report("clock_adjtime(REALTIME, ADJ_TICK 1)", syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET;
	tx.time.tv_usec = -1;
	report("adjtimex(ADJ_SETOFFSET, usec -1)", adjtimex(&tx));
	tx.time.tv_usec = 1000000;
	report("adjtimex(ADJ_SETOFFSET, usec 10^6)", adjtimex(&tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_usec = 1000000000;
	report("adjtimex(ADJ_SETOFFSET|ADJ_NANO, nsec 10^9)", adjtimex(&tx));
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	tx.freq = INT64_MAX;
	report("adjtimex(ADJ_FREQUENCY past its scale)", adjtimex(&tx));
}

/* ---- Mica only: setting the clock ---- */

static void set_realtime(int64_t ns)
{
	struct timespec ts = ts_of(ns);

	if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
		printf("clock_settime(REALTIME): %s\n", err(errno));
		exit(1);
	}
}

static void step(int64_t by)
{
	set_realtime(now(CLOCK_REALTIME) + by);
}

static volatile uint32_t word;

static void *futex_sleeper(void *arg)
{
	struct timespec ts = ts_of(*(int64_t *)arg);

	long r = syscall(SYS_futex, &word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &ts, NULL,
			 ~0U);
	return (void *)(intptr_t)(r < 0 ? errno : 0);
}

/* A child that sleeps until its REALTIME deadline `ahead` ns from now
 * (having said so on the pipe it returns): its pid. */
static pid_t sleeper(int64_t ahead)
{
	int fds[2];
	char c = 1;

	if (pipe(fds) < 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec ts = ts_of(now(CLOCK_REALTIME) + ahead);
		write(fds[1], &c, 1);
		long r = syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		_exit(r == 0 ? 0 : 1);
	}
	read(fds[0], &c, 1);
	close(fds[0]);
	close(fds[1]);
	return pid;
}

/* The child's exit status, or -1 when it had not ended within limit s. */
static int reaped(pid_t pid, int limit)
{
	int status;

	for (int i = 0; i < limit * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(100000);
	}
	return -1;
}

static void setting(void)
{
	struct utsname u;
	int64_t r0 = now(CLOCK_REALTIME), m0 = now(CLOCK_MONOTONIC), d0 = realtime_less_monotonic();

	if (uname(&u) != 0 || !strstr(u.release, "mica")) {
		printf("not on Mica: the clock is not set\n");
		exit(1);
	}
	step(3600 * NS);
	int64_t d1 = realtime_less_monotonic();
	printf("set an hour forward: REALTIME - MONOTONIC grew by an hour (a second): %s\n",
	       yes(d1 - d0 > 3599 * NS && d1 - d0 < 3601 * NS));
	printf("  MONOTONIC went on: %s\n", yes(now(CLOCK_MONOTONIC) - m0 < 10 * NS));
	struct timeval tv;
	gettimeofday(&tv, NULL);
	printf("  time() and gettimeofday follow: %s\n",
	       yes(time(NULL) >= r0 / NS + 3600 && tv.tv_sec >= r0 / NS + 3600 &&
		   tv.tv_sec < r0 / NS + 3610));
	struct timespec ts = { 0, 0 };
	show("clock_settime(REALTIME, the epoch: before the boot)",
	     syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	step(-3600 * NS);
	printf("set back: REALTIME - MONOTONIC as before: %s\n",
	       yes(realtime_less_monotonic() - d0 < NS && d0 - realtime_less_monotonic() < NS));
	/* adjtimex's ADJ_SETOFFSET steps it too; the NTP discipline's
	 * settings are not there (the clock is never slewed). */
	struct timex tx = { .modes = ADJ_SETOFFSET, .time = { 3600, 0 } };
	int r = adjtimex(&tx);
	printf("adjtimex(ADJ_SETOFFSET an hour): %s, REALTIME - MONOTONIC grew by an hour: %s\n",
	       r < 0 ? err(errno) : "the state",
	       yes(realtime_less_monotonic() - d0 > 3599 * NS &&
		   realtime_less_monotonic() - d0 < 3601 * NS));
	tx = (struct timex){ .modes = ADJ_SETOFFSET | ADJ_NANO, .time = { -3601, 1000000000 - 1 } };
	r = (int)syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
	printf("clock_adjtime(ADJ_SETOFFSET|ADJ_NANO, an hour back): %s, as before: %s\n",
	       r < 0 ? err(errno) : "the state",
	       yes(realtime_less_monotonic() - d0 < NS && d0 - realtime_less_monotonic() < NS));
	tx = (struct timex){ .modes = ADJ_FREQUENCY };
	show("adjtimex(ADJ_FREQUENCY 0): not here", adjtimex(&tx));

	/* A sleeper an hour away wakes when the clock is set past it. */
	pid_t pid = sleeper(3600 * NS);
	usleep(200000);
	step(3601 * NS);
	printf("clock_nanosleep(REALTIME, TIMER_ABSTIME, in an hour) ends when the clock is set past "
	       "it: %s\n", yes(reaped(pid, 30) == 0));
	step(-3601 * NS);

	/* One a second away sleeps on when the clock is set an hour back. */
	pid = sleeper(NS);
	step(-3600 * NS);
	printf("  one a second away sleeps on when the clock is set an hour back: %s\n",
	       yes(reaped(pid, 2) == -1));
	step(3600 * NS);
	printf("  and ends when it is set forward again: %s\n", yes(reaped(pid, 30) == 0));

	/* FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME likewise (glibc's
	 * pthread_cond_timedwait and sem_timedwait on REALTIME). */
	pthread_t t;
	void *res;
	int64_t at = now(CLOCK_REALTIME) + 3600 * NS;
	pthread_create(&t, NULL, futex_sleeper, &at);
	usleep(200000);
	step(3601 * NS);
	pthread_join(t, &res);
	printf("FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME in an hour: %s when the clock is set past it\n",
	       err((int)(intptr_t)res));
	step(-3601 * NS);

	/* A REALTIME timerfd and POSIX timer an hour away (absolute) expire
	 * when the clock is set past them; a MONOTONIC one does not. */
	int tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	int mfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec it = { { 0, 0 }, ts_of(now(CLOCK_REALTIME) + 3600 * NS) };
	struct itimerspec mit = { { 0, 0 }, { 3600, 0 } };
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &it, NULL);
	timerfd_settime(mfd, 0, &mit, NULL);
	timer_t tid;
	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	timer_create(CLOCK_REALTIME, &sev, &tid);
	timer_settime(tid, TIMER_ABSTIME, &it, NULL);
	step(3601 * NS);
	usleep(100000);
	uint64_t n = 0, m = 0;
	struct itimerspec left;
	read(tfd, &n, sizeof(n));
	read(mfd, &m, sizeof(m));
	timer_gettime(tid, &left);
	printf("timerfd (REALTIME, absolute, in an hour) expired when the clock was set past it: %s\n",
	       yes(n == 1));
	printf("  a MONOTONIC one did not: %s\n", yes(m == 0));
	printf("  a POSIX timer on REALTIME likewise: %s\n",
	       yes(!left.it_value.tv_sec && !left.it_value.tv_nsec));
	step(-3601 * NS);
	close(tfd);
	close(mfd);
	timer_delete(tid);

	/* TFD_TIMER_CANCEL_ON_SET (absolute, REALTIME): a read after the
	 * clock is set fails ECANCELED, once a setting; poll saw it
	 * readable. The flag on a relative timer means nothing. */
	int cfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	int rfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	struct itimerspec far = { { 0, 0 }, ts_of(now(CLOCK_REALTIME) + 7200 * NS) };
	struct itimerspec rel = { { 0, 0 }, { 7200, 0 } };
	timerfd_settime(cfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, NULL);
	timerfd_settime(rfd, TFD_TIMER_CANCEL_ON_SET, &rel, NULL);
	long before = read(cfd, &n, sizeof(n));
	int before_errno = errno;
	step(NS);
	struct pollfd pfd = { cfd, POLLIN, 0 };
	int polled = poll(&pfd, 1, 0);
	long cancelled = read(cfd, &n, sizeof(n));
	int cancelled_errno = errno;
	long again = read(cfd, &n, sizeof(n));
	int again_errno = errno;
	long relative = read(rfd, &n, sizeof(n));
	int relative_errno = errno;
	step(-NS);
	long next = read(cfd, &n, sizeof(n));
	int next_errno = errno;
	printf("TFD_TIMER_CANCEL_ON_SET: before a setting %s, after it poll %d %s, read %s\n",
	       before < 0 ? err(before_errno) : "read", polled,
	       pfd.revents & POLLIN ? "POLLIN" : "-", cancelled < 0 ? err(cancelled_errno) : "read");
	printf("  then %s; a relative one %s; at the next setting %s\n",
	       again < 0 ? err(again_errno) : "read", relative < 0 ? err(relative_errno) : "read",
	       next < 0 ? err(next_errno) : "read");
	close(cfd);
	close(rfd);

	/* settimeofday's zone, given back by the gettimeofday system call. */
	struct timezone tz = { -60, 0 }, got = { 0, 0 };
	show("settimeofday(NULL, west -60)", syscall(SYS_settimeofday, NULL, &tz));
	syscall(SYS_gettimeofday, &tv, &got);
	printf("  the system call's: %d %d\n", got.tz_minuteswest, got.tz_dsttime);
	tz = (struct timezone){ 16 * 60, 0 };
	show("settimeofday(NULL, west 16 hours)", syscall(SYS_settimeofday, NULL, &tz));
	tz = (struct timezone){ 0, 0 };
	syscall(SYS_settimeofday, NULL, &tz);

	/* Back on its course: where it would be had it never been set. */
	set_realtime(r0 + (now(CLOCK_MONOTONIC) - m0));
	d1 = realtime_less_monotonic();
	printf("put back on its course: %s\n", yes(d1 - d0 < 10000000 && d0 - d1 < 10000000));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "now")) {
		printf("realtime: %lld\n", (long long)(now(CLOCK_REALTIME) / NS));
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "set")) {
		alarm(120);     /* a sleeper the clock did not wake ends it, not the test's time */
		setting();
		return 0;
	}
	calendar();
	steady();
	absolute_sleeps();
	settime_errors();
	cpu_split();
	timex();
	return 0;
}
