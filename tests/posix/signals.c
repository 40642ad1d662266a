/*
 * Signals, differential: the same lines on Linux and on Mica. Handlers
 * with and without SA_SIGINFO, masks and pending signals, SA_RESETHAND,
 * SA_NODEFER, nested handlers, sigaltstack, default actions (terminate,
 * ignore) seen by the parent's wait, SIGCHLD, EINTR and SA_RESTART for a
 * pipe read and wait4, pause, sigsuspend, alarm, setitimer, nanosleep, a
 * running process killed, SIGPIPE caught, and the calls' errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINTR) X(EINVAL) X(ENOMEM) X(ESRCH) X(ECHILD) X(EPIPE)
#include "check.h"

static volatile sig_atomic_t count[65];
static volatile int last_code, last_pid, last_status, nodefer_blocked, nested_order;
static volatile uintptr_t handler_sp;
static int wake_pipe[2];

/* "what: result errno" of a call that just returned r (no newline). */
static void show_begin(const char *what, long r)
{
	int e = errno;

	printf("%s: %ld %s", what, r, err(r < 0 ? e : 0));
}

static void on_signal(int sig)
{
	count[sig]++;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	count[sig]++;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_status = si->si_status;
	(void)uc;
}

static void on_mask_check(int sig)
{
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	nodefer_blocked = sigismember(&now, sig);
	count[sig]++;
}

static void on_usr2_nested(int sig)
{
	nested_order = nested_order * 10 + 2;
	count[sig]++;
}

static void on_usr1_nested(int sig)
{
	nested_order = nested_order * 10 + 1;
	raise(SIGUSR2);
	nested_order = nested_order * 10 + 3;
	count[sig]++;
}

static void on_alt(int sig)
{
	int here;
	handler_sp = (uintptr_t)&here;
	count[sig]++;
}

static sigjmp_buf fault_jump;
static volatile int fault_code, fault_addr_set;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	count[sig]++;
	fault_code = si->si_code;
	fault_addr_set = si->si_addr != NULL;
	siglongjmp(fault_jump, 1);
}

static void on_alarm_write(int sig)
{
	count[sig]++;
	if (write(wake_pipe[1], "x", 1) != 1)
		_exit(99);
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		printf("sigaction %d failed: %s\n", sig, strerror(errno));
}

