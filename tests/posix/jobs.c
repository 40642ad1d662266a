/*
 * Process groups, sessions and the terminal, one line per check, the same
 * on Linux and on Mica (tests/system/test_posix.py compares them): the
 * ids, setpgid from both sides as a shell does, kill and waitpid of a
 * group (-pgid, 0), setsid, a session leader taking its terminal
 * (TIOCSCTTY), tcsetpgrp and tcgetpgrp, and the terminal's modes:
 * non-canonical reads with VMIN and VTIME, poll, select, epoll, FIONREAD. Standard
 * output is a terminal on both (a pty on the host, the console on Mica),
 * not the program's controlling one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ESRCH) X(EPERM) X(EINVAL) X(ECHILD) X(ENOTTY)
#define CHECK_FLUSH     /* each line out at once (children write too) */
#include "check.h"

static void yes(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	fflush(stdout);
}

static void ended(const char *what, int status)
{
	if (WIFEXITED(status))
		printf("%s: exited with status %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	fflush(stdout);
}

/* A child that waits for a signal (in its own group when group is set:
 * 0 a new one, else that one). */
static pid_t waiter(int group, pid_t pgid)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (group)
			setpgid(0, pgid);
		for (;;)
			pause();
	}
	if (group)
		setpgid(pid, pgid ? pgid : pid);        /* the shell's side of it */
	return pid;
}

/* The pid of a child that has ended and been waited for: nobody's now. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void ids(void)
{
	pid_t gone = gone_pid();

	yes("getpgrp is getpgid(0)", getpgrp() == getpgid(0));
	yes("getsid(0) is getsid(getpid())", getsid(0) == getsid(getpid()));
	report("getpgid of an ended child", getpgid(gone));
	report("getsid of an ended child", getsid(gone));
	report("setpgid of an ended child", setpgid(gone, 0));
	report("setpgid with a negative pgid", setpgid(0, -1));
	report("tcgetpgrp of a terminal not ours", tcgetpgrp(1));
	report("tcgetsid of a terminal not ours", tcgetsid(1));
}

static void groups(void)
{
	int status;
	pid_t a = waiter(1, 0);

	yes("a child's own group", getpgid(a) == a);
	report("kill of the group", kill(-a, SIGUSR1));
	waitpid(a, &status, 0);
	ended("its member", status);
	report("kill of the group once it is gone", kill(-a, SIGUSR1));

	/* Two in one group; waitpid(-pgid) takes them, then none is left. */
	pid_t b1 = waiter(1, 0), b2 = waiter(1, b1);
	yes("the second joined the first's group", getpgid(b2) == b1);
	report("waitpid of the group, WNOHANG", waitpid(-b1, &status, WNOHANG));
	report("kill of the group", kill(-b1, SIGTERM));
	for (int i = 0; i < 2; i++) {
		pid_t got = waitpid(-b1, &status, 0);
		yes("waitpid of the group took one of it", got == b1 || got == b2);
		ended("its member", status);
	}
	report("waitpid of the group, none left", waitpid(-b1, &status, 0));

	/* waitpid(0): only children of the caller's own group. */
	pid_t d = fork();
	if (d == 0) {
		setpgid(0, 0);
		usleep(100000);
		_exit(8);
	}
	setpgid(d, d);
	report("waitpid(0) with the only child in another group", waitpid(0, &status, WNOHANG));
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	yes("waitpid(0) takes the one of ours", waitpid(0, &status, 0) == c);
	ended("it", status);
	yes("waitpid(-pgid) takes the other", waitpid(-d, &status, 0) == d);
	ended("it", status);
}

static volatile sig_atomic_t usr2;

static void on_usr2(int sig)
{
	(void)sig;
	usr2++;
}

/* kill(0, sig) in a group of its own: the sender and its group. */
static void kill_own_group(void)
{
	int status;
	pid_t e = fork();

	if (e == 0) {
		setpgid(0, 0);
		pid_t f = waiter(0, 0);
		signal(SIGUSR2, on_usr2);       /* the sender's own, not its child's */
		report("kill(0)", kill(0, SIGUSR2));
		waitpid(f, &status, 0);
		ended("the other member", status);
		yes("kill(0) reached the sender too", usr2 == 1);
		_exit(0);
	}
	waitpid(e, &status, 0);
	ended("the sender", status);
}

