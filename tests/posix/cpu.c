/*
 * The CPU, differential: sched_yield gives the CPU to another process
 * that is ready (two processes on one CPU take turns through shared
 * memory, yielding while it is not theirs); sched_getaffinity and
 * sched_setaffinity on CPU 0; ITIMER_VIRTUAL and ITIMER_PROF on the
 * process's CPU time (one-shot and periodic, while it computes;
 * getitimer, the old value, the errors, none in a forked child); the
 * x87 control word and MXCSR a new thread and a forked child inherit,
 * and the default state after execve. Only relations are printed
 * (fired, not early, counts), never times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EFAULT) X(ESRCH)
#include "check.h"

static long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sched_yield ---- */

#define TURNS 50

static void yields(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	show("sched_setaffinity CPU 0", sched_setaffinity(0, sizeof(one), &one));
	cpu_set_t got;
	CPU_ZERO(&got);
	long n = syscall(204, 0, sizeof(got), &got);     /* the raw call: bytes of the mask */
	printf("sched_getaffinity: size > 0 %d, CPU 0 %d, count %d\n", n > 0, (int)CPU_ISSET(0, &got),
	       CPU_COUNT(&got));
	errno = 0;
	show("sched_getaffinity len 1", syscall(204, 0, 1, &got));
	show("sched_setaffinity no CPU", syscall(203, 0, sizeof(long), &(long){ 0 }));
	show("sched_getaffinity no such pid", syscall(204, 0x7fffffff, sizeof(got), &got));
	show("sched_yield", sched_yield());

	/* Two processes on CPU 0 take turns: each waits for its turn
	 * yielding, then gives the turn to the other. */
	volatile long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				     -1, 0);
	shared[0] = 0;          /* whose turn: 0 parent, 1 child */
	pid_t pid = fork();
	int me = pid == 0;
	long waited = 0;
	for (int turn = 0; turn < TURNS; turn++) {
		while (shared[0] != me) {
			sched_yield();
			waited++;
		}
		shared[0] = !me;
	}
	if (pid == 0) {
		shared[1] = waited;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	/* Without a yield that lets the other run, each turn waits for a
	 * whole time slice: thousands of yields. */
	printf("sched_yield: %d turns each, yields per turn below 20: %d %d\n", TURNS,
	       waited / TURNS < 20, shared[1] / TURNS < 20);
	munmap((void *)shared, 4096);
}

/* ---- ITIMER_VIRTUAL, ITIMER_PROF ---- */

static volatile sig_atomic_t fired[32];
static volatile long fired_at[32];

static void on_timer(int sig)
{
	if (!fired[sig])
		fired_at[sig] = cpu_ms();
	fired[sig]++;
}

/* Compute until sig has come n times, or 10 s of CPU time. */
static void compute_until(int sig, int n)
{
	long start = cpu_ms();
	volatile unsigned long x = 0;

	while (fired[sig] < n && cpu_ms() - start < 10000)
		for (int i = 0; i < 10000; i++)
			x += i;
}

