/*
 * sendfile and copy_file_range, differential (Linux's sendfile(2),
 * copy_file_range(2)): a tmpfs file of 100,000 bytes sent to a pipe (one
 * call takes what fits, 64 KiB; a full non-blocking pipe is EAGAIN), to
 * a socket pair (a blocking call moves the whole count while a forked
 * child reads), to another file; with an offset pointer (advanced; the
 * file's own offset left alone) and without (the file's offset
 * advanced); counts past the end of the file, 0 at its end; the errors
 * EBADF (bad descriptors, the input write-only, the output read-only),
 * EINVAL (an O_APPEND output, a negative offset, a pipe's input),
 * ESPIPE (an offset with a pipe's input), EFAULT (a bad offset pointer);
 * copy_file_range between two files, with and without offsets, and its
 * EINVAL (flags, overlapping ranges of one file), EBADF (O_APPEND).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EBADF) X(EINVAL) X(ESPIPE) X(EFAULT) X(EAGAIN)
#include "check.h"

#define SIZE 100000

static char path[64], path2[64];
static unsigned char data[SIZE];

/* Read n bytes from fd: whether they are data's from at; *got how many. */
static int read_right(int fd, long at, long n, long *got)
{
	static unsigned char buf[SIZE];
	long r;

	*got = 0;
	while (*got < n && (r = read(fd, buf + *got, (size_t)(n - *got))) > 0)
		*got += r;
	return *got == n && !memcmp(buf, data + at, (size_t)n);
}

static void check(const char *what, int fd, long at, long n)
{
	long got;
	int right = read_right(fd, at, n, &got);

	printf("%s: %ld bytes, right %s\n", what, got, right ? "yes" : "no");
}

static void to_pipes(int in)
{
	int p[2];
	off_t off;

	pipe(p);
	show("sendfile 1000 to a pipe", sendfile(p[1], in, NULL, 1000));
	printf("file offset: %ld\n", (long)lseek(in, 0, SEEK_CUR));
	check("the pipe", p[0], 0, 1000);
	off = 5000;
	show("sendfile 3000 from offset 5000", sendfile(p[1], in, &off, 3000));
	printf("offset now %ld, file offset %ld\n", (long)off, (long)lseek(in, 0, SEEK_CUR));
	check("the pipe", p[0], 5000, 3000);
	off = 0;
	show("sendfile everything to an empty pipe", sendfile(p[1], in, &off, SIZE));
	printf("offset now %ld\n", (long)off);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	show("again, the pipe full, O_NONBLOCK", sendfile(p[1], in, &off, 10));
	check("the pipe", p[0], 0, 65536);
	off = SIZE - 100;
	show("sendfile past the end", sendfile(p[1], in, &off, 1000));
	check("the pipe", p[0], SIZE - 100, 100);
	show("sendfile at the end", sendfile(p[1], in, &off, 1000));
	show("sendfile of 0", sendfile(p[1], in, NULL, 0));
	off = -1;
	show("a negative offset", sendfile(p[1], in, &off, 10));
	show("a bad offset pointer", sendfile(p[1], in, (off_t *)8, 10));
	show("a bad input", sendfile(p[1], 99, NULL, 10));
	show("a bad output", sendfile(99, in, NULL, 10));
	show("output the pipe's read end", sendfile(p[0], in, NULL, 10));
	show("input a pipe", sendfile(p[1], p[0], NULL, 10));
	show("input a pipe, an offset", sendfile(p[1], p[0], &off, 10));
	int wo = open(path, O_WRONLY);
	show("input write-only", sendfile(p[1], wo, NULL, 10));
	close(wo);
	close(p[0]);
	close(p[1]);
}

static void to_socket(int in)
{
	int sv[2];
	off_t off = 0;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t child = fork();
	if (child == 0) {
		long got;
		close(sv[0]);
		_exit(read_right(sv[1], 0, SIZE, &got) ? 0 : 1);
	}
	close(sv[1]);
	show("sendfile everything to a socket", sendfile(sv[0], in, &off, SIZE));
	int st;
	waitpid(child, &st, 0);
	printf("the child read them all, right: %s\n", WIFEXITED(st) && !WEXITSTATUS(st) ? "yes" : "no");
	close(sv[0]);
}

static void to_file(int in)
{
	int out = open(path2, O_RDWR | O_CREAT | O_TRUNC, 0600);
	off_t off = 10;

	show("sendfile to a file", sendfile(out, in, &off, 20000));
	printf("its offset: %ld\n", (long)lseek(out, 0, SEEK_CUR));
	lseek(out, 0, SEEK_SET);
	check("the file", out, 10, 20000);
	int ap = open(path2, O_WRONLY | O_APPEND);
	show("to an O_APPEND file", sendfile(ap, in, NULL, 10));
	int ro = open(path2, O_RDONLY);
	show("to a read-only file", sendfile(ro, in, NULL, 10));

	/* copy_file_range. */
	loff_t a = 1000, b = 0;
	ftruncate(out, 0);
	show("copy_file_range 5000 from 1000", copy_file_range(in, &a, out, &b, 5000, 0));
	printf("offsets now %ld %ld\n", (long)a, (long)b);
	lseek(out, 0, SEEK_SET);
	check("the copy", out, 1000, 5000);
	lseek(in, 0, SEEK_SET);
	show("copy_file_range, the files' offsets", copy_file_range(in, NULL, out, NULL, 300, 0));
	printf("file offsets now %ld %ld\n", (long)lseek(in, 0, SEEK_CUR), (long)lseek(out, 0, SEEK_CUR));
	a = SIZE - 10;
	show("copy_file_range past the end", copy_file_range(in, &a, out, NULL, 300, 0));
	show("copy_file_range at the end", copy_file_range(in, &a, out, NULL, 300, 0));
	show("copy_file_range with flags", copy_file_range(in, NULL, out, NULL, 3, 1));
	a = 0;
	b = 100;
	int rw = open(path, O_RDWR);
	show("copy_file_range, overlapping", copy_file_range(rw, &a, rw, &b, 1000, 0));
	close(rw);
	show("copy_file_range to O_APPEND", copy_file_range(in, NULL, ap, NULL, 10, 0));
	show("copy_file_range, a bad descriptor", copy_file_range(in, NULL, 99, NULL, 10, 0));
	close(ro);
	close(ap);
	close(out);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "/tmp/sendfile-%d", (int)getpid());
	snprintf(path2, sizeof(path2), "/tmp/sendfile-%d.out", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, SIZE) != SIZE) {
		perror("write");
		return 1;
	}
	close(fd);
	int in = open(path, O_RDONLY);
	to_pipes(in);
	to_socket(in);
	to_file(in);
	close(in);
	unlink(path);
	unlink(path2);
	printf("sendfile: done\n");
	return 0;
}
