/*
 * Many processes and threads at once, as a small appliance runs them (a
 * shell pipeline, a server, a few daemons):
 *
 *   - 90 children alive at once, each telling it started and then waiting
 *     to be let go; their exit statuses summed;
 *   - a pipeline of 40 processes (each exec'd again as `manyprocs stage`,
 *     as a shell's pipeline runs programs) that adds 1 to every number
 *     going through it: what comes out is each number plus 40;
 *   - 3 processes with 60 threads each alive at once (with the 90
 *     children, past what the POSIX server held before its capability
 *     table could grow: 64 processes, 80 threads).
 *
 * Every line it prints is the same on Linux and on Mica.
 *
 * `manyprocs limit` (Mica only: Linux lets root fork on) forks children
 * that wait until fork fails and says after how many and with which
 * error (the account's share of the POSIX server's processes,
 * docs/posix.md "Limits": EAGAIN); then lets them go and reaps them, and
 * runs the pipeline again: nothing else broke.
 *
 * `manyprocs execmem` (Mica only: what it measures is the POSIX server's
 * /proc/meminfo) runs EXECMEM processes exec'd from its own file at once
 * (`manyprocs hold`: each says it runs, then waits for EOF on stdin) and
 * says whether each took less than half its program's size of memory:
 * the program's pages are shared between the processes that run it, not
 * copied into each (docs/posix.md, "Memory").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN) X(ENOMEM)
#include "check.h"

#define AT_ONCE   90
#define STAGES    40
#define NUMBERS   100
#define TPROCS    3
#define TTHREADS  60
#define LIMIT_MAX 1000
#define EXECMEM   20

/* A child that says it started (a byte on ready) and waits until release
 * is closed by everyone else; it exits with status. */
static pid_t waiter(int ready, int release_r, int release_w, int status)
{
	pid_t c = fork();

	if (c == 0) {
		char b = 1, x;
		close(release_w);
		if (write(ready, &b, 1) != 1)
			_exit(100);
		while (read(release_r, &x, 1) > 0)
			;
		_exit(status);
	}
	return c;
}

static void at_once(void)
{
	int ready[2], release[2], started = 0, sum = 0, reaped = 0;
	pid_t kids[AT_ONCE];
	char b;

	if (pipe(ready) || pipe(release)) {
		printf("at once: pipes failed\n");
		return;
	}
	for (int i = 0; i < AT_ONCE; i++)
		kids[i] = waiter(ready[1], release[0], release[1], i + 1);
	close(release[0]);
	for (int i = 0; i < AT_ONCE && kids[i] > 0 && read(ready[0], &b, 1) == 1; i++)
		started++;
	close(release[1]);
	for (int i = 0; i < AT_ONCE; i++) {
		int st;
		if (kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st)) {
			sum += WEXITSTATUS(st);
			reaped++;
		}
	}
	close(ready[0]);
	close(ready[1]);
	printf("%d children at once: %d started, %d reaped, statuses sum %d\n", AT_ONCE, started,
	       reaped, sum);
}

/* A stage of the pipeline: numbers in on stdin, each plus one out. */
static int stage(void)
{
	int n;

	while (read(0, &n, sizeof(n)) == sizeof(n)) {
		n++;
		if (write(1, &n, sizeof(n)) != sizeof(n))
			return 1;
	}
	return 0;
}

/* The pipeline of STAGES exec'd processes: 1..NUMBERS in, what came out
 * right (each + STAGES). */
static int pipeline(void)
{
	int first[2], in, right = 0, ok = 1;
	pid_t kids[STAGES];

	if (pipe(first))
		return -1;
	in = first[0];
	for (int i = 0; i < STAGES; i++) {
		int next[2];
		if (pipe(next))
			return -1;
		kids[i] = fork();
		if (kids[i] == 0) {
			dup2(in, 0);
			dup2(next[1], 1);
			close(in);
			close(next[0]);
			close(next[1]);
			close(first[1]);
			execl("/proc/self/exe", "manyprocs", "stage", (char *)NULL);
			_exit(127);
		}
		if (kids[i] < 0)
			ok = 0;
		close(in);
		close(next[1]);
		in = next[0];
	}
	/* 100 numbers fit in every pipe: write them all, then read. */
	for (int n = 1; n <= NUMBERS; n++)
		if (write(first[1], &n, sizeof(n)) != sizeof(n))
			ok = 0;
	close(first[1]);
	for (int n = 1, got; n <= NUMBERS && read(in, &got, sizeof(got)) == sizeof(got); n++)
		right += got == n + STAGES;
	close(in);
	for (int i = 0; i < STAGES; i++) {
		int st;
		if (kids[i] > 0 && (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) ||
				    WEXITSTATUS(st) != 0))
			ok = 0;
	}
	return ok ? right : -1;
}

