/*
 * Names, one line per check, the same on Linux and on Mica
 * (tests/system/test_posix.py compares them): in a new directory under
 * /tmp, hard links (link, linkat: a node with several names, st_nlink,
 * one name's unlink keeps the bytes, EEXIST, EPERM for a directory,
 * EXDEV across file systems, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH),
 * symbolic links (symlink, readlink, ELOOP), mknod (regular files,
 * sockets' names, device nodes as root makes them, EPERM for a
 * directory) and named pipes (mkfifo; opens as fifo(7) says: a reader
 * waits for a writer and the other way round, O_NONBLOCK's rules and no
 * POLLHUP before a writer came, O_RDWR, a waiting open interrupted by a
 * signal; a waiting open whose name another process removes waits on,
 * for the node, until its signal).
 * `links erofs` (Mica only): the read-only root filesystem's EROFS.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ENOENT) X(EEXIST) X(ENOTDIR) X(EINVAL) X(EPERM) X(EXDEV) X(EROFS) \
	X(ELOOP) X(ENXIO) X(EINTR) X(ECONNREFUSED) X(EAGAIN)
#include "check.h"

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static long nlink(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? -1 : (long)st.st_nlink;
}

static long ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_ino;
}

/* The bytes of path as a string (at most 63). */
static const char *contents(const char *path)
{
	static char buf[64];
	int fd = open(path, O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = 0;
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = '|';
	return buf;
}

static void hard_links(void)
{
	int fd = open("a", O_CREAT | O_WRONLY, 0644);
	write(fd, "hello\n", 6);
	close(fd);
	report("link a b", link("a", "b"));
	printf("nlink of a, b: %ld %ld, one node: %s\n", nlink("a"), nlink("b"),
	       yes(ino("a") == ino("b")));
	report("link a b again", link("a", "b"));
	report("mkdir d", mkdir("d", 0755));
	report("linkat a d/c", linkat(AT_FDCWD, "a", AT_FDCWD, "d/c", 0));
	printf("nlink of a: %ld\n", nlink("a"));
	report("link of a directory", link("d", "e"));
	report("link of a directory, slash", link("d/", "e"));
	report("link of a missing name", link("nope", "x"));
	report("link into a missing directory", link("a", "nope/x"));
	report("link to a name ending in a slash", link("a", "x/"));
	report("link a file with a slash", link("a/", "x"));
	report("link to .", link("a", "."));
	report("link across file systems", link("/proc/uptime", "x"));
	report("link into /proc", link("a", "/proc/x"));
	report("linkat bad flags", linkat(AT_FDCWD, "a", AT_FDCWD, "y", 1));
	/* one node: a write through one name is read through the others */
	fd = open("b", O_WRONLY | O_APPEND);
	write(fd, "more\n", 5);
	close(fd);
	printf("a reads %s\n", contents("a"));
	report("unlink a", unlink("a"));
	printf("after: b reads %s, nlink %ld, a %s\n", contents("b"), nlink("b"),
	       access("a", F_OK) ? "gone" : "there");
	/* rename between two names of one node does nothing (rename(2)) */
	report("rename b onto d/c", rename("b", "d/c"));
	printf("b after: %s, nlink %ld\n", access("b", F_OK) ? "gone" : "there", nlink("b"));
	report("rename b to n", rename("b", "n"));
	printf("n reads %s, nlink %ld\n", contents("n"), nlink("n"));
	/* the names in a directory, with their types, sorted */
	struct dirent **list;
	int k = scandir(".", &list, NULL, alphasort);
	printf("entries:");
	for (int i = 0; i < k; i++) {
		printf(" %s:%d", list[i]->d_name, list[i]->d_type);
		free(list[i]);
	}
	printf("\n");
	if (k >= 0)
		free(list);
	report("unlink n", unlink("n"));
	/* open, all names gone: nlink 0, and no new name for it */
	fd = open("d/c", O_RDONLY);
	report("unlink d/c", unlink("d/c"));
	struct stat st;
	fstat(fd, &st);
	printf("open, unlinked: nlink %ld\n", (long)st.st_nlink);
	report("linkat of it by AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, "back", AT_EMPTY_PATH));
	close(fd);
	/* a link to a symbolic link is a link; AT_SYMLINK_FOLLOW links its target */
	fd = open("t", O_CREAT | O_WRONLY, 0600);
	close(fd);
	symlink("t", "s");
	report("link s s2", link("s", "s2"));
	printf("s2 is a symbolic link: %s\n", yes(lstat("s2", &st) == 0 && S_ISLNK(st.st_mode)));
	report("linkat s s3 AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "s", AT_FDCWD, "s3",
						       AT_SYMLINK_FOLLOW));
	printf("s3 is t: %s, nlink of t %ld\n", yes(ino("s3") == ino("t")), nlink("t"));
	unlink("s");
	unlink("s2");
	unlink("s3");
	unlink("t");
	rmdir("d");
}

static void symbolic_links(void)
{
	char buf[64] = { 0 };
	struct stat st;

	report("symlink", symlink("target", "s"));
	report("readlink", readlink("s", buf, sizeof(buf)));
	printf("target: %s\n", buf);
	int r = lstat("s", &st);
	printf("lstat: link %s, size %ld\n", yes(r == 0 && S_ISLNK(st.st_mode)), (long)st.st_size);
	report("stat of a dangling link", stat("s", &st));
	int fd = open("target", O_CREAT | O_WRONLY, 0600);
	write(fd, "through\n", 8);
	close(fd);
	printf("through the link: %s\n", contents("s"));
	report("symlink again", symlink("x", "s"));
	report("symlink to an empty target", symlink("", "e"));
	report("readlink of a file", readlink("target", buf, sizeof(buf)));
	report("symlinkat", symlinkat("/tmp", AT_FDCWD, "abs"));
	printf("abs/ is a directory: %s\n", yes(stat("abs/", &st) == 0 && S_ISDIR(st.st_mode)));
	symlink("l2", "l1");
	symlink("l1", "l2");
	report("open of a loop", open("l1", O_RDONLY));
	report("unlink the link", unlink("s"));
	printf("target stays: %s\n", yes(access("target", F_OK) == 0));
	unlink("target");
	unlink("abs");
	unlink("l1");
	unlink("l2");
}

static void mknods(void)
{
	struct stat st;
	char buf[8] = { 1, 1, 1, 1 };

	umask(022);
	report("mknod regular", mknod("r", S_IFREG | 0666, 0));
	printf("regular, mode %o\n", stat("r", &st) ? 0 : (unsigned)st.st_mode);
	report("mknod without a type", mknod("r2", 0600, 0));
	printf("regular: %s\n", yes(stat("r2", &st) == 0 && S_ISREG(st.st_mode)));
	report("mknod a directory", mknod("dd", S_IFDIR | 0700, 0));
	report("mknod a bad type", mknod("bad", 0170000 | 0600, 0));
	report("mknod over a name", mknod("r", S_IFIFO | 0600, 0));
	report("mknod a socket", mknod("sock", S_IFSOCK | 0600, 0));
	printf("socket: %s\n", yes(stat("sock", &st) == 0 && S_ISSOCK(st.st_mode)));
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "sock" };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	report("connect to it", connect(s, (struct sockaddr *)&a, sizeof(a)));
	close(s);
	/* device nodes, as root makes them */
	report("mknod 1:3", mknod("null", S_IFCHR | 0666, makedev(1, 3)));
	stat("null", &st);
	printf("null: char %s, %u:%u, mode %o\n", yes(S_ISCHR(st.st_mode)), major(st.st_rdev),
	       minor(st.st_rdev), (unsigned)st.st_mode & 07777);
	int fd = open("null", O_RDWR);
	report("write to it", write(fd, "gone", 4));
	report("read from it", read(fd, buf, sizeof(buf)));
	close(fd);
	report("mknod 1:5", mknod("zero", S_IFCHR | 0666, makedev(1, 5)));
	fd = open("zero", O_RDONLY);
	report("read from it", read(fd, buf, sizeof(buf)));
	printf("zeros: %s\n", yes(buf[0] == 0 && buf[3] == 0));
	close(fd);
	/* 42 is Linux's "demo/sample use" major: no driver has it */
	report("mknod 42:7", mknod("demo", S_IFCHR | 0600, makedev(42, 7)));
	report("open of a device no driver has", open("demo", O_RDONLY));
	report("mknod block 42:1", mknod("blk", S_IFBLK | 0600, makedev(42, 1)));
	stat("blk", &st);
	printf("blk: block %s, %u:%u\n", yes(S_ISBLK(st.st_mode)), major(st.st_rdev),
	       minor(st.st_rdev));
	report("open of it", open("blk", O_RDONLY));
	DIR *dir = opendir(".");
	struct dirent *e;
	int types = 0;
	while (dir && (e = readdir(dir)))
		types |= (!strcmp(e->d_name, "blk") && e->d_type == DT_BLK) |
			 (!strcmp(e->d_name, "null") && e->d_type == DT_CHR) << 1 |
			 (!strcmp(e->d_name, "sock") && e->d_type == DT_SOCK) << 2;
	if (dir)
		closedir(dir);
	printf("readdir types: %s\n", yes(types == 7));
	const char *made[] = { "r", "r2", "sock", "null", "zero", "demo", "blk" };
	for (unsigned i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		unlink(made[i]);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A child that opens the FIFO for writing (after a pause when late)
 * and writes a line; its status. */
static pid_t writer(int late)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (late)
			usleep(200000);
		int fd = open("f", O_WRONLY);
		write(fd, "from the child\n", 15);
		_exit(fd < 0);
	}
	return pid;
}

