/*
 * A hostile process, for Mica only (never run on the host: its calls
 * would act on the host): `hostile N SEED` makes N system calls with
 * random numbers and random arguments — bad pointers, bad descriptors,
 * numbers nobody has. It leaves out the calls that would end it or take
 * away its own memory or thread pointer (exit, exit_group, mmap, munmap,
 * mprotect, mremap, brk, arch_prctl) or make another process or replace
 * it (fork, vfork, clone, clone3, execve, execveat), send signals, catch
 * them or return from a handler (kill, tkill, tgkill, rt_sigaction,
 * rt_sigreturn, alarm, setitimer, timer_create: its timers send
 * SIGALRM) or may wait for ever (pause,
 * rt_sigsuspend, rt_sigtimedwait, nanosleep, clock_nanosleep, poll, ppoll, select,
 * pselect6, epoll_wait, epoll_pwait; and socket, whose sockets a read,
 * accept or connect would wait on for ever: the other socket calls meet
 * bad descriptors; and eventfd, eventfd2, timerfd_create, whose counter
 * or timer a read would wait on for ever; syslog, whose READ waits for a
 * line of the kernel log, which never comes), so it lives to say how many
 * it made. Nor does it set the system's names or clock, which the
 * programs after it would see (a host name of 0 bytes is a valid one).
 * The server must answer each with an error or a result and carry on.
 * Its standard descriptors are made such that no read of them waits for
 * ever (a read of the console waits for a key): 0 is /dev/null, 1 and 2
 * the console for writing only.
 *
 * `hostile N SEED CHILDREN` first forks CHILDREN children one after the
 * other, each killed after a second if it has not ended: each makes N/10
 * calls of nearly any number — the memory calls, rt_sigreturn, the poll
 * family, sleeps, socket, eventfd, the timers too — with arguments that
 * are also descriptors it has made (pipes, AF_UNIX stream and datagram
 * pairs, an eventfd, an epoll, a timerfd, a netlink socket), pointers
 * into 64 KiB of garbage and pointers just before a PROT_NONE page (a
 * copy that faults part way; one call in eight a read, write, send or
 * receive on one of its descriptors of a buffer that runs into it).
 * Left out: what ends it on purpose or makes processes (a grandchild
 * would outlive the kill), signals others (its parent) or sets the
 * system's names, clock or log, which the programs after it would see.
 * A child's standard descriptors are /dev/null, its directory the
 * read-only root, so that it writes nothing to the console and leaves no
 * file behind: the server's memory in use must be the same after the
 * program as before (tests/system/test_posix.py reads its memory log).
 */
#include <fcntl.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t state;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/* An argument: a small number, a small address, or any 64 bits. */
static long argument(void)
{
	switch (next() % 4) {
	case 0: return (long)(next() % 5);
	case 1: return (long)(next() % 0x10000);
	default: return (long)next();
	}
}

/* The system's names, clock and log: the programs after it would see
 * them changed (a host name of 0 bytes is a valid one). */
static int system_wide(long nr)
{
	return nr == SYS_sethostname || nr == SYS_setdomainname || nr == SYS_settimeofday ||
	       nr == SYS_clock_settime || nr == SYS_clock_adjtime || nr == SYS_adjtimex ||
	       nr == SYS_syslog || nr == SYS_reboot;
}

static int spared(long nr)
{
	return nr == SYS_exit || nr == SYS_exit_group || nr == SYS_mmap || nr == SYS_munmap ||
	       nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_brk || nr == SYS_arch_prctl ||
	       nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3 ||
	       nr == SYS_execve || nr == SYS_execveat || nr == SYS_kill || nr == SYS_tkill ||
	       nr == SYS_tgkill || nr == SYS_rt_sigaction || nr == SYS_rt_sigreturn ||
	       nr == SYS_alarm || nr == SYS_setitimer || nr == SYS_pause || nr == SYS_rt_sigsuspend ||
	       nr == SYS_nanosleep || nr == SYS_clock_nanosleep || nr == SYS_poll ||
	       nr == SYS_ppoll || nr == SYS_select || nr == SYS_pselect6 || nr == SYS_epoll_wait ||
	       nr == SYS_epoll_pwait || nr == SYS_socket || nr == SYS_eventfd ||
	       nr == SYS_eventfd2 || nr == SYS_timer_create || nr == SYS_rt_sigtimedwait ||
	       nr == SYS_timerfd_create || system_wide(nr);
}

/* ---- the children: nearly every call, arguments that reach further ---- */

#define ARENA (64 * 1024)
static uint8_t *arena;          /* garbage, and pointers into it */
static uint8_t *edge;           /* a page just before a PROT_NONE one */

