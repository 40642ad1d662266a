/*
 * What busybox's renice, ionice, dmesg, uptime and hostname ask of the
 * system, one line per check, the same on Linux and on Mica
 * (tests/system/test_posix.py compares them): nice values
 * (getpriority, setpriority, nice; the raw call's 20 - nice; inherited by
 * fork), I/O priorities (ioprio_get, ioprio_set), the scheduling policy
 * queries and changes (sched_setscheduler, sched_setparam,
 * sched_rr_get_interval; SCHED_RESET_ON_FORK across fork), the kernel log's call (klogctl: its argument checks; what it
 * holds differs), /proc/loadavg's shape, the host name (uname, gethostname,
 * /etc/hostname; sethostname's and setdomainname's argument checks, which
 * change nothing). The test first becomes a process group of its own,
 * whose nice values it changes (never the host's other processes').
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(ESRCH) X(EFAULT) X(EPERM) X(EACCES)
#include "check.h"

#define NOBODY 0x7ffffff0       /* a pid no process has */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP    2
#define IOPRIO(class, level) ((class) << 13 | (level))

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static long ioprio_get(int which, int who)
{
	return syscall(SYS_ioprio_get, which, who);
}

static long ioprio_set(int which, int who, int prio)
{
	return syscall(SYS_ioprio_set, which, who, prio);
}

static void nice_values(void)
{
	int status;

	errno = 0;
	report("getpriority", getpriority(PRIO_PROCESS, 0));
	report("getpriority, the raw call", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	report("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
	report("getpriority", getpriority(PRIO_PROCESS, 0));
	report("getpriority of my pid, raw", syscall(SYS_getpriority, PRIO_PROCESS, getpid()));
	report("nice(3)", nice(3));
	pid_t pid = fork();
	if (pid == 0) {
		errno = 0;
		printf("child: getpriority %d\n", getpriority(PRIO_PROCESS, 0));
		setpriority(PRIO_PROCESS, 0, 12);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	report("after the child's setpriority 12, mine", getpriority(PRIO_PROCESS, 0));
	report("setpriority 100", setpriority(PRIO_PROCESS, 0, 100));
	report("getpriority", getpriority(PRIO_PROCESS, 0));
	report("setpriority -100", setpriority(PRIO_PROCESS, 0, -100));
	report("getpriority", getpriority(PRIO_PROCESS, 0));
	report("setpriority of my group 4", setpriority(PRIO_PGRP, 0, 4));
	report("getpriority of my group, raw", syscall(SYS_getpriority, PRIO_PGRP, getpgrp()));
	report("getpriority, which 3", syscall(SYS_getpriority, 3, 0));
	report("setpriority, which -1", setpriority(-1, 0, 0));
	report("getpriority of nobody", syscall(SYS_getpriority, PRIO_PROCESS, NOBODY));
	report("setpriority of nobody", setpriority(PRIO_PROCESS, NOBODY, 1));
	report("getpriority of a user with no process", syscall(SYS_getpriority, PRIO_USER, 54321));
	report("setpriority 0", setpriority(PRIO_PROCESS, 0, 0));
}

static void io_priorities(void)
{
	int status;

	report("ioprio_get, none set", ioprio_get(IOPRIO_WHO_PROCESS, 0));
	report("ioprio_set best effort 4", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 4)));
	report("ioprio_get", ioprio_get(IOPRIO_WHO_PROCESS, 0));
	report("ioprio_set idle", ioprio_set(IOPRIO_WHO_PROCESS, getpid(), IOPRIO(3, 0)));
	report("ioprio_get", ioprio_get(IOPRIO_WHO_PROCESS, getpid()));
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: ioprio_get %ld\n", ioprio_get(IOPRIO_WHO_PROCESS, 0));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	report("ioprio_set real time 0", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(1, 0)));
	report("ioprio_get of my group", ioprio_get(IOPRIO_WHO_PGRP, 0));
	report("ioprio_set class 4", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(4, 0)));
	report("ioprio_set class none, level 1", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(0, 1)));
	report("ioprio_set, which 9", ioprio_set(9, 0, IOPRIO(2, 0)));
	report("ioprio_get, which 0", ioprio_get(0, 0));
	report("ioprio_set of nobody", ioprio_set(IOPRIO_WHO_PROCESS, NOBODY, IOPRIO(2, 0)));
	report("ioprio_get of nobody", ioprio_get(IOPRIO_WHO_PROCESS, NOBODY));
	report("ioprio_set best effort 7", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 7)));
	report("ioprio_get", ioprio_get(IOPRIO_WHO_PROCESS, 0));
}

/* The raw calls: musl's sched_getscheduler and sched_getparam answer
 * ENOSYS without asking the kernel. */
