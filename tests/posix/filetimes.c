/*
 * File times, differential (Linux's stat(2), utimensat(2), inode(7)):
 * a new file's atime, mtime and ctime are now (CLOCK_REALTIME) and its
 * directory's mtime and ctime move on; a write and a truncate move the
 * file's mtime and ctime, not its atime; a read moves the atime once
 * after a change (relatime); rename and unlink move the directories'
 * times and the file's ctime; utimensat and futimens set given times,
 * UTIME_NOW and UTIME_OMIT, ctime now; utimes, utime; their errors; the
 * program's own file has a time in the past. In a directory of its own
 * under /tmp (the host's /tmp on Linux). Only relations are printed,
 * never times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EFAULT) X(ENOENT) X(EBADF)
#include "check.h"

#define NS 1000000000LL

static int64_t ns_of(struct timespec ts)
{
	return ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_of(ts);
}

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

/* Long enough for Linux's coarse file clock (a tick) to move on. */
static void pause_a_little(void)
{
	struct timespec ts = { 0, 30000000 };
	nanosleep(&ts, NULL);
}

struct times {
	int64_t a, m, c;
};

static struct times times_of(const char *path)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	stat(path, &st);
	return (struct times){ ns_of(st.st_atim), ns_of(st.st_mtim), ns_of(st.st_ctim) };
}

static struct times times_of_fd(int fd)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	fstat(fd, &st);
	return (struct times){ ns_of(st.st_atim), ns_of(st.st_mtim), ns_of(st.st_ctim) };
}

/* Within a second of t (the file clock is coarse; Mica's REALTIME too). */
static int near(int64_t ns, int64_t t)
{
	return ns - t < NS && t - ns < NS;
}

static char dir[64], file[96], other[96];

static void changes(void)
{
	struct times d0 = times_of(dir), f, g, d;
	char buf[8];

	pause_a_little();
	int fd = open(file, O_CREAT | O_RDWR, 0644);
	f = times_of(file);
	d = times_of(dir);
	printf("new file: atime, mtime, ctime equal: %s, now: %s\n", yes(f.a == f.m && f.m == f.c),
	       yes(near(f.m, now())));
	printf("new file: its directory's mtime and ctime moved on: %s\n",
	       yes(d.m > d0.m && d.c > d0.c));
	pause_a_little();
	write(fd, "abc", 3);
	g = times_of(file);
	printf("write: mtime and ctime moved on: %s, atime stayed: %s\n",
	       yes(g.m > f.m && g.c > f.c), yes(g.a == f.a));
	printf("write: the directory's times stayed: %s\n", yes(times_of(dir).m == d.m));
	pause_a_little();
	pread(fd, buf, 3, 0);
	f = times_of(file);
	printf("read after a change: atime moved on: %s, mtime stayed: %s\n", yes(f.a > g.a),
	       yes(f.m == g.m));
	pause_a_little();
	pread(fd, buf, 3, 0);
	g = times_of(file);
	printf("read again: atime stayed (relatime): %s\n", yes(g.a == f.a));
	pause_a_little();
	ftruncate(fd, 1);
	f = times_of_fd(fd);
	printf("ftruncate: mtime and ctime moved on: %s\n", yes(f.m > g.m && f.c > g.c));
	pause_a_little();
	truncate(file, 1);
	g = times_of(file);
	printf("truncate to the same size: mtime and ctime moved on: %s\n", yes(g.m > f.m && g.c > f.c));
	pause_a_little();
	write(fd, "", 0);
	printf("a write of nothing: mtime stayed: %s\n", yes(times_of(file).m == g.m));
	close(fd);

	d0 = times_of(dir);
	f = times_of(file);
	pause_a_little();
	rename(file, other);
	g = times_of(other);
	d = times_of(dir);
	printf("rename: the directory's mtime moved on: %s, the file's ctime: %s, its mtime stayed: %s\n",
	       yes(d.m > d0.m), yes(g.c > f.c), yes(g.m == f.m));
	pause_a_little();
	unlink(other);
	printf("unlink: the directory's mtime moved on: %s\n", yes(times_of(dir).m > d.m));
}