static void one_shot(int which, int sig, const char *name)
{
	struct itimerval it = { { 0, 0 }, { 0, 100000 } }, now, old;

	signal(sig, on_timer);
	fired[sig] = 0;
	long start = cpu_ms();
	show(name, setitimer(which, &it, NULL));
	getitimer(which, &now);
	/* (Linux rounds the value up to its tick.) */
	printf("%s: getitimer value in (0, 200 ms] %d, interval %ld.%06ld\n", name,
	       now.it_value.tv_sec == 0 && now.it_value.tv_usec > 0 && now.it_value.tv_usec <= 200000,
	       (long)now.it_interval.tv_sec, (long)now.it_interval.tv_usec);
	compute_until(sig, 1);
	long used = fired_at[sig] - start;
	/* Loose bounds: CPU time is sampled differently on each system.
	 * Linux charges the itimers whole ticks (a task that runs at a
	 * tick gets all of it), so on a loaded host they run ahead of the
	 * exact CLOCK_PROCESS_CPUTIME_ID measured here: 100 ms came before 50
	 * once on a loaded host. "Not early" is a fifth of it. */
	printf("%s: fired %d while computing, not early %d, within 1 s %d\n", name, fired[sig],
	       used >= 20, used < 1000);
	getitimer(which, &now);
	printf("%s: then off %d\n", name, !now.it_value.tv_sec && !now.it_value.tv_usec);
	/* Set again, then replaced: the old value comes back. */
	setitimer(which, &it, NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(which, &off, &old);
	printf("%s: old value in (0, 200 ms] %d\n", name,
	       old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 200000);
}

static void periodic(int which, int sig, const char *name)
{
	struct itimerval it = { { 0, 30000 }, { 0, 30000 } }, off = { { 0, 0 }, { 0, 0 } };

	signal(sig, on_timer);
	fired[sig] = 0;
	long start = cpu_ms();
	setitimer(which, &it, NULL);
	compute_until(sig, 5);
	long used = cpu_ms() - start;
	setitimer(which, &off, NULL);
	printf("%s periodic: fired %d times while computing, not early %d\n", name, fired[sig] >= 5,
	       used >= 5 * 30 / 5);
}

static void itimers(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } }, now;

	one_shot(ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL");
	one_shot(ITIMER_PROF, SIGPROF, "ITIMER_PROF");
	periodic(ITIMER_VIRTUAL, SIGVTALRM, "ITIMER_VIRTUAL");
	periodic(ITIMER_PROF, SIGPROF, "ITIMER_PROF");
	show("setitimer 3", setitimer(3, &it, NULL));
	it.it_value.tv_usec = 1000000;
	show("setitimer usec 1000000", setitimer(ITIMER_VIRTUAL, &it, NULL));
	show("getitimer bad pointer", syscall(36, ITIMER_PROF, (void *)8));
	/* A forked child has none of its parent's timers. */
	struct itimerval two = { { 0, 0 }, { 2, 0 } };
	setitimer(ITIMER_VIRTUAL, &two, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		getitimer(ITIMER_VIRTUAL, &now);
		printf("child: ITIMER_VIRTUAL %ld %ld\n", (long)now.it_value.tv_sec,
		       (long)now.it_value.tv_usec);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	getitimer(ITIMER_VIRTUAL, &now);
	printf("parent: ITIMER_VIRTUAL still set %d\n", now.it_value.tv_sec || now.it_value.tv_usec);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_VIRTUAL, &off, NULL);
}

/* ---- the FPU state inherited ---- */

static unsigned mxcsr_get(void)
{
	unsigned m;

	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void mxcsr_set(unsigned m)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

static unsigned short fcw_get(void)
{
	unsigned short c;

	__asm__ volatile("fnstcw %0" : "=m"(c));
	return c;
}

static void fcw_set(unsigned short c)
{
	__asm__ volatile("fldcw %0" : : "m"(c));
}

static void *thread_fpu(void *arg)
{
	printf("%s: MXCSR %#x, x87 control word %#x\n", (const char *)arg, mxcsr_get(), fcw_get());
	return NULL;
}

static void fpu(const char *self)
{
	/* Round toward zero, flush to zero, denormals are zero; x87 53-bit
	 * precision, round down. */
	unsigned saved_mxcsr = mxcsr_get();
	unsigned short saved_fcw = fcw_get();
	mxcsr_set(0x1f80 | 0x6000 | 0x8000 | 0x40);
	fcw_set(0x067f);
	thread_fpu("parent");
	pthread_t t;
	pthread_create(&t, NULL, thread_fpu, "thread");
	pthread_join(t, NULL);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		thread_fpu("forked child");
		fflush(stdout);
		execl(self, self, "fpu", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	mxcsr_set(saved_mxcsr);
	fcw_set(saved_fcw);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "fpu")) {
		thread_fpu("after execve");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	yields();
	itimers();
	fpu("/proc/self/exe");
	printf("cpu: done\n");
	return 0;
}
