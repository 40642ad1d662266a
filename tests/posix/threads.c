/*
 * Threads, differential: the same lines on Linux and on Mica.
 * pthread_create and pthread_join with return values, gettid, a mutex,
 * a condition variable, a barrier, thread-local storage, detached
 * threads and a semaphore, raw futex calls (EAGAIN, ETIMEDOUT relative
 * and absolute on both clocks, a wake, EINTR, the errors), signals to
 * one thread (pthread_kill, tgkill) and to the process (the one thread
 * that does not block it takes it), a thread's own mask, pending set
 * and sigaltstack, CLONE_CHILD_CLEARTID (set_tid_address) seen through a
 * futex, a robust mutex whose owner died, CPU-time clocks (a spinning
 * thread's advances, the process's is at least its threads'), exit of one
 * thread (the main one too) against exit_group from a thread, fork from
 * a thread, execve from a thread, a thread's fault ending its process.
 *
 * Mica only (its limits are not the host's): `threads limit` creates
 * threads until it cannot (EAGAIN or ENOMEM) and joins them;
 * `threads cycles N` creates and joins N threads one after the other;
 * `threads crashes N` forks N children whose third thread faults.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN) X(EINTR) X(EINVAL) X(ENOSYS) X(ETIMEDOUT) X(ESRCH) X(EFAULT) \
	X(ENOMEM) X(EOWNERDEAD)
#include "check.h"

/* futex(2)'s numbers (<linux/futex.h>, which musl-gcc does not see). */
#define FUTEX_WAIT               0
#define FUTEX_WAKE               1
#define FUTEX_CMP_REQUEUE        4
#define FUTEX_WAKE_OP            5
#define FUTEX_WAIT_BITSET        9
#define FUTEX_PRIVATE_FLAG       128
#define FUTEX_CLOCK_REALTIME     256
#define FUTEX_WAIT_PRIVATE       (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE       (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY   0xFFFFFFFFU
#define FUTEX_OP_SET             0
#define FUTEX_OP_ADD             1
#define FUTEX_OP_OPARG_SHIFT     8
#define FUTEX_OP_CMP_EQ          0
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	((((op) & 0xF) << 28) | (((cmp) & 0xF) << 24) | (((oparg) & 0xFFF) << 12) | ((cmparg) & 0xFFF))

#define COUNT_THREADS 4
#define COUNT_EACH    20000
#define QUEUE_ITEMS   1000

static long tid(void)
{
	return syscall(SYS_gettid);
}

