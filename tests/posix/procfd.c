/*
 * /proc/self/fd, /proc/PID/ and /proc's list of processes, differential:
 * only what is the same on every Linux by design — the descriptors this
 * program opened, what their links say (inode numbers checked against
 * fstat's, never printed; the pid masked), that opening a link opens the
 * descriptor's file (a new description for a file, the same pipe for a
 * pipe, ENXIO for a socket), ENOENT once it is closed, fdinfo's pos and
 * flags of a file, /proc/self naming getpid(), and a child's stat,
 * cmdline, a zombie's state and its directory gone after wait.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ENOENT) X(ENXIO) X(EINVAL) X(ESRCH)
#include "check.h"

static char text[8192];

static const char *yes(int v)
{
	return v ? "yes" : "no";
}

/* The file at path into text: its length, or -1 (errno). */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	long len = 0, n = 0;

	if (fd < 0)
		return -1;
	while (len < (long)sizeof(text) - 1 && (n = read(fd, text + len, 100)) > 0)
		len += n;
	close(fd);
	text[len] = 0;
	return n < 0 ? -1 : len;
}

/* What /proc/self/fd/fd says, the digits of its inode number (if the
 * form has one) replaced by "INO" when they are fstat's st_ino, and
 * this process's pid by "PID". */
static void link_form(int fd, char *out, size_t size)
{
	char path[64], buf[512], pid[16];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0) {
		snprintf(out, size, "readlink %s", errname(errno));
		return;
	}
	buf[n] = 0;
	char *open_br = strchr(buf, '[');
	if (open_br && open_br[1] >= '0' && open_br[1] <= '9' && fstat(fd, &st) == 0) {
		unsigned long long ino = strtoull(open_br + 1, NULL, 10);
		*open_br = 0;
		snprintf(out, size, "%s[%s]", buf, ino == (unsigned long long)st.st_ino ? "INO" : "other");
		return;
	}
	snprintf(pid, sizeof(pid), "/proc/%d/", getpid());
	char *at = strstr(buf, pid);
	if (at)
		snprintf(out, size, "%.*s/proc/PID/%s", (int)(at - buf), buf, at + strlen(pid));
	else
		snprintf(out, size, "%s", buf);
}

/* The descriptors >= 3 that /proc/self/fd lists, each with its link. */
static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char form[600];
	int dfd = d ? dirfd(d) : -1;

	printf("opendir /proc/self/fd: %s\n", yes(d != NULL));
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd < 3)
			continue;
		link_form(fd, form, sizeof(form));
		printf("fd %d%s: type %s -> %s\n", fd, fd == dfd ? " (the listing's)" : "",
		       e->d_type == DT_LNK ? "link" : "other", form);
	}
	closedir(d);
}

static void fdinfo(int fd, const char *what)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (slurp(path) < 0) {
		printf("fdinfo of %s: %s\n", what, errname(errno));
		return;
	}
	char *flags = strstr(text, "\nflags:");
	char *end = flags ? strchr(flags + 1, '\n') : NULL;
	if (end)
		*end = 0;
	char *pos_end = strchr(text, '\n');
	if (pos_end)
		*pos_end = 0;
	printf("fdinfo of %s: %s; %s\n", what, text, flags ? flags + 1 : "no flags");
}

static void reopen(int file, int rd, int wr, int sock, int efd)
{
	char path[64], a[8] = "", b[8] = "";

	snprintf(path, sizeof(path), "/proc/self/fd/%d", file);
	int again = open(path, O_RDONLY);
	ssize_t na = read(again, a, 4), nb = read(file, b, 4);
	printf("reopened file: a new description from offset 0: %s (read %zd %zd, the first's "
	       "offset %ld)\n", yes(again >= 0 && na == 4 && nb == 4 && strncmp(a, b, 4) != 0 &&
				   !strncmp(a, "root", 4)), na, nb, (long)lseek(file, 0, SEEK_CUR));
	close(again);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", wr);
	int wr2 = open(path, O_WRONLY);
	close(wr);
	ssize_t w = write(wr2, "y", 1);
	char c = 0;
	ssize_t r = read(rd, &c, 1);
	printf("pipe's write end reopened, the first closed: write %zd, read %zd '%c'\n", w, r, c);
	close(wr2);
	r = read(rd, &c, 1);
	printf("its last writer closed: read %zd\n", r);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", sock);
	errno = 0;
	int s = open(path, O_RDWR);
	printf("open of a socket's link: %d %s\n", s < 0 ? -1 : 0, errname(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", efd);
	errno = 0;
	int e = open(path, O_RDWR);
	printf("open of an eventfd's link: %d %s\n", e < 0 ? -1 : 0, errname(errno));
	struct stat st, lst, fst;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sock);
	fstat(sock, &fst);
	int r1 = stat(path, &st), r2 = lstat(path, &lst);
	printf("stat of it: %d socket %s same inode %s; lstat: %d link %s\n", r1, yes(S_ISSOCK(st.st_mode)),
	       yes(st.st_ino == fst.st_ino), r2, yes(S_ISLNK(lst.st_mode)));
}

static void closed(int fd)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	errno = 0;
	ssize_t n = readlink(path, buf, sizeof(buf));
	printf("closed fd: readlink %zd %s", n, errname(errno));
	errno = 0;
	int r = open(path, O_RDONLY);
	printf(", open %d %s\n", r < 0 ? -1 : r, errname(errno));
}

