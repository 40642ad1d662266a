/*
 * splice, tee and vmsplice, differential (Linux's splice(2), tee(2),
 * vmsplice(2)): a file's bytes into a pipe (from an offset given, which
 * moves, the file's own left; from the file's own offset, which moves),
 * a pipe's bytes into a file (at an offset) and /dev/null, from pipe to
 * pipe (what is left behind), a waiting splice woken by a child's write,
 * a stream socket's bytes into a pipe and a pipe's into the socket; tee
 * leaving the bytes in the first pipe; vmsplice into a pipe from two
 * iovecs and out of one into two; and the errors: EINVAL (flags, no
 * pipe, one pipe both ways, an O_APPEND file, tee of a file), ESPIPE (an
 * offset of a pipe), EBADF, EAGAIN (SPLICE_F_NONBLOCK, a full pipe), 0
 * from an empty pipe without writers, EPIPE without readers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(ESPIPE) X(EBADF) X(EAGAIN) X(EPIPE) X(EFAULT)
#include "check.h"

static int held(int fd)
{
	int n = -1;
	ioctl(fd, FIONREAD, &n);
	return n;
}

/* Up to n bytes of fd as a string. */
static const char *take(int fd, size_t n)
{
	static char b[4][128];
	static unsigned k;
	char *s = b[k++ % 4];
	ssize_t got = read(fd, s, n < 127 ? n : 127);
	s[got > 0 ? got : 0] = 0;
	return s;
}

