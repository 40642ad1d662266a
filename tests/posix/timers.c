/*
 * POSIX per-process timers, differential (Linux's timer_create(2),
 * timer_settime(2), timer_getoverrun(2), timer_delete(2)): SIGEV_SIGNAL
 * with si_code SI_TIMER, si_value and si_overrun; no sigevent (SIGALRM,
 * the id as si_value); SIGEV_NONE (no signal, timer_gettime tells);
 * SIGEV_THREAD_ID to one thread; periodic timers whose signal stays
 * blocked count overruns; TIMER_ABSTIME on REALTIME and MONOTONIC (one
 * in the past fires at once); a CPU-time timer fires while the process
 * computes; a forked child has none of its parent's timers, an exec'd
 * program none at all; the errors (clock, notify, signal, ids, times).
 * libc's SIGEV_THREAD (a helper thread in rt_sigtimedwait runs the
 * function); sigtimedwait and sigwaitinfo (a zero timeout, a timeout, a
 * pending kill, one from another thread, a timer's signal, siginfo);
 * and with a handler for the signal: the call takes it, blocked and
 * pending or unblocked and sent while the call waits (Linux unblocks the
 * set for the wait and takes it before any handler), the handler never
 * runs; a caught signal outside the set ends the wait (EINTR).
 * The other calls are made as system calls (libc's timer_t differs);
 * only relations are printed, never times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EFAULT) X(EOPNOTSUPP) X(EAGAIN) X(EINTR)
#include "check.h"

#define MS 1000000LL
#define KSIGEV_SIGNAL    0
#define KSIGEV_NONE      1
#define KSIGEV_THREAD_ID 4

/* The kernel's struct sigevent. */
struct ksigevent {
	union sigval value;
	int signo, notify;
	int tid;
	int pad[11];
};

static long k_create(clockid_t clock, struct ksigevent *ev, int *id)
{
	return syscall(SYS_timer_create, clock, ev, id);
}

static long k_settime(int id, int flags, int64_t value, int64_t interval, struct itimerspec *old)
{
	struct itimerspec it = { { interval / 1000000000, interval % 1000000000 },
				 { value / 1000000000, value % 1000000000 } };
	return syscall(SYS_timer_settime, id, flags, &it, old);
}

static long k_gettime(int id, struct itimerspec *it)
{
	return syscall(SYS_timer_gettime, id, it);
}

static int64_t ns_of(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static int64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ns_of(&ts);
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* What the last handler saw. */
static volatile int got_sig, got_code, got_overrun, got_value, got_tid, got_count;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_overrun = si->si_overrun;
	got_value = si->si_value.sival_int;
	got_tid = (int)syscall(SYS_gettid);
	got_count++;
}

static void catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(sig, &sa, NULL);
}

/* Wait (at most 5 s) until the handler has run count times. */
static int wait_count(int count)
{
	int64_t end = now(CLOCK_MONOTONIC) + 5000 * MS;

	while (got_count < count && now(CLOCK_MONOTONIC) < end)
		sleep_ms(1);
	return got_count >= count;
}

