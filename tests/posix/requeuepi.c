/*
 * Requeueing onto a priority-inheritance futex, differential (Linux's
 * futex(2) FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI;
 * Documentation/locking/futex-requeue-pi.rst), by raw calls: the errors
 * (EINVAL for nr_wake other than 1, for one word as both, for a
 * FUTEX_WAKE of such a waiter; EAGAIN for a changed word on either side;
 * ETIMEDOUT for a deadline; EDEADLK for a waiter that owns the PI word);
 * a waiter handed the free PI futex (the word its tid);
 * two waiters moved behind the caller's lock, then handed it in turn by
 * unlocks; a requeued waiter whose deadline passes; a waiter's signal
 * before its requeue that does not end the wait. The caller asks again
 * until the waiters wait (a count, so the lines do not depend on when).
 * An alarm ends a run that would hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EAGAIN) X(ETIMEDOUT) X(EDEADLK) X(EPERM) X(EINTR) X(ESRCH)
#include "check.h"

/* Linux's futex(2) numbers (musl has no <linux/futex.h>). */
#define FUTEX_WAKE            1
#define FUTEX_LOCK_PI         6
#define FUTEX_UNLOCK_PI       7
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI  12
#define FUTEX_PRIVATE_FLAG    128
#define FUTEX_WAITERS         0x80000000U

static uint32_t cond, pi;
static volatile int handled;
static long counted;

static long futex(uint32_t *w, int op, uint32_t val, const void *t_or_val2, uint32_t *w2,
		  uint32_t val3)
{
	long r = syscall(SYS_futex, w, op | FUTEX_PRIVATE_FLAG, val, t_or_val2, w2, val3);
	return r < 0 ? -errno : r;
}

static long cmp_requeue_pi(long nr_requeue)
{
	return futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, (void *)nr_requeue, &pi, cond);
}

static int gettid_(void)
{
	return (int)syscall(SYS_gettid);
}

static struct timespec in_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += (ms % 1000) * 1000000L;
	t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

