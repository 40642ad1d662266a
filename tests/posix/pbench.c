/*
 * The POSIX benchmark (bench/run_posix.py): the same static binary on
 * Mica's POSIX server and on the reference Linux guest, both under QEMU
 * -icount (one time-stamp-counter tick per guest instruction), as
 * lmbench measures these:
 *
 *   getpid         a null system call (lat_syscall null uses getppid)
 *   pipe latency   one byte back and forth between two processes over
 *                  two pipes, per round trip (lat_pipe)
 *   pipe bandwidth 64 KiB writes from one process, 64 KiB reads in the
 *                  other (bw_pipe), MiB per second of guest time
 *   fork           fork + the child's exit + wait, per cycle (lat_proc
 *                  fork)
 *   clock_gettime  libc's clock_gettime(CLOCK_MONOTONIC): the vDSO where
 *                  there is one (musl uses it), else a system call
 *
 * Each prints `pbench NAME: N iterations, T ticks each` (and `, B
 * MiB/s` for the bandwidth, from the clock). Without arguments it runs
 * all; `pbench NAME [N]` runs one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

static uint64_t ticks(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(const char *name, long n, uint64_t t)
{
	printf("pbench %s: %ld iterations, %.1f ticks each\n", name, n, (double)t / n);
}

static void bench_getpid(long n)
{
	syscall(SYS_getpid);            /* warm */
	uint64_t t = ticks();
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);    /* not libc's getpid: never cached */
	report("getpid", n, ticks() - t);
}

static void bench_pipe_latency(long n)
{
	int there[2], back[2];
	char c = 'x';

	if (pipe(there) || pipe(back))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		for (long i = 0; i <= n; i++)
			if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	/* One round trip first: both processes running, pages in. */
	if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
		return;
	uint64_t t = ticks();
	for (long i = 0; i < n; i++)
		if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
			return;
	report("pipe_latency", n, ticks() - t);
	waitpid(pid, NULL, 0);
	close(there[0]);
	close(there[1]);
	close(back[0]);
	close(back[1]);
}

static void bench_pipe_bandwidth(long n)
{
	static char buf[CHUNK];
	int p[2];

	if (pipe(p))
		return;
	memset(buf, 'b', sizeof(buf));
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (long i = 0; i < n; i++)
			for (size_t off = 0; off < CHUNK;) {
				ssize_t w = write(p[1], buf + off, CHUNK - off);
				if (w <= 0)
					_exit(1);
				off += (size_t)w;
			}
		_exit(0);
	}
	close(p[1]);
	uint64_t total = 0, want = (uint64_t)n * CHUNK, t = ticks();
	double s = seconds();
	ssize_t r;
	while (total < want && (r = read(p[0], buf, CHUNK)) > 0)
		total += (uint64_t)r;
	t = ticks() - t;
	s = seconds() - s;
	printf("pbench pipe_bandwidth: %ld iterations, %.1f ticks each, %.1f MiB/s\n", n,
	       (double)t / n, s > 0 ? total / s / (1 << 20) : 0.0);
	waitpid(pid, NULL, 0);
	close(p[0]);
}

static void bench_fork(long n)
{
	uint64_t t = ticks();

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return;
	}
	report("fork", n, ticks() - t);
}

static void bench_clock_gettime(long n)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);    /* warm: musl looks the vDSO up */
	uint64_t t = ticks();
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	report("clock_gettime", n, ticks() - t);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(long n);
		long n;
	} benches[] = {
		{ "getpid", bench_getpid, 100000 },
		{ "pipe_latency", bench_pipe_latency, 10000 },
		{ "pipe_bandwidth", bench_pipe_bandwidth, 256 },
		{ "fork", bench_fork, 200 },
		{ "clock_gettime", bench_clock_gettime, 100000 },
	};
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		if (argc < 2 || !strcmp(argv[1], benches[i].name))
			benches[i].run(argc > 2 ? atol(argv[2]) : benches[i].n);
	printf("pbench: done\n");
	return 0;
}