static void signal_timer(void)
{
	struct ksigevent ev = { .value.sival_int = 42, .signo = SIGUSR1, .notify = KSIGEV_SIGNAL };
	struct itimerspec it;
	int id = -1;

	catch(SIGUSR1);
	report("timer_create(MONOTONIC, SIGUSR1)", k_create(CLOCK_MONOTONIC, &ev, &id));
	printf("the first id is 0: %s\n", yes(id == 0));
	report("timer_gettime of a new timer", k_gettime(id, &it));
	printf("disarmed: %s\n", yes(!ns_of(&it.it_value) && !ns_of(&it.it_interval)));
	k_settime(id, 0, 5000 * MS, 0, NULL);
	k_gettime(id, &it);
	printf("gettime: left in (0, 5 s]: %s\n",
	       yes(ns_of(&it.it_value) > 0 && ns_of(&it.it_value) <= 5000 * MS));
	int64_t t0 = now(CLOCK_MONOTONIC);
	report("timer_settime(30 ms)", k_settime(id, 0, 30 * MS, 0, NULL));
	int came = wait_count(1);
	printf("signal came: %s, after the deadline: %s\n", yes(came),
	       yes(now(CLOCK_MONOTONIC) - t0 >= 30 * MS));
	printf("signo SIGUSR1 %s, si_code SI_TIMER %s, si_value 42 %s, si_overrun 0 %s\n",
	       yes(got_sig == SIGUSR1), yes(got_code == SI_TIMER), yes(got_value == 42),
	       yes(got_overrun == 0));
	k_gettime(id, &it);
	printf("an expired one-shot is disarmed: %s\n", yes(!ns_of(&it.it_value)));

	/* Periodic, its signal blocked: the expiries it missed are overruns
	 * of the one signal; timer_getoverrun tells those of the signal
	 * last delivered. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	report("timer_settime(20 ms, every 20 ms)", k_settime(id, 0, 20 * MS, 20 * MS, NULL));
	sleep_ms(200);
	k_gettime(id, &it);
	printf("gettime: interval 20 ms: %s\n", yes(ns_of(&it.it_interval) == 20 * MS));
	got_count = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	int count = got_count, overrun = got_overrun;
	long o = syscall(SYS_timer_getoverrun, id);
	printf("one signal for them all: %s, si_overrun 5 or more: %s\n", yes(count == 1),
	       yes(overrun >= 5));
	/* (Unless a slow host let the next expiry's signal in between.) */
	printf("timer_getoverrun equals si_overrun: %s\n", yes(o == overrun || got_count > count));
	struct itimerspec was;
	report("disarm with old", k_settime(id, 0, 0, 0, &was));
	printf("old interval 20 ms: %s\n", yes(ns_of(&was.it_interval) == 20 * MS));
	report("timer_delete", syscall(SYS_timer_delete, id));
	report("timer_delete again", syscall(SYS_timer_delete, id));
	report("timer_settime of a deleted timer", k_settime(id, 0, 10 * MS, 0, NULL));
	report("timer_getoverrun of a deleted timer", syscall(SYS_timer_getoverrun, id));
}

static void default_event(void)
{
	int id = -1;

	catch(SIGALRM);
	got_count = 0;
	report("timer_create(REALTIME, no sigevent)", k_create(CLOCK_REALTIME, NULL, &id));
	k_settime(id, TIMER_ABSTIME, now(CLOCK_REALTIME) + 20 * MS, 0, NULL);
	int came = wait_count(1) && got_sig == SIGALRM;
	printf("SIGALRM came: %s, its si_value the id: %s\n", yes(came), yes(got_value == id));
	/* A deadline in the past fires at once. */
	got_count = 0;
	report("TIMER_ABSTIME in the past", k_settime(id, TIMER_ABSTIME, now(CLOCK_REALTIME) - 1000 * MS,
						      0, NULL));
	printf("it fired: %s\n", yes(wait_count(1)));
	syscall(SYS_timer_delete, id);
}

static void none(void)
{
	struct ksigevent ev = { .notify = KSIGEV_NONE };
	struct itimerspec it;
	int id = -1;

	got_count = 0;
	report("timer_create(BOOTTIME, SIGEV_NONE)", k_create(CLOCK_BOOTTIME, &ev, &id));
	k_settime(id, 0, 1000 * MS, 0, NULL);
	k_gettime(id, &it);
	printf("SIGEV_NONE: left in (0, 1 s]: %s\n",
	       yes(ns_of(&it.it_value) > 0 && ns_of(&it.it_value) <= 1000 * MS));
	k_settime(id, TIMER_ABSTIME, now(CLOCK_BOOTTIME) + 20 * MS, 0, NULL);
	sleep_ms(60);
	k_gettime(id, &it);
	printf("SIGEV_NONE: expired, no signal: %s\n", yes(!ns_of(&it.it_value) && !got_count));
	syscall(SYS_timer_delete, id);
}

static volatile int worker_tid, worker_stop;

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = (int)syscall(SYS_gettid);
	while (!worker_stop)
		sleep_ms(1);
	return NULL;
}