static long futex(volatile uint32_t *addr, int op, uint32_t val, const struct timespec *ts,
		  uint32_t *addr2, uint32_t val3)
{
	return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static uint64_t ns_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- create, join, ids, TLS ---- */

static __thread int tls_value = 7;
static long main_tid;

static void *worker(void *arg)
{
	long n = (long)arg;

	tls_value += (int)n;
	usleep(1000 * (unsigned)(4 - n));       /* they end in another order */
	long t = tid();
	int own = t != getpid() && t != main_tid;
	return (void *)(n * 100 + tls_value * 10 + own);
}

static void create_join(void)
{
	pthread_t th[4];

	main_tid = tid();
	printf("main thread: gettid == getpid: %s\n", main_tid == getpid() ? "yes" : "no");
	for (long i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < 4; i++) {
		void *ret;
		int e = pthread_join(th[i], &ret);
		printf("thread %d joined: %s, returned %ld\n", i, err(e), (long)ret);
	}
	printf("main's tls_value still %d\n", tls_value);
}

/* ---- mutex, condition variable, barrier ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count_up(void *arg)
{
	(void)arg;
	for (int i = 0; i < COUNT_EACH; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void mutex_counter(void)
{
	pthread_t th[COUNT_THREADS];

	for (int i = 0; i < COUNT_THREADS; i++)
		pthread_create(&th[i], NULL, count_up, NULL);
	for (int i = 0; i < COUNT_THREADS; i++)
		pthread_join(th[i], NULL);
	printf("mutex counter: %ld (want %d)\n", counter, COUNT_THREADS * COUNT_EACH);
}

static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[8], q_head, q_len;

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= QUEUE_ITEMS; i++) {
		pthread_mutex_lock(&lock);
		while (q_len == 8)
			pthread_cond_wait(&not_full, &lock);
		queue[(q_head + q_len++) % 8] = i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long sum = 0;
	int in_order = 1, last = 0;

	(void)arg;
	for (int i = 0; i < QUEUE_ITEMS; i++) {
		pthread_mutex_lock(&lock);
		while (q_len == 0)
			pthread_cond_wait(&not_empty, &lock);
		int v = queue[q_head];
		q_head = (q_head + 1) % 8;
		q_len--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
		in_order &= v == last + 1;
		last = v;
		sum += v;
	}
	return (void *)(sum * 2 + in_order);
}

static void condition_variable(void)
{
	pthread_t p, c;
	void *ret;

	pthread_create(&c, NULL, consumer, NULL);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, &ret);
	printf("producer/consumer: sum %ld, in order %ld\n", (long)ret / 2, (long)ret % 2);
}

static pthread_barrier_t barrier;
static volatile int before_barrier;

static void *at_barrier(void *arg)
{
	__sync_fetch_and_add(&before_barrier, 1);
	int r = pthread_barrier_wait(&barrier);
	int all = before_barrier == 3;
	(void)arg;
	return (void *)(long)((r == PTHREAD_BARRIER_SERIAL_THREAD) * 2 + all);
}

static void barrier_test(void)
{
	pthread_t th[3];
	long serial = 0, all = 0;

	pthread_barrier_init(&barrier, NULL, 3);
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, at_barrier, NULL);
	for (int i = 0; i < 3; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		serial += (long)ret / 2;
		all += (long)ret % 2;
	}
	pthread_barrier_destroy(&barrier);
	printf("barrier: %ld saw all 3 arrive, %ld serial thread\n", all, serial);
}

/* ---- detached threads and a semaphore ---- */

static sem_t done;
static volatile int detached_ran;

static void *detached(void *arg)
{
	(void)arg;
	__sync_fetch_and_add(&detached_ran, 1);
	sem_post(&done);
	return NULL;
}

static void detached_threads(void)
{
	pthread_attr_t a;

	sem_init(&done, 0, 0);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		pthread_create(&t, &a, detached, NULL);
	}
	for (int i = 0; i < 3; i++)
		sem_wait(&done);
	printf("detached threads: %d ran\n", detached_ran);
	pthread_t t;
	pthread_create(&t, NULL, detached, NULL);
	printf("pthread_detach of a running thread: %s\n", err(pthread_detach(t)));
	sem_wait(&done);
}

/* ---- futex ---- */

static volatile uint32_t word, word2;

static void show_futex(const char *what, long r)
{
	printf("%s: %ld %s\n", what, r, err(r < 0 ? errno : 0));
}

