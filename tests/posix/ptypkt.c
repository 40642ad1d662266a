/*
 * A pty's packet mode and what /proc says of ptys, differential
 * (Linux's ioctl_tty(2) TIOCPKT, TIOCGPKT; proc(5) stat's tty_nr and
 * tpgid, /proc/PID/fd/): in packet mode each read of the master is a
 * TIOCPKT_DATA byte and the data, or one status byte — TIOCPKT_FLUSHREAD
 * and TIOCPKT_FLUSHWRITE for the slave's tcflush (the output flushed
 * gone), TIOCPKT_NOSTOP and TIOCPKT_DOSTOP when the slave's IXON goes
 * and comes — which poll shows as POLLPRI; TIOCPKT on the slave is
 * ENOTTY; out of packet mode, reads are the bytes again. The master's
 * /proc/self/fd link is /dev/ptmx, the slave's its ptsname; a session
 * whose terminal is the slave has its device as stat's tty_nr and its
 * foreground group as tpgid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ENOTTY) X(EINVAL)
#include "check.h"

#ifndef TIOCPKT_FLUSHREAD
#define TIOCPKT_DATA       0
#define TIOCPKT_FLUSHREAD  1
#define TIOCPKT_FLUSHWRITE 2
#define TIOCPKT_NOSTOP     16
#define TIOCPKT_DOSTOP     32
#endif

static int master;

/* A read of the master (non-blocking), shown: its length and bytes. */
static const char *packet(void)
{
	static char out[128];
	unsigned char b[32];
	int flags = fcntl(master, F_GETFL);

	usleep(20000);          /* the slave's side is done: Linux's pty is a work queue */
	fcntl(master, F_SETFL, flags | O_NONBLOCK);
	ssize_t n = read(master, b, sizeof(b));
	fcntl(master, F_SETFL, flags);
	if (n < 0)
		return errno == EAGAIN ? "EAGAIN" : strerror(errno);
	int len = snprintf(out, sizeof(out), "%zd:", n);
	for (ssize_t i = 0; i < n && len < (int)sizeof(out) - 6; i++)
		len += b[i] > 32 && b[i] < 127 ? snprintf(out + len, sizeof(out) - (size_t)len, " %c", b[i])
						: snprintf(out + len, sizeof(out) - (size_t)len, " %d", b[i]);
	return out;
}

int main(void)
{
	struct termios tio;
	char link[64], path[64];
	int on = 1, off = 0, got = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(20);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(master);
	unlockpt(master);
	const char *name = ptsname(master);
	int slave = open(name, O_RDWR | O_NOCTTY);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", master);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	printf("master's link: %s\n", link);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", slave);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	printf("slave's link is its ptsname: %s\n", strcmp(link, name) ? "no" : "yes");

	ioctl(master, TIOCGPKT, &got);
	printf("TIOCGPKT: %d\n", got);
	printf("TIOCPKT on the slave: %s\n", outcome(ioctl(slave, TIOCPKT, &on)));
	printf("TIOCPKT on the master: %s\n", outcome(ioctl(master, TIOCPKT, &on)));
	ioctl(master, TIOCGPKT, &got);
	printf("TIOCGPKT: %d\n", got);
	printf("nothing: %s\n", packet());

	write(slave, "hi\n", 3);
	printf("data: %s\n", packet());
	printf("then: %s\n", packet());

	tcflush(slave, TCIFLUSH);
	struct pollfd pf = { master, POLLIN | POLLPRI, 0 };
	usleep(20000);
	poll(&pf, 1, 0);
	printf("poll after the slave's input flush: %s%s\n", pf.revents & POLLIN ? "POLLIN " : "",
	       pf.revents & POLLPRI ? "POLLPRI" : "");
	printf("input flush: %s\n", packet());
	printf("then: %s\n", packet());

	write(slave, "x", 1);
	usleep(20000);
	tcflush(slave, TCOFLUSH);
	printf("output flush: %s\n", packet());
	printf("then: %s\n", packet());
	tcflush(slave, TCIOFLUSH);
	printf("both flushed: %s\n", packet());

	tcgetattr(slave, &tio);
	tio.c_iflag &= ~(tcflag_t)IXON;
	tcsetattr(slave, TCSANOW, &tio);
	printf("IXON off: %s\n", packet());
	tcsetattr(slave, TCSANOW, &tio);
	printf("again: %s\n", packet());
	tio.c_iflag |= IXON;
	tcsetattr(master, TCSANOW, &tio);
	printf("IXON on (from the master): %s\n", packet());
	write(slave, "ab", 2);
	tcflush(slave, TCIFLUSH);
	printf("data and a status: %s\n", packet());
	printf("then: %s\n", packet());

	printf("TIOCPKT 0: %s\n", outcome(ioctl(master, TIOCPKT, &off)));
	write(slave, "ok", 2);
	printf("plain: %s\n", packet());
	tcflush(slave, TCIFLUSH);
	printf("no status: %s\n", packet());

	/* A session on the slave: its stat's tty_nr and tpgid. */
	struct stat st;
	stat(name, &st);
	pid_t child = fork();
	if (child == 0) {
		setsid();
		int t = open(name, O_RDWR);     /* its controlling terminal */
		char buf[512];
		int fd = open("/proc/self/stat", O_RDONLY);
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		buf[k > 0 ? k : 0] = 0;
		const char *rest = strrchr(buf, ')');
		char state;
		int ppid, pgrp, sid, tty_nr, tpgid;
		sscanf(rest + 2, "%c %d %d %d %d %d", &state, &ppid, &pgrp, &sid, &tty_nr, &tpgid);
		printf("session on the slave: tty_nr is its device %s, tpgid its group %s\n",
		       (unsigned)tty_nr == ((major(st.st_rdev) << 8) | minor(st.st_rdev)) ? "yes" : "no",
		       tpgid == getpgrp() ? "yes" : "no");
		close(t);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	return 0;
}
