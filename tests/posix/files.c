/*
 * Files, one line per check, the same on Linux and on Mica
 * (tests/system/test_posix.py compares them): in a new directory under
 * /tmp, open/creat with their flags, read, write, the vector and
 * positional forms, lseek, the stat family and statx, getdents64 through
 * readdir, dup/dup2/dup3 and fcntl, mkdir, rename, unlink, rmdir,
 * truncate, getcwd and chdir, access, readlink of /proc/self/exe, the
 * devices, RLIMIT_NOFILE (EMFILE for every kind of descriptor), stdio on
 * a file, fsync, fdatasync, syncfs and sync, statfs and fstatfs, chmod,
 * fchmod and fchmodat, and the errors of each.
 * `files enospc` (Mica only) writes to /tmp until it is full.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ENOENT) X(EBADF) X(EEXIST) X(ENOTDIR) X(EISDIR) X(EINVAL) X(EMFILE) \
	X(ENOTTY) X(ENOSPC) X(ESPIPE) X(ENOTEMPTY) X(ERANGE) X(EFAULT) X(ELOOP) X(EROFS) X(EACCES) \
	X(EPERM) X(EXDEV) X(EBUSY)
#include "check.h"

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static void read_write(void)
{
	char buf[64] = { 0 };
	struct iovec v[3] = { { "one ", 4 }, { "two ", 4 }, { "three\n", 6 } };

	int fd = open("a", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	report("open creates", fd);
	report("write", write(fd, "hello, file\n", 12));
	report("writev", writev(fd, v, 3));
	report("lseek SEEK_CUR", lseek(fd, 0, SEEK_CUR));
	report("pwrite at 0", pwrite(fd, "J", 1, 0));
	report("lseek after pwrite", lseek(fd, 0, SEEK_CUR));
	report("read of a write-only descriptor", read(fd, buf, 1));
	report("close", close(fd));
	report("close again", close(fd));

	fd = open("a", O_RDONLY);
	report("open read-only", fd);
	report("read", read(fd, buf, sizeof(buf) - 1));
	printf("content: %s", buf);
	report("read at the end", read(fd, buf, sizeof(buf)));
	memset(buf, 0, sizeof(buf));
	report("pread 3 at 13", pread(fd, buf, 3, 13));
	printf("pread bytes: %s\n", buf);
	report("lseek SEEK_END", lseek(fd, 0, SEEK_END));
	report("lseek before 0", lseek(fd, -100, SEEK_SET));
	report("lseek bad whence", lseek(fd, 0, 7));
	report("write to a read-only descriptor", write(fd, "x", 1));
	memset(buf, 0, sizeof(buf));
	struct iovec r[2] = { { buf, 5 }, { buf + 10, 6 } };
	lseek(fd, 0, SEEK_SET);
	report("readv", readv(fd, r, 2));
	printf("readv bytes: %.5s|%.6s\n", buf, buf + 10);
	report("isatty of a file", isatty(fd));
	close(fd);

	fd = open("a", O_WRONLY | O_APPEND);
	report("open O_APPEND", fd);
	lseek(fd, 0, SEEK_SET);
	report("append write", write(fd, "end\n", 4));
	report("position after append", lseek(fd, 0, SEEK_CUR));
	close(fd);
	report("write to a closed descriptor", write(fd, "x", 1));
	report("pread of the console", pread(1, buf, 1, 0));
	report("lseek of the console", lseek(1, 0, SEEK_SET));
}

static void status(void)
{
	struct stat st;
	/* statx's leading fields (its struct is 256 bytes). */
	struct { uint32_t mask, blksize; uint64_t attributes; uint32_t nlink, uid, gid;
		 uint16_t mode, pad; uint64_t ino, size; char rest[200]; } sx;

	report("stat", stat("a", &st));
	printf("stat: regular %s, size %ld, nlink %ld, mode %o\n", yes(S_ISREG(st.st_mode)),
	       (long)st.st_size, (long)st.st_nlink, st.st_mode & 07777);
	report("stat of a missing file", stat("missing", &st));
	report("stat through a file", stat("a/b", &st));
	report("stat of a file with a slash", stat("a/", &st));
	report("lstat of the directory", lstat(".", &st));
	printf("lstat: directory %s\n", yes(S_ISDIR(st.st_mode)));
	int fd = open("a", O_RDONLY);
	report("fstat", fstat(fd, &st));
	printf("fstat: size %ld\n", (long)st.st_size);
	report("fstatat AT_EMPTY_PATH", fstatat(fd, "", &st, AT_EMPTY_PATH));
	report("statx", syscall(SYS_statx, AT_FDCWD, "a", 0, 0x7ff, &sx));
	printf("statx: regular %s, size %lu\n", yes(S_ISREG(sx.mode)), (unsigned long)sx.size);
	report("fstat of a bad descriptor", fstat(99, &st));
	report("stat of a bad pointer", syscall(SYS_newfstatat, AT_FDCWD, (char *)16, &st, 0));
	close(fd);
}

