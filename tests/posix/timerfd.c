/*
 * timerfd, differential (Linux's timerfd_create(2)): one-shot and
 * periodic timers on CLOCK_MONOTONIC, CLOCK_REALTIME and
 * CLOCK_BOOTTIME, relative and TFD_TIMER_ABSTIME (one in the past
 * counts every interval it missed); a read takes the expirations as a
 * u64, waits for the next, or is EAGAIN with TFD_NONBLOCK; timerfd_gettime
 * and the old value; a new setting drops unread expirations; poll,
 * select and epoll see it readable; TFD_CLOEXEC, TFD_NONBLOCK; the
 * errors (clock, flags, times, a descriptor that is not a timerfd,
 * short buffers, write). Only relations are printed, never times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EAGAIN) X(EINVAL) X(EBADF) X(EFAULT)
#include "check.h"

#define MS 1000000LL

static int64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct itimerspec spec(int64_t value, int64_t interval)
{
	return (struct itimerspec){ { interval / 1000000000, interval % 1000000000 },
				    { value / 1000000000, value % 1000000000 } };
}

static int64_t ns_of(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

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

static void one_shot(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec it = spec(50 * MS, 0), cur;
	uint64_t v;

	show("timerfd_create(MONOTONIC, TFD_NONBLOCK)", fd >= 0 ? 0 : -1);
	timerfd_gettime(fd, &cur);
	printf("a new timer is disarmed: %s\n", yes(!ns_of(&cur.it_value) && !ns_of(&cur.it_interval)));
	report("read before it is set", rd(fd, &v));
	struct itimerspec far = spec(5000 * MS, 0);
	timerfd_settime(fd, 0, &far, NULL);
	timerfd_gettime(fd, &cur);
	printf("gettime: left in (0, 5 s]: %s\n",
	       yes(ns_of(&cur.it_value) > 0 && ns_of(&cur.it_value) <= 5000 * MS));
	int64_t t0 = now(CLOCK_MONOTONIC);    /* before: the calls between may be slow */
	report("timerfd_settime(50 ms)", timerfd_settime(fd, 0, &it, NULL));
	report("read before it expires", rd(fd, &v));
	struct pollfd pfd = { fd, POLLIN, 0 };
	report("poll waits for the expiry", poll(&pfd, 1, 5000));
	printf("poll: POLLIN %s, after the deadline: %s\n", yes(pfd.revents == POLLIN),
	       yes(now(CLOCK_MONOTONIC) - t0 >= 50 * MS));
	report("read after it expired", rd(fd, &v));
	printf("expirations: %llu\n", (unsigned long long)v);
	report("read again", rd(fd, &v));
	timerfd_gettime(fd, &cur);
	printf("an expired one-shot is disarmed: %s\n", yes(!ns_of(&cur.it_value)));
	close(fd);
}

static void periodic(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec it = spec(20 * MS, 20 * MS), cur;
	uint64_t v;

	int64_t t0 = now(CLOCK_MONOTONIC);
	report("timerfd_settime(20 ms, every 20 ms)", timerfd_settime(fd, 0, &it, NULL));
	report("a blocking read", rd(fd, &v));
	int64_t waited = now(CLOCK_MONOTONIC) - t0;
	/* (Its count: 1 unless the host was slow past the second.) */
	printf("it waited for the first: %s, count at least 1: %s\n", yes(waited >= 20 * MS),
	       yes(v >= 1));
	sleep_ms(130);
	report("read after 130 ms", rd(fd, &v));
	printf("at least 5 expirations: %s\n", yes(v >= 5));
	timerfd_gettime(fd, &cur);
	printf("gettime: interval 20 ms, left in (0, 20 ms]: %s\n",
	       yes(ns_of(&cur.it_interval) == 20 * MS && ns_of(&cur.it_value) > 0 &&
		   ns_of(&cur.it_value) <= 20 * MS));
	/* A new setting drops what was not read; the old one comes back. */
	sleep_ms(50);
	struct itimerspec later = spec(10000 * MS, 0), old;
	report("settime again with old", timerfd_settime(fd, 0, &later, &old));
	printf("old: interval 20 ms: %s\n", yes(ns_of(&old.it_interval) == 20 * MS));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	report("unread expirations dropped", rd(fd, &v));
	struct itimerspec off = spec(0, 0);
	report("disarm", timerfd_settime(fd, 0, &off, &old));
	printf("old: left in (9 s, 10 s]: %s\n",
	       yes(ns_of(&old.it_value) > 9000 * MS && ns_of(&old.it_value) <= 10000 * MS));
	close(fd);
}