/* Waits once on word (0): 0 when woken. */
static void *futex_waiter(void *arg)
{
	(void)arg;
	return (void *)futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void futex_calls(void)
{
	struct timespec ts = { 0, 50 * 1000000 };
	uint64_t t0;

	word = 0;
	show_futex("FUTEX_WAIT on a changed value", futex(&word, FUTEX_WAIT, 1, NULL, NULL, 0));
	show_futex("FUTEX_WAIT_PRIVATE on a changed value",
		   futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0));
	t0 = ns_of(CLOCK_MONOTONIC);
	show_futex("FUTEX_WAIT, 50 ms", futex(&word, FUTEX_WAIT, 0, &ts, NULL, 0));
	printf("  after the timeout: %s\n", ns_of(CLOCK_MONOTONIC) - t0 >= 50000000 ? "yes" : "no");
	uint64_t at = ns_of(CLOCK_MONOTONIC) + 30000000;
	struct timespec abs = { (time_t)(at / 1000000000), (long)(at % 1000000000) };
	show_futex("FUTEX_WAIT_BITSET, absolute monotonic",
		   futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY));
	printf("  after the deadline: %s\n", ns_of(CLOCK_MONOTONIC) >= at ? "yes" : "no");
	at = ns_of(CLOCK_REALTIME) + 30000000;
	abs = (struct timespec){ (time_t)(at / 1000000000), (long)(at % 1000000000) };
	show_futex("FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, absolute",
		   futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &abs, NULL,
			 FUTEX_BITSET_MATCH_ANY));
	printf("  after the deadline: %s\n", ns_of(CLOCK_REALTIME) >= at ? "yes" : "no");
	show_futex("FUTEX_WAIT_BITSET, a deadline passed", futex(&word, FUTEX_WAIT_BITSET, 0, &(struct timespec){ 0, 1 },
							   NULL, FUTEX_BITSET_MATCH_ANY));
	show_futex("FUTEX_WAKE, nobody waits", futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0));
	show_futex("FUTEX_WAIT, unaligned", futex((uint32_t *)((char *)&word + 1), FUTEX_WAIT, 0,
						  NULL, NULL, 0));
	show_futex("FUTEX_WAIT, bad address", futex((uint32_t *)8, FUTEX_WAIT, 0, NULL, NULL, 0));
	show_futex("FUTEX_WAIT, bad timeout", futex(&word, FUTEX_WAIT, 0,
						    &(struct timespec){ 0, 2000000000 }, NULL, 0));
	show_futex("FUTEX_WAIT_BITSET, bitset 0", futex(&word, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0));
	show_futex("FUTEX_WAKE|FUTEX_CLOCK_REALTIME", futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME,
							    1, NULL, NULL, 0));
	show_futex("op 99", futex(&word, 99, 0, NULL, NULL, 0));
	show_futex("FUTEX_CMP_REQUEUE, value changed",
		   futex(&word, FUTEX_CMP_REQUEUE, 1, (struct timespec *)1, (uint32_t *)&word2, 5));
	show_futex("FUTEX_WAKE_OP (word2 += 3, wake if it was 0)",
		   futex(&word, FUTEX_WAKE_OP, 1, (struct timespec *)1, (uint32_t *)&word2,
			 FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 0)));
	printf("  word2 now %u\n", word2);
	show_futex("FUTEX_CMP_REQUEUE, unaligned uaddr2",
		   futex(&word, FUTEX_CMP_REQUEUE, 1, (struct timespec *)1,
			 (uint32_t *)((char *)&word2 + 1), word));
	word2 = 0;
	show_futex("FUTEX_WAKE_OP (word2 = 1 << 33: the shift is taken mod 32)",
		   futex(&word, FUTEX_WAKE_OP, 1, (struct timespec *)1, (uint32_t *)&word2,
			 FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 33, FUTEX_OP_CMP_EQ, 0)));
	printf("  word2 now %u\n", word2);
	show_futex("FUTEX_WAKE, an address past user space",
		   futex((uint32_t *)0xffff800000000000UL, FUTEX_WAKE, 1, NULL, NULL, 0));

	/* A waiter woken by another thread: woken once it waits (the
	 * wake counts it). */
	pthread_t t, t2;
	void *ret, *ret2;
	long n;
	word = 0;
	pthread_create(&t, NULL, futex_waiter, NULL);
	while ((n = futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0)) == 0)
		usleep(1000);
	pthread_join(t, &ret);
	printf("FUTEX_WAKE woke %ld; its FUTEX_WAIT returned %ld\n", n, (long)ret);

	/* Two waiters moved to word2 (FUTEX_CMP_REQUEUE), woken there. */
	word2 = 0;
	pthread_create(&t, NULL, futex_waiter, NULL);
	pthread_create(&t2, NULL, futex_waiter, NULL);
	for (n = 0; n < 2; usleep(1000))
		n += futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (struct timespec *)(2 - n),
			   (uint32_t *)&word2, 0);
	printf("FUTEX_CMP_REQUEUE moved %ld\n", n);
	printf("FUTEX_WAKE on word2 woke %ld\n", futex(&word2, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0));
	pthread_join(t, &ret);
	pthread_join(t2, &ret2);
	printf("their FUTEX_WAITs returned %ld and %ld\n", (long)ret, (long)ret2);
}

/* ---- signals and threads ---- */

static volatile long handler_tid, handler_count;
static volatile uintptr_t handler_sp;

static void on_usr(int sig)
{
	int local;

	(void)sig;
	handler_tid = tid();
	handler_count++;
	handler_sp = (uintptr_t)&local;
	word2 = 1;
}

static volatile long target_tid;
static volatile int go;

static void *spin_until_signalled(void *arg)
{
	(void)arg;
	target_tid = tid();
	while (!handler_count)
		usleep(1000);
	return NULL;
}

/* Blocks SIGUSR1, waits until it has been sent, looks at its pending
 * set, then unblocks it: the handler runs in this thread. */
static void *masked(void *arg)
{
	sigset_t s, pending;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	target_tid = tid();
	while (!go)
		usleep(1000);
	sigpending(&pending);
	long seen = sigismember(&pending, SIGUSR1) * 2 + (handler_count == 0);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	return (void *)(seen * 4 + (handler_tid == tid()) * 2 + (handler_count == 1));
}

/* Waits in sigsuspend with SIGUSR2 unblocked, every other thread
 * blocking it: a kill of the process is this thread's. */
