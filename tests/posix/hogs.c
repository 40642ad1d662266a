/*
 * Hogs of the POSIX server's memory and tables, for Mica only (on Linux
 * they would act on the host; docs/posix.md, "Limits").
 *
 * `hogs dgram N`: N rounds of an AF_UNIX datagram socketpair, a send of
 * 200 KiB whose last page is PROT_NONE (EFAULT part way through the
 * copy), both ends closed: the server must keep no page of them (the
 * test reads its memory log).
 *
 * `hogs hold` leaves a keeper behind (keeper.h, as shares.c does) that
 * takes all its account may have of: memory (read(2) from /dev/zero into
 * 250 MiB mapped: the server's copy fails past the account's share, a
 * call's EFAULT, not a fault that would end it), timerfds, POSIX timers
 * (with a child: 32 a process), connections waiting for accept (two
 * listeners that never accept) and netlink queue pages (five sockets'
 * RTM_GETLINK answers never read). One line each with the count and the error, then
 * "hogs: holding (pid N)"; it keeps all until SIGTERM.
 *
 * `hogs queues` leaves a keeper behind that takes its memory as hold
 * does, then fills AF_UNIX datagram queues (up to 200 socketpairs, one
 * 200 KiB datagram each) and pipes (up to 40, 64 KiB each) with pages
 * of the server's: one line each with the count and the error, then
 * "hogs: holding (pid N)".
 *
 * `hogs check`, from another account meanwhile: touches 4 MiB, writes
 * and reads a pipe, makes a timerfd and a POSIX timer, connects to a
 * listener of its own, dumps the links (as glibc's getifaddrs): one line
 * of what worked.
 *
 * `hogs wait`: a pipe write and an AF_UNIX datagram send that need a page
 * of the account's share while another process of it (`hogs hogger`)
 * holds the share: EAGAIN and no POLLOUT, then a blocking write
 * interrupted by a signal (EINTR), restarted (SA_RESTART) and let in
 * when the other gives its memory back, a poll woken by that; then,
 * alone with its share full, ENOMEM at once. One line each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EMFILE) X(ENFILE) X(EAGAIN) X(ENOMEM) X(EFAULT) X(ENOBUFS) X(EINTR)
#include "check.h"
#include "keeper.h"

static int dgram(int rounds)
{
	size_t len = 200 * 1024;
	char *buf = mmap(NULL, len + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	int efault = 0;

	if (buf == MAP_FAILED)
		return 1;
	memset(buf, 'x', len + 4096);
	mprotect(buf + len, 4096, PROT_NONE);
	for (int i = 0; i < rounds; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
			return 1;
		/* Its last 4 KiB lie in the PROT_NONE page. */
		if (send(sv[0], buf + 4096, len, MSG_DONTWAIT) < 0 && errno == EFAULT)
			efault++;
		close(sv[0]);
		close(sv[1]);
	}
	printf("dgram: %d sends, %d EFAULT\n", rounds, efault);
	return 0;
}

static void abstract(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path + 1, name);
}

static int listener(const char *name)
{
	struct sockaddr_un a;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	abstract(&a, name);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 100) < 0)
		return -1;
	return s;
}

/* Connections to name until one fails (n at most): the count, *fail. */
static int connects(const char *name, int n, int *fail)
{
	struct sockaddr_un a;
	int ok = 0;

	abstract(&a, name);
	*fail = 0;
	while (ok < n) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
			*fail = errno;
			break;
		}
		ok++;
	}
	return ok;
}

static int link_request(int fd, int flags, int seq)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { { sizeof(req), RTM_GETLINK, NLM_F_REQUEST | flags, seq, 0 }, { 0 } };

	req.i.ifi_index = flags ? 0 : 1;        /* lo: one answer */
	return send(fd, &req, sizeof(req), 0) > 0;
}

/* Five netlink sockets with 2000 answers unread each (the server's
 * queues hold 64 KiB a socket): the sockets made. */
static int netlink_fill(int *fail)
{
	int n;

	*fail = 0;
	for (n = 0; n < 5; n++) {
		int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		if (fd < 0) {
			*fail = errno;
			break;
		}
		for (int k = 0; k < 2000; k++)
			link_request(fd, 0, k);
	}
	return n;
}

#define HOG_SIZE (250UL << 20)

/* The account's memory taken: HOG_SIZE mapped at *at, read(2) from
 * /dev/zero into it until the server's copy fails (EFAULT, errno) past
 * the share. The bytes read. */