static void open_errors(const char *dir)
{
	report("O_CREAT|O_EXCL of an existing file", open("a", O_CREAT | O_EXCL | O_WRONLY, 0600));
	report("open a directory to write", open(dir, O_WRONLY));
	report("O_DIRECTORY of a file", open("a", O_RDONLY | O_DIRECTORY));
	report("O_CREAT in a missing directory", open("missing/x", O_CREAT | O_WRONLY, 0600));
	report("open missing", open("missing", O_RDONLY));
	report("open an empty path", open("", O_RDONLY));
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	report("open the directory", fd);
	char c;
	report("read of a directory", read(fd, &c, 1));
	close(fd);
}

static void descriptors(void)
{
	int fd = open("a", O_RDONLY);
	char c = 0;

	report("dup", dup(fd));
	report("dup2 to 10", dup2(fd, 10));
	report("dup2 to itself", dup2(fd, fd));
	report("dup2 of a bad descriptor", dup2(77, 11));
	lseek(10, 4, SEEK_SET);
	report("a dup shares the offset", lseek(fd, 0, SEEK_CUR));
	report("read through the dup", read(10, &c, 1));
	printf("byte: %c\n", c);
	report("F_GETFD", fcntl(10, F_GETFD));
	report("dup3 O_CLOEXEC to 12", dup3(fd, 12, O_CLOEXEC));
	report("F_GETFD of it", fcntl(12, F_GETFD));
	report("F_SETFD 0", fcntl(12, F_SETFD, 0));
	report("F_GETFD now", fcntl(12, F_GETFD));
	report("dup3 to itself", dup3(fd, fd, 0));
	report("F_DUPFD from 20", fcntl(fd, F_DUPFD, 20));
	report("F_DUPFD_CLOEXEC from 20", fcntl(fd, F_DUPFD_CLOEXEC, 20));
	report("F_GETFD of that", fcntl(21, F_GETFD));
	report("F_GETFL & (O_ACCMODE|O_APPEND)", fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND));
	report("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	report("F_GETFL now", fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND));
	report("fcntl of a bad descriptor", fcntl(55, F_GETFD));
	report("fcntl bad command", fcntl(fd, 9999));
	int fds[] = { fd, fd + 1, 10, 12, 20, 21 };
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close(fds[i]);
	report("the lowest descriptor again", fd = open("a", O_RDONLY));
	close(fd);
}

static int compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void directories(void)
{
	struct stat st;

	report("mkdir", mkdir("sub", 0755));
	report("mkdir again", mkdir("sub", 0755));
	report("mkdir in a missing directory", mkdir("no/sub", 0755));
	report("rename into it", rename("a", "sub/b"));
	report("stat the old name", stat("a", &st));
	report("stat the new name", stat("sub/b", &st));
	report("rmdir of a full directory", rmdir("sub"));
	report("unlink of a directory", unlink("sub"));
	report("rmdir of a file", rmdir("sub/b"));
	report("rename a directory into itself", rename("sub", "sub/c"));
	mkdir("e", 0700);
	report("rename a file over a directory", rename("sub/b", "e"));
	report("rename a directory over a file", rename("e", "sub/b"));
	mkdir("e2", 0700);
	report("rename a directory over an empty one", rename("e", "e2"));
	report("stat the moved one's old name", stat("e", &st));
	report("rmdir the moved one", rmdir("e2"));
	for (const char *n = "xyz"; *n; n++) {
		char name[8] = { 's', 'u', 'b', '/', *n, 0 };
		close(open(name, O_CREAT | O_WRONLY, 0644));
	}
	DIR *d = opendir("sub");
	char *names[16];
	int count = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) && count < 16)
		names[count++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)count, sizeof(names[0]), compare);
	printf("sub holds:");
	for (int i = 0; i < count; i++)
		printf(" %s", names[i]), free(names[i]);
	printf("\n");
	report("unlink", unlink("sub/b"));
	report("unlink again", unlink("sub/b"));
	unlink("sub/x");
	unlink("sub/y");
	unlink("sub/z");
	report("rmdir", rmdir("sub"));
}

