/*
 * AF_UNIX stream sockets with names, differential (Linux's unix(7)): a
 * path in a directory of its own under /tmp (a socket node: stat says
 * S_IFSOCK, open says ENXIO; EADDRINUSE; unlink takes the name away:
 * ENOENT; a listener closed leaves its path refusing: ECONNREFUSED),
 * the abstract namespace (sun_path[0] == 0; the name free again once
 * its socket is closed), autobind, listen/accept/connect in one process
 * and with a forked child, getsockname and getpeername, SO_PEERCRED,
 * a non-blocking accept and a full backlog (EAGAIN), poll on a listener,
 * shutdown, and the errors of sockets not bound or not connected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EADDRINUSE) X(ENOENT) X(ECONNREFUSED) X(EAGAIN) X(ENOTCONN) \
	X(EISCONN) X(ENXIO)
#include "check.h"

static char dir[64];

static const char *yes(int v)
{
	return v ? "yes" : "no";
}

/* A sockaddr_un of path (abstract: name after a 0 byte); its length. */
static socklen_t addr(struct sockaddr_un *a, const char *name, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		memcpy(a->sun_path + 1, name, strlen(name));
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	}
	strcpy(a->sun_path, name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1);
}

static int stream(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0);
}

/* What getsockname or getpeername says, the path told relative to dir. */
static void name_of(const char *what, int fd, int peer)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len) : getsockname(fd, (struct sockaddr *)&a, &len);

	if (r < 0) {
		show(what, r);
		return;
	}
	long n = (long)len - (long)offsetof(struct sockaddr_un, sun_path);
	if (n <= 0)
		printf("%s: family %d, unnamed\n", what, a.sun_family);
	else if (a.sun_path[0] == 0)
		printf("%s: family %d, abstract of %ld bytes%s\n", what, a.sun_family, n - 1,
		       n - 1 == 5 ? " (autobind)" : "");
	else
		printf("%s: family %d, path %s, length right %s\n", what, a.sun_family,
		       !strncmp(a.sun_path, dir, strlen(dir)) ? a.sun_path + strlen(dir) : a.sun_path,
		       yes(n == (long)strlen(a.sun_path) + 1));
}

static void peercred(const char *what, int fd, pid_t want)
{
	struct ucred c;
	socklen_t len = sizeof(c);
	int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len);

	printf("%s: %d, pid right %s, uid right %s\n", what, r, yes(c.pid == want),
	       yes(c.uid == getuid()));
}

static void paths(void)
{
	struct sockaddr_un a;
	char path[128], file[128];
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	socklen_t len = addr(&a, path, 0);
	int l = stream(), c = stream(), other = stream();

	show("listen unbound", listen(l, 5));
	show("connect to nothing", connect(c, (struct sockaddr *)&a, len));
	show("bind", bind(l, (struct sockaddr *)&a, len));
	show("bind again", bind(l, (struct sockaddr *)&a, len));
	show("bind another to the same path", bind(other, (struct sockaddr *)&a, len));
	struct stat st;
	int r = stat(path, &st);
	printf("stat: %d socket %s\n", r, yes(S_ISSOCK(st.st_mode)));
	errno = 0;
	show("open it", open(path, O_RDONLY));
	name_of("getsockname", l, 0);
	show("connect before listen", connect(c, (struct sockaddr *)&a, len));
	show("listen", listen(l, 5));
	show("connect", connect(c, (struct sockaddr *)&a, len));
	show("connect again", connect(c, (struct sockaddr *)&a, len));
	int s = accept(l, NULL, NULL);
	show("accept", s < 0 ? -1 : 0);
	name_of("client's getsockname", c, 0);
	name_of("client's getpeername", c, 1);
	name_of("accepted's getsockname", s, 0);
	name_of("accepted's getpeername", s, 1);
	peercred("client's SO_PEERCRED", c, getpid());
	peercred("accepted's SO_PEERCRED", s, getpid());
	char buf[32] = "";
	show("write", write(c, "ping", 4));
	show("read", read(s, buf, sizeof(buf)));
	show("send back", send(s, "pong!", 5, 0));
	memset(buf, 0, sizeof(buf));
	show("recv", recv(c, buf, sizeof(buf), 0));
	printf("got %s\n", buf);
	show("shutdown write", shutdown(c, SHUT_WR));
	show("read the end", read(s, buf, sizeof(buf)));
	close(s);
	close(c);

	int fd = open(file, O_CREAT | O_WRONLY, 0644);
	close(fd);
	c = stream();
	len = addr(&a, file, 0);
	show("connect to a file", connect(c, (struct sockaddr *)&a, len));
	len = addr(&a, path, 0);
	show("unlink the socket", unlink(path));
	show("connect after unlink", connect(c, (struct sockaddr *)&a, len));
	show("bind another there now", bind(other, (struct sockaddr *)&a, len));
	show("listen", listen(other, 1));
	close(other);
	show("connect after its listener closed", connect(c, (struct sockaddr *)&a, len));
	close(c);
	close(l);
	unlink(path);
	unlink(file);
}