static void absolute(void)
{
	static const struct { clockid_t id; const char *name; } clocks[] = {
		{ CLOCK_MONOTONIC, "MONOTONIC" }, { CLOCK_REALTIME, "REALTIME" },
		{ CLOCK_BOOTTIME, "BOOTTIME" },
	};
	uint64_t v;

	for (unsigned i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		int fd = timerfd_create(clocks[i].id, 0);
		struct itimerspec it = spec(now(clocks[i].id) + 30 * MS, 0);
		char what[80];
		snprintf(what, sizeof(what), "%s: TFD_TIMER_ABSTIME 30 ms ahead", clocks[i].name);
		report(what, timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL));
		rd(fd, &v);
		printf("%s: read %llu at or after the deadline: %s\n", clocks[i].name,
		       (unsigned long long)v, yes(now(clocks[i].id) >= ns_of(&it.it_value)));
		/* 200 ms in the past, every 20 ms: the missed ones count. */
		it = spec(now(clocks[i].id) - 200 * MS, 20 * MS);
		timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL);
		rd(fd, &v);
		printf("%s: a past deadline counts the missed intervals (10 or more): %s\n",
		       clocks[i].name, yes(v >= 10));
		close(fd);
	}
}

static void polling(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec it = spec(30 * MS, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 }, out[2];
	uint64_t v;
	int ep = epoll_create1(0);

	printf("TFD_CLOEXEC: %s, TFD_NONBLOCK: %s\n", yes(fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       yes(fcntl(fd, F_GETFL) & O_NONBLOCK));
	report("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	report("epoll_wait before it is set", epoll_wait(ep, out, 2, 0));
	timerfd_settime(fd, 0, &it, NULL);
	report("epoll_wait waits for it", epoll_wait(ep, out, 2, 5000));
	printf("event EPOLLIN with its data: %s\n", yes(out[0].events == EPOLLIN && out[0].data.u32 == 7));
	rd(fd, &v);
	report("epoll_wait after the read", epoll_wait(ep, out, 2, 0));
	/* Edge-triggered: one report for one expiry. */
	ev.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	timerfd_settime(fd, 0, &it, NULL);
	report("EPOLLET: epoll_wait waits for it", epoll_wait(ep, out, 2, 5000));
	report("EPOLLET: not again", epoll_wait(ep, out, 2, 0));
	rd(fd, &v);
	close(ep);

	fd_set set;
	struct timeval tv = { 5, 0 };
	FD_ZERO(&set);
	FD_SET(fd, &set);
	timerfd_settime(fd, 0, &it, NULL);
	report("select waits for it", select(fd + 1, &set, NULL, NULL, &tv));
	printf("select: readable: %s\n", yes(FD_ISSET(fd, &set)));
	FD_ZERO(&set);
	FD_SET(fd, &set);
	report("select: not writable", select(fd + 1, NULL, &set, NULL, &(struct timeval){ 0, 0 }));
	char link[64] = "", path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	readlink(path, link, sizeof(link) - 1);
	printf("/proc/self/fd names it: %s\n", link);
	close(fd);
}

static void errors(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0), fds[2];
	struct itimerspec it = spec(10 * MS, 0), bad = it;
	uint64_t v = 1;
	char small[4];
	void *volatile bad_ptr = (void *)8;

	report("timerfd_create(CLOCK_PROCESS_CPUTIME_ID)", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	report("timerfd_create(clock 99)", timerfd_create(99, 0));
	report("timerfd_create(unknown flags)", timerfd_create(CLOCK_MONOTONIC, 0x4));
	report("settime unknown flags", timerfd_settime(fd, 0x10, &it, NULL));
	bad.it_value.tv_nsec = 1000000000;
	report("settime nsec 10^9", timerfd_settime(fd, 0, &bad, NULL));
	bad = it;
	bad.it_interval.tv_sec = -1;
	report("settime negative interval", timerfd_settime(fd, 0, &bad, NULL));
	report("settime bad pointer", timerfd_settime(fd, 0, bad_ptr, NULL));
	pipe(fds);
	report("settime on a pipe", timerfd_settime(fds[0], 0, &it, NULL));
	report("gettime on a pipe", timerfd_gettime(fds[0], &it));
	report("settime on a closed descriptor", timerfd_settime(999, 0, &it, NULL));
	report("gettime bad pointer", timerfd_gettime(fd, bad_ptr));
	report("write", write(fd, &v, sizeof(v)));
	timerfd_settime(fd, 0, &it, NULL);
	sleep_ms(30);
	report("read of 4 bytes", read(fd, small, sizeof(small)));
	report("lseek", lseek(fd, 0, SEEK_CUR));
	report("read into a bad pointer", read(fd, bad_ptr, 8));
	close(fds[0]);
	close(fds[1]);
	close(fd);
}

int main(void)
{
	one_shot();
	periodic();
	absolute();
	polling();
	errors();
	return 0;
}