static void pause_ms(long ms)
{
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

struct waiter {
	pthread_t thread;
	long ms;                /* its deadline, 0: none */
	int own_first;          /* it locks the PI word before waiting */
	long result, unlock;
	int tid;
	uint32_t word;          /* the PI word as it found it on return */
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	struct timespec t = in_ms(w->ms);

	w->tid = gettid_();
	if (w->own_first)
		futex(&pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
	w->result = futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, w->ms ? &t : NULL, &pi, 0);
	w->word = __atomic_load_n(&pi, __ATOMIC_SEQ_CST);
	if (w->result == 0) {
		counted++;
		w->unlock = futex(&pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
	}
	return NULL;
}

static void start(struct waiter *w, long ms, int own_first)
{
	memset(w, 0, sizeof(*w));
	w->ms = ms;
	w->own_first = own_first;
	pthread_create(&w->thread, NULL, wait_thread, w);
}

/* CMP_REQUEUE_PI asked until it has moved or woken want waiters in all
 * (or failed): the sum, or the error. */
static long requeue_until(long want, long nr_requeue)
{
	long sum = 0;
	for (int i = 0; i < 500 && sum < want; i++) {
		long r = cmp_requeue_pi(nr_requeue);
		if (r < 0)
			return r;
		sum += r;
		if (sum < want)
			pause_ms(10);
	}
	return sum;
}

static void on_usr1(int sig)
{
	(void)sig;
	handled = 1;
}

int main(void)
{
	struct waiter a, b;
	struct timespec past = { 0, 1 };

	alarm(30);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("cmp_requeue_pi nr_wake 2: %s\n",
	       raw_outcome(futex(&cond, FUTEX_CMP_REQUEUE_PI, 2, 0, &pi, 0)));
	printf("cmp_requeue_pi one word: %s\n",
	       raw_outcome(futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &cond, 0)));
	printf("cmp_requeue_pi changed word: %s\n",
	       raw_outcome(futex(&cond, FUTEX_CMP_REQUEUE_PI, 1, 0, &pi, 7)));
	printf("cmp_requeue_pi nobody waits: %s\n", raw_outcome(cmp_requeue_pi(1)));
	printf("wait_requeue_pi one word: %s\n",
	       raw_outcome(futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, NULL, &cond, 0)));
	printf("wait_requeue_pi changed word: %s\n",
	       raw_outcome(futex(&cond, FUTEX_WAIT_REQUEUE_PI, 5, NULL, &pi, 0)));
	printf("wait_requeue_pi past deadline: %s\n",
	       raw_outcome(futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &past, &pi, 0)));
	struct timespec soon = in_ms(50);
	printf("wait_requeue_pi deadline: %s\n",
	       raw_outcome(futex(&cond, FUTEX_WAIT_REQUEUE_PI, 0, &soon, &pi, 0)));

	/* The PI word free: the waiter takes it. */
	start(&a, 0, 0);
	long r = requeue_until(1, 0);
	pthread_join(a.thread, NULL);
	printf("free PI word: requeue %s, waiter %s, word %s, unlock %s, word now %u\n", raw_outcome(r),
	       raw_outcome(a.result), a.word == (uint32_t)a.tid ? "its tid" :
	       a.word == (FUTEX_WAITERS | (uint32_t)a.tid) ? "its tid with FUTEX_WAITERS" : "other",
	       raw_outcome(a.unlock), pi);

	/* A FUTEX_WAKE cannot wake such a waiter. */
	start(&a, 0, 0);
	long w = 0;
	for (int i = 0; i < 500 && w == 0; i++) {
		w = futex(&cond, FUTEX_WAKE, 1, NULL, NULL, 0);
		if (w == 0)
			pause_ms(10);
	}
	printf("futex_wake of a requeue-pi waiter: %s\n", raw_outcome(w));
	r = requeue_until(1, 0);
	pthread_join(a.thread, NULL);
	printf("then requeued: %s, waiter %s\n", raw_outcome(r), raw_outcome(a.result));

	/* Held by the caller: two waiters moved behind it, handed it in turn. */
	futex(&pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
	counted = 0;
	start(&a, 0, 0);
	start(&b, 0, 0);
	r = requeue_until(2, 0);
	printf("held PI word: %s moved, word the caller's tid with FUTEX_WAITERS %s\n", raw_outcome(r),
	       pi == (FUTEX_WAITERS | (uint32_t)gettid_()) ? "yes" : "no");
	r = futex(&pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
	printf("unlock: %s\n", raw_outcome(r));
	pthread_join(a.thread, NULL);
	pthread_join(b.thread, NULL);
	printf("waiters %s %s, unlocks %s %s, counted %ld, word now %u\n", raw_outcome(a.result),
	       raw_outcome(b.result), raw_outcome(a.unlock), raw_outcome(b.unlock), counted, pi);

	/* Requeued, then its deadline passes while the caller holds it. */
	futex(&pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0);
	start(&a, 300, 0);
	r = requeue_until(1, 0);
	pthread_join(a.thread, NULL);
	printf("requeued behind a holder: %s, waiter %s\n", raw_outcome(r), raw_outcome(a.result));
	r = futex(&pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0);
	printf("unlock: %s, word now %u\n", raw_outcome(r), pi);

	/* The waiter owns the PI word itself. */
	start(&a, 300, 1);
	r = requeue_until(1, 0);
	pthread_join(a.thread, NULL);
	printf("waiter owns the PI word: %s, waiter %s\n", raw_outcome(r), raw_outcome(a.result));
	printf("its word: %s\n", a.word == (uint32_t)a.tid ? "its tid" : "other");
	pi = 0;

	/* A signal before the requeue does not end the wait. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	start(&a, 0, 0);
	w = 0;
	for (int i = 0; i < 500 && w == 0; i++) {   /* until it waits */
		w = futex(&cond, FUTEX_WAKE, 1, NULL, NULL, 0);
		if (w == 0)
			pause_ms(10);
	}
	pthread_kill(a.thread, SIGUSR1);
	for (int i = 0; i < 500 && !handled; i++)
		pause_ms(10);
	pause_ms(50);
	r = requeue_until(1, 0);
	pthread_join(a.thread, NULL);
	printf("signal before the requeue: handled %d, requeue %s, waiter %s\n", handled, raw_outcome(r),
	       raw_outcome(a.result));
	return 0;
}
