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
 * it made.
 * The server must answer each with an error or a result and carry on.
 * Its standard descriptors are made such that no read of them waits for
 * ever (a read of the console waits for a key): 0 is /dev/null, 1 and 2
 * the console for writing only.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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
	       nr == SYS_timerfd_create || nr == SYS_syslog;
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
	return 0;
}