static void thread_id(void)
{
	pthread_t th;
	int id = -1;

	catch(SIGUSR2);
	got_count = 0;
	pthread_create(&th, NULL, worker, NULL);
	while (!worker_tid)
		sleep_ms(1);
	struct ksigevent ev = { .value.sival_int = 7, .signo = SIGUSR2, .notify = KSIGEV_THREAD_ID,
				.tid = worker_tid };
	report("timer_create(SIGEV_THREAD_ID)", k_create(CLOCK_MONOTONIC, &ev, &id));
	k_settime(id, 0, 20 * MS, 0, NULL);
	printf("SIGEV_THREAD_ID: came to that thread: %s\n",
	       yes(wait_count(1) && got_tid == worker_tid && got_value == 7));
	syscall(SYS_timer_delete, id);
	worker_stop = 1;
	pthread_join(th, NULL);
	/* Gone: join returns when the thread's tid word is cleared, which
	 * Linux does before it releases the thread (a loaded host was seen
	 * to let timer_create find it still); tgkill's ESRCH says it is. */
	for (int i = 0; i < 2000 && syscall(SYS_tgkill, getpid(), worker_tid, 0) == 0; i++)
		sleep_ms(1);
	ev.tid = worker_tid;
	report("SIGEV_THREAD_ID of a thread that is gone", k_create(CLOCK_MONOTONIC, &ev, &id));
	fflush(stdout);
	pid_t child = fork();       /* another process's thread */
	if (child == 0) {
		pause();
		_exit(0);
	}
	ev.tid = child;
	report("SIGEV_THREAD_ID of another process's thread", k_create(CLOCK_MONOTONIC, &ev, &id));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

static void cpu_time(void)
{
	struct ksigevent ev = { .signo = SIGPROF, .notify = KSIGEV_SIGNAL };
	int id = -1;

	catch(SIGPROF);
	got_count = 0;
	report("timer_create(PROCESS_CPUTIME_ID)", k_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &id));
	int64_t cpu0 = now(CLOCK_PROCESS_CPUTIME_ID), end = now(CLOCK_MONOTONIC) + 5000 * MS;
	k_settime(id, 0, 50 * MS, 0, NULL);
	while (!got_count && now(CLOCK_MONOTONIC) < end)
		;
	int fired = got_count == 1;
	printf("a CPU-time timer fires while it computes: %s, after 50 ms of CPU: %s\n",
	       yes(fired), yes(now(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 50 * MS));
	syscall(SYS_timer_delete, id);
	report("timer_create(THREAD_CPUTIME_ID)", k_create(CLOCK_THREAD_CPUTIME_ID, &ev, &id));
	syscall(SYS_timer_delete, id);
}

static volatile int notified, notified_value;

static void notify_fn(union sigval v)
{
	notified_value = v.sival_int;
	notified++;
}

/* libc's SIGEV_THREAD: its helper thread waits in rt_sigtimedwait for
 * the timer's signal (SIGEV_THREAD_ID) and runs the function. */
static void sigev_thread(void)
{
	struct sigevent sev;
	timer_t t;
	int64_t end = now(CLOCK_MONOTONIC) + 5000 * MS;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = notify_fn;
	sev.sigev_value.sival_int = 99;
	report("timer_create(SIGEV_THREAD), libc's", timer_create(CLOCK_MONOTONIC, &sev, &t));
	struct itimerspec it = { { 0, 0 }, { 0, 20 * MS } };
	report("timer_settime", timer_settime(t, 0, &it, NULL));
	while (!notified && now(CLOCK_MONOTONIC) < end)
		sleep_ms(1);
	sleep_ms(50);
	printf("SIGEV_THREAD: the function ran once with its value: %s\n",
	       yes(notified == 1 && notified_value == 99));
	report("timer_delete", timer_delete(t));
}

static void *late_kill(void *arg)
{
	(void)arg;
	sleep_ms(30);
	kill(getpid(), SIGUSR2);
	return NULL;
}

/* sigtimedwait and sigwaitinfo (rt_sigtimedwait). */
static void sigwaits(void)
{
	sigset_t set, old;
	siginfo_t si;
	struct timespec zero = { 0, 0 }, short_wait = { 0, 50 * MS }, bad = { 0, 1000000000 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	report("sigtimedwait(nothing pending, zero timeout)", sigtimedwait(&set, &si, &zero));
	int64_t t0 = now(CLOCK_MONOTONIC);
	report("sigtimedwait(nothing pending, 50 ms)", sigtimedwait(&set, &si, &short_wait));
	printf("it waited the 50 ms: %s\n", yes(now(CLOCK_MONOTONIC) - t0 >= 50 * MS));
	report("sigtimedwait(nsec 10^9)", sigtimedwait(&set, &si, &bad));
	kill(getpid(), SIGUSR2);
	memset(&si, 0, sizeof(si));
	report("sigtimedwait(SIGUSR2 pending)", sigtimedwait(&set, &si, &zero));
	printf("its siginfo: SI_USER from us: %s\n",
	       yes(si.si_signo == SIGUSR2 && si.si_code == SI_USER && si.si_pid == getpid()));
	report("taken: not pending any more", sigtimedwait(&set, &si, &zero));
	pthread_t th;
	pthread_create(&th, NULL, late_kill, NULL);
	report("sigwaitinfo waits for a kill from another thread", sigwaitinfo(&set, &si));
	pthread_join(th, NULL);
	/* A timer's signal, blocked, taken by sigwaitinfo. */
	struct ksigevent ev = { .value.sival_int = 5, .signo = SIGUSR2, .notify = KSIGEV_SIGNAL };
	int id = -1;
	k_create(CLOCK_MONOTONIC, &ev, &id);
	k_settime(id, 0, 20 * MS, 0, NULL);
	memset(&si, 0, sizeof(si));
	report("sigwaitinfo takes a timer's signal", sigwaitinfo(&set, &si));
	printf("its siginfo: SI_TIMER with the value: %s\n",
	       yes(si.si_code == SI_TIMER && si.si_value.sival_int == 5));
	syscall(SYS_timer_delete, id);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile int usr1_caught, usr2_caught;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_caught++;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2_caught++;
}

struct late_send {
	pid_t tid;              /* 0: to the process (kill) */
	int sig;
};

/* After 30 ms, sig to the tid (or the process); this thread blocks both
 * signals, so the waiting thread is the only one to take them. */
static void *late_send(void *arg)
{
	struct late_send *s = arg;
	sigset_t both;

	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &both, NULL);
	sleep_ms(30);
	if (s->tid)
		syscall(SYS_tgkill, getpid(), s->tid, s->sig);
	else
		kill(getpid(), s->sig);
	return NULL;
}

/* One wait for set while a thread sends s after 30 ms: the call's
 * outcome, the signal it took. */
static void wait_with_sender(const char *what, const sigset_t *set, struct late_send *s)
{
	pthread_t th;
	siginfo_t si;
	struct timespec two = { 2, 0 };

	memset(&si, 0, sizeof(si));
	pthread_create(&th, NULL, late_send, s);
	long r = syscall(SYS_rt_sigtimedwait, set, &si, &two, 8);  /* musl's retries EINTR */
	int e = errno;
	pthread_join(th, NULL);
	errno = e;
	report(what, r);
}

/* sigtimedwait of a signal that has a handler. */
static void sigwaits_with_handler(void)
{
	struct sigaction sa, old1, old2;
	sigset_t set, old;
	siginfo_t si;
	struct timespec zero = { 0, 0 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, &old2);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, &old1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	raise(SIGUSR2);
	report("handled SIGUSR2 blocked and pending: sigtimedwait", sigtimedwait(&set, &si, &zero));
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("its handler ran: %d times\n", usr2_caught);

	/* Not blocked: sent while the call waits. */
	struct late_send to_thread = { (pid_t)syscall(SYS_gettid), SIGUSR2 };
	wait_with_sender("handled SIGUSR2 not blocked, tgkill while waiting: sigtimedwait", &set,
			 &to_thread);
	printf("its handler ran: %d times\n", usr2_caught);
	struct late_send to_process = { 0, SIGUSR2 };
	wait_with_sender("handled SIGUSR2 not blocked, kill while waiting: sigtimedwait", &set,
			 &to_process);
	printf("its handler ran: %d times\n", usr2_caught);
	report("nothing left pending", sigtimedwait(&set, &si, &zero));

	/* A caught signal outside the set ends the wait. */
	struct late_send other = { 0, SIGUSR1 };
	wait_with_sender("handled SIGUSR1 outside the set while waiting: sigtimedwait", &set, &other);
	printf("SIGUSR1's handler ran: %d times, SIGUSR2's: %d times\n", usr1_caught, usr2_caught);
	sigaction(SIGUSR1, &old1, NULL);
	sigaction(SIGUSR2, &old2, NULL);
}

static void inheritance(const char *self)
{
	struct ksigevent ev = { .signo = SIGUSR1, .notify = KSIGEV_SIGNAL };
	int id = -1, status;

	k_create(CLOCK_MONOTONIC, &ev, &id);
	k_settime(id, 0, 10000 * MS, 0, NULL);
	fflush(stdout);
	if (fork() == 0) {
		struct itimerspec it;
		report("child: timer_gettime of its parent's timer", k_gettime(id, &it));
		fflush(stdout);
		_exit(0);
	}
	wait(&status);
	fflush(stdout);
	if (fork() == 0) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", id);
		execl(self, self, "exec", arg, (char *)NULL);
		_exit(127);
	}
	wait(&status);
	syscall(SYS_timer_delete, id);
}