static size_t grab_memory(char **at)
{
	size_t got = 0;
	char *buf = mmap(NULL, HOG_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
	int zero = open("/dev/zero", O_RDONLY);
	ssize_t k;

	while (got < HOG_SIZE && (k = read(zero, buf + got, 1 << 20)) > 0)
		got += (size_t)k;
	int e = errno;
	close(zero);
	errno = e;
	*at = buf;
	return got;
}

static void take_memory(void)
{
	char *buf;
	size_t got = grab_memory(&buf);

	printf("memory: %zu MiB, then %s\n", got >> 20, got < HOG_SIZE ? err(errno) : "-");
}

static int queues(void)
{
	static char msg[200 * 1024];
	int n, fail = 0;

	take_memory();
	memset(msg, 'd', sizeof(msg));
	for (n = 0; n < 200; n++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 ||
		    send(sv[0], msg, sizeof(msg), MSG_DONTWAIT) != (ssize_t)sizeof(msg)) {
			fail = errno;
			break;
		}
	}
	printf("datagram queues: %d, then %s\n", n, n < 200 ? err(fail) : "-");
	for (n = 0; n < 40; n++) {
		int fds[2];
		if (pipe(fds) < 0) {
			fail = errno;
			break;
		}
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
		if (write(fds[1], msg, 65536) != 65536) {
			fail = errno;
			break;
		}
	}
	printf("pipes filled: %d, then %s\n", n, n < 40 ? err(fail) : "-");
	keeper_hold("hogs", NULL, 0);
	keeper_released("hogs");
	return 0;
}

static int hold(void)
{
	int fail = 0, n;

	take_memory();

	for (n = 0; n < 256 && timerfd_create(CLOCK_MONOTONIC, 0) >= 0; n++)
		;
	printf("timerfds: %d, then %s\n", n, err(errno));

	struct sigevent ev = { .sigev_notify = SIGEV_NONE };
	timer_t id;
	int pipefd[2];
	pipe(pipefd);
	pid_t child = fork();
	if (child == 0) {
		int m = 0;
		while (m < 256 && timer_create(CLOCK_MONOTONIC, &ev, &id) == 0)
			m++;
		char c = (char)m;
		write(pipefd[1], &c, 1);
		for (;;)
			pause();
	}
	char c = 0;
	read(pipefd[0], &c, 1);
	for (n = 0; n < 256 && timer_create(CLOCK_MONOTONIC, &ev, &id) == 0; n++)
		;
	printf("POSIX timers: %d + %d, then %s\n", (int)c, n, err(errno));

	int ok = 0;
	if (listener("hogA") >= 0 && listener("hogB") >= 0) {
		ok = connects("hogA", 16, &fail);
		ok += connects("hogB", 16, &fail);
	}
	printf("connections waiting: %d, then %s\n", ok, err(fail));

	n = netlink_fill(&fail);
	printf("netlink sockets filled: %d%s%s\n", n, fail ? ", then " : "", fail ? err(fail) : "");
	keeper_hold("hogs", &child, 1);
	keeper_released("hogs");
	return 0;
}

/* ---- hogs wait: a send or write that finds its account's share full ---- */

static volatile sig_atomic_t alarms;
static char block[65536];               /* what fill_pipes writes: touched first */

/* Pipes made and filled (64 KiB each, non-blocking) until a write fails
 * (at most 128):
 * the share's last pages taken (a process's own pages stop at its bound,
 * which its file pages count in: its account may have a few left).
 * The error. */
static int fill_pipes(void)
{
	int fd[2];

	for (int n = 0; n < 128; n++) {
		if (pipe(fd) < 0)
			return errno;
		fcntl(fd[1], F_SETFL, O_NONBLOCK);
		if (write(fd[1], block, sizeof(block)) < 0)
			return errno;   /* a short write: the next pipe's fails */
	}
	return 0;
}

/* `hogs hogger R G`, the program `hogs wait` starts: takes its account's
 * memory (as take_memory, then fill_pipes), says its MiB on R, then at
 * a byte on G sleeps 0.5 s and gives the memory back; the next byte 'm':
 * again, else it ends. */
static int hogger(int ready, int go)
{
	char c, *buf;

	memset(block, 'b', sizeof(block));
	do {
		c = (char)(grab_memory(&buf) >> 20);
		fill_pipes();
		write(ready, &c, 1);
		read(go, &c, 1);
		usleep(500000);
		munmap(buf, HOG_SIZE);
		read(go, &c, 1);
	} while (c == 'm');
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void alarm_in(int ms, int flags)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = flags };
	struct itimerval it = { { 0, 0 }, { 0, ms * 1000 } };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* POLLOUT on fd, waiting at most ms. */
static int pollout(int fd, int ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLOUT);
}

/* A wait of at least 300 ms, or how long it was. */
static const char *waited(const struct timespec *t0)
{
	long ms = ms_since(t0);

	return ms >= 300 ? "300+" : outcome(ms);
}

/* What the thread will touch, made now: its stack (a page the share no
 * longer has would end it). */
static void touch_stack(void)
{
	volatile char deep[128 * 1024];

	for (size_t i = 0; i < sizeof(deep); i += 4096)
		deep[i] = 1;
}

