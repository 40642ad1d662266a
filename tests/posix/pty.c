/*
 * Pseudo-terminals, differential: the same lines on Linux and on Mica
 * (tests/system/test_posix.py compares them). /dev/ptmx and /dev/pts/N
 * as libc opens them (posix_openpt, grantpt, unlockpt, ptsname; a locked
 * slave), the line discipline between master and slave (ONLCR, echo,
 * erase, kill, end of file, raw mode, window size), poll/select/epoll,
 * bounded buffers, either side closed; a controlling terminal (setsid
 * and open, /dev/tty, TIOCNOTTY, the signal keys, SIGWINCH), TOSTOP, and
 * orphaned process groups (stop signals discarded, EIO, SIGHUP and
 * SIGCONT to a newly orphaned group with a stopped member). Every part
 * runs in a child, most in a session of their own: the program itself
 * may or may not have a controlling terminal where it runs.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EIO) X(ENXIO) X(EPERM) X(EAGAIN) X(ENOTTY) X(EINVAL) X(ENOENT) \
	X(EBADF)
#define CHECK_FLUSH     /* each line out at once (children write too) */
#include "check.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441      /* Linux 4.13's; older headers lack it */
#endif

static void yes(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	fflush(stdout);
}

/* Bytes as C escapes. */
static void show_bytes(const char *what, const char *b, long n)
{
	printf("%s: %ld \"", what, n);
	for (long i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c == '\n')
			printf("\\n");
		else if (c == '\r')
			printf("\\r");
		else if (c == '\b')
			printf("\\b");
		else if (c < ' ' || c >= 0x7F)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
	fflush(stdout);
}