static void fifos(void)
{
	struct stat st;
	char buf[32] = { 0 };
	int status;

	umask(022);
	report("mkfifo", mkfifo("f", 0666));
	stat("f", &st);
	printf("fifo: %s, mode %o\n", yes(S_ISFIFO(st.st_mode)), (unsigned)st.st_mode & 07777);
	report("mkfifo again", mkfifo("f", 0600));
	/* O_NONBLOCK: a reader opens alone; a writer alone is ENXIO */
	report("open for writing, O_NONBLOCK, no reader", open("f", O_WRONLY | O_NONBLOCK));
	int rd = open("f", O_RDONLY | O_NONBLOCK);
	report("open for reading, O_NONBLOCK", rd >= 0 ? 0 : -1);
	report("read, no writer yet", read(rd, buf, sizeof(buf)));
	struct pollfd pfd = { .fd = rd, .events = POLLIN };
	report("poll, no writer yet", poll(&pfd, 1, 0));       /* no POLLHUP before a writer */
	int wr = open("f", O_WRONLY | O_NONBLOCK);
	report("open for writing, O_NONBLOCK, a reader", wr >= 0 ? 0 : -1);
	report("write", write(wr, "abc", 3));
	report("read", read(rd, buf, sizeof(buf)));
	report("read, empty, a writer", read(rd, buf, sizeof(buf)));
	fstat(wr, &st);
	printf("fstat: fifo %s, the name's node %s\n", yes(S_ISFIFO(st.st_mode)),
	       yes((long)st.st_ino == ino("f")));
	close(wr);
	report("read, the writer gone", read(rd, buf, sizeof(buf)));
	pfd.revents = 0;
	report("poll, the writer gone", poll(&pfd, 1, 0));
	printf("revents: %s\n", pfd.revents == POLLHUP ? "POLLHUP" : "other");
	close(rd);
	/* O_RDWR never waits: both ends */
	int rw = open("f", O_RDWR);
	report("open O_RDWR", rw >= 0 ? 0 : -1);
	report("write", write(rw, "xy", 2));
	report("read", read(rw, buf, sizeof(buf)));
	/* removed while open: the pipe carries on */
	report("unlink while open", unlink("f"));
	report("write", write(rw, "z", 1));
	report("read", read(rw, buf, sizeof(buf)));
	close(rw);
	/* blocking opens meet: the reader first, or the writer first */
	mkfifo("f", 0600);
	for (int late = 1; late >= 0; late--) {
		pid_t pid = writer(late);
		if (!late)
			usleep(200000);
		rd = open("f", O_RDONLY);
		memset(buf, 0, sizeof(buf));
		long n = read(rd, buf, sizeof(buf) - 1);
		long end = read(rd, buf + (n > 0 ? n : 0), 1);
		close(rd);
		waitpid(pid, &status, 0);
		printf("%s first: read %ld %s, then %ld, writer status %d\n",
		       late ? "reader" : "writer", n, strtok(buf, "\n"), end, WEXITSTATUS(status));
	}
	/* a waiting open interrupted by a signal: EINTR, and it leaves no
	 * reader behind */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	report("open for reading, no writer, a signal", open("f", O_RDONLY));
	report("then a writer, O_NONBLOCK", open("f", O_WRONLY | O_NONBLOCK));
	DIR *dir = opendir(".");
	struct dirent *e;
	while (dir && (e = readdir(dir)))
		if (!strcmp(e->d_name, "f"))
			printf("readdir type: %s\n", yes(e->d_type == DT_FIFO));
	if (dir)
		closedir(dir);
	/* The name removed by another process while an open waits: the
	 * open waits on (for the node, not the name) until its signal. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(200000);
		_exit(unlink("f") != 0);
	}
	alarm(1);
	report("open for reading, the name removed while it waits, a signal", open("f", O_RDONLY));
	waitpid(pid, &status, 0);
	printf("the other process removed it: %s\n", yes(WIFEXITED(status) && !WEXITSTATUS(status)));
	report("the name after", stat("f", &st));
}

/* Mica only: the root filesystem is read-only (the host's is not). */
static int erofs(void)
{
	report("link into /etc", link("/tmp", "/etc/x"));
	int fd = open("/tmp/mica-erofs", O_CREAT | O_WRONLY, 0600);
	close(fd);
	report("link of a tmpfs file into /etc", link("/tmp/mica-erofs", "/etc/x"));
	report("link of /etc/passwd into /etc", link("/etc/passwd", "/etc/x"));
	report("link of /etc/passwd to an existing name", link("/etc/passwd", "/etc/group"));
	report("link of /etc/passwd into /tmp", link("/etc/passwd", "/tmp/x"));
	report("link of a tmpfs file into /var", link("/tmp/mica-erofs", "/var/x"));
	report("symlink in /etc", symlink("/tmp", "/etc/x"));
	report("mkfifo in /etc", mkfifo("/etc/x", 0600));
	report("mknod in /etc", mknod("/etc/x", S_IFCHR | 0600, makedev(1, 3)));
	unlink("/tmp/mica-erofs");
	return 0;
}

int main(int argc, char **argv)
{
	char dir[64];

	if (argc > 1 && !strcmp(argv[1], "erofs"))
		return erofs();
	snprintf(dir, sizeof(dir), "/tmp/mica-links-%d", (int)getpid());
	report("mkdir the directory", mkdir(dir, 0700));
	report("chdir to it", chdir(dir));
	hard_links();
	symbolic_links();
	mknods();
	fifos();
	report("chdir /", chdir("/"));
	report("rmdir the directory", rmdir(dir));
	printf("links: done\n");
	return 0;
}
