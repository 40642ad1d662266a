/*
 * Waiting for descriptors, differential: poll, ppoll, select, pselect
 * and epoll over pipes, a file and the terminal; timeouts, a writer that
 * comes later (a child), end of file and a reader gone, a signal that
 * interrupts a wait, the mask of ppoll, EPOLLONESHOT, timeouts too long
 * for 64 bits of nanoseconds, and the errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINTR) X(EINVAL) X(EBADF) X(EEXIST) X(ENOENT) X(EPERM)
#include "check.h"

static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
	(void)sig;
	signals++;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A child that writes a byte into fd after ms and ends. */
static pid_t write_later(int fd, long ms)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(ms);
		_exit(write(fd, "L", 1) == 1 ? 0 : 1);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		printf("child %d ended badly\n", (int)pid);
}

static void polls(void)
{
	int fds[2];
	char c;

	if (pipe(fds))
		return;
	struct pollfd pf[3] = { { fds[0], POLLIN, 0 }, { fds[1], POLLOUT, 0 }, { -1, POLLIN, 7 } };
	show("poll empty pipe", poll(pf, 3, 0));
	printf("  revents %x %x %x\n", pf[0].revents, pf[1].revents, pf[2].revents);
	long t0 = now_ms();
	show("poll read end, 50 ms", poll(pf, 1, 50));
	printf("  waited at least 50 ms: %d\n", now_ms() - t0 >= 49);
	if (write(fds[1], "ab", 2) != 2)
		printf("write failed\n");
	show("poll with bytes", poll(pf, 2, 0));
	printf("  revents %x %x\n", pf[0].revents, pf[1].revents);

	/* Blocked in poll until a child writes. */
	if (read(fds[0], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
		printf("read failed\n");
	pid_t pid = write_later(fds[1], 100);
	show("poll until a child writes", poll(pf, 1, -1));
	printf("  revents %x\n", pf[0].revents);
	reap(pid);
	if (read(fds[0], &c, 1) != 1)
		printf("read failed\n");

	/* A full pipe is not writable; a page read makes it so. */
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	static char page[4096];
	long total = 0;
	while (write(fds[1], page, sizeof(page)) > 0)
		total += sizeof(page);
	show("poll full pipe for writing", poll(&pf[1], 1, 0));
	if (read(fds[0], page, sizeof(page)) != sizeof(page))
		printf("read failed\n");
	show("after a page is read", poll(&pf[1], 1, 0));
	printf("  revents %x, held %ld\n", pf[1].revents, total);
	while (read(fds[0], page, sizeof(page)) == sizeof(page) && (total -= sizeof(page)) > 4096)
		;

	/* Ends closed. */
	close(fds[1]);
	show("read end, writer gone", poll(pf, 1, 0));
	printf("  revents %x\n", pf[0].revents);
	if (pipe(fds))
		return;
	close(fds[0]);
	pf[1].fd = fds[1];
	show("write end, reader gone", poll(&pf[1], 1, 0));
	printf("  revents %x\n", pf[1].revents);
	close(fds[1]);
	show("closed descriptor", poll(&pf[1], 1, 0));
	printf("  revents %x\n", pf[1].revents);

	/* A file is always ready; the terminal can be written. */
	int fd = open("/proc/self/exe", O_RDONLY);
	struct pollfd more[2] = { { fd, POLLIN | POLLOUT, 0 }, { 1, POLLOUT, 0 } };
	show("a file and the terminal", poll(more, 2, 0));
	printf("  revents %x %x\n", more[0].revents, more[1].revents);
	close(fd);

	/* A signal ends a wait with EINTR, even with SA_RESTART. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	if (pipe(fds))
		return;
	pf[0].fd = fds[0];
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	show("poll interrupted", poll(pf, 1, 5000));
	printf("  signals %d\n", signals);

	/* ppoll's mask lets a blocked signal in for the wait only. */
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1, empty, now;
	sigemptyset(&usr1);
	sigemptyset(&empty);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	struct timespec two = { 2, 0 };
	show("ppoll with an open mask", ppoll(pf, 1, &two, &empty));
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("  signals %d, blocked again %d\n", signals, sigismember(&now, SIGUSR1));
	reap(pid);
	struct timespec zero = { 0, 0 };
	show("ppoll timeout 0", ppoll(pf, 1, &zero, NULL));
	volatile nfds_t many = 100000;      /* more than RLIMIT_NOFILE */
	show("poll too many", poll(pf, many, 0));
	close(fds[0]);
	close(fds[1]);
}

/* Timeouts past what 64 bits of nanoseconds hold (2^62 s): no time
 * limit on Linux (its sum saturates); they wait for the writer that
 * comes 50 ms later, not return at once. */
static void huge_timeouts(void)
{
	int fds[2];
	char c;

	if (pipe(fds))
		return;
	struct pollfd pf = { fds[0], POLLIN, 0 };
	struct timespec ts = { 1L << 62, 0 };
	long t0 = now_ms();
	pid_t pid = write_later(fds[1], 50);
	show("ppoll 2^62 s, a writer after 50 ms", ppoll(&pf, 1, &ts, NULL));
	printf("  waited at least 50 ms: %d, revents %x\n", now_ms() - t0 >= 49, pf.revents);
	reap(pid);
	if (read(fds[0], &c, 1) != 1)
		printf("read failed\n");
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	struct timeval tv = { 1L << 62, 0 };
	t0 = now_ms();
	pid = write_later(fds[1], 50);
	show("select 2^62 s, a writer after 50 ms", select(fds[0] + 1, &rd, NULL, NULL, &tv));
	printf("  waited at least 50 ms: %d, set %d\n", now_ms() - t0 >= 49, FD_ISSET(fds[0], &rd));
	reap(pid);
	close(fds[0]);
	close(fds[1]);
}

static void selects(void)
{
	int fds[2];
	fd_set rd, wr;

	if (pipe(fds))
		return;
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	struct timeval tv = { 0, 50000 };
	long t0 = now_ms();
	show("select empty pipe, 50 ms", select(fds[0] + 1, &rd, NULL, NULL, &tv));
	printf("  waited at least 50 ms: %d, set %d\n", now_ms() - t0 >= 49, FD_ISSET(fds[0], &rd));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fds[0], &rd);
	FD_SET(fds[1], &wr);
	show("select for writing", select(fds[1] + 1, &rd, &wr, NULL, NULL));
	printf("  read %d write %d\n", FD_ISSET(fds[0], &rd), FD_ISSET(fds[1], &wr));
	pid_t pid = write_later(fds[1], 100);
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	show("select until a child writes", select(fds[0] + 1, &rd, NULL, NULL, NULL));
	printf("  read %d\n", FD_ISSET(fds[0], &rd));
	reap(pid);
	struct timespec ts = { 0, 0 };
	FD_ZERO(&rd);
	FD_SET(fds[0], &rd);
	sigset_t empty;
	sigemptyset(&empty);
	show("pselect", pselect(fds[0] + 1, &rd, NULL, NULL, &ts, &empty));
	close(fds[1]);
	FD_ZERO(&rd);
	FD_SET(fds[1], &rd);
	show("select closed descriptor", select(fds[1] + 1, &rd, NULL, NULL, &tv));
	close(fds[0]);
}

static void epolls(void)
{
	int fds[2];
	struct epoll_event ev, out[4];

	if (pipe(fds))
		return;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	printf("epoll_create1: %d, cloexec %d\n", ep >= 0, (fcntl(ep, F_GETFD) & FD_CLOEXEC) != 0);
	ev.events = EPOLLIN;
	ev.data.u64 = 42;
	show("add read end", epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev));
	show("add it again", epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev));
	show("wait, nothing", epoll_wait(ep, out, 4, 0));
	long t0 = now_ms();
	show("wait 50 ms", epoll_wait(ep, out, 4, 50));
	printf("  waited at least 50 ms: %d\n", now_ms() - t0 >= 49);
	pid_t pid = write_later(fds[1], 100);
	show("wait until a child writes", epoll_wait(ep, out, 4, -1));
	printf("  events %x data %llu\n", out[0].events, (unsigned long long)out[0].data.u64);
	reap(pid);
	ev.events = EPOLLOUT;
	ev.data.u64 = 7;
	show("add write end", epoll_ctl(ep, EPOLL_CTL_ADD, fds[1], &ev));
	show("wait, both", epoll_wait(ep, out, 4, 0));
	show("wait, one at most", epoll_wait(ep, out, 1, 0));
	ev.events = EPOLLOUT | EPOLLONESHOT;
	show("mod write end oneshot", epoll_ctl(ep, EPOLL_CTL_MOD, fds[1], &ev));
	show("del read end", epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL));
	show("del it again", epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL));
	show("oneshot, first", epoll_wait(ep, out, 4, 0));
	printf("  events %x data %llu\n", out[0].events, (unsigned long long)out[0].data.u64);
	show("oneshot, then", epoll_wait(ep, out, 4, 0));
	show("mod a missing one", epoll_ctl(ep, EPOLL_CTL_MOD, fds[0], &ev));

	/* The writer closed: the read end reports its bytes and a hang-up. */
	ev.events = EPOLLIN;
	ev.data.u64 = 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
	close(fds[1]);
	show("writer gone", epoll_wait(ep, out, 4, 0));
	printf("  events %x\n", out[0].events);
	/* A closed descriptor's watch goes with it. */
	close(fds[0]);
	show("closed ones gone", epoll_wait(ep, out, 4, 0));

	/* Errors. */
	int file = open("/proc/self/exe", O_RDONLY);
	show("add a regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
	show("not an epoll", epoll_ctl(file, EPOLL_CTL_ADD, 1, &ev));
	show("bad epoll descriptor", epoll_wait(1000, out, 4, 0));
	show("maxevents 0", epoll_wait(ep, out, 0, 0));
	show("bad op", epoll_ctl(ep, 99, 1, &ev));
	show("epoll_create1 bad flags", epoll_create1(1));
	show("epoll_create 0", epoll_create(0));
	close(file);

	/* epoll_pwait interrupted. */
	if (pipe(fds))
		return;
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
	sigset_t empty;
	sigemptyset(&empty);
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	show("epoll_pwait interrupted", epoll_pwait(ep, out, 4, 5000, &empty));
	printf("  signals %d\n", signals);
	close(fds[0]);
	close(fds[1]);
	close(ep);
}

int main(void)
{
	polls();
	selects();
	huge_timeouts();
	epolls();
	return 0;
}