static void errors(void)
{
	struct ksigevent ev = { .signo = SIGUSR1, .notify = KSIGEV_SIGNAL };
	void *volatile bad_ptr = (void *)8;
	int id = -1, ids[40];

	report("timer_create(clock 99)", k_create(99, &ev, &id));
	report("timer_create(MONOTONIC_RAW)", k_create(CLOCK_MONOTONIC_RAW, &ev, &id));
	report("timer_create(REALTIME_COARSE)", k_create(CLOCK_REALTIME_COARSE, &ev, &id));
	ev.notify = 3;
	report("timer_create(notify 3)", k_create(CLOCK_MONOTONIC, &ev, &id));
	ev.notify = KSIGEV_SIGNAL;
	ev.signo = 0;
	report("timer_create(signal 0)", k_create(CLOCK_MONOTONIC, &ev, &id));
	ev.signo = 65;
	report("timer_create(signal 65)", k_create(CLOCK_MONOTONIC, &ev, &id));
	ev.signo = SIGUSR1;
	report("timer_create(bad sigevent)", k_create(CLOCK_MONOTONIC, bad_ptr, &id));
	report("timer_create(bad id pointer)", k_create(CLOCK_MONOTONIC, &ev, bad_ptr));
	report("timer_create", k_create(CLOCK_MONOTONIC, &ev, &id));
	struct itimerspec it = { { 0, 0 }, { 0, 1000000000 } };
	report("timer_settime nsec 10^9", syscall(SYS_timer_settime, id, 0, &it, NULL));
	it.it_value.tv_nsec = 0;
	it.it_interval.tv_sec = -1;
	report("timer_settime negative interval", syscall(SYS_timer_settime, id, 0, &it, NULL));
	report("timer_settime bad pointer", syscall(SYS_timer_settime, id, 0, bad_ptr, NULL));
	report("timer_gettime bad pointer", k_gettime(id, bad_ptr));
	report("timer_gettime id 12345", k_gettime(12345, &it));
	report("timer_delete id -1", syscall(SYS_timer_delete, -1));
	syscall(SYS_timer_delete, id);
	/* Many timers: each has its own id (Linux allows thousands; Mica 32). */
	int made = 0, distinct = 1;
	for (int i = 0; i < 30; i++)
		if (k_create(CLOCK_MONOTONIC, &ev, &ids[i]) == 0)
			made++;
	for (int i = 0; i < made; i++)
		for (int j = 0; j < i; j++)
			distinct &= ids[i] != ids[j];
	printf("30 timers made: %s, their ids distinct: %s\n", yes(made == 30), yes(distinct));
	for (int i = 0; i < made; i++)
		syscall(SYS_timer_delete, ids[i]);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exec")) {
		struct itimerspec it;
		report("exec'd: timer_gettime of the timer before exec", k_gettime(atoi(argv[2]), &it));
		return 0;
	}
	signal_timer();
	default_event();
	none();
	thread_id();
	cpu_time();
	sigev_thread();
	sigwaits();
	sigwaits_with_handler();
	inheritance(argv[0]);
	errors();
	return 0;
}