static void sizes(void)
{
	struct stat st;
	char buf[8];

	int fd = open("t", O_RDWR | O_CREAT | O_TRUNC, 0600);
	write(fd, "abcdefgh", 8);
	report("ftruncate to 3", ftruncate(fd, 3));
	report("ftruncate to 6", ftruncate(fd, 6));
	memset(buf, 'x', sizeof(buf));
	report("pread after growing", pread(fd, buf, 8, 0));
	printf("bytes: %c%c%c %d %d %d\n", buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]);
	report("truncate by name to 1", truncate("t", 1));
	fstat(fd, &st);
	printf("size now %ld\n", (long)st.st_size);
	report("ftruncate negative", ftruncate(fd, -1));
	int ro = open("t", O_RDONLY);
	report("ftruncate of a read-only descriptor", ftruncate(ro, 0));
	close(ro);
	report("write far on", pwrite(fd, "z", 1, 100000));
	fstat(fd, &st);
	printf("size now %ld\n", (long)st.st_size);
	report("unlink while open", unlink("t"));
	report("read after unlink", pread(fd, buf, 1, 0));
	printf("byte: %c\n", buf[0]);
	close(fd);
}

static void places(const char *dir)
{
	char buf[256], *slash;

	report("getcwd", getcwd(buf, sizeof(buf)) ? 0 : -1);
	printf("getcwd is the directory: %s\n", yes(!strcmp(buf, dir)));
	report("getcwd too small", syscall(SYS_getcwd, buf, 4));
	report("chdir to a file", (mkdir("d", 0700), close(open("f", O_CREAT | O_WRONLY, 0600)),
				   chdir("f")));
	report("chdir relative", chdir("d"));
	report("chdir ..", chdir(".."));
	report("getcwd back", getcwd(buf, sizeof(buf)) && !strcmp(buf, dir) ? 0 : -1);
	report("chdir missing", chdir("missing"));
	report("access F_OK", access("f", F_OK));
	report("access X_OK of a 0600 file", access("f", X_OK));
	report("access missing", access("missing", R_OK));
	report("access bad mode", access("f", 64));
	report("faccessat", faccessat(AT_FDCWD, "d", R_OK | X_OK, 0));
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	slash = strrchr(buf, '/');
	printf("readlink /proc/self/exe: %s\n", slash ? slash + 1 : "none");
	report("readlink of a file", readlink("f", buf, sizeof(buf)));
	report("access /proc/self/exe X_OK", access("/proc/self/exe", X_OK));
	int fd = open("/proc/self/exe", O_RDONLY);
	report("open /proc/self/exe", fd >= 0 ? 0 : -1);
	report("read its ELF header", read(fd, buf, 4));
	printf("ELF magic: %s\n", yes(!memcmp(buf, "\177ELF", 4)));
	struct stat st;
	fstat(fd, &st);
	printf("lseek SEEK_END is its size: %s\n", yes(lseek(fd, 0, SEEK_END) == st.st_size));
	close(fd);
	unlink("f");
	rmdir("d");
	mkdir("gone", 0700);
	chdir("gone");
	report("rmdir the working directory", rmdir("../gone"));
	report("create in the removed directory", open("x", O_CREAT | O_WRONLY, 0600));
	report("mkdir in it", mkdir("y", 0700));
	report("getcwd in it", getcwd(buf, sizeof(buf)) ? 0 : -1);
	report("chdir back", chdir(dir));
}

static void devices(void)
{
	char buf[16];

	int fd = open("/dev/null", O_RDWR);
	report("write /dev/null", write(fd, "abc", 3));
	report("read /dev/null", read(fd, buf, sizeof(buf)));
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof(buf));
	report("read /dev/zero", read(fd, buf, sizeof(buf)));
	printf("zeros: %s\n", yes(buf[0] == 0 && buf[15] == 0));
	close(fd);
	fd = open("/dev/urandom", O_RDONLY);
	report("read /dev/urandom", read(fd, buf, sizeof(buf)));
	close(fd);
	report("isatty of the console", isatty(1));
}

/* Edges of the tree and of user space, as Linux answers them: a rename
 * across mounts is EXDEV before "/" is EBUSY (do_renameat2); a length
 * past user space is EFAULT though /dev/null moves no byte (access_ok),
 * one vector alone is first cut to MAX_RW_COUNT (import_iovec). */