static void abstract(void)
{
	struct sockaddr_un a;
	char name[64];
	snprintf(name, sizeof(name), "mica-unix-test-%08d", (int)getpid());
	socklen_t len = addr(&a, name, 1);
	int l = stream(), c = stream(), other = stream();

	show("abstract connect to nothing", connect(c, (struct sockaddr *)&a, len));
	show("abstract bind", bind(l, (struct sockaddr *)&a, len));
	show("abstract bind another", bind(other, (struct sockaddr *)&a, len));
	name_of("abstract getsockname", l, 0);
	show("abstract listen", listen(l, 0));
	struct pollfd pf = { l, POLLIN, 0 };
	show("poll the listener", poll(&pf, 1, 0));
	int fl = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, fl | O_NONBLOCK);
	show("abstract connect, non-blocking", connect(c, (struct sockaddr *)&a, len));
	show("poll the listener", poll(&pf, 1, 0));
	printf("  revents %#x\n", pf.revents);
	int d = stream();
	fcntl(d, F_SETFL, fl | O_NONBLOCK);
	show("a second connect, backlog 0 full", connect(d, (struct sockaddr *)&a, len));
	name_of("client's getpeername", c, 1);
	int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	show("accept4", s < 0 ? -1 : 0);
	printf("  FD_CLOEXEC %d\n", fcntl(s, F_GETFD) & FD_CLOEXEC);
	fcntl(l, F_SETFL, fcntl(l, F_GETFL) | O_NONBLOCK);
	show("accept with nothing waiting", accept(l, NULL, NULL));
	show("now the second connects", connect(d, (struct sockaddr *)&a, len));
	close(d);
	close(s);
	close(c);
	close(l);
	show("abstract bind once it was closed", bind(other, (struct sockaddr *)&a, len));
	close(other);

	int auto_ = stream();
	show("autobind", bind(auto_, (struct sockaddr *)&a, sizeof(sa_family_t)));
	name_of("autobind getsockname", auto_, 0);
	close(auto_);
}

static void forked(void)
{
	struct sockaddr_un a;
	char path[128];
	snprintf(path, sizeof(path), "%s/forked", dir);
	socklen_t len = addr(&a, path, 0);
	int l = stream();

	bind(l, (struct sockaddr *)&a, len);
	listen(l, 4);
	pid_t pid = fork();
	if (pid == 0) {
		int c = stream();
		close(l);
		if (connect(c, (struct sockaddr *)&a, len) < 0)
			_exit(2);
		char buf[16];
		long n = read(c, buf, sizeof(buf));
		for (long i = 0; i < n; i++)
			buf[i] = (char)(buf[i] - 'a' + 'A');
		write(c, buf, (size_t)n);
		_exit(0);
	}
	struct sockaddr_un from;
	socklen_t flen = sizeof(from);
	int s = accept(l, (struct sockaddr *)&from, &flen);
	show("accept waits for the child's connect", s < 0 ? -1 : 0);
	printf("  the child's name: %d bytes\n", (int)flen);
	peercred("SO_PEERCRED of the child's", s, pid);
	char buf[16] = "";
	write(s, "hello", 5);
	show("read the child's answer", read(s, buf, sizeof(buf)));
	printf("got %s\n", buf);
	int status;
	waitpid(pid, &status, 0);
	printf("child: status %d\n", WEXITSTATUS(status));
	show("read after the child ended", read(s, buf, sizeof(buf)));
	close(s);
	close(l);
	unlink(path);
}

static void errors(void)
{
	int c = stream();
	char buf[4];
	struct sockaddr_un a = { .sun_family = AF_INET };

	show("socket AF_UNIX bad protocol", socket(AF_UNIX, SOCK_STREAM, 7));
	show("getpeername unconnected", getpeername(c, (struct sockaddr *)&a, &(socklen_t){ sizeof(a) }));
	name_of("getsockname unbound", c, 0);
	show("write unconnected", send(c, "x", 1, MSG_NOSIGNAL));
	show("read unconnected", read(c, buf, sizeof(buf)));
	show("bind of the wrong family", bind(c, (struct sockaddr *)&a, sizeof(a)));
	show("connect of the wrong family", connect(c, (struct sockaddr *)&a, sizeof(a)));
	show("connect without a path", connect(c, (struct sockaddr *)&a, sizeof(sa_family_t)));
	close(c);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/unix-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0) {
		perror("mkdir");
		return 1;
	}
	paths();
	abstract();
	forked();
	errors();
	rmdir(dir);
	printf("unix: done\n");
	return 0;
}
