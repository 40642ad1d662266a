/*
 * The vDSO and the clocks, differential (man 7 vdso, clock_gettime(2),
 * clock_getres(2), gettimeofday(2), time(2), clock_getcpuclockid(3)):
 * AT_SYSINFO_EHDR names an ELF image; libc's clock_gettime (through the
 * vDSO where libc uses one) lies between system-call readings of the same
 * clock taken around it, for every clock read in user space, in a forked
 * child too; gettimeofday and time agree with CLOCK_REALTIME; the
 * resolutions (1 ns, a tick for the COARSE clocks; libc's and the system
 * call's the same, NULL accepted, EINVAL for an unknown clock);
 * clock_getcpuclockid of the process itself, and ESRCH for a pid that
 * does not exist. Only what is the same on both systems is printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct { clockid_t id; const char *name; } clocks[] = {
	{ CLOCK_REALTIME, "REALTIME" }, { CLOCK_MONOTONIC, "MONOTONIC" },
	{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" }, { CLOCK_REALTIME_COARSE, "REALTIME_COARSE" },
	{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" }, { CLOCK_BOOTTIME, "BOOTTIME" },
};
#define NCLOCKS (sizeof(clocks) / sizeof(clocks[0]))

static int64_t ns_of(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t sys_now(clockid_t id)
{
	struct timespec ts = { 0, 0 };

	syscall(SYS_clock_gettime, id, &ts);
	return ns_of(ts);
}

/* 300 libc readings, each between system-call readings around it. */
static const char *libc_between_syscalls(clockid_t id)
{
	for (int i = 0; i < 300; i++) {
		struct timespec ts;
		int64_t before = sys_now(id);
		if (clock_gettime(id, &ts) != 0)
			return "clock_gettime failed";
		int64_t after = sys_now(id);
		if (ns_of(ts) < before)
			return "earlier than the system call before it";
		if (ns_of(ts) > after)
			return "later than the system call after it";
		if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return "nanoseconds out of range";
	}
	return "yes";
}

static void clocks_in_order(const char *who)
{
	for (unsigned i = 0; i < NCLOCKS; i++)
		printf("%s: clock_gettime(%s) between system calls: %s\n", who, clocks[i].name,
		       libc_between_syscalls(clocks[i].id));
}

static void realtime_agrees(void)
{
	const char *tod = "yes", *t = "yes";

	for (int i = 0; i < 300; i++) {
		struct timeval tv;
		int64_t before = sys_now(CLOCK_REALTIME);
		if (gettimeofday(&tv, NULL) != 0)
			tod = "gettimeofday failed";
		int64_t mid = (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
		int64_t after = sys_now(CLOCK_REALTIME);
		if (mid < before / 1000 * 1000 || mid > after || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			tod = "out of order";
		/* Linux's time() is the last tick's second: it may lag
		 * CLOCK_REALTIME by up to a tick, never lead it. */
		time_t secs = time(NULL);
		int64_t after2 = sys_now(CLOCK_REALTIME);
		if (secs > after2 / 1000000000 || secs < before / 1000000000 - 1)
			t = "out of order";
	}
	struct timezone tz = { 99, 99 };
	struct timeval tv;
	printf("gettimeofday between clock_gettime(REALTIME) readings: %s\n", tod);
	int r = gettimeofday(&tv, &tz);
	/* musl's leaves tz as it was; glibc's gives UTC. */
	printf("gettimeofday with a timezone: %d, minutes west %d, DST %d\n", r, tz.tz_minuteswest,
	       tz.tz_dsttime);
	printf("time between clock_gettime(REALTIME) readings: %s\n", t);
}

static void resolutions(void)
{
	const struct { clockid_t id; const char *name; } all[] = {
		{ CLOCK_REALTIME, "REALTIME" }, { CLOCK_MONOTONIC, "MONOTONIC" },
		{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" }, { CLOCK_BOOTTIME, "BOOTTIME" },
		{ CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME_ID" },
		{ CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME_ID" },
	};
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct timespec res = { -1, -1 }, sys = { -2, -2 };
		int r = clock_getres(all[i].id, &res);
		long s = syscall(SYS_clock_getres, all[i].id, &sys);
		printf("clock_getres(%s): %d %lld.%09ld, system call the same: %d\n", all[i].name, r,
		       (long long)res.tv_sec, res.tv_nsec,
		       s == 0 && sys.tv_sec == res.tv_sec && sys.tv_nsec == res.tv_nsec);
	}
	const clockid_t coarse[] = { CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE };
	for (unsigned i = 0; i < 2; i++) {
		struct timespec res = { -1, -1 }, sys = { -2, -2 };
		int r = clock_getres(coarse[i], &res);
		long s = syscall(SYS_clock_getres, coarse[i], &sys);
		/* A tick: HZ is 100 to 1000. */
		printf("clock_getres(%s): %d, a tick: %d, system call the same: %d\n",
		       coarse[i] == CLOCK_REALTIME_COARSE ? "REALTIME_COARSE" : "MONOTONIC_COARSE", r,
		       res.tv_sec == 0 && res.tv_nsec >= 1000000 && res.tv_nsec <= 10000000,
		       s == 0 && sys.tv_sec == res.tv_sec && sys.tv_nsec == res.tv_nsec);
	}
	errno = 0;
	printf("clock_getres(MONOTONIC, NULL): %d\n", clock_getres(CLOCK_MONOTONIC, NULL));
	printf("clock_getres(PROCESS_CPUTIME_ID, NULL): %d\n",
	       clock_getres(CLOCK_PROCESS_CPUTIME_ID, NULL));
	struct timespec res;
	errno = 0;
	int r = clock_getres(12345, &res);
	printf("clock_getres(12345): %d %s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
}

static void cpu_clock_ids(void)
{
	clockid_t id;
	struct timespec ts = { 0, 0 };
	int r = clock_getcpuclockid(getpid(), &id);

	printf("clock_getcpuclockid(getpid()): %d\n", r);
	if (r == 0) {
		volatile unsigned long spin = 0;
		for (unsigned long i = 0; i < 1000000; i++)
			spin += i;
		r = clock_gettime(id, &ts);
		printf("its clock reads: %d, above zero: %d\n", r, ts.tv_sec > 0 || ts.tv_nsec > 0);
		struct timespec res = { -1, -1 };
		r = clock_getres(id, &res);
		printf("its resolution: %d %lld.%09ld\n", r, (long long)res.tv_sec, res.tv_nsec);
	}
	r = clock_getcpuclockid(0x3ffffff0, &id);
	printf("clock_getcpuclockid(no such pid): %s\n", r == ESRCH ? "ESRCH" : strerror(r));
}

int main(void)
{
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);

	printf("AT_SYSINFO_EHDR present: %d\n", ehdr != 0);
	printf("an ELF image there: %d\n", ehdr && memcmp((const void *)ehdr, "\177ELF", 4) == 0);
	clocks_in_order("parent");
	realtime_agrees();
	resolutions();
	cpu_clock_ids();
	printf("sched_getcpu works: %d\n", sched_getcpu() >= 0);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		printf("child: AT_SYSINFO_EHDR the same: %d\n", getauxval(AT_SYSINFO_EHDR) == ehdr);
		clocks_in_order("child");
		fflush(stdout);
		_exit(0);
	}
	int status = 0;
	waitpid(child, &status, 0);
	printf("child exited: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