static int wait_share(const char *self)
{
	int ready[2], go[2], pp[2], sv[2], lone[2], lsv[2];
	char c = 'x', fds[2][12];
	struct timespec t0;

	touch_stack();
	memset(block, 'b', sizeof(block));
	/* The pipes to the hogger get their page now; pp and sv have none
	 * yet: their first write needs one from the share. */
	if (pipe(ready) < 0 || pipe(go) < 0 || pipe(pp) < 0 || pipe(lone) < 0 ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, lsv) < 0)
		return 1;
	write(ready[1], &c, 1), read(ready[0], &c, 1);
	write(go[1], &c, 1), read(go[0], &c, 1);
	printf("wait: started\n");
	fflush(stdout);
	snprintf(fds[0], sizeof(fds[0]), "%d", ready[1]);
	snprintf(fds[1], sizeof(fds[1]), "%d", go[0]);
	pid_t h = fork();
	if (h == 0) {
		execl(self, self, "hogger", fds[0], fds[1], (char *)NULL);
		_exit(127);
	}
	read(ready[0], &c, 1);

	/* A process of the account may give memory back: EAGAIN, no POLLOUT. */
	fcntl(pp[1], F_SETFL, O_NONBLOCK);
	long w = write(pp[1], &c, 1);
	const char *ws = outcome(w);
	long s = send(sv[0], &c, 1, MSG_DONTWAIT);
	printf("wait: memory %d MiB; nonblocking pipe write %s, datagram send %s; "
	       "POLLOUT pipe %s, datagram %s\n", (int)(unsigned char)c, ws, outcome(s),
	       yes(pollout(pp[1], 0)), yes(pollout(sv[0], 0)));
	fflush(stdout);

	/* A blocking write waits: a signal interrupts it (no SA_RESTART)... */
	fcntl(pp[1], F_SETFL, 0);
	alarm_in(200, 0);
	w = write(pp[1], &c, 1);
	printf("wait: blocking write %s after the alarm\n", outcome(w));
	fflush(stdout);
	/* ... or is restarted (SA_RESTART), and goes in when the hogger
	 * gives its memory back. */
	alarms = 0;
	alarm_in(100, SA_RESTART);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	write(go[1], "gm", 2);  /* give back, then take again */
	w = write(pp[1], &c, 1);
	printf("wait: with SA_RESTART: %s after %s ms, alarms %d\n", outcome(w), waited(&t0),
	       (int)alarms);
	fflush(stdout);

	/* poll waits for POLLOUT until the hogger (its memory taken again)
	 * gives it back. */
	read(ready[0], &c, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	write(go[1], "ge", 2);  /* give back, then end */
	int out = pollout(sv[0], 5000);
	const char *ow = waited(&t0);
	s = send(sv[0], &c, 1, 0);
	printf("wait: poll POLLOUT %s after %s ms, send %s\n", yes(out), ow, outcome(s));
	fflush(stdout);
	waitpid(h, NULL, 0);

	/* Alone: nothing would give memory back, so no wait (Linux's
	 * answer when no page can be had). */
	char *buf;
	grab_memory(&buf);
	int filled = fill_pipes();
	w = write(lone[1], &c, 1);
	ws = outcome(w);
	s = send(lsv[0], &c, 1, 0);
	printf("wait: alone: pipes filled until %s, blocking pipe write %s, datagram send %s, "
	       "POLLOUT pipe %s\n", err(filled), ws, outcome(s), yes(pollout(lone[1], 0)));
	fflush(stdout);
	return 0;
}

static int check(void)
{
	size_t size = 4UL << 20;
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd[2], piped = 0, fail;

	if (m == MAP_FAILED)
		return 1;
	memset(m, 1, size);     /* a page refused would end it here */
	if (pipe(fd) == 0) {
		char out[4096], in[4096];
		memset(out, 'p', sizeof(out));
		piped = write(fd[1], out, sizeof(out)) == (ssize_t)sizeof(out) &&
			read(fd[0], in, sizeof(in)) == (ssize_t)sizeof(in);
	}
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct sigevent ev = { .sigev_notify = SIGEV_NONE };
	timer_t id;
	int timer = timer_create(CLOCK_MONOTONIC, &ev, &id) == 0;
	int connected = listener("checker") >= 0 && connects("checker", 1, &fail) == 1;
	int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), dumped = 0;
	if (nl >= 0 && link_request(nl, NLM_F_DUMP, 1)) {
		char buf[8192];
		dumped = recv(nl, buf, sizeof(buf), MSG_DONTWAIT) > 0;
	}
	printf("check: 4 MiB touched yes, pipe %s, timerfd %s, timer %s, unix connect %s, "
	       "link dump %s\n", yes(piped), yes(tfd >= 0), yes(timer), yes(connected), yes(dumped));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "dgram"))
		return dgram(atoi(argv[2]));
	if (argc == 2 && (!strcmp(argv[1], "hold") || !strcmp(argv[1], "queues"))) {
		pid_t keeper = keeper_start();
		if (keeper != 0)
			return keeper < 0;
		return argv[1][0] == 'h' ? hold() : queues();
	}
	if (argc == 2 && !strcmp(argv[1], "check"))
		return check();
	if (argc == 2 && !strcmp(argv[1], "wait"))
		return wait_share("/bin/hogs-musl");
	if (argc == 4 && !strcmp(argv[1], "hogger"))
		return hogger(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: hogs dgram N | hold | queues | check | wait\n");
	return 2;
}
