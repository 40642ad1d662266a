/*
 * Priority-inheritance futexes, differential (Linux's futex(2)
 * FUTEX_LOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI; pthread's
 * PTHREAD_PRIO_INHERIT): the word's owner-tid protocol by raw calls
 * (the lock takes a free word; EDEADLK by its owner; EPERM for an
 * unlock by another thread or of a free word; ESRCH for an owner that
 * does not exist; a trylock of a held word is EAGAIN and leaves
 * FUTEX_WAITERS; a timed lock times out; an unlock hands the lock to
 * the waiter, whose tid the word then holds with FUTEX_WAITERS); PI
 * mutexes between threads (a count under contention, a waiter handed
 * the lock) and between processes in shared memory, and a robust PI
 * mutex whose owner process ends (EOWNERDEAD, also to a waiter). An
 * alarm ends a run that would hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EDEADLK) X(EPERM) X(ESRCH) X(EAGAIN) X(ETIMEDOUT) X(EBUSY) \
	X(EOWNERDEAD)
#include "check.h"

/* Linux's futex(2) numbers (musl has no <linux/futex.h>). */
#define FUTEX_WAIT         0
#define FUTEX_WAKE         1
#define FUTEX_LOCK_PI      6
#define FUTEX_UNLOCK_PI    7
#define FUTEX_TRYLOCK_PI   8
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAITERS      0x80000000U
#define FUTEX_OWNER_DIED   0x40000000U

static uint32_t word;
static pthread_mutex_t *pm;
static long count;
static volatile int tid_in_thread;

static long futex(uint32_t *w, int op, const struct timespec *t)
{
	return syscall(SYS_futex, w, op, 0, t, NULL, 0);
}

static int gettid_(void)
{
	return (int)syscall(SYS_gettid);
}

static void *other_thread(void *arg)
{
	(void)arg;
	show("thread: unlock of the main thread's", futex(&word, FUTEX_UNLOCK_PI, NULL));
	show("thread: trylock of the main thread's", futex(&word, FUTEX_TRYLOCK_PI, NULL));
	printf("thread: FUTEX_WAITERS set: %s\n", word & FUTEX_WAITERS ? "yes" : "no");
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += 100000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	show("thread: a lock with a deadline", futex(&word, FUTEX_LOCK_PI, &t));
	tid_in_thread = gettid_();
	show("thread: a lock, waiting", futex(&word, FUTEX_LOCK_PI, NULL));
	printf("thread: the word is mine, with FUTEX_WAITERS: %s\n",
	       word == (FUTEX_WAITERS | (uint32_t)gettid_()) ? "yes" : "no");
	show("thread: unlock", futex(&word, FUTEX_UNLOCK_PI, NULL));
	return NULL;
}

static void raw(void)
{
	uint32_t me = (uint32_t)gettid_();
	pthread_t th;

	show("lock", futex(&word, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, NULL));
	printf("the word is my tid: %s\n", word == me ? "yes" : "no");
	show("lock again", futex(&word, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, NULL));
	show("trylock", futex(&word, FUTEX_TRYLOCK_PI | FUTEX_PRIVATE_FLAG, NULL));
	show("unlock", futex(&word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, NULL));
	printf("the word: %u\n", word);
	show("unlock, free", futex(&word, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, NULL));
	word = 0x3FFFFF00;
	show("lock, an owner that does not exist", futex(&word, FUTEX_LOCK_PI, NULL));
	word = FUTEX_OWNER_DIED;
	show("trylock, free but its owner died", futex(&word, FUTEX_TRYLOCK_PI, NULL));
	printf("the word is my tid, owner died kept: %s\n", word == (me | FUTEX_OWNER_DIED) ? "yes" : "no");
	show("unlock", futex(&word, FUTEX_UNLOCK_PI, NULL));
	printf("the word: %u\n", word);

	/* Another thread: EPERM, EAGAIN, a timeout, then handed the lock. */
	futex(&word, FUTEX_LOCK_PI, NULL);
	pthread_create(&th, NULL, other_thread, NULL);
	while (!tid_in_thread)
		usleep(1000);
	usleep(200000);         /* the thread waits in the kernel (or server) by then */
	long r = futex(&word, FUTEX_UNLOCK_PI, NULL);
	pthread_join(th, NULL);
	show("unlock, the thread waited", r);   /* told after the thread's lines */
	printf("the word at the end: %u\n", word);
}

static void *counter(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(pm);
		long v = count;
		if (i % 100 == 0)
			sched_yield();
		count = v + 1;
		pthread_mutex_unlock(pm);
	}
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	tid_in_thread = 1;
	int r = pthread_mutex_lock(pm);
	printf("thread: pthread_mutex_lock, the main thread's held: %s\n", err(r));
	pthread_mutex_unlock(pm);
	return NULL;
}

static void mutexes(void)
{
	pthread_mutexattr_t a;
	pthread_t th[2];

	pthread_mutexattr_init(&a);
	printf("setprotocol PTHREAD_PRIO_INHERIT: %s\n",
	       err(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT)));
	/* Threads. */
	static pthread_mutex_t local;
	pm = &local;
	pthread_mutex_init(pm, &a);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, counter, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("two threads counted to %ld\n", count);
	pthread_mutex_lock(pm);
	tid_in_thread = 0;
	pthread_create(&th[0], NULL, waiter, NULL);
	while (!tid_in_thread)
		usleep(1000);
	usleep(200000);         /* the thread waits in the kernel (or server) by then */
	pthread_mutex_unlock(pm);
	pthread_join(th[0], NULL);

	/* Processes: in shared memory. */
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	struct shm { pthread_mutex_t m, r; int flag; } *s =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutex_init(&s->m, &a);
	pthread_mutex_lock(&s->m);
	pid_t c = fork();
	if (c == 0) {
		pthread_mutex_lock(&s->m);
		int seen = s->flag;
		pthread_mutex_unlock(&s->m);
		_exit(seen);
	}
	usleep(100000);
	s->flag = 9;
	printf("trylock in the parent, held by it: %s\n", err(pthread_mutex_trylock(&s->m)));
	pthread_mutex_unlock(&s->m);
	int st;
	waitpid(c, &st, 0);
	printf("the child waited for the PI mutex and saw %d\n", WEXITSTATUS(st));

	/* Robust: its owner ends holding it. */
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&s->r, &a);
	c = fork();
	if (c == 0) {
		pthread_mutex_lock(&s->r);
		_exit(0);
	}
	waitpid(c, &st, 0);
	printf("lock after the owner ended: %s\n", err(pthread_mutex_lock(&s->r)));
	printf("consistent: %s\n", err(pthread_mutex_consistent(&s->r)));
	printf("unlock: %s\n", err(pthread_mutex_unlock(&s->r)));
	printf("lock again: %s\n", err(pthread_mutex_lock(&s->r)));
	pthread_mutex_unlock(&s->r);
	int p[2];
	pipe(p);
	c = fork();
	if (c == 0) {
		pthread_mutex_lock(&s->r);
		write(p[1], "x", 1);
		usleep(200000);
		_exit(0);
	}
	char x;
	read(p[0], &x, 1);
	printf("trylock, held by the child: %s\n", err(pthread_mutex_trylock(&s->r)));
	printf("lock, waiting while the owner ends: %s\n", err(pthread_mutex_lock(&s->r)));
	pthread_mutex_consistent(&s->r);
	pthread_mutex_unlock(&s->r);
	waitpid(c, &st, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);
	raw();
	mutexes();
	printf("pifutex: done\n");
	return 0;
}