static void ended(const char *what, int status)
{
	if (WIFEXITED(status))
		printf("%s: exited with status %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	else if (WIFSTOPPED(status))
		printf("%s: stopped by signal %d\n", what, WSTOPSIG(status));
	fflush(stdout);
}

/* Whether fd has events within ms. */
static int ready(int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* Up to want bytes from fd, waiting up to a second for each part (the
 * other side's bytes reach Linux's side a moment after they are written). */
static long readn(int fd, char *buf, long want)
{
	long got = 0;

	while (got < want && ready(fd, POLLIN, 2000) & POLLIN) {
		long n = read(fd, buf + got, (size_t)(want - got));
		if (n <= 0)
			return got ? got : n;
		got += n;
	}
	return got;
}

/* Write s to fd, then show what comes back on from (n bytes expected). */
static void roundtrip(const char *what, int fd, const char *s, int from, long n)
{
	char buf[256];

	if (write(fd, s, strlen(s)) != (long)strlen(s))
		printf("%s: short write\n", what);
	show_bytes(what, buf, readn(from, buf, n));
}

/* A new pty: master and slave (with slave_flags), unlocked. */
static int open_pty(int *m, int slave_flags)
{
	*m = posix_openpt(O_RDWR | O_NOCTTY);
	if (*m < 0 || grantpt(*m) || unlockpt(*m))
		return -1;
	return open(ptsname(*m), O_RDWR | slave_flags);
}

static void set_lflag(int s, tcflag_t on, tcflag_t off)
{
	struct termios t;

	tcgetattr(s, &t);
	t.c_lflag = (t.c_lflag | on) & ~off;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(s, TCSANOW, &t);
}

static void opening(void)
{
	char want[32];
	unsigned n = 99;
	struct stat st, st2;
	struct termios t;
	struct winsize ws;
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	yes("posix_openpt", m >= 0);
	report("grantpt", grantpt(m));
	const char *name = ptsname(m);
	yes("ptsname is /dev/pts/N", name && !strncmp(name, "/dev/pts/", 9) && isdigit(name[9]));
	report("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
	snprintf(want, sizeof(want), "/dev/pts/%u", n);
	yes("  it is ptsname's number", name && !strcmp(want, name));
	report("open of the locked slave", open(want, O_RDWR | O_NOCTTY));
	report("TIOCGPTPEER of the locked slave", ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	report("unlockpt", unlockpt(m));
	int s = open(want, O_RDWR | O_NOCTTY);
	yes("open of the slave", s >= 0);
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	fstat(s, &st);
	fstat(peer, &st2);
	yes("TIOCGPTPEER opens it too", peer >= 0 && st.st_rdev == st2.st_rdev);
	close(peer);
	yes("both are terminals", isatty(m) && isatty(s));
	report("TIOCGPTN of the slave", ioctl(s, TIOCGPTN, &n));
	fstat(s, &st);
	stat(want, &st2);
	yes("the slave is character device 136:N",
	    S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 && minor(st.st_rdev) == n &&
	    st.st_rdev == st2.st_rdev);
	fstat(m, &st);
	yes("the master is 5:2", S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 &&
	    minor(st.st_rdev) == 2);
	tcgetattr(s, &t);
	yes("fresh: canonical, echo, ISIG",
	    (t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG));
	yes("fresh: OPOST ONLCR, ICRNL", (t.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR) &&
	    (t.c_iflag & ICRNL));
	yes("fresh: ^C ^\\ ^? ^U ^D ^Z", t.c_cc[VINTR] == 3 && t.c_cc[VQUIT] == 28 &&
	    t.c_cc[VERASE] == 127 && t.c_cc[VKILL] == 21 && t.c_cc[VEOF] == 4 &&
	    t.c_cc[VSUSP] == 26);
	report("TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &ws));
	printf("  %d rows %d columns\n", ws.ws_row, ws.ws_col);
	report("tcgetpgrp of a pty not ours", tcgetpgrp(s));
	report("tcgetsid of a pty not ours", tcgetsid(s));
	close(s);
	close(m);
	report("open of a pty whose master is closed", open(want, O_RDWR | O_NOCTTY));
}

static void line_discipline(void)
{
	char buf[64];
	int m, s = open_pty(&m, O_NOCTTY);
	struct winsize ws = { 30, 100, 0, 0 };

	roundtrip("slave writes a line, the master reads", s, "hello\n", m, 7);
	roundtrip("master types a line, its echo", m, "abc\n", m, 5);
	show_bytes("  the slave reads", buf, readn(s, buf, 4));
	roundtrip("master types ab DEL c, the echo", m, "ab\x7f" "c\n", m, 8);
	show_bytes("  the slave reads", buf, read(s, buf, sizeof(buf)));
	roundtrip("master types xy ^U z, the echo", m, "xy\x15z\n", m, 11);
	show_bytes("  the slave reads", buf, read(s, buf, sizeof(buf)));
	roundtrip("master types de ^D, the echo", m, "de\x04", m, 2);
	show_bytes("  the slave reads", buf, read(s, buf, sizeof(buf)));
	roundtrip("master types ^D, no echo", m, "\x04", m, 0);
	report("  the slave reads end of file", read(s, buf, sizeof(buf)));
	write(m, "half", 4);
	show_bytes("  a half line's echo", buf, readn(m, buf, 4));
	yes("  a half line is not readable", !(ready(s, POLLIN, 100) & POLLIN));
	yes("the slave is writable", ready(s, POLLOUT, 0) & POLLOUT);
	fcntl(s, F_SETFL, O_NONBLOCK);
	report("a non-blocking read of the slave", read(s, buf, sizeof(buf)));
	fcntl(s, F_SETFL, 0);
	tcflush(s, TCIFLUSH);

	set_lflag(s, 0, ICANON | ECHO);
	write(m, "xyz", 3);
	yes("raw: the slave is readable", ready(s, POLLIN, 2000) & POLLIN);
	int n = -1;
	report("  FIONREAD", ioctl(s, FIONREAD, &n));
	printf("  bytes %d\n", n);
	show_bytes("  the slave reads", buf, read(s, buf, sizeof(buf)));
	yes("  no echo for the master", !(ready(m, POLLIN, 100) & POLLIN));
	struct termios t;
	tcgetattr(s, &t);
	t.c_oflag &= ~(tcflag_t)OPOST;
	tcsetattr(s, TCSANOW, &t);
	roundtrip("no OPOST: the master reads", s, "a\nb", m, 3);
	t.c_oflag |= OPOST;
	t.c_lflag |= ICANON | ECHO;
	tcsetattr(s, TCSANOW, &t);

	report("TIOCSWINSZ on the slave", ioctl(s, TIOCSWINSZ, &ws));
	memset(&ws, 0, sizeof(ws));
	report("TIOCGWINSZ on the master", ioctl(m, TIOCGWINSZ, &ws));
	printf("  %d rows %d columns\n", ws.ws_row, ws.ws_col);

	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	report("epoll_ctl of the master", epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev));
	report("  epoll_wait, nothing yet", epoll_wait(ep, &got, 1, 0));
	write(s, "e", 1);
	report("  epoll_wait after the slave wrote", epoll_wait(ep, &got, 1, 2000));
	close(ep);
	fd_set in;
	struct timeval tv = { 2, 0 };
	FD_ZERO(&in);
	FD_SET(m, &in);
	report("select of the master", select(m + 1, &in, NULL, NULL, &tv));
	show_bytes("  the master reads", buf, read(m, buf, sizeof(buf)));
	close(s);
	close(m);
}

static long want(long left, long room)
{
	return left < room ? left : room;
}

/* Neither side grows without bound when the other does not read. */
static void bounded(void)
{
	static char chunk[1024], sink[4096];
	int m, s = open_pty(&m, O_NOCTTY);
	long total = 0, got = 0, n;

	set_lflag(s, 0, ICANON | ECHO | ISIG);
	memset(chunk, 'x', sizeof(chunk));
	fcntl(s, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 4096 && (n = write(s, chunk, sizeof(chunk))) > 0; i++)
		total += n;
	yes("the slave's writes stop at a bound (EAGAIN)", errno == EAGAIN && total < (4L << 20));
	while (got < total && (n = readn(m, sink, want(total - got, sizeof(sink)))) > 0)
		got += n;
	yes("  the master reads every byte", got == total);
	fcntl(m, F_SETFL, O_NONBLOCK);
	total = got = 0;
	errno = 0;
	for (int i = 0; i < 4096 && (n = write(m, chunk, sizeof(chunk))) > 0; i++)
		total += n;
	yes("the master's writes stop at a bound (EAGAIN)", errno == EAGAIN && total < (4L << 20));
	while (got < total && (n = readn(s, sink, want(total - got, sizeof(sink)))) > 0)
		got += n;
	yes("  the slave reads every byte", got == total);
	close(s);
	close(m);
}

static void closing(void)
{
	char buf[64];
	int m, s = open_pty(&m, O_NOCTTY);

	write(s, "bye\n", 4);
	close(s);
	show_bytes("the slave wrote and closed: the master reads", buf, readn(m, buf, 5));
	report("  then", read(m, buf, sizeof(buf)));
	yes("  poll: POLLHUP", ready(m, POLLIN, 0) & POLLHUP);

	s = open_pty(&m, O_NOCTTY);
	close(m);
	report("the master closed: the slave reads", read(s, buf, sizeof(buf)));
	report("  the slave writes", write(s, "x", 1));
	yes("  poll: POLLHUP", ready(s, POLLIN, 0) & POLLHUP);
	report("  tcgetattr", ioctl(s, TCGETS, buf));
	close(s);
}

static volatile sig_atomic_t winch, hup;

static void on_winch(int sig)
{
	(void)sig;
	winch++;
}

static void on_hup(int sig)
{
	(void)sig;
	hup++;
}

/* A child that waits for a signal, with signals reset; in its own group
 * (the background) when bg. */
static pid_t child(int bg)
{
	pid_t pid = fork();

	if (pid == 0) {
		alarm(20);
		signal(SIGINT, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		if (bg)
			setpgid(0, 0);
		for (;;)
			pause();
	}
	if (bg)
		setpgid(pid, pid);
	return pid;
}

/* The signal key typed at the master: what it does to a child in the
 * foreground, in a group of its own (the session leader's group has no
 * parent in the session: it is orphaned, and ^Z would do nothing there). */
static void key(int s, int m, const char *what, char c, int options)
{
	char buf[8];
	int status;
	pid_t k = child(1);

	tcsetpgrp(s, k);
	write(m, &c, 1);
	waitpid(k, &status, options);
	ended(what, status);
	show_bytes("  its echo", buf, readn(m, buf, 2));
	if (WIFSTOPPED(status)) {
		kill(k, SIGKILL);
		waitpid(k, &status, 0);
	}
	tcsetpgrp(s, getpid());
}

/* A background child writes (read: reads) the terminal s. */
static void background(int s, int m, const char *what, int sig_action, int read_it)
{
	char buf[16];
	int status;
	pid_t b = fork();

	if (b == 0) {
		setpgid(0, 0);
		signal(SIGTTIN, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		if (sig_action == 1)
			signal(read_it ? SIGTTIN : SIGTTOU, SIG_IGN);
		if (sig_action == 2) {
			sigset_t set;
			sigemptyset(&set);
			sigaddset(&set, read_it ? SIGTTIN : SIGTTOU);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		long n = read_it ? read(s, buf, sizeof(buf)) : write(s, "bg\n", 3);
		_exit(n < 0 ? 100 + errno : (int)n);
	}
	setpgid(b, b);
	waitpid(b, &status, WUNTRACED);
	ended(what, status);
	if (WIFSTOPPED(status)) {
		kill(b, SIGKILL);
		waitpid(b, &status, 0);
	} else if (!read_it && WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		show_bytes("  the master reads", buf, readn(m, buf, 4));
	}
}

static void set_tostop(int s, int on)
{
	struct termios t;

	tcgetattr(s, &t);
	t.c_lflag = on ? t.c_lflag | TOSTOP : t.c_lflag & ~(tcflag_t)TOSTOP;
	tcsetattr(s, TCSANOW, &t);
}

/* A session of its own with the pty as its controlling terminal. */
static void controlling(void)
{
	char buf[64];
	int m, status;
	pid_t me = getpid();

	yes("setsid", setsid() == me);
	report("open of /dev/tty with no controlling terminal", open("/dev/tty", O_RDWR));
	int s = open_pty(&m, 0);
	yes("open without O_NOCTTY makes it ours: tcgetsid", tcgetsid(s) == me);
	yes("  tcgetpgrp", tcgetpgrp(s) == me);
	int pg = -1;
	report("  TIOCGPGRP of the master", ioctl(m, TIOCGPGRP, &pg));
	yes("  it is the foreground group", pg == me);
	int tty = open("/dev/tty", O_RDWR);
	yes("/dev/tty opens", tty >= 0);
	roundtrip("  written there, the master reads", tty, "via tty\n", m, 9);
	yes("  it is a terminal of our session", tcgetsid(tty) == me);
	close(tty);

	signal(SIGTTOU, SIG_IGN);       /* tcsetpgrp from the background, as a shell */
	key(s, m, "^C: the foreground child", 3, 0);
	key(s, m, "^\\: the foreground child", 28, 0);
	key(s, m, "^Z: the foreground child", 26, WUNTRACED);

	signal(SIGWINCH, on_winch);
	struct winsize ws = { 40, 120, 0, 0 };
	report("TIOCSWINSZ on the master", ioctl(m, TIOCSWINSZ, &ws));
	report("  the same size again", ioctl(m, TIOCSWINSZ, &ws));
	printf("  SIGWINCH came %d times\n", (int)winch);
	fflush(stdout);

	pid_t t = fork();
	if (t == 0) {
		setsid();
		report("TIOCSCTTY of our terminal from another session", ioctl(s, TIOCSCTTY, 0));
		report("  its tcgetpgrp", tcgetpgrp(s));
		_exit(0);
	}
	waitpid(t, &status, 0);

	background(s, m, "a background write, no TOSTOP", 0, 0);
	set_tostop(s, 1);
	background(s, m, "a background write, TOSTOP", 0, 0);
	background(s, m, "  SIGTTOU ignored", 1, 0);
	background(s, m, "  SIGTTOU blocked", 2, 0);
	background(s, m, "a background read", 0, 1);
	background(s, m, "  SIGTTIN ignored", 1, 1);

	/* tcsetpgrp from the background: SIGTTOU unless ignored. */
	pid_t b = child(1);
	report("tcsetpgrp to a background group", tcsetpgrp(s, b));
	yes("  tcgetpgrp follows", tcgetpgrp(s) == b);
	report("  tcsetpgrp back, from the background (SIGTTOU ignored)", tcsetpgrp(s, me));
	kill(b, SIGKILL);
	waitpid(b, &status, 0);
	signal(SIGHUP, SIG_IGN);        /* the master's close hangs up our terminal */
	close(s);
	close(m);
	(void)buf;
}

/* Orphaned process groups, in a session with its controlling terminal. */
static void orphans(void)
{
	int m, p[2], status;
	char c;

	setsid();
	int s = open_pty(&m, 0);
	set_tostop(s, 1);
	pipe(p);
	pid_t g = fork();
	if (g == 0) {
		setpgid(0, 0);
		pid_t leader = getpid();
		if (fork() == 0) {
			/* Wait for the group's leader to end: then the group
			 * has no parent in the session outside it. */
			close(p[0]);
			while (getppid() == leader)
				usleep(10000);
			signal(SIGTSTP, SIG_DFL);
			kill(getpid(), SIGTSTP);
			printf("orphaned: SIGTSTP discarded, it runs on\n");
			fflush(stdout);
			char buf[8];
			report("  a read of the terminal", read(s, buf, sizeof(buf)));
			report("  a write (TOSTOP)", write(s, "x", 1));
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	waitpid(g, &status, 0);
	read(p[0], &c, 1);      /* end of file: the grandchild has ended */
	close(p[0]);

	pipe(p);
	g = fork();
	if (g == 0) {
		setpgid(0, 0);
		pid_t d = fork();
		if (d == 0) {
			close(p[0]);
			signal(SIGHUP, on_hup);
			raise(SIGSTOP);
			printf("the stopped member of a newly orphaned group: SIGHUP %d, continued\n",
			       (int)hup);
			fflush(stdout);
			_exit(0);
		}
		waitpid(d, &status, WUNTRACED);
		_exit(WIFSTOPPED(status) ? 0 : 1);
	}
	close(p[1]);
	waitpid(g, &status, 0);
	read(p[0], &c, 1);      /* end of file: the member has ended */
	close(p[0]);
	ended("  its parent", status);

	/* And with SIGHUP's default action: it ends the stopped member. */
	pipe(p);
	g = fork();
	if (g == 0) {
		setpgid(0, 0);
		pid_t d = fork();
		if (d == 0) {
			close(p[0]);
			signal(SIGHUP, SIG_DFL);
			raise(SIGSTOP);
			printf("a stopped member with SIGHUP's default action runs on\n");
			_exit(0);
		}
		waitpid(d, &status, WUNTRACED);
		_exit(0);
	}
	close(p[1]);
	waitpid(g, &status, 0);
	report("  it ended instead (end of file on its pipe)", read(p[0], &c, 1));
	close(p[0]);
	signal(SIGHUP, SIG_IGN);
	close(s);
	close(m);
}

/* The controlling terminal let go (TIOCNOTTY), and hung up (the master closed). */
static void hangups(void)
{
	char buf[8];
	int m, status;
	pid_t n = fork();

	if (n == 0) {
		setsid();
		int s = open_pty(&m, 0);
		signal(SIGHUP, on_hup);
		report("TIOCNOTTY by the session leader", ioctl(s, TIOCNOTTY));
		printf("  SIGHUP came %d times\n", (int)hup);
		report("  open of /dev/tty", open("/dev/tty", O_RDWR));
		report("  tcgetpgrp", tcgetpgrp(s));
		_exit(0);
	}
	waitpid(n, &status, 0);

	n = fork();
	if (n == 0) {
		setsid();
		int s = open_pty(&m, 0);
		signal(SIGHUP, on_hup);
		close(m);
		printf("the master closed: the session leader's SIGHUP came %d times\n", (int)hup);
		report("  the slave reads", read(s, buf, sizeof(buf)));
		report("  the slave writes", write(s, "x", 1));
		report("  open of /dev/tty", open("/dev/tty", O_RDWR));
		_exit(0);
	}
	waitpid(n, &status, 0);

	n = fork();
	if (n == 0) {
		setsid();
		open_pty(&m, 0);
		close(m);
		_exit(0);       /* not reached: SIGHUP ends it */
	}
	waitpid(n, &status, 0);
	ended("the same, SIGHUP's default action: the session leader", status);
}

/* Run part in a child and wait for it. */
static void part(void (*fn)(void))
{
	int status;
	pid_t c = fork();

	if (c == 0) {
		alarm(30);
		fn();
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ended("the part", status);
}

int main(void)
{
	part(opening);
	part(line_discipline);
	part(bounded);
	part(closing);
	part(controlling);
	part(orphans);
	part(hangups);
	return 0;
}