static void edges(void)
{
	static char buf[16];
	volatile size_t huge = (size_t)1 << 47;
	struct iovec v[2] = { { buf, huge }, { buf, 1 } };

	report("rmdir /", rmdir("/"));
	report("rename /proc/uptime to /", rename("/proc/uptime", "/"));
	report("rename / to /proc/x", rename("/", "/proc/x"));
	int fd = open("/dev/null", O_WRONLY);
	report("writev 1<<47 to /dev/null", writev(fd, v, 1));
	report("writev 1<<47 and 1 to /dev/null", writev(fd, v, 2));
	v[0] = (struct iovec){ (void *)0x7ffffffff000UL, 4097 };
	report("writev past user space", writev(fd, v, 1));
	report("write 1<<47 to /dev/null", write(fd, buf, huge));
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	report("read 1<<47 from /dev/zero", read(fd, buf, huge));
	close(fd);
}

static void limits(void)
{
	struct rlimit old, l;
	int fds[32], count = 0, fd;

	getrlimit(RLIMIT_NOFILE, &old);
	l.rlim_cur = 16;
	l.rlim_max = old.rlim_max;
	report("setrlimit RLIMIT_NOFILE 16", setrlimit(RLIMIT_NOFILE, &l));
	while (count < 32 && (fd = open("/dev/null", O_RDONLY)) >= 0)
		fds[count++] = fd;
	printf("opened until %s: %d\n", errname(errno), count);
	errno = 0;
	report("dup2 past the limit", dup2(0, 20));
	getrlimit(RLIMIT_NOFILE, &l);
	printf("getrlimit: cur %lu, max kept %s\n", (unsigned long)l.rlim_cur,
	       yes(l.rlim_max == old.rlim_max));
	/* Every kind of descriptor stops at the limit (getrlimit(2):
	 * EMFILE), and nothing is left half made. */
	int pair[2];
	report("pipe at the limit", pipe(pair));
	report("eventfd at the limit", eventfd(0, 0));
	report("epoll_create1 at the limit", epoll_create1(0));
	report("socketpair at the limit", socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
	report("socket at the limit", socket(AF_UNIX, SOCK_STREAM, 0));
	report("dup at the limit", dup(0));
	report("F_DUPFD at the limit", fcntl(0, F_DUPFD, 0));
	close(fds[--count]);
	report("pipe with one free", pipe(pair));
	fd = open("/dev/null", O_RDONLY);
	printf("then open: %s\n", yes(fd == fds[count]));
	if (fd >= 0)
		fds[count++] = fd;
	/* A child keeps the limit. */
	pid_t child = fork();
	if (child == 0) {
		getrlimit(RLIMIT_NOFILE, &l);
		_exit(l.rlim_cur == 16 ? 0 : 1);
	}
	int status = -1;
	waitpid(child, &status, 0);
	printf("the child's limit 16: %s\n", yes(WIFEXITED(status) && WEXITSTATUS(status) == 0));
	l.rlim_cur = old.rlim_max;
	l.rlim_max = 16;
	report("setrlimit cur above max", setrlimit(RLIMIT_NOFILE, &l));
	while (count > 0)
		close(fds[--count]);
	report("setrlimit back", setrlimit(RLIMIT_NOFILE, &old));
}

static void stdio(void)
{
	char line[64] = { 0 };

	FILE *f = fopen("s", "w");
	report("fopen to write", f ? 0 : -1);
	fprintf(f, "line %d\nline %d\n", 1, 2);
	report("fclose", fclose(f));
	f = fopen("s", "r");
	report("fgets", fgets(line, sizeof(line), f) ? 0 : -1);
	printf("first: %s", line);
	fgets(line, sizeof(line), f);
	printf("second: %s", line);
	report("fgets at the end", fgets(line, sizeof(line), f) ? 0 : -1);
	fclose(f);
	unlink("s");
}

/* Write to /tmp until it is full (Mica's tmpfs has a size). */
static int enospc(void)
{
	static char block[65536];
	long total = 0, n;

	int fd = open("/tmp/full", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while ((n = write(fd, block, sizeof(block))) > 0 && total < (1L << 30))
		total += n;
	printf("files: wrote %ld KiB, then %s\n", total >> 10, errname(errno));
	close(fd);
	report("unlink", unlink("/tmp/full"));
	fd = open("/tmp/again", O_WRONLY | O_CREAT, 0600);
	report("a write after the space came back", write(fd, block, sizeof(block)));
	close(fd);
	unlink("/tmp/again");
	return 0;
}

/* fsync and its kin: 0 for files and directories, EINVAL for what has
 * nothing to write back (a pipe, a device, /proc), EBADF for a closed or
 * O_PATH descriptor. */
/* statfs and fstatfs: the kinds Linux gives the same everywhere (procfs,
 * pipefs, sockfs), a writable directory's numbers consistent, errors. */
static void filesystems(void)
{
	struct statfs sf;
	int pfd[2], sv[2];

	report("statfs /proc", statfs("/proc", &sf));
	printf("/proc is procfs: %s\n", yes(sf.f_type == 0x9FA0));
	report("statfs .", statfs(".", &sf));
	printf(". blocks: free within size %s, available within free %s, block size %s\n",
	       yes(sf.f_bfree <= sf.f_blocks), yes(sf.f_bavail <= sf.f_bfree),
	       yes(sf.f_bsize == 4096 && sf.f_frsize == 4096));
	report("pipe", pipe(pfd));
	report("fstatfs a pipe", fstatfs(pfd[0], &sf));
	printf("a pipe is pipefs: %s\n", yes(sf.f_type == 0x50495045));
	close(pfd[0]);
	close(pfd[1]);
	report("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	report("fstatfs a socket", fstatfs(sv[0], &sf));
	printf("a socket is sockfs: %s\n", yes(sf.f_type == 0x534F434B));
	close(sv[0]);
	close(sv[1]);
	report("statfs of nothing", statfs("no-such-file", &sf));
	/* Raw: musl's statfs clears the buffer itself first. */
	report("statfs to a bad buffer", syscall(SYS_statfs, ".", 8L));
	report("fstatfs of a bad descriptor", fstatfs(-1, &sf));
}

/* The mode's permission bits as stat shows them after a chmod. */
static void show_mode(const char *what, int r, const char *path)
{
	struct stat st;

	report(what, r);
	stat(path, &st);
	printf("%s: mode %o, regular %s\n", path, (unsigned)(st.st_mode & 07777),
	       yes(S_ISREG(st.st_mode)));
}

/* chmod, fchmod, fchmodat: the bits kept, the type too, the errors. */
static void modes(void)
{
	int fd = open("moded", O_CREAT | O_RDWR, 0644);

	show_mode("chmod 0600", chmod("moded", 0600), "moded");
	show_mode("fchmod 0755", fchmod(fd, 0755), "moded");
	show_mode("fchmodat 0640", fchmodat(AT_FDCWD, "moded", 0640, 0), "moded");
	show_mode("chmod 04751 with the file type's bits", chmod("moded", S_IFDIR | 04751), "moded");
	close(fd);
	report("chmod of nothing", chmod("no-such-file", 0600));
	report("fchmod of a bad descriptor", fchmod(-1, 0600));
	fd = open("moded", O_PATH);
	report("fchmod O_PATH", fchmod(fd, 0600));
	close(fd);
	report("unlink moded", unlink("moded"));
}

static void syncing(void)
{
	int fd = open("synced", O_CREAT | O_RDWR, 0600), pfd[2];

	report("fsync a file", fsync(fd));
	report("fdatasync a file", fdatasync(fd));
	report("syncfs", syncfs(fd));
	close(fd);
	report("unlink synced", unlink("synced"));
	fd = open(".", O_RDONLY | O_DIRECTORY);
	report("fsync a directory", fsync(fd));
	close(fd);
	fd = open(".", O_PATH);
	report("fsync O_PATH", fsync(fd));
	report("syncfs O_PATH", syncfs(fd));
	close(fd);
	report("pipe", pipe(pfd));
	report("fsync a pipe", fsync(pfd[1]));
	report("fdatasync a pipe", fdatasync(pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
	fd = open("/dev/null", O_WRONLY);
	report("fsync /dev/null", fsync(fd));
	close(fd);
	fd = open("/proc/uptime", O_RDONLY);
	report("fsync /proc/uptime", fsync(fd));
	close(fd);
	report("fsync a closed descriptor", fsync(999));
	report("syncfs a closed descriptor", syncfs(999));
	sync();
	printf("sync returned\n");
}

int main(int argc, char **argv)
{
	char dir[64];

	if (argc > 1 && !strcmp(argv[1], "enospc"))
		return enospc();
	snprintf(dir, sizeof(dir), "/tmp/mica-files-%d", (int)getpid());
	report("mkdir the directory", mkdir(dir, 0700));
	report("chdir to it", chdir(dir));
	read_write();
	status();
	open_errors(dir);
	descriptors();
	directories();
	sizes();
	places(dir);
	devices();
	edges();
	limits();
	stdio();
	syncing();
	filesystems();
	modes();
	report("chdir /", chdir("/"));
	report("rmdir the directory", rmdir(dir));
	printf("files: done\n");
	return 0;
}