static void *suspender(void *arg)
{
	sigset_t none;

	(void)arg;
	sigemptyset(&none);
	target_tid = tid();
	go = 1;
	int r = sigsuspend(&none);
	return (void *)(long)((r == -1 && errno == EINTR) * 2 + (handler_tid == tid()));
}

static void *futex_interrupted(void *arg)
{
	(void)arg;
	target_tid = tid();
	go = 1;
	long r = futex(&word2, FUTEX_WAIT, 0, NULL, NULL, 0);
	return (void *)(long)(r == -1 && (errno == EINTR || errno == EAGAIN));
}

static volatile uintptr_t alt_lo, alt_hi;

static void *on_altstack(void *arg)
{
	static char stack[65536];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) }, old;

	(void)arg;
	sigaltstack(&ss, NULL);
	alt_lo = (uintptr_t)stack;
	alt_hi = alt_lo + sizeof(stack);
	handler_count = 0;
	pthread_kill(pthread_self(), SIGUSR2);
	sigaltstack(NULL, &old);
	return (void *)(long)((handler_sp >= alt_lo && handler_sp < alt_hi) * 2 +
			      (old.ss_flags == 0));
}

static void signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr };
	sigset_t s;
	pthread_t t;
	void *ret;

	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);

	/* pthread_kill: the handler runs in that thread. */
	target_tid = 0;
	pthread_create(&t, NULL, spin_until_signalled, NULL);
	while (!target_tid)
		usleep(1000);
	printf("pthread_kill: %s\n", err(pthread_kill(t, SIGUSR1)));
	pthread_join(t, NULL);
	printf("  the handler ran in that thread: %s\n", handler_tid == target_tid ? "yes" : "no");

	/* tgkill, the raw call. */
	handler_count = 0;
	target_tid = 0;
	pthread_create(&t, NULL, spin_until_signalled, NULL);
	while (!target_tid)
		usleep(1000);
	printf("tgkill: %ld\n", syscall(SYS_tgkill, getpid(), target_tid, SIGUSR1));
	pthread_join(t, NULL);
	printf("  the handler ran in that thread: %s\n", handler_tid == target_tid ? "yes" : "no");
	long r = syscall(SYS_tgkill, getpid() + 100000, target_tid, 0);
	printf("tgkill of another process's id: %ld %s\n", r, err(r < 0 ? errno : 0));
	/* Linux may still find a joined thread's id for a moment (its task
	 * is reaped just after it clears its CLEARTID word): ask again for
	 * up to a second. */
	for (int i = 0; i < 1000; i++) {
		r = syscall(SYS_tgkill, getpid(), target_tid, 0);
		if (r < 0)
			break;
		usleep(1000);
	}
	printf("tgkill of a thread that ended: %ld %s\n", r, err(r < 0 ? errno : 0));

	/* A thread's mask: pending for it alone until it unblocks. */
	handler_count = 0;
	handler_tid = 0;
	go = 0;
	target_tid = 0;
	pthread_create(&t, NULL, masked, NULL);
	while (!target_tid)
		usleep(1000);
	pthread_kill(t, SIGUSR1);
	sigpending(&s);
	printf("main sees the thread's pending SIGUSR1: %s\n", sigismember(&s, SIGUSR1) ? "yes" : "no");
	go = 1;
	pthread_join(t, &ret);
	printf("masked thread: pending while blocked %s, handler not run %s, then in it %s, once %s\n",
	       (long)ret & 8 ? "yes" : "no", (long)ret & 4 ? "yes" : "no",
	       (long)ret & 2 ? "yes" : "no", (long)ret & 1 ? "yes" : "no");

	/* kill of the process: the one thread that does not block it. */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	handler_tid = 0;
	go = 0;
	pthread_create(&t, NULL, suspender, NULL);
	while (!go)
		usleep(1000);
	kill(getpid(), SIGUSR2);
	pthread_join(t, &ret);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	printf("kill of the process: taken by the thread not blocking it %s, its sigsuspend %s\n",
	       (long)ret & 1 ? "yes" : "no", (long)ret & 2 ? "EINTR" : "not interrupted");

	/* A futex wait ended by a signal (the handler sets the word, so a
	 * signal before the wait makes it EAGAIN). */
	word2 = 0;
	go = 0;
	pthread_create(&t, NULL, futex_interrupted, NULL);
	while (!go)
		usleep(1000);
	usleep(50000);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, &ret);
	printf("futex wait ended by a signal: %s\n", ret ? "yes" : "no");

	/* sigaltstack is each thread's. */
	pthread_create(&t, NULL, on_altstack, NULL);
	pthread_join(t, &ret);
	stack_t old;
	sigaltstack(NULL, &old);
	printf("a thread's sigaltstack: handler on it %s, set %s; main's disabled %s\n",
	       (long)ret & 2 ? "yes" : "no", (long)ret & 1 ? "yes" : "no",
	       old.ss_flags & SS_DISABLE ? "yes" : "no");
}

