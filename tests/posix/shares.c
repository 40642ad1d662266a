/*
 * Each account's share of the POSIX server's tables, for Mica only
 * (docs/posix.md, "Limits"; nothing here is Linux's behaviour to compare).
 *
 * `shares hold` leaves a keeper behind (keeper.h: its child, once it has ended, so
 * that the console's terminal is free for the next `run`), which takes
 * all the account may have: ptys, tmpfs files (empty, closed again) and
 * tmpfs pages (one file written) until each fails (ENOSPC, as Linux's
 * /dev/ptmx and tmpfs say), pipes, eventfds, epolls and TCP sockets until
 * each fails, /dev/null until RLIMIT_NOFILE, then a child that opens
 * more until the account's descriptions run out, children until fork
 * fails, threads until pthread_create fails. It prints one line for each
 * with the count and the error, "shares: holding (pid N)", and keeps all
 * until SIGTERM (the console's `kill N`): then it ends its children and
 * prints "shares: released".
 *
 * `shares check`, from another account meanwhile, makes one of each
 * (and a fork when there is room for one) and prints what worked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EMFILE) X(ENFILE) X(EAGAIN) X(ENOMEM) X(ENOSPC)
#include "check.h"
#include "keeper.h"

#define CHILDREN_MAX 128     /* past SHARE(PROCESS_MAX): 96 */
#define THREADS_MAX  256     /* past SHARE(THREAD_MAX): 192 */

static pid_t children[CHILDREN_MAX];
static int nchildren;

/* Make things with make() until it fails: the count, and the error. */
static int until_error(int (*make)(void), int *fail)
{
	int n = 0;

	while (n < 4096 && make() >= 0)
		n++;
	*fail = errno;
	return n;
}

static int make_pipe(void)
{
	int fd[2];

	return pipe(fd);
}

static int make_eventfd(void)
{
	return eventfd(0, 0);
}

static int make_epoll(void)
{
	return epoll_create1(0);
}

static int make_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0);
}

static int make_file(void)
{
	return open("/dev/null", O_RDONLY);
}

/* /dev/ptmx itself: musl's posix_openpt says EAGAIN for its ENOSPC. */
static int make_pty(void)
{
	return open("/dev/ptmx", O_RDWR | O_NOCTTY);
}

static int tmp_files;

static int make_tmp_file(void)
{
	char name[64];

	snprintf(name, sizeof(name), "/tmp/shares.%d", tmp_files);
	int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0)
		return -1;
	tmp_files++;
	return close(fd);
}

static void tmp_files_remove(void)
{
	char name[64];

	for (int i = 0; i < tmp_files; i++) {
		snprintf(name, sizeof(name), "/tmp/shares.%d", i);
		unlink(name);
	}
	unlink("/tmp/shares.big");
}

/* Bytes written to a new tmpfs file until a write fails. */
static long fill_tmp(int *fail)
{
	static char chunk[65536];
	long bytes = 0, n;
	int fd = open("/tmp/shares.big", O_CREAT | O_TRUNC | O_WRONLY, 0600);

	if (fd < 0) {
		*fail = errno;
		return -1;
	}
	memset(chunk, 'x', sizeof(chunk));
	while (bytes < (1L << 30) && (n = write(fd, chunk, sizeof(chunk))) > 0)
		bytes += n;
	*fail = errno;
	close(fd);
	return bytes;
}

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int hold(void)
{
	int fail, n;
	long bytes;
	/* Made and touched first: its page is a tmpfs page of the account's. */
	volatile int *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				  -1, 0);

	if (done == MAP_FAILED)
		return 1;
	*done = 0;

	n = until_error(make_pty, &fail);
	printf("ptys: %d, then %s\n", n, err(fail));
	bytes = fill_tmp(&fail);
	printf("tmpfs bytes: %ld, then %s\n", bytes, err(fail));
	n = until_error(make_tmp_file, &fail);
	printf("tmpfs files: %d, then %s\n", n, err(fail));
	n = until_error(make_pipe, &fail);
	printf("pipes: %d, then %s\n", n, err(fail));
	n = until_error(make_eventfd, &fail);
	printf("eventfds: %d, then %s\n", n, err(fail));
	n = until_error(make_epoll, &fail);
	printf("epolls: %d, then %s\n", n, err(fail));
	n = until_error(make_socket, &fail);
	printf("sockets: %d, then %s\n", n, err(fail));
	int first = open("/dev/null", O_RDONLY);
	n = 1 + until_error(make_file, &fail);
	printf("files: %d, then %s\n", n, err(fail));
	fflush(stdout);

	/* A child with room in its own table (it closes what it inherited
	 * from /dev/null: the parent keeps those descriptions) opens more
	 * until the account has no description left: it stops before its
	 * own RLIMIT_NOFILE. */
	pid_t c = fork();
	if (c == 0) {
		for (int fd = first; fd < first + n; fd++)
			close(fd);
		int m = until_error(make_file, &fail);
		printf("child files: %d of %d closed, then %s\n", m, n, err(fail));
		fflush(stdout);
		*done = 1;
		for (;;)
			pause();
	}
	if (c < 0)
		return 1;
	children[nchildren++] = c;
	while (!*done)
		usleep(10000);

	while (nchildren < CHILDREN_MAX) {
		c = fork();
		if (c == 0)
			for (;;)
				pause();
		if (c < 0)
			break;
		children[nchildren++] = c;
	}
	printf("forks: %d, then %s\n", nchildren, err(errno));

	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 65536);
	for (n = 0; n < THREADS_MAX && (fail = pthread_create(&t, &attr, park, NULL)) == 0; n++)
		;
	printf("threads: %d, then %s\n", n, err(fail));
	keeper_hold("shares", children, nchildren);
	tmp_files_remove();
	keeper_released("shares");
	return 0;
}

static int check(void)
{
	int fd[2], file, ev, ep, sock;
	pthread_t t;

	int piped = pipe(fd) == 0;
	file = open("/dev/null", O_RDONLY);
	ev = eventfd(0, 0);
	ep = epoll_create1(0);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	int thread = pthread_create(&t, NULL, park, NULL) == 0;
	int pty = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	int tmp = open("/tmp/shares.check", O_CREAT | O_TRUNC | O_RDWR, 0600);
	int written = tmp >= 0 && write(tmp, "a page of tmpfs", 15) == 15;
	unlink("/tmp/shares.check");
	printf("check: pipe %s, open %s, eventfd %s, epoll %s, socket %s, thread %s, pty %s, "
	       "tmpfs file %s, tmpfs write %s\n", yes(piped), yes(file >= 0), yes(ev >= 0),
	       yes(ep >= 0), yes(sock >= 0), yes(thread), yes(pty >= 0), yes(tmp >= 0), yes(written));
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hold")) {
		pid_t keeper = keeper_start();
		if (keeper != 0)
			return keeper < 0;
		return hold();
	}
	if (argc == 2 && !strcmp(argv[1], "check"))
		return check();
	fprintf(stderr, "usage: shares hold|check\n");
	return 2;
}