static void setting(void)
{
	struct timespec ts[2] = { { 1000000000, 500 }, { 1500000000, 250000000 } };
	int fd = open(file, O_CREAT | O_RDWR, 0644);
	struct times f, g;

	pause_a_little();
	report("utimensat(times)", utimensat(AT_FDCWD, file, ts, 0));
	f = times_of(file);
	printf("atime and mtime as given: %s, ctime now: %s\n",
	       yes(f.a == 1000000000 * NS + 500 && f.m == 1500000000 * NS + 250000000),
	       yes(near(f.c, now())));
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	pause_a_little();
	report("utimensat(UTIME_OMIT, UTIME_NOW)", utimensat(AT_FDCWD, file, ts, 0));
	g = times_of(file);
	printf("atime stayed: %s, mtime now: %s, ctime moved on: %s\n", yes(g.a == f.a),
	       yes(near(g.m, now())), yes(g.c > f.c));
	report("utimensat(NULL)", utimensat(AT_FDCWD, file, NULL, 0));
	f = times_of(file);
	printf("both now: %s\n", yes(near(f.a, now()) && near(f.m, now())));
	struct timespec set[2] = { { 1234, 0 }, { 5678, 0 } };
	report("futimens", futimens(fd, set));
	f = times_of_fd(fd);
	printf("futimens: as given: %s\n", yes(f.a == 1234 * NS && f.m == 5678 * NS));
	struct timeval tv[2] = { { 2000, 5 }, { 3000, 7 } };
	report("utimes", utimes(file, tv));
	f = times_of(file);
	printf("utimes: as given: %s\n", yes(f.a == 2000 * NS + 5000 && f.m == 3000 * NS + 7000));
	struct utimbuf ub = { 4000, 4001 };
	report("utime", utime(file, &ub));
	f = times_of(file);
	printf("utime: as given: %s\n", yes(f.a == 4000 * NS && f.m == 4001 * NS));
	report("utime(NULL)", utime(file, NULL));
	printf("utime(NULL): now: %s\n", yes(near(times_of(file).m, now())));

	void *volatile bad_ptr = (void *)8;
	struct timespec bad[2] = { { 1, 1000000000 }, { 1, 0 } };
	report("utimensat(nsec 10^9)", utimensat(AT_FDCWD, file, bad, 0));
	bad[0].tv_nsec = -1;
	report("utimensat(nsec -1)", utimensat(AT_FDCWD, file, bad, 0));
	report("utimensat(unknown flags)", utimensat(AT_FDCWD, file, NULL, 0x4));
	report("utimensat(missing file)", utimensat(AT_FDCWD, "/tmp/no/such", NULL, 0));
	struct timespec omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	report("utimensat(missing file, both UTIME_OMIT)", utimensat(AT_FDCWD, "/tmp/no/such", omit, 0));
	report("utimensat(bad times pointer)", syscall(SYS_utimensat, AT_FDCWD, file, bad_ptr, 0));
	report("utimensat(bad path pointer)", syscall(SYS_utimensat, AT_FDCWD, bad_ptr, NULL, 0));
	report("utimensat(descriptor, NULL path)", syscall(SYS_utimensat, fd, NULL, NULL, 0));
	report("utimensat(descriptor, NULL path, AT_SYMLINK_NOFOLLOW)",
	       syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW));
	report("utimensat(AT_FDCWD, NULL path)", syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
	report("futimens(closed descriptor)", futimens(999, NULL));
	struct timeval badtv[2] = { { 1, 1000000 }, { 1, 0 } };
	report("utimes(usec 10^6)", utimes(file, badtv));
	close(fd);
	unlink(file);
}

int main(int argc, char **argv)
{
	(void)argc;
	snprintf(dir, sizeof(dir), "/tmp/filetimes.%d", (int)getpid());
	snprintf(file, sizeof(file), "%s/f", dir);
	snprintf(other, sizeof(other), "%s/g", dir);
	mkdir(dir, 0755);
	changes();
	setting();
	rmdir(dir);
	struct stat st;
	report("stat of the program", stat(argv[0][0] == '/' ? argv[0] : "/proc/self/exe", &st));
	printf("the program's mtime is in the past: %s, after 2000: %s\n",
	       yes(ns_of(st.st_mtim) <= now()), yes(st.st_mtime > 946684800));
	return 0;
}