/* ---- CLONE_CHILD_CLEARTID, robust mutexes, clocks ---- */

static volatile uint32_t cleared_word;

static void *clear_tid_and_exit(void *arg)
{
	(void)arg;
	cleared_word = (uint32_t)tid();
	syscall(SYS_set_tid_address, &cleared_word);
	syscall(SYS_exit, 0);   /* the thread alone, without libc's end */
	return NULL;
}

static pthread_mutex_t robust;

static void *lock_and_die(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	return NULL;
}

static void *cpu_clock_thread(void *arg)
{
	(void)arg;
	while (!go)
		usleep(1000);
	return NULL;
}

static void *cpu_spinner(void *arg)
{
	(void)arg;
	while (!go)
		;
	return NULL;
}

/* Another thread's CPU clock counts its time: it advances while it spins
 * (we sleep until it has, at most 5 s), and the process's clock holds
 * both threads' times (read last, so at least their sum). */
static void cpu_clock_of_spinner(void)
{
	pthread_t t;
	clockid_t cid;
	struct timespec nap = { 0, 10000000 };

	go = 0;
	pthread_create(&t, NULL, cpu_spinner, NULL);
	pthread_getcpuclockid(t, &cid);
	uint64_t start = ns_of(cid), now = start;
	for (int i = 0; i < 500 && now == start; i++) {
		nanosleep(&nap, NULL);
		now = ns_of(cid);
	}
	printf("a spinning thread's CPU clock (pthread_getcpuclockid) advances: %s\n",
	       now > start ? "yes" : "no");
	uint64_t mine = ns_of(CLOCK_THREAD_CPUTIME_ID), its = ns_of(cid);
	uint64_t all = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	printf("  the process's CPU clock >= the sum of both threads': %s\n",
	       all >= mine + its ? "yes" : "no");
	go = 1;
	pthread_join(t, NULL);
}

static void tid_robust_clocks(void)
{
	pthread_t t;
	uint32_t v;

	cleared_word = 1;
	pthread_create(&t, NULL, clear_tid_and_exit, NULL);
	while ((v = cleared_word) != 0)
		futex(&cleared_word, FUTEX_WAIT, v, NULL, NULL, 0);
	printf("set_tid_address: the word cleared at the thread's exit: yes\n");

	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	pthread_create(&t, NULL, lock_and_die, NULL);
	pthread_join(t, NULL);
	int e = pthread_mutex_lock(&robust);
	printf("robust mutex whose owner ended: %s\n", err(e));
	if (e == EOWNERDEAD) {
		printf("  consistent: %s\n", err(pthread_mutex_consistent(&robust)));
		pthread_mutex_unlock(&robust);
	}

	clockid_t cid;
	struct timespec ts;
	go = 0;
	pthread_create(&t, NULL, cpu_clock_thread, NULL);
	printf("pthread_getcpuclockid: %s\n", err(pthread_getcpuclockid(t, &cid)));
	printf("  clock_gettime of it: %s\n", clock_gettime(cid, &ts) == 0 ? "0" : err(errno));
	go = 1;
	pthread_join(t, NULL);
	uint64_t a = ns_of(CLOCK_THREAD_CPUTIME_ID), b = ns_of(CLOCK_THREAD_CPUTIME_ID);
	printf("CLOCK_THREAD_CPUTIME_ID goes forward: %s\n", b >= a ? "yes" : "no");
	printf("CLOCK_PROCESS_CPUTIME_ID: %s\n",
	       clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 ? "0" : err(errno));
	cpu_clock_of_spinner();
}

/* ---- exit, exit_group, fork and execve from threads ---- */

static void *exit_group_in_thread(void *arg)
{
	(void)arg;
	usleep(10000);
	_exit(7);       /* exit_group: every thread */
}

static void *last_one_exits(void *arg)
{
	(void)arg;
	usleep(20000);
	static const char line[] = "  the other thread still runs after main's pthread_exit\n";
	write(1, line, sizeof(line) - 1);
	exit(5);
}