static void handle_info(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* A one-shot ITIMER_REAL in ms. */
static void timer_ms(long ms)
{
	struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How the child ended, as a line. */
static void report_child(const char *what, pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		printf("%s: waitpid: %s\n", what, strerror(errno));
	else if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	else
		printf("%s: exited %d\n", what, WEXITSTATUS(status));
}

static void handlers(void)
{
	handle_info(SIGUSR1, 0);
	kill(getpid(), SIGUSR1);
	printf("kill self: handled %d, code SI_USER %d, pid is mine %d\n", count[SIGUSR1],
	       last_code == SI_USER, last_pid == getpid());
	raise(SIGUSR1);
	printf("raise: handled %d, code SI_TKILL %d\n", count[SIGUSR1], last_code == SI_TKILL);

	handle(SIGUSR2, on_signal, 0);
	for (int i = 0; i < 5; i++)
		kill(getpid(), SIGUSR2);
	printf("plain handler: %d\n", count[SIGUSR2]);

	/* Blocked: pending, then delivered once at the unblock. */
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR2);
	sigpending(&pending);
	printf("blocked: handled %d, pending %d\n", count[SIGUSR2], sigismember(&pending, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigpending(&pending);
	printf("unblocked: handled %d, pending %d\n", count[SIGUSR2], sigismember(&pending, SIGUSR2));

	/* An ignored signal is dropped, pending or not. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR2);
	handle(SIGUSR2, SIG_IGN, 0);
	sigpending(&pending);
	printf("ignored while pending: pending %d\n", sigismember(&pending, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);

	/* The signal is blocked in its own handler unless SA_NODEFER. */
	handle(SIGUSR2, on_mask_check, 0);
	raise(SIGUSR2);
	printf("in its handler: blocked %d\n", nodefer_blocked);
	handle(SIGUSR2, on_mask_check, SA_NODEFER);
	raise(SIGUSR2);
	printf("with SA_NODEFER: blocked %d\n", nodefer_blocked);

	/* SA_RESETHAND: the action is the default after one delivery. */
	struct sigaction old;
	count[SIGUSR2] = 0;
	handle(SIGUSR2, on_signal, SA_RESETHAND);
	raise(SIGUSR2);
	sigaction(SIGUSR2, NULL, &old);
	printf("SA_RESETHAND: handled %d, now default %d\n", count[SIGUSR2], old.sa_handler == SIG_DFL);

	/* A handler interrupted by another. */
	handle(SIGUSR1, on_usr1_nested, 0);
	handle(SIGUSR2, on_usr2_nested, 0);
	raise(SIGUSR1);
	printf("nested: order %d\n", nested_order);

	/* sigaltstack. */
	static char alt[65536];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0 }, oss;
	printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
	handle(SIGUSR2, on_alt, SA_ONSTACK);
	raise(SIGUSR2);
	printf("handler on the alternate stack: %d\n",
	       handler_sp >= (uintptr_t)alt && handler_sp < (uintptr_t)alt + sizeof(alt));
	handle(SIGUSR2, on_alt, 0);
	raise(SIGUSR2);
	printf("without SA_ONSTACK: %d\n",
	       handler_sp >= (uintptr_t)alt && handler_sp < (uintptr_t)alt + sizeof(alt));
	ss.ss_size = 100;
	show_begin("sigaltstack too small", sigaltstack(&ss, NULL));
	printf("\n");
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	sigaltstack(NULL, &oss);
	printf("sigaltstack disabled: %d\n", (oss.ss_flags & SS_DISABLE) != 0);
	handle(SIGUSR1, SIG_DFL, 0);
	handle(SIGUSR2, SIG_DFL, 0);
}

static void defaults(void)
{
	static const int sigs[] = { SIGTERM, SIGUSR1, SIGHUP, SIGINT, SIGQUIT, SIGCHLD, SIGWINCH,
				    SIGURG };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			kill(getpid(), sigs[i]);
			_exit(7);
		}
		char what[32];
		snprintf(what, sizeof(what), "default of %d", sigs[i]);
		report_child(what, pid);
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		abort();
	report_child("abort", pid);

	/* Killed while waiting in pause, and while running. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(1);
	}
	sleep_ms(50);
	kill(pid, SIGKILL);
	report_child("SIGKILL in pause", pid);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		for (volatile unsigned long n = 0;; n++)
			;
	sleep_ms(50);
	kill(pid, SIGTERM);
	report_child("SIGTERM while running", pid);
}

static void children(void)
{
	count[SIGCHLD] = 0;
	handle_info(SIGCHLD, 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(5);
	int status;
	pid_t got = waitpid(pid, &status, 0);
	printf("SIGCHLD: waited %d, handled %d, code CLD_EXITED %d, pid %d, status %d\n", got == pid,
	       count[SIGCHLD], last_code == CLD_EXITED, last_pid == pid, last_status);

	/* wait4 interrupted: EINTR, or started again with SA_RESTART. */
	handle(SIGCHLD, SIG_DFL, 0);
	for (int restart = 0; restart < 2; restart++) {
		handle(SIGALRM, on_signal, restart ? SA_RESTART : 0);
		count[SIGALRM] = 0;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			sleep_ms(300);
			_exit(3);
		}
		timer_ms(100);
		got = waitpid(pid, &status, 0);
		int e = errno;
		printf("wait4 %s: result %s, alarms %d\n", restart ? "SA_RESTART" : "interrupted",
		       got == pid ? "the child" : got < 0 ? err(e) : "?", count[SIGALRM]);
		if (got != pid)
			report_child("then", pid);
	}

	/* SIGCHLD ignored: no zombie, wait says ECHILD. */
	handle(SIGCHLD, SIG_IGN, 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	show_begin("SIGCHLD ignored: wait", waitpid(pid, &status, 0));
	printf("\n");
	handle(SIGCHLD, SIG_DFL, 0);
}

static void interrupted(void)
{
	char c;

	if (pipe(wake_pipe)) {
		printf("pipe: %s\n", strerror(errno));
		return;
	}
	/* A read of an empty pipe: EINTR, then (SA_RESTART) the byte the
	 * handler wrote. */
	handle(SIGALRM, on_signal, 0);
	count[SIGALRM] = 0;
	timer_ms(50);
	show_begin("read interrupted", read(wake_pipe[0], &c, 1));
	printf(", alarms %d\n", count[SIGALRM]);
	handle(SIGALRM, on_alarm_write, SA_RESTART);
	timer_ms(50);
	long n = read(wake_pipe[0], &c, 1);
	printf("read restarted: %ld '%c', alarms %d\n", n, n == 1 ? c : '?', count[SIGALRM]);

	/* pause and sigsuspend end with EINTR after a handler. */
	handle(SIGALRM, on_signal, SA_RESTART);
	timer_ms(50);
	show_begin("pause", pause());
	printf(", alarms %d\n", count[SIGALRM]);

	sigset_t usr1, empty, now;
	sigemptyset(&usr1);
	sigemptyset(&empty);
	sigaddset(&usr1, SIGUSR1);
	handle(SIGUSR1, on_signal, 0);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	count[SIGUSR1] = 0;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	show_begin("sigsuspend", sigsuspend(&empty));
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf(", handled %d, blocked again %d\n", count[SIGUSR1], sigismember(&now, SIGUSR1));
	report_child("sender", pid);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);

	/* A periodic timer, three times. */
	count[SIGALRM] = 0;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, cur;
	setitimer(ITIMER_REAL, &it, NULL);
	while (count[SIGALRM] < 3)
		pause();
	getitimer(ITIMER_REAL, &cur);
	printf("interval timer: 3 alarms, interval %ld us\n", (long)cur.it_interval.tv_usec);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	getitimer(ITIMER_REAL, &cur);
	printf("timer off: %ld %ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

	/* alarm returns what was left. */
	alarm(10);
	printf("alarm left: %u\n", alarm(0));

	/* nanosleep sleeps; an interrupted one says what is left. */
	long t0 = now_ms();
	sleep_ms(100);
	printf("nanosleep 100 ms: at least %d\n", now_ms() - t0 >= 99);
	timer_ms(50);
	struct timespec req = { 2, 0 }, rem = { 0, 0 };
	show_begin("nanosleep interrupted", nanosleep(&req, &rem));
	printf(", left between 1 and 2 s %d\n", rem.tv_sec == 1 || (rem.tv_sec == 0 && rem.tv_nsec > 0));
	req.tv_nsec = 2000000000L;
	show_begin("nanosleep bad", nanosleep(&req, NULL));
	printf("\n");
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 50000000L;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	printf("clock_nanosleep absolute: %d\n",
	       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL));

	/* SIGPIPE caught: the handler runs, the write is EPIPE. */
	handle(SIGPIPE, on_signal, 0);
	close(wake_pipe[0]);
	show_begin("SIGPIPE caught", write(wake_pipe[1], "y", 1));
	printf(", handled %d\n", count[SIGPIPE]);
	close(wake_pipe[1]);
	handle(SIGALRM, SIG_DFL, 0);
}