int main(void)
{
	int p[2], q[2], s[2];
	char path[] = "/tmp/spliceXXXXXX";
	loff_t off;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	alarm(20);
	int fd = mkstemp(path);
	unlink(path);
	write(fd, "hello splice world", 18);
	lseek(fd, 0, SEEK_SET);
	pipe(p);
	pipe(q);

	printf("len 0: %s\n", outcome(splice(fd, NULL, p[1], NULL, 0, 0)));
	printf("bad flags: %s\n", outcome(splice(fd, NULL, p[1], NULL, 4, 0x100)));
	printf("bad fd: %s\n", outcome(splice(99, NULL, p[1], NULL, 4, 0)));
	printf("file to file: %s\n", outcome(splice(fd, NULL, fd, NULL, 4, 0)));
	off = 0;
	printf("offset of a pipe: %s\n", outcome(splice(p[0], &off, fd, NULL, 4, 0)));
	printf("read end as output: %s\n", outcome(splice(fd, NULL, p[0], NULL, 4, 0)));
	printf("one pipe both ways: %s\n", outcome(splice(p[0], NULL, p[1], NULL, 4, 0)));

	off = 6;
	long r = splice(fd, &off, p[1], NULL, 6, 0);
	long long own = lseek(fd, 0, SEEK_CUR);
	printf("file at 6 to pipe: %s, offset %lld, file's own %lld, ", outcome(r), (long long)off, own);
	printf("pipe: %s\n", take(p[0], 64));
	r = splice(fd, NULL, p[1], NULL, 5, 0);
	own = lseek(fd, 0, SEEK_CUR);
	printf("file at its offset: %s, file's own now %lld, ", outcome(r), own);
	printf("pipe: %s\n", take(p[0], 64));
	off = 100;
	r = splice(fd, &off, p[1], NULL, 5, 0);
	printf("file past its end: %s\n", outcome(r));

	write(p[1], "abc", 3);
	off = 20;
	r = splice(p[0], NULL, fd, &off, 100, 0);
	char got[8] = { 0 };
	pread(fd, got, 3, 20);
	printf("pipe to file at 20: %s, offset %lld, file has %s, pipe holds %d\n", outcome(r),
	       (long long)off, got, held(p[0]));
	int null = open("/dev/null", O_WRONLY);
	write(p[1], "gone", 4);
	r = splice(p[0], NULL, null, NULL, 64, 0);
	printf("pipe to /dev/null: %s, pipe holds %d\n", outcome(r), held(p[0]));
	int app = open("/dev/null", O_WRONLY | O_APPEND);
	write(p[1], "x", 1);
	printf("O_APPEND output: %s\n", outcome(splice(p[0], NULL, app, NULL, 1, 0)));
	take(p[0], 1);

	write(p[1], "0123456789", 10);
	r = splice(p[0], NULL, q[1], NULL, 4, 0);
	int left = held(p[0]), moved = held(q[0]);
	printf("pipe to pipe: %s, left %d, moved %d: ", outcome(r), left, moved);
	printf("%s\n", take(q[0], 64));
	r = tee(p[0], q[1], 5, 0);
	left = held(p[0]);
	printf("tee: %s, first still %d, second: ", outcome(r), left);
	printf("%s\n", take(q[0], 64));
	printf("tee one pipe: %s\n", outcome(tee(p[0], p[1], 5, 0)));
	printf("tee of a file: %s\n", outcome(tee(fd, q[1], 5, 0)));
	take(p[0], 64);
	printf("tee empty, nonblock: %s\n", outcome(tee(p[0], q[1], 5, SPLICE_F_NONBLOCK)));
	printf("splice empty, nonblock: %s\n",
	       outcome(splice(p[0], NULL, q[1], NULL, 5, SPLICE_F_NONBLOCK)));

	/* A splice that waits, woken by a child's write. */
	pid_t c = fork();
	if (c == 0) {
		usleep(100000);
		write(p[1], "late", 4);
		_exit(0);
	}
	off = 40;
	r = splice(p[0], NULL, fd, &off, 64, 0);
	waitpid(c, NULL, 0);
	memset(got, 0, sizeof(got));
	pread(fd, got, 4, 40);
	printf("waiting splice: %s, file has %s\n", outcome(r), got);

	/* A full pipe. */
	int full[2];
	pipe(full);
	fcntl(full[1], F_SETFL, O_NONBLOCK);
	static char big[65536];
	long filled = 0, w;
	while ((w = write(full[1], big, sizeof(big))) > 0)
		filled += w;
	printf("full pipe (%ld): %s\n", filled,
	       outcome(splice(fd, NULL, full[1], NULL, 4, SPLICE_F_NONBLOCK)));

	/* Ends closed. */
	close(q[1]);
	printf("empty, no writer: %s\n", outcome(splice(q[0], NULL, p[1], NULL, 4, 0)));
	printf("tee empty, no writer: %s\n", outcome(tee(q[0], p[1], 4, 0)));
	close(q[0]);
	pipe(q);
	close(q[0]);
	lseek(fd, 0, SEEK_SET);
	printf("no reader: %s\n", outcome(splice(fd, NULL, q[1], NULL, 4, 0)));
	close(q[1]);

	/* A stream socket. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	write(s[1], "sock data", 9);
	r = splice(s[0], NULL, p[1], NULL, 64, 0);
	printf("socket to pipe: %s, pipe: %s\n", outcome(r), take(p[0], 64));
	printf("socket offset: %s\n", outcome(splice(s[0], &off, p[1], NULL, 4, 0)));
	printf("socket empty, nonblock: %s\n",
	       outcome(splice(s[0], NULL, p[1], NULL, 4, SPLICE_F_NONBLOCK)));
	write(p[1], "to sock", 7);
	r = splice(p[0], NULL, s[0], NULL, 64, 0);
	printf("pipe to socket: %s, peer got: %s\n", outcome(r), take(s[1], 64));

	/* vmsplice. */
	struct iovec in[2] = { { "ab", 2 }, { "cd", 2 } };
	r = vmsplice(p[1], in, 2, 0);
	printf("vmsplice in: %s, pipe: %s\n", outcome(r), take(p[0], 64));
	write(p[1], "xyzw", 4);
	char o1[4] = { 0 }, o2[4] = { 0 };
	struct iovec out[2] = { { o1, 3 }, { o2, 3 } };
	r = vmsplice(p[0], out, 2, 0);
	printf("vmsplice out: %s, %s|%s\n", outcome(r), o1, o2);
	printf("vmsplice empty, nonblock: %s\n", outcome(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK)));
	printf("vmsplice of a file: %s\n", outcome(vmsplice(fd, in, 2, 0)));
	printf("vmsplice bad flags: %s\n", outcome(vmsplice(p[1], in, 2, 0x100)));
	printf("vmsplice bad fd: %s\n", outcome(vmsplice(99, in, 2, 0)));
	return 0;
}
