/*
 * Processes and pipes, one line per check, the same on Linux and on Mica
 * (tests/system/test_posix.py compares them): fork and wait4 with exit
 * statuses and signals, getppid, descriptors shared with a child,
 * execve (of itself, with arguments and close-on-exec descriptors) and
 * its errors, pipes (blocking both ways past their 64 KiB, EOF, EPIPE
 * and SIGPIPE, O_NONBLOCK, PIPE_BUF), 16 MiB through a pipe into an
 * exec'd child (its standard input), 50 fork/exit/wait cycles, CPU time
 * (the thread's and process's clocks over a busy loop and a sleep,
 * getrusage, /proc/self/stat, a busy child's time in wait4's rusage, RUSAGE_CHILDREN and
 * times(2) once waited for, not before).
 * `procs exec-child FD FD` and `procs sink` are what the checks run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ECHILD) X(EPIPE) X(EAGAIN) X(ENOENT) X(EACCES) X(ENOEXEC) X(EBADF) \
	X(ESPIPE) X(EINVAL) X(EFAULT)
#include "check.h"

/* An address the compiler cannot see through, never mapped. */
static volatile uintptr_t bad = 16;

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

/* How a child ended, as a line. */
static void ended(const char *what, int status)
{
	if (WIFEXITED(status))
		printf("%s: exited with status %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	else
		printf("%s: status %#x\n", what, status);
}

static pid_t spawn(void)
{
	fflush(stdout);
	return fork();
}

static void fork_wait(void)
{
	int status = 0;
	pid_t me = getpid(), child = spawn();

	if (child == 0) {
		printf("child: getppid is the parent: %s\n", yes(getppid() == me));
		printf("child: its own pid: %s\n", yes(getpid() != me));
		exit(7);
	}
	/* Nothing printed before the child has ended: the order is fixed. */
	pid_t got = waitpid(child, &status, 0);
	report("fork gives a pid", child > 0 ? 0 : -1);
	report("waitpid gives the child", got == child ? 0 : -1);
	ended("child", status);
	report("waitpid again", waitpid(child, &status, 0));
	report("wait without children", wait(&status));
	if ((child = spawn()) == 0) {
		*(volatile int *)0 = 1;
		_exit(0);
	}
	waitpid(child, &status, 0);
	ended("a child writing to address 0", status);
	if ((child = spawn()) == 0)
		_exit(300);
	waitpid(-1, &status, 0);
	ended("exit(300)", status);
}

static void shared_descriptors(void)
{
	char name[64], buf[16] = { 0 };
	int status;

	snprintf(name, sizeof(name), "/tmp/mica-procs-%d", (int)getpid());
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	pid_t child = spawn();
	if (child == 0) {
		write(fd, "child", 5);
		_exit(0);
	}
	waitpid(child, &status, 0);
	report("the child's write moved the shared offset", lseek(fd, 0, SEEK_CUR));
	pread(fd, buf, 5, 0);
	printf("file: %s\n", buf);
	close(fd);
	unlink(name);
}

static void pipes(void)
{
	static char block[65536];
	int fd[2], status;
	char c;
	struct stat st;

	report("pipe", pipe(fd));
	report("F_GETFL of the read end", fcntl(fd[0], F_GETFL) & O_ACCMODE);
	report("F_GETFL of the write end", fcntl(fd[1], F_GETFL) & O_ACCMODE);
	fstat(fd[0], &st);
	printf("fstat: a FIFO: %s\n", yes(S_ISFIFO(st.st_mode)));
	report("lseek of a pipe", lseek(fd[0], 0, SEEK_SET));
	report("read of the write end", read(fd[1], &c, 1));
	/* 256 KiB from a child, four times what the pipe holds: both wait. */
	pid_t child = spawn();
	if (child == 0) {
		close(fd[0]);
		for (int i = 0; i < 4; i++) {
			memset(block, 'a' + i, sizeof(block));
			if (write(fd[1], block, sizeof(block)) != (ssize_t)sizeof(block))
				_exit(1);
		}
		_exit(0);
	}
	close(fd[1]);
	long total = 0, sum = 0, n;
	while ((n = read(fd[0], block, 1000)) > 0) {
		for (long i = 0; i < n; i++)
			sum += block[i];
		total += n;
	}
	report("read at the end", n);
	printf("pipe: %ld bytes, sum %ld\n", total, sum);
	waitpid(child, &status, 0);
	ended("the writer", status);
	close(fd[0]);

	pipe(fd);
	close(fd[0]);
	signal(SIGPIPE, SIG_IGN);
	report("write with no reader, SIGPIPE ignored", write(fd[1], "x", 1));
	signal(SIGPIPE, SIG_DFL);
	if ((child = spawn()) == 0) {
		write(fd[1], "x", 1);
		_exit(0);
	}
	waitpid(child, &status, 0);
	ended("a writer with no reader", status);
	close(fd[1]);

	report("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(fd, O_NONBLOCK | O_CLOEXEC));
	report("F_GETFD", fcntl(fd[0], F_GETFD));
	report("read of an empty pipe", read(fd[0], &c, 1));
	long room = 0;
	while ((n = write(fd[1], block, 4096)) > 0)
		room += n;
	printf("room: %ld, then %s\n", room, errname(errno));
	errno = 0;
	report("a PIPE_BUF write to a nearly full pipe", (read(fd[0], block, 100),
							  write(fd[1], block, 4096)));
	close(fd[1]);
	total = 0;
	while ((n = read(fd[0], block, sizeof(block))) > 0)
		total += n;
	printf("drained %ld, then %ld\n", total, n);
	close(fd[0]);
	report("pipe2 with a bad flag", pipe2(fd, 1));
	report("pipe to a bad pointer", pipe((int *)bad));
}

static void exec(const char *self)
{
	int status;
	int keep = open("/dev/null", O_RDONLY), drop = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char a[12], b[12];

	snprintf(a, sizeof(a), "%d", keep);
	snprintf(b, sizeof(b), "%d", drop);
	pid_t child = spawn();
	if (child == 0) {
		char *argv[] = { "procs", "exec-child", a, b, NULL };
		char *envp[] = { "MICA=1", NULL };
		execve("/proc/self/exe", argv, envp);
		_exit(99);
	}
	waitpid(child, &status, 0);
	ended("the exec'd child", status);
	close(keep);
	close(drop);
	char *argv[] = { "x", NULL };
	report("execve of a missing file", execve("/no/such", argv, argv + 1));
	report("execve of a directory", execve("/", argv, argv + 1));
	report("execve of a bad path", execve((char *)bad, argv, argv + 1));
	char name[64];
	snprintf(name, sizeof(name), "/tmp/mica-procs-%d", (int)getpid());
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	write(fd, "not a program\n", 14);
	close(fd);
	report("execve of a file that is not a program", execve(name, argv, argv + 1));
	unlink(name);
	(void)self;
}

static int exec_child(int argc, char **argv, char **envp)
{
	printf("exec-child: argc %d, argv[0] %s\n", argc, argv[0]);
	printf("exec-child: env %s\n", envp[0] ? envp[0] : "none");
	errno = 0;
	report("exec-child: the kept descriptor", fcntl(atoi(argv[2]), F_GETFD));
	report("exec-child: the close-on-exec one", fcntl(atoi(argv[3]), F_GETFD));
	return 5;
}

/* FNV-1a, 64 bits: a checksum both sides compute alike. */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001B3ULL;
	return h;
}

#define FNV_START 0xCBF29CE484222325ULL

/* Its standard input to the end: how many bytes, their checksum. */
static int sink(void)
{
	static unsigned char buf[32768];
	uint64_t h = FNV_START, total = 0;
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) > 0) {
		h = fnv(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	printf("sink: %llu bytes, checksum %016llx, then %ld\n", (unsigned long long)total,
	       (unsigned long long)h, (long)n);
	return 0;
}

/* 16 MiB of pseudo-random bytes through a pipe into an exec'd child. */
static void pipe_to_exec(void)
{
	static unsigned char block[65536];
	uint64_t h = FNV_START, x = 88172645463325252ULL;
	int fd[2], status, ok = 1;

	pipe(fd);
	pid_t child = spawn();
	if (child == 0) {
		dup2(fd[0], 0);
		close(fd[0]);
		close(fd[1]);
		char *argv[] = { "procs", "sink", NULL };
		execve("/proc/self/exe", argv, argv + 2);
		_exit(99);
	}
	close(fd[0]);
	for (int i = 0; i < 256; i++) {
		for (size_t k = 0; k < sizeof(block); k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			block[k] = (unsigned char)x;
		}
		h = fnv(h, block, sizeof(block));
		ok &= write(fd[1], block, sizeof(block)) == (ssize_t)sizeof(block);
	}
	close(fd[1]);
	waitpid(child, &status, 0);
	printf("sent 16 MiB, checksum %016llx, every write whole: %s\n", (unsigned long long)h,
	       yes(ok));
	ended("the sink", status);
}

static void cycles(void)
{
	int ok = 0, status;

	for (int i = 0; i < 50; i++) {
		pid_t child = spawn();
		if (child == 0)
			_exit(i & 0x7F);
		ok += waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		      WEXITSTATUS(status) == (i & 0x7F);
	}
	printf("50 fork/exit/wait cycles: %d right\n", ok);
}

/* ---- CPU time ---- */

#define MS 1000000ULL

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rusage_ns(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000000ULL +
	       (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000ULL;
}

/* Compute until clock c has advanced by ns; 0 if 10 s of the monotonic
 * clock passed first. */
static int spin_on(clockid_t c, uint64_t ns)
{
	uint64_t start = clock_ns(c), deadline = clock_ns(CLOCK_MONOTONIC) + 10000 * MS;
	volatile unsigned sum = 0;

	while (clock_ns(c) - start < ns) {
		if (clock_ns(CLOCK_MONOTONIC) > deadline)
			return 0;
		for (unsigned i = 0; i < 100000; i++)
			sum += i;
	}
	return 1;
}

/* /proc/self/stat's utime + stime (fields 14 and 15, clock ticks), or -1. */
static long stat_ticks(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	unsigned long utime, stime;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return -1;
	return (long)(utime + stime);
}

static void cpu_times(void)
{
	struct rusage self, thread, before, between, after, ru;
	struct tms tb, ta;
	struct timespec nap = { 0, 50 * MS };

	printf("busy loop: the thread's CPU clock advances 20 ms: %s\n",
	       spin_on(CLOCK_THREAD_CPUTIME_ID, 20 * MS) ? "yes" : "no");
	uint64_t mine = clock_ns(CLOCK_THREAD_CPUTIME_ID), all = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	printf("  the process's CPU clock >= the thread's: %s\n", all >= mine ? "yes" : "no");
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_THREAD, &thread);
	printf("  getrusage SELF and THREAD user+system >= 20 ms: %s %s\n",
	       rusage_ns(&self) >= 20 * MS ? "yes" : "no", rusage_ns(&thread) >= 20 * MS ? "yes" : "no");
	printf("  /proc/self/stat utime+stime >= 2 ticks: %s\n", stat_ticks() >= 2 ? "yes" : "no");
	mine = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	nanosleep(&nap, NULL);
	printf("sleeping 50 ms: the thread's CPU clock advances less than 10 ms: %s\n",
	       clock_ns(CLOCK_THREAD_CPUTIME_ID) - mine < 10 * MS ? "yes" : "no");

	/* A child computes 30 ms of its CPU clock; ended, it counts as our
	 * children's only once reaped. */
	getrusage(RUSAGE_CHILDREN, &before);
	times(&tb);
	pid_t pid = fork();
	if (pid == 0)
		_exit(spin_on(CLOCK_PROCESS_CPUTIME_ID, 30 * MS) ? 0 : 1);
	siginfo_t info;
	int status = -1;
	waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
	getrusage(RUSAGE_CHILDREN, &between);
	printf("busy child ended, not yet reaped: RUSAGE_CHILDREN unchanged: %s\n",
	       rusage_ns(&between) == rusage_ns(&before) ? "yes" : "no");
	memset(&ru, 0, sizeof(ru));
	pid_t waited = wait4(pid, &status, 0, &ru);
	printf("  wait4: %s, status %d\n", waited == pid ? "the child" : "?",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	getrusage(RUSAGE_CHILDREN, &after);
	times(&ta);
	printf("  wait4's rusage user+system >= 30 ms: %s\n", rusage_ns(&ru) >= 30 * MS ? "yes" : "no");
	printf("  RUSAGE_CHILDREN grew >= 30 ms: %s\n",
	       rusage_ns(&after) - rusage_ns(&before) >= 30 * MS ? "yes" : "no");
	printf("  times: tms_cutime + tms_cstime grew >= 2 ticks: %s\n",
	       (ta.tms_cutime + ta.tms_cstime) - (tb.tms_cutime + tb.tms_cstime) >= 2 ? "yes" : "no");
}

int main(int argc, char **argv, char **envp)
{
	if (argc > 3 && !strcmp(argv[1], "exec-child"))
		return exec_child(argc, argv, envp);
	if (argc > 1 && !strcmp(argv[1], "sink"))
		return sink();
	fork_wait();
	shared_descriptors();
	pipes();
	exec(argv[0]);
	pipe_to_exec();
	cycles();
	cpu_times();
	printf("procs: done\n");
	return 0;
}
