/*
 * eventfd, differential (Linux's eventfd(2)): the counter's reads and
 * writes (8 bytes each; a read takes the whole count, or 1 with
 * EFD_SEMAPHORE), EFD_NONBLOCK's EAGAIN for a read of 0 and a write
 * past 2^64 - 2, EFD_CLOEXEC, the errors (short buffers, a write of
 * 2^64 - 1, unknown flags, lseek), a read that waits for a child's
 * write, a write that waits for a child's read (the count full), the
 * counter shared with a forked child, and poll, select and epoll on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN) X(EINVAL) X(EBADF) X(ESPIPE) X(EFAULT)
#include "check.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static long rd(int fd, uint64_t *v)
{
	*v = 0;
	return read(fd, v, sizeof(*v));
}

static long wr(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v));
}

static unsigned polled(int fd)
{
	struct pollfd p = { fd, POLLIN | POLLOUT, 0 };

	return poll(&p, 1, 0) < 0 ? 0xFFFF : (unsigned)p.revents;
}

static void counter(void)
{
	uint64_t v;
	int fd = eventfd(5, 0);

	show("eventfd(5, 0)", fd >= 0 ? 0 : -1);
	show("read the count", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	show("write 3", wr(fd, 3));
	show("write 4", wr(fd, 4));
	show("read", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	char big[16];
	show("write 0", wr(fd, 0));
	show("write 2", wr(fd, 2));
	show("read 16 bytes", read(fd, big, sizeof(big)));
	printf("  value %llu\n", (unsigned long long)*(uint64_t *)big);
	show("read 4 bytes", read(fd, big, 4));
	show("write 4 bytes", write(fd, big, 4));
	show("write 2^64-1", wr(fd, UINT64_MAX));
	show("lseek", lseek(fd, 0, SEEK_SET));
	show("pread", pread(fd, big, 8, 0));
	/* Linux takes the count, then finds the pointer bad: it is gone. */
	void *volatile bad = (void *)8;
	show("read to a bad pointer", (wr(fd, 1), read(fd, bad, 8)));
	show("write 4", wr(fd, 4));
	show("read what is left", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	close(fd);
}

static void semaphore(void)
{
	uint64_t v;
	int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);

	for (int i = 0; i < 4; i++) {
		show("semaphore read", rd(fd, &v));
		printf("  value %llu\n", (unsigned long long)v);
	}
	show("write 2", wr(fd, 2));
	show("semaphore read", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	close(fd);
}

static void flags(void)
{
	uint64_t v;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	printf("O_NONBLOCK %d FD_CLOEXEC %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0,
	       fcntl(fd, F_GETFD) & FD_CLOEXEC);
	show("read of 0, non-blocking", rd(fd, &v));
	show("write 2^64-2", wr(fd, UINT64_MAX - 1));
	printf("poll full: in %d out %d\n", (polled(fd) & POLLIN) != 0, (polled(fd) & POLLOUT) != 0);
	show("write 1 more, non-blocking", wr(fd, 1));
	show("write 0 still", wr(fd, 0));
	show("read", rd(fd, &v));
	printf("  value is 2^64-2: %d\n", v == UINT64_MAX - 1);
	printf("poll empty: in %d out %d\n", (polled(fd) & POLLIN) != 0, (polled(fd) & POLLOUT) != 0);
	close(fd);
	fd = eventfd(0, 0);
	printf("plain: O_NONBLOCK %d FD_CLOEXEC %d\n", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0,
	       fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	errno = 0;
	show("eventfd with a bad flag", eventfd(0, 0x100));
	fd = (int)syscall(SYS_eventfd, 7);
	show("SYS_eventfd(7)", fd >= 0 ? 0 : -1);
	show("read", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	close(fd);
	show("read of a closed one", rd(fd, &v));
}

static void waits(void)
{
	uint64_t v;
	int fd = eventfd(0, 0);
	pid_t pid = fork();

	if (pid == 0) {
		sleep_ms(100);
		wr(fd, 42);
		_exit(0);
	}
	show("read waits for the child's write", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	waitpid(pid, NULL, 0);

	show("write 2^64-2", wr(fd, UINT64_MAX - 1));
	pid = fork();
	if (pid == 0) {
		uint64_t got;
		sleep_ms(100);
		rd(fd, &got);
		_exit(got == UINT64_MAX - 1 ? 7 : 8);
	}
	show("write waits for the child's read", wr(fd, 5));
	int status = 0;
	waitpid(pid, &status, 0);
	printf("child read the full count: status %d\n", WEXITSTATUS(status));
	show("read", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	close(fd);
}

static void readiness(void)
{
	int fd = eventfd(0, EFD_NONBLOCK), ep = epoll_create1(0);
	struct epoll_event ev = { EPOLLIN, { .u64 = 77 } }, out[2];
	fd_set rs, ws;
	struct timeval tv = { 0, 0 };

	printf("poll at 0: %#x\n", polled(fd));
	show("epoll_ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	show("epoll_wait at 0", epoll_wait(ep, out, 2, 0));
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(fd, &rs);
	FD_SET(fd, &ws);
	show("select at 0", select(fd + 1, &rs, &ws, NULL, &tv));
	printf("  readable %d writable %d\n", FD_ISSET(fd, &rs) != 0, FD_ISSET(fd, &ws) != 0);
	wr(fd, 1);
	printf("poll at 1: %#x\n", polled(fd));
	show("epoll_wait at 1", epoll_wait(ep, out, 2, 0));
	printf("  events %#x data %llu\n", out[0].events, (unsigned long long)out[0].data.u64);
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	show("select at 1", select(fd + 1, &rs, NULL, NULL, &tv));
	uint64_t v;
	rd(fd, &v);
	/* A child's write ends a parent's epoll_wait. */
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(100);
		wr(fd, 9);
		_exit(0);
	}
	show("epoll_wait for the child", epoll_wait(ep, out, 2, 5000));
	struct pollfd pf = { fd, POLLIN, 0 };
	show("poll for it too", poll(&pf, 1, 5000));
	waitpid(pid, NULL, 0);
	show("read", rd(fd, &v));
	printf("  value %llu\n", (unsigned long long)v);
	close(fd);
	close(ep);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	counter();
	semaphore();
	flags();
	waits();
	readiness();
	printf("eventfd: done\n");
	return 0;
}