/* A fault's signal caught: the handler leaves by siglongjmp (its mask
 * back as sigsetjmp saved it). */
static void faults(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	volatile int zero = 0, x = 1;
	if (!sigsetjmp(fault_jump, 1))
		x = x / zero;
	printf("SIGFPE caught: %d, code FPE_INTDIV %d, address %d\n", count[SIGFPE],
	       fault_code == FPE_INTDIV, fault_addr_set);
	if (!sigsetjmp(fault_jump, 1))
		__builtin_trap();
	printf("SIGILL caught: %d, code ILL_ILLOPN %d, address %d\n", count[SIGILL],
	       fault_code == ILL_ILLOPN, fault_addr_set);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("after siglongjmp: SIGILL blocked %d\n", sigismember(&now, SIGILL));
	/* Blocked, a fault's signal ends the process anyway (in a child). */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t ill;
		sigemptyset(&ill);
		sigaddset(&ill, SIGILL);
		sigprocmask(SIG_BLOCK, &ill, NULL);
		__builtin_trap();
	}
	report_child("SIGILL blocked", pid);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
}

static void errors(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	show_begin("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL));
	printf("\n");
	show_begin("kill no such process", kill(99999, SIGUSR1));
	printf("\n");
	show_begin("kill bad signal", kill(getpid(), 100));
	printf("\n");
	printf("kill signal 0: %d\n", kill(getpid(), 0));
}

int main(void)
{
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);      /* SIGQUIT and abort dump no core */
	handlers();
	defaults();
	children();
	interrupted();
	faults();
	errors();
	/* The default action of an uncaught SIGALRM ends the program. */
	printf("last: SIGALRM by default\n");
	fflush(stdout);
	timer_ms(20);
	for (;;)
		pause();
}