static int release_fd;

static void *thread_wait(void *arg)
{
	char x;

	if (write(*(int *)arg, "t", 1) != 1)
		return NULL;
	while (read(release_fd, &x, 1) > 0)
		;
	return NULL;
}

/* TPROCS processes with TTHREADS threads each, all waiting at once. */
static void threads_at_once(void)
{
	int ready[2], release[2], started = 0, joined = 0;
	pid_t kids[TPROCS];
	char b;

	if (pipe(ready) || pipe(release)) {
		printf("threads: pipes failed\n");
		return;
	}
	for (int i = 0; i < TPROCS; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			pthread_t t[TTHREADS];
			int made = 0, ended = 0;
			close(release[1]);
			release_fd = release[0];
			pthread_attr_t attr;
			pthread_attr_init(&attr);
			pthread_attr_setstacksize(&attr, 65536);
			for (int k = 0; k < TTHREADS; k++)
				made += pthread_create(&t[made], &attr, thread_wait, &ready[1]) == 0;
			for (int k = 0; k < made; k++)
				ended += pthread_join(t[k], NULL) == 0;
			_exit(ended);
		}
	}
	close(release[0]);
	for (int i = 0; i < TPROCS * TTHREADS && read(ready[0], &b, 1) == 1; i++)
		started++;
	close(release[1]);
	for (int i = 0; i < TPROCS; i++) {
		int st;
		if (kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st))
			joined += WEXITSTATUS(st);
	}
	close(ready[0]);
	close(ready[1]);
	printf("%d processes of %d threads at once: %d started, %d joined\n", TPROCS, TTHREADS,
	       started, joined);
}

static int limit(void)
{
	int ready[2], release[2], n = 0, e = 0, reaped = 0;
	static pid_t kids[LIMIT_MAX];
	char b;

	if (pipe(ready) || pipe(release))
		return 1;
	while (n < LIMIT_MAX) {
		pid_t c = waiter(ready[1], release[0], release[1], 0);
		if (c < 0) {
			e = errno;
			break;
		}
		kids[n++] = c;
		if (read(ready[0], &b, 1) != 1)
			break;
	}
	printf("forks until one failed: %d, then %s\n", n, err(e));
	fflush(stdout);
	close(release[0]);
	close(release[1]);
	for (int i = 0; i < n; i++)
		reaped += waitpid(kids[i], NULL, 0) == kids[i];
	printf("reaped: %d\n", reaped);
	int right = pipeline();
	printf("then a pipeline of %d processes: %d of %d numbers right\n", STAGES, right, NUMBERS);
	return 0;
}

/* /proc/meminfo's MemAvailable in KiB, or -1. */
static long mem_available(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int hold(void)
{
	char b = 1, x;

	if (write(1, &b, 1) != 1)
		return 1;
	while (read(0, &x, 1) > 0)
		;
	return 0;
}

static int execmem(void)
{
	int ready[2], release[2], started = 0, reaped = 0;
	pid_t kids[EXECMEM];
	struct stat st;
	char b;

	if (pipe(ready) || pipe(release) || stat("/proc/self/exe", &st))
		return 1;
	long before = mem_available();
	for (int i = 0; i < EXECMEM; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			dup2(release[0], 0);
			dup2(ready[1], 1);
			close(release[0]);
			close(release[1]);
			close(ready[0]);
			close(ready[1]);
			execl("/proc/self/exe", "manyprocs", "hold", (char *)NULL);
			_exit(127);
		}
	}
	close(release[0]);
	close(ready[1]);
	for (int i = 0; i < EXECMEM && read(ready[0], &b, 1) == 1; i++)
		started++;
	long after = mem_available();
	close(release[1]);
	for (int i = 0; i < EXECMEM; i++)
		reaped += kids[i] > 0 && waitpid(kids[i], NULL, 0) == kids[i];
	long each = (before - after) / EXECMEM, program = (long)st.st_size / 1024;
	printf("%d exec'd processes: %d started, %d reaped\n", EXECMEM, started, reaped);
	printf("each holds less than half its program's size: %s\n",
	       before > 0 && after > 0 && 2 * each < program ? "yes" : "no");
	printf("(%ld KiB each, the program %ld KiB)\n", each, program);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "stage"))
		return stage();
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return hold();
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 2 && !strcmp(argv[1], "limit"))
		return limit();
	if (argc == 2 && !strcmp(argv[1], "execmem"))
		return execmem();
	at_once();
	int right = pipeline();
	printf("pipeline of %d processes: %d of %d numbers right\n", STAGES, right, NUMBERS);
	threads_at_once();
	return 0;
}