static void scheduling(void)
{
	struct sched_param sp = { .sched_priority = 7 };

	report("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
	report("sched_getscheduler of my pid", syscall(SYS_sched_getscheduler, getpid()));
	report("sched_getparam", syscall(SYS_sched_getparam, 0, &sp));
	printf("priority %d\n", sp.sched_priority);
	report("sched_getscheduler -1", syscall(SYS_sched_getscheduler, -1));
	report("sched_getscheduler of nobody", syscall(SYS_sched_getscheduler, NOBODY));
	report("sched_getparam of nobody", syscall(SYS_sched_getparam, NOBODY, &sp));
	report("sched_getparam NULL", syscall(SYS_sched_getparam, 0, NULL));
	report("max SCHED_FIFO", sched_get_priority_max(SCHED_FIFO));
	report("min SCHED_RR", sched_get_priority_min(SCHED_RR));
	report("max SCHED_OTHER", sched_get_priority_max(SCHED_OTHER));
	report("min SCHED_IDLE", sched_get_priority_min(SCHED_IDLE));
	report("max of policy 77", sched_get_priority_max(77));
}

/* The raw calls again (musl's wrappers of these answer ENOSYS): each
 * policy set and read back, the priorities each takes, the errors in
 * Linux's order, what a fork's child gets with and without
 * SCHED_RESET_ON_FORK; back to SCHED_OTHER at the end. */
static long set_policy(pid_t pid, int policy, int priority)
{
	struct sched_param sp = { .sched_priority = priority };

	return syscall(SYS_sched_setscheduler, pid, policy, &sp);
}

static long set_param(pid_t pid, int priority)
{
	struct sched_param sp = { .sched_priority = priority };

	return syscall(SYS_sched_setparam, pid, &sp);
}

static void show_policy(const char *what)
{
	struct sched_param sp = { .sched_priority = -1 };

	syscall(SYS_sched_getparam, 0, &sp);
	printf("%s: policy %#lx, priority %d\n", what, syscall(SYS_sched_getscheduler, 0),
	       sp.sched_priority);
}

static void policies(void)
{
	struct timespec ts;
	int status;

	report("setscheduler SCHED_BATCH", set_policy(0, SCHED_BATCH, 0));
	show_policy("batch");
	report("setscheduler SCHED_IDLE", set_policy(getpid(), SCHED_IDLE, 0));
	show_policy("idle");
	report("setscheduler SCHED_FIFO 10", set_policy(0, SCHED_FIFO, 10));
	show_policy("fifo");
	report("sched_rr_get_interval, FIFO", syscall(SYS_sched_rr_get_interval, 0, &ts));
	printf("FIFO slice %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	report("setparam 3", set_param(0, 3));
	show_policy("fifo 3");
	report("setparam 0 under FIFO", set_param(0, 0));
	report("setparam 100", set_param(0, 100));
	report("setparam NULL", syscall(SYS_sched_setparam, 0, NULL));
	report("setparam, a bad pointer", syscall(SYS_sched_setparam, 0, (void *)8));
	report("setparam of nobody", set_param(NOBODY, 3));
	report("setparam pid -1", set_param(-1, 3));
	report("setscheduler SCHED_RR 0", set_policy(0, SCHED_RR, 0));
	report("setscheduler SCHED_OTHER 5", set_policy(0, SCHED_OTHER, 5));
	report("setscheduler SCHED_RR -1", set_policy(0, SCHED_RR, -1));
	report("setscheduler policy 4", set_policy(0, 4, 0));
	report("setscheduler SCHED_DEADLINE", set_policy(0, 6, 0));
	report("setscheduler policy -1", set_policy(0, -1, 0));
	report("setscheduler NULL", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
	report("setscheduler, a bad pointer", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
	report("setscheduler of nobody", set_policy(NOBODY, SCHED_OTHER, 0));
	show_policy("unchanged");
	report("setscheduler SCHED_RR 5", set_policy(0, SCHED_RR, 5));
	report("sched_rr_get_interval, RR", syscall(SYS_sched_rr_get_interval, 0, &ts));
	printf("RR slice %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	report("sched_rr_get_interval of nobody", syscall(SYS_sched_rr_get_interval, NOBODY, &ts));
	report("sched_rr_get_interval -1", syscall(SYS_sched_rr_get_interval, -1, &ts));
	report("sched_rr_get_interval, a bad pointer", syscall(SYS_sched_rr_get_interval, 0, (void *)8));
	pid_t pid = fork();
	if (pid == 0) {
		show_policy("child");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	report("setscheduler SCHED_RR 5, reset on fork", set_policy(0, SCHED_RR | 0x40000000, 5));
	show_policy("reset on fork");
	pid = fork();
	if (pid == 0) {
		show_policy("child of reset on fork");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	report("setparam 7 keeps reset on fork", set_param(0, 7));
	show_policy("setparam 7");
	report("setscheduler SCHED_OTHER", set_policy(0, SCHED_OTHER, 0));
	show_policy("other");
	/* Linux's EEVDF: its base slice in whole jiffies, 0 at HZ 250. */
	memset(&ts, 0xff, sizeof(ts));
	report("sched_rr_get_interval, OTHER", syscall(SYS_sched_rr_get_interval, 0, &ts));
	printf("OTHER slice %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	report("setscheduler SCHED_BATCH", set_policy(0, SCHED_BATCH, 0));
	memset(&ts, 0xff, sizeof(ts));
	report("sched_rr_get_interval, BATCH", syscall(SYS_sched_rr_get_interval, 0, &ts));
	printf("BATCH slice %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
	report("setscheduler SCHED_OTHER", set_policy(0, SCHED_OTHER, 0));
}

/* klogctl's checks; never CLEAR or a console change (the host's log). */
static void kernel_log(void)
{
	static char buf[1 << 16];

	report("klogctl close", klogctl(0, NULL, 0));
	report("klogctl open", klogctl(1, NULL, 0));
	report("klogctl 99", klogctl(99, NULL, 0));
	report("klogctl read all, NULL", klogctl(3, NULL, 10));
	report("klogctl read all, length -1", klogctl(3, buf, -1));
	report("klogctl read all, length 0", klogctl(3, buf, 0));
	report("klogctl read, NULL", klogctl(2, NULL, 10));
	report("klogctl read all, past user space",
	       klogctl(3, (char *)(1UL << 47) - 16, 4096));
	int n = klogctl(3, buf, sizeof(buf));
	printf("klogctl read all: %s\n", yes(n >= 0));
	printf("klogctl size of the buffer: %s\n", yes(klogctl(10, NULL, 0) > 0));
	printf("klogctl size unread: %s\n", yes(klogctl(9, NULL, 0) >= 0));
	report("klogctl console level 0", klogctl(8, NULL, 0));
	report("klogctl console level 9", klogctl(8, NULL, 9));
}

static void load_average(void)
{
	double avg[3];
	int running = 0, total = 0, last = 0;
	FILE *f = fopen("/proc/loadavg", "r");
	int n = f ? fscanf(f, "%lf %lf %lf %d/%d %d", &avg[0], &avg[1], &avg[2], &running,
			   &total, &last) : -1;

	if (f)
		fclose(f);
	printf("loadavg: %d fields, averages >= 0 %s, running %s, last pid %s\n", n,
	       yes(avg[0] >= 0 && avg[1] >= 0 && avg[2] >= 0),
	       yes(running >= 1 && running <= total), yes(last >= getpid()));
}

static void host_names(void)
{
	struct utsname u;
	char name[128] = { 0 }, file[128] = { 0 };

	uname(&u);
	gethostname(name, sizeof(name));
	FILE *f = fopen("/etc/hostname", "r");
	if (!f || fscanf(f, "%127s", file) != 1)
		strcpy(file, "(none)");
	if (f)
		fclose(f);
	printf("nodename is gethostname's: %s, /etc/hostname's: %s\n",
	       yes(!strcmp(u.nodename, name)), yes(!strcmp(u.nodename, file)));
	report("sethostname, 65 bytes", sethostname(name, 65));
	report("sethostname, length -1", syscall(SYS_sethostname, name, -1));
	report("sethostname, a bad pointer", syscall(SYS_sethostname, (char *)8, 4));
	report("setdomainname, 65 bytes", setdomainname(name, 65));
	report("setdomainname, a bad pointer", syscall(SYS_setdomainname, (char *)8, 4));
	uname(&u);
	printf("nodename unchanged: %s\n", yes(!strcmp(u.nodename, name)));
}

/* `prio loadavg` (Mica only: a host's load is everybody's): a child
 * computes for 12 s while nobody reads the load averages, then ends;
 * read after, the 1-minute average rose (two or more of the samples
 * taken every 5 s saw it; sampled only when read, as it was, the
 * average would have seen nothing run). */
static double load_one_minute(void)
{
	double avg = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &avg) != 1)
			avg = -1;
		fclose(f);
	}
	return avg;
}

static int load_rises(void)
{
	double before = load_one_minute();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec start, now;
		clock_gettime(CLOCK_MONOTONIC, &start);
		do
			clock_gettime(CLOCK_MONOTONIC, &now);
		while (now.tv_sec - start.tv_sec < 12);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	double after = load_one_minute();
	printf("load rose while a child computed: %s (%.2f, then %.2f)\n",
	       yes(before >= 0 && after >= before + 0.1), before, after);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "loadavg"))
		return load_rises();
	if (getpgrp() != getpid())      /* (on Mica it leads its session and group already) */
		setpgid(0, 0);
	printf("a process group of its own: %s\n", yes(getpgrp() == getpid()));
	nice_values();
	io_priorities();
	scheduling();
	policies();
	kernel_log();
	load_average();
	host_names();
	printf("prio: done\n");
	return 0;
}