static void self(int argc, char **argv)
{
	char buf[64], path[64];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = 0;
	printf("/proc/self names getpid(): %s\n", yes(n > 0 && atoi(buf) == getpid()));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", getpid());
	long len = slurp(path), want = 0;
	for (int i = 0; i < argc; i++)
		want += (long)strlen(argv[i]) + 1;
	int same = len == want;
	for (int i = 0, at = 0; i < argc && same; at += (int)strlen(argv[i]) + 1, i++)
		same = !strcmp(text + at, argv[i]);
	printf("cmdline: %ld bytes, argv NUL-separated: %s\n", len == want ? len : -1, yes(same));
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	snprintf(path, sizeof(path), "/proc/%d/comm", getpid());
	slurp(path);
	size_t k = strlen(base) < 15 ? strlen(base) : 15;
	printf("comm: the name's first 15 bytes: %s\n", yes(!strncmp(text, base, k) && text[k] == '\n'));
	snprintf(path, sizeof(path), "/proc/%d/exe", getpid());
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	const char *exe = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	printf("exe: ends in /%s: %s\n", base, yes(!strcmp(exe, base)));
	chdir("/tmp");
	n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("cwd after chdir /tmp: %s\n", buf);
	chdir("/");
	int listed = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (atoi(e->d_name) == getpid() && e->d_type == DT_DIR)
			listed = 1;
	if (d)
		closedir(d);
	printf("own pid in /proc as a directory: %s\n", yes(listed));
	d = opendir("/proc/self");
	int stat_seen = 0, fd_seen = 0;
	while (d && (e = readdir(d))) {
		stat_seen |= !strcmp(e->d_name, "stat") && e->d_type == DT_REG;
		fd_seen |= !strcmp(e->d_name, "fd") && e->d_type == DT_DIR;
	}
	if (d)
		closedir(d);
	printf("/proc/self lists stat %s, fd %s\n", yes(stat_seen), yes(fd_seen));
}

static void child(char **argv)
{
	int go[2];
	char path[64], state = 0;
	int pid, ppid = 0;

	if (pipe(go))
		return;
	pid_t c = fork();
	if (c == 0) {
		char x;
		close(go[1]);
		read(go[0], &x, 1);
		_exit(7);
	}
	close(go[0]);
	snprintf(path, sizeof(path), "/proc/%d/stat", c);
	slurp(path);
	sscanf(text, "%d (%*[^)]) %c %d", &pid, &state, &ppid);
	printf("child's stat: pid %s, ppid %s, state R or S %s\n", yes(pid == c), yes(ppid == getpid()),
	       yes(state == 'R' || state == 'S'));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", c);
	long len = slurp(path);
	printf("child's cmdline is argv: %s\n", yes(len > 0 && !strcmp(text, argv[0])));
	close(go[1]);
	siginfo_t si;
	waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT);
	snprintf(path, sizeof(path), "/proc/%d/stat", c);
	slurp(path);
	state = 0;
	sscanf(text, "%*d (%*[^)]) %c", &state);
	printf("exited, not waited for: state %c\n", state);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", c);
	printf("a zombie's cmdline: %ld bytes\n", slurp(path));
	int status = 0;
	waitpid(c, &status, 0);
	snprintf(path, sizeof(path), "/proc/%d", c);
	struct stat st;
	errno = 0;
	int r = stat(path, &st);
	printf("waited for (status %d): stat /proc/PID %d %s\n", WEXITSTATUS(status), r, errname(errno));
}

int main(int argc, char **argv)
{
	int file = open("/etc/passwd", O_RDONLY);
	int p[2], sv[2];
	char buf[5];

	if (file < 0 || pipe(p) || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	int efd = eventfd(0, 0);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int gone = open("/etc/passwd", O_RDONLY);
	close(gone);            /* a hole in the list */
	printf("opened: file %d, pipe %d %d, sockets %d %d, eventfd %d, /dev/null %d, closed %d\n",
	       file, p[0], p[1], sv[0], sv[1], efd, null, gone);
	read(file, buf, 5);
	list_fds();
	fdinfo(file, "the file after 5 bytes");
	fdinfo(null, "/dev/null (O_WRONLY|O_CLOEXEC)");
	fdinfo(gone, "a closed fd");
	closed(gone);
	reopen(file, p[0], p[1], sv[0], efd);
	self(argc, argv);
	child(argv);
	return 0;
}
