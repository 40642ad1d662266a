/*
 * Futexes shared between processes, differential (Linux's futex(2):
 * without FUTEX_PRIVATE_FLAG a futex in a shared mapping is named by
 * the mapped object and offset): a process-shared pthread mutex,
 * condition variable and semaphore in MAP_SHARED|MAP_ANONYMOUS memory
 * across fork (the child waits, the parent wakes it); two processes
 * counting under one mutex; a raw FUTEX_WAIT in a child on a tmpfs file
 * mapped again at another address, woken by the parent's FUTEX_WAKE
 * through its own mapping; FUTEX_PRIVATE_FLAG on shared memory and a
 * private mapping's copy are not shared (the waiter times out, the wake
 * finds nobody). An alarm ends a run that would hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Linux's futex(2) numbers (musl has no <linux/futex.h>). */
#define FUTEX_WAIT         0
#define FUTEX_WAKE         1
#define FUTEX_LOCK_PI      6
#define FUTEX_UNLOCK_PI    7
#define FUTEX_TRYLOCK_PI   8
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAITERS      0x80000000U
#define FUTEX_OWNER_DIED   0x40000000U

struct shared {
	pthread_mutex_t m;
	pthread_cond_t c;
	sem_t s;
	int flag, ready, value;
	long count;
	uint32_t word;
};

static struct shared *sh;

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *t)
{
	return syscall(SYS_futex, w, op, val, t, NULL, 0);
}

static int child_status(pid_t c)
{
	int st;

	waitpid(c, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void mutex_and_cond(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->m, &ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&sh->c, &ca);
	sem_init(&sh->s, 1, 0);

	pthread_mutex_lock(&sh->m);
	pid_t c = fork();
	if (c == 0) {
		pthread_mutex_lock(&sh->m);     /* waits for the parent's unlock */
		int seen = sh->flag;
		pthread_mutex_unlock(&sh->m);
		_exit(seen);
	}
	usleep(100000);
	sh->flag = 42;
	pthread_mutex_unlock(&sh->m);
	printf("the child waited for the mutex and saw %d\n", child_status(c));

	c = fork();
	if (c == 0) {
		pthread_mutex_lock(&sh->m);
		while (!sh->ready)
			pthread_cond_wait(&sh->c, &sh->m);
		int v = sh->value;
		pthread_mutex_unlock(&sh->m);
		_exit(v);
	}
	usleep(100000);
	pthread_mutex_lock(&sh->m);
	sh->ready = 1;
	sh->value = 7;
	pthread_cond_signal(&sh->c);
	pthread_mutex_unlock(&sh->m);
	printf("the child waited on the condition variable and saw %d\n", child_status(c));

	c = fork();
	if (c == 0)
		_exit(sem_wait(&sh->s) == 0 ? 5 : 1);
	usleep(100000);
	sem_post(&sh->s);
	printf("the child waited on the semaphore: %d\n", child_status(c));

	c = fork();
	for (int i = 0; i < 3000; i++) {
		pthread_mutex_lock(&sh->m);
		long v = sh->count;
		if (i % 100 == 0)
			sched_yield();
		sh->count = v + 1;
		pthread_mutex_unlock(&sh->m);
	}
	if (c == 0)
		_exit(0);
	child_status(c);
	printf("two processes counted to %ld\n", sh->count);
}

static void raw(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/pshared-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 8192);
	uint32_t *mine = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	mine[1025] = 0;
	pid_t c = fork();
	if (c == 0) {
		uint32_t *again = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		long r = again == mine ? -2 : futex(&again[1025], FUTEX_WAIT, 0, NULL);
		_exit(r == 0 ? 0 : r == -2 ? 2 : 1);
	}
	long woke = 0;
	for (int i = 0; i < 500 && woke == 0; i++) {
		usleep(10000);
		woke = futex(&mine[1025], FUTEX_WAKE, 1, NULL);
	}
	printf("FUTEX_WAKE through another mapping woke %ld; the child: %d\n", woke, child_status(c));

	/* FUTEX_PRIVATE_FLAG: not shared with the child. */
	c = fork();
	if (c == 0) {
		struct timespec t = { 0, 300000000 };
		long r = futex(&mine[1025], FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, &t);
		_exit(r < 0 && errno == ETIMEDOUT ? 3 : 1);
	}
	woke = 0;
	for (int i = 0; i < 10; i++) {
		usleep(10000);
		woke += futex(&mine[1025], FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL);
	}
	printf("FUTEX_PRIVATE_FLAG wakes woke %ld; the child timed out: %s\n", woke,
	       child_status(c) == 3 ? "yes" : "no");

	/* A private mapping: each process its own copy. */
	uint32_t *copy = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*copy = 0;
	c = fork();
	if (c == 0) {
		struct timespec t = { 0, 300000000 };
		long r = futex(copy, FUTEX_WAIT, 0, &t);
		_exit(r < 0 && errno == ETIMEDOUT ? 3 : 1);
	}
	woke = 0;
	for (int i = 0; i < 10; i++) {
		usleep(10000);
		woke += futex(copy, FUTEX_WAKE, 1, NULL);
	}
	printf("a private mapping's wakes woke %ld; the child timed out: %s\n", woke,
	       child_status(c) == 3 ? "yes" : "no");
	munmap(mine, 8192);
	close(fd);
	unlink(path);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	mutex_and_cond();
	raw();
	printf("pshared: done\n");
	return 0;
}