static int wait_child(pid_t pid)
{
	int status = 0;

	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void *forks(void *arg)
{
	(void)arg;
	pid_t pid = fork();
	if (pid == 0)
		_exit(tid() == getpid() ? 3 : 4);
	int status = 0;
	waitpid(pid, &status, 0);
	return (void *)(long)(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void *spins(void *arg)
{
	(void)arg;
	for (;;)
		usleep(1000);
	return NULL;
}

static void *faults(void *arg)
{
	(void)arg;
	usleep(10000);
	*(volatile int *)arg = 1;       /* arg is NULL: SIGSEGV, the whole process */
	return NULL;
}

/* A child whose thread faults (two others wait and spin): how it ended. */
static int child_faults(void)
{
	pthread_t t;

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_create(&t, NULL, spins, NULL);
		pthread_create(&t, NULL, spins, NULL);
		pthread_create(&t, NULL, faults, NULL);
		for (;;)
			pause();
	}
	return wait_child(pid);
}

static void *execs(void *arg)
{
	(void)arg;
	char *argv[] = { "threads", "exec-probe", NULL };
	execv("/proc/self/exe", argv);
	_exit(99);
}


static void ends(void)
{
	pthread_t t, s;
	void *ret;

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_create(&t, NULL, exit_group_in_thread, NULL);
		pthread_create(&s, NULL, spins, NULL);
		for (;;)
			pause();
	}
	printf("exit_group from a thread: the process exited %d\n", wait_child(pid));

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_create(&t, NULL, last_one_exits, NULL);
		pthread_exit(NULL);
	}
	printf("main thread's pthread_exit, then the last thread's exit: %d\n", wait_child(pid));

	pthread_create(&t, NULL, forks, NULL);
	pthread_join(t, &ret);
	printf("fork in a thread: the child (its one thread's id its pid) exited %ld\n", (long)ret);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pthread_create(&s, NULL, spins, NULL);
		pthread_create(&t, NULL, execs, NULL);
		for (;;)
			pause();
	}
	printf("execve in a thread: exited %d\n", wait_child(pid));
	printf("a thread's fault: the process ended %d\n", child_faults());
}

/* ---- Mica only: limits and cycles ---- */

static int release_fd[2];

static void *hold(void *arg)
{
	char c;

	(void)arg;
	read(release_fd[0], &c, 1);
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

static int limit(void)
{
	static pthread_t th[4096];
	pthread_attr_t a;
	int n = 0, e = 0;

	pipe(release_fd);
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 65536);
	while (n < 4096 && (e = pthread_create(&th[n], &a, hold, NULL)) == 0)
		n++;
	printf("threads until it failed: more than 10: %s, then %s\n", n > 10 ? "yes" : "no",
	       e == EAGAIN || e == ENOMEM ? "EAGAIN or ENOMEM" : err(e));
	for (int i = 0; i < n; i++)
		write(release_fd[1], "x", 1);
	int joined = 0;
	for (int i = 0; i < n; i++)
		joined += pthread_join(th[i], NULL) == 0;
	printf("all %s joined\n", joined == n ? "were" : "were not");
	pthread_t t;
	printf("one more after them: %s\n", err(pthread_create(&t, &a, nothing, NULL)));
	pthread_join(t, NULL);
	return 0;
}

static int cycles(long n)
{
	long right = 0;

	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret = NULL;
		if (pthread_create(&t, NULL, nothing, (void *)(i + 1)) == 0 &&
		    pthread_join(t, &ret) == 0 && (long)ret == i + 1)
			right++;
	}
	printf("%ld thread create/join cycles: %ld right\n", n, right);
	return 0;
}

/* n children whose threads fault (Mica only: the server's log). */
static int crashes(long n)
{
	long right = 0;

	for (long i = 0; i < n; i++)
		right += child_faults() == 128 + SIGSEGV;
	printf("%ld children killed by a thread's fault: %ld right\n", n, right);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec-probe")) {
		printf("  the new image: its thread's id is the pid: %s\n",
		       tid() == getpid() ? "yes" : "no");
		return 4;
	}
	if (argc > 1 && !strcmp(argv[1], "limit"))
		return limit();
	if (argc > 2 && !strcmp(argv[1], "cycles"))
		return cycles(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "crashes"))
		return crashes(atol(argv[2]));
	create_join();
	mutex_counter();
	condition_variable();
	barrier_test();
	detached_threads();
	futex_calls();
	signals();
	tid_robust_clocks();
	ends();
	printf("done\n");
	return 0;
}