/* A new session takes the terminal and hands its foreground around. */
static void session(void)
{
	int status;
	pid_t s = fork();

	if (s == 0) {
		pid_t me = getpid();
		yes("setsid gives a new session", setsid() == me);
		yes("its id is the caller's", getsid(0) == me && getpgrp() == me);
		report("setpgid of a session leader", setpgid(0, 0));
		report("setsid again", setsid());
		report("tcgetpgrp with no terminal yet", tcgetpgrp(1));
		report("TIOCSCTTY", ioctl(1, TIOCSCTTY, 0));
		yes("tcgetpgrp is the leader's group", tcgetpgrp(1) == me);
		yes("tcgetsid is the session", tcgetsid(1) == me);
		pid_t gone = gone_pid();
		pid_t t = waiter(1, 0);
		/* From the background, as a shell does: SIGTTOU ignored. */
		signal(SIGTTOU, SIG_IGN);
		report("tcsetpgrp to another group of the session", tcsetpgrp(1, t));
		yes("tcgetpgrp follows", tcgetpgrp(1) == t);
		report("tcsetpgrp to a group nobody has", tcsetpgrp(1, gone));
		report("tcsetpgrp to a negative group", tcsetpgrp(1, -1));
		report("tcsetpgrp back", tcsetpgrp(1, me));
		yes("tcgetpgrp is the leader's again", tcgetpgrp(1) == me);
		kill(t, SIGKILL);
		waitpid(t, &status, 0);
		ended("the other group's member", status);
		_exit(0);
	}
	waitpid(s, &status, 0);
	ended("the session leader", status);
	report("tcgetpgrp here, after", tcgetpgrp(1));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The terminal's modes on standard output (open for reading too on
 * both): nobody types, so reads end by VMIN and VTIME. */
static void modes(void)
{
	struct termios old, raw;
	char buf[16];
	int n = -1;

	report("tcgetattr", tcgetattr(1, &old));
	yes("canonical with echo", (old.c_lflag & (ICANON | ECHO)) == (ICANON | ECHO));
	yes("^C, ^\\ and ^D", old.c_cc[VINTR] == 3 && old.c_cc[VQUIT] == 28 && old.c_cc[VEOF] == 4);
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	report("tcsetattr raw", tcsetattr(1, TCSANOW, &raw));
	struct termios back;
	tcgetattr(1, &back);
	yes("it is kept", !(back.c_lflag & ICANON) && back.c_cc[VMIN] == 0);
	report("read, VMIN 0 VTIME 0", read(1, buf, sizeof(buf)));
	raw.c_cc[VTIME] = 2;
	tcsetattr(1, TCSANOW, &raw);
	double t0 = now();
	report("read, VMIN 0 VTIME 2", read(1, buf, sizeof(buf)));
	double took = now() - t0;
	yes("it waited VTIME", took >= 0.15 && took < 2);
	struct pollfd pf = { 1, POLLIN, 0 };
	report("poll for input", poll(&pf, 1, 0));
	fd_set in;
	struct timeval zero = { 0, 0 };
	FD_ZERO(&in);
	FD_SET(1, &in);
	report("select for input", select(2, &in, NULL, NULL, &zero));
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, got;
	report("epoll_ctl of the terminal", epoll_ctl(ep, EPOLL_CTL_ADD, 1, &ev));
	report("epoll_wait", epoll_wait(ep, &got, 1, 0));
	yes("  writable, nothing to read", (got.events & (EPOLLIN | EPOLLOUT)) == EPOLLOUT);
	close(ep);
	report("FIONREAD", ioctl(1, FIONREAD, &n));
	printf("  bytes %d\n", n);
	report("tcflush", tcflush(1, TCIFLUSH));
	report("tcsetattr back", tcsetattr(1, TCSAFLUSH, &old));
}

int main(void)
{
	ids();
	groups();
	kill_own_group();
	session();
	modes();
	return 0;
}