static long child_argument(void)
{
	switch (next() % 8) {
	case 0: return (long)(next() % 5);
	case 1: return (long)(next() % 0x10000);
	case 2: case 3: return (long)(arena + next() % ARENA);
	case 4: return (long)(edge + 4096 - next() % 4096);     /* faults part way */
	case 5: return (long)(next() % 16);                     /* a descriptor */
	case 6: return -(long)(next() % 8);
	default: return (long)next();
	}
}

static int child_spared(long nr)
{
	return nr == SYS_exit || nr == SYS_exit_group || nr == SYS_fork || nr == SYS_vfork ||
	       nr == SYS_clone || nr == SYS_clone3 || nr == SYS_execve || nr == SYS_execveat ||
	       nr == SYS_kill || nr == SYS_tkill || nr == SYS_tgkill || nr == SYS_rt_sigqueueinfo ||
	       nr == SYS_rt_tgsigqueueinfo || nr == SYS_pidfd_send_signal ||
	       nr == SYS_pidfd_open || nr == SYS_ptrace || nr == SYS_process_vm_writev ||
	       system_wide(nr) || (nr == SYS_rt_sigreturn && next() % 8);  /* an end, mostly: now and then */
}

static void child(long count)
{
	int null = open("/dev/null", O_RDWR), fds[2];

	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (chdir("/") < 0)
		_exit(2);
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	edge = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED || edge == MAP_FAILED || mprotect(edge + 4096, 4096, PROT_NONE))
		_exit(2);
	for (unsigned i = 0; i < ARENA / 8; i++) {
		uint64_t v = next();
		((uint64_t *)arena)[i] = v % 4 ? v : (uint64_t)(arena + v % ARENA);
	}
	memset(edge, 'e', 4096);
	if (pipe(fds) || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, fds))
		_exit(2);
	eventfd(1, 0);
	epoll_create1(0);
	timerfd_create(CLOCK_MONOTONIC, 0);
	socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	static const long io[] = { SYS_write, SYS_read, SYS_sendto, SYS_recvfrom, SYS_pwrite64,
				   SYS_pread64 };
	for (long made = 0; made < count; made++) {
		long nr = next() % 8 ? (long)(next() % 460) : (long)next();
		if (child_spared(nr))
			continue;
		long a = child_argument(), b = child_argument(), c = child_argument(),
		     d = child_argument(), e = child_argument(), f = child_argument();
		if (next() % 8 == 0) {
			/* One of its descriptors, a buffer that runs into the
			 * PROT_NONE page: the copy faults part way. */
			nr = io[next() % (sizeof(io) / sizeof(io[0]))];
			a = 3 + (long)(next() % 10);
			uint64_t start = 1 + next() % 4096;
			b = (long)(edge + 4096 - start);
			c = (long)(start + 1 + next() % 8192);
			d = MSG_DONTWAIT;
			e = f = 0;
		}
		syscall(nr, a, b, c, d, e, f);
	}
	_exit(0);
}

/* The children one after the other: how many ended by themselves
 * (exited or by a signal), how many were killed at their deadline. */
static void children(long n, long count, long *ended, long *killed)
{
	*ended = *killed = 0;
	for (long i = 0; i < n; i++) {
		next();
		pid_t pid = fork();
		if (pid < 0)
			return;
		if (pid == 0)
			child(count);
		int status;
		pid_t w = 0;
		for (int ms = 0; ms < 1000 && (w = waitpid(pid, &status, WNOHANG)) == 0; ms += 10) {
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, NULL);
		}
		if (w == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			++*killed;
		} else {
			++*ended;
		}
	}
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 10000, made = 0, errors = 0;

	int null = open("/dev/null", O_RDONLY), out = open("/dev/console", O_WRONLY);
	if (null < 0 || out < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		return 2;
	close(null);
	close(out);
	state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x9E3779B97F4A7C15ULL;
	if (!state)
		state = 1;
	/* The children first, while its own state is as it started. */
	long n = argc > 3 ? atol(argv[3]) : 0, ended = 0, killed = 0;
	if (n > 0)
		children(n, count / 10, &ended, &killed);
	while (made < count) {
		long nr = next() % 8 ? (long)(next() % 460) : (long)next();
		if (spared(nr))
			continue;
		long a = argument(), b = argument(), c = argument(), d = argument(), e = argument(),
		     f = argument();
		errors += syscall(nr, a, b, c, d, e, f) < 0;
		made++;
	}
	/* Its random calls may have closed or replaced its descriptors and
	 * lowered its descriptor limit: the line goes to the console anew. */
	struct rlimit limit = { 1024, 1024 };
	setrlimit(RLIMIT_NOFILE, &limit);
	int fd = open("/dev/console", O_WRONLY);
	dprintf(fd, "hostile: %ld calls made, %s\n", made, errors ? "errors returned" : "no errors");
	if (n > 0)
		dprintf(fd, "hostile: %ld children, each ended or killed: %s\n", n,
			ended + killed == n ? "yes" : "no");
	return 0;
}
