/*
 * File mappings and their limits, differential: a shared mapping of a
 * file opened read-only cannot be made writable (mmap and mprotect
 * EACCES; a private one can, and the file keeps its bytes), for a tmpfs
 * file and for the program's own file (on Mica the read-only root
 * filesystem's); touching a mapping past the page that holds the file's
 * end is SIGBUS with BUS_ADRERR and the address (shared and private,
 * read and write; the rest of the last page reads zeros and a write there
 * does not grow the file), a read() into such a page is EFAULT, and an
 * uncaught SIGBUS ends a child; a shared mapping reaches pages the file
 * grew into by ftruncate. A store through a shared mapping moves the
 * file's mtime and ctime (Linux: at the write fault of a page first
 * touched by a write), seen before msync and after munmap; a load alone
 * leaves them, and so does a store through a private mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EACCES) X(EFAULT)
#include "check.h"

#define PAGE 4096
#define SIZE 5000       /* a page and some */

static char dir[64], path[96];

static void *map(size_t len, int prot, int flags, int fd, const char *what)
{
	void *m = mmap(NULL, len, prot, flags, fd, 0);

	show(what, m == MAP_FAILED ? -1 : 0);
	return m;
}

static sigjmp_buf back;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void on_fault(int sig, siginfo_t *si, void *uc __attribute__((unused)))
{
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(back, 1);
}

/* Touch at (write: a byte written, else read) and say what came. */
static void touch(const char *what, volatile char *at, int write)
{
	got_sig = 0;
	if (!sigsetjmp(back, 1)) {
		if (write)
			*at = 'w';
		else
			(void)*at;
	}
	if (!got_sig)
		printf("%s: no signal\n", what);
	else
		printf("%s: %s code %s at the address %d\n", what,
		       got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "other",
		       got_sig == SIGBUS ? (got_code == BUS_ADRERR ? "BUS_ADRERR" : "other")
		       : got_code == SEGV_MAPERR ? "SEGV_MAPERR"
		       : got_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other", got_addr == (void *)at);
}

static void read_only(const char *file, const char *name)
{
	char what[128];
	int fd = open(file, O_RDONLY);
	struct stat st;

	fstat(fd, &st);
	snprintf(what, sizeof(what), "%s O_RDONLY: mmap PROT_WRITE MAP_SHARED", name);
	errno = 0;
	show(what, mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
	snprintf(what, sizeof(what), "%s O_RDONLY: mmap PROT_READ MAP_SHARED", name);
	char *m = map(PAGE, PROT_READ, MAP_SHARED, fd, what);
	char first = m[0];
	snprintf(what, sizeof(what), "%s: mprotect PROT_READ|PROT_WRITE of the shared mapping", name);
	show(what, mprotect(m, PAGE, PROT_READ | PROT_WRITE));
	snprintf(what, sizeof(what), "%s: mprotect PROT_NONE, then PROT_READ", name);
	show(what, mprotect(m, PAGE, PROT_NONE) || mprotect(m, PAGE, PROT_READ));
	snprintf(what, sizeof(what), "%s: mprotect PROT_WRITE of the shared mapping", name);
	show(what, mprotect(m, PAGE, PROT_WRITE));
	touch("a write to it", m, 1);
	printf("%s: its first byte unchanged %d\n", name, m[0] == first);
	munmap(m, PAGE);
	snprintf(what, sizeof(what), "%s O_RDONLY: mmap PROT_READ MAP_PRIVATE", name);
	m = map(PAGE, PROT_READ, MAP_PRIVATE, fd, what);
	snprintf(what, sizeof(what), "%s: mprotect PROT_READ|PROT_WRITE of the private mapping", name);
	show(what, mprotect(m, PAGE, PROT_READ | PROT_WRITE));
	m[0] = (char)(first + 1);
	munmap(m, PAGE);
	char now = 0;
	pread(fd, &now, 1, 0);
	printf("%s: the file unchanged by the private write %d\n", name, now == first);
	close(fd);
}

static void past_end(void)
{
	int fd = open(path, O_RDWR);
	char *s = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	struct stat st;

	printf("mapped 3 pages of a %d-byte file: %d %d\n", SIZE, s != MAP_FAILED, p != MAP_FAILED);
	printf("shared: last byte %c, the byte after it %d\n", s[SIZE - 1], s[SIZE]);
	touch("shared: a write in the rest of the last page", s + SIZE + 10, 1);
	fstat(fd, &st);
	printf("the file's size after it: %ld\n", (long)st.st_size);
	touch("shared: a read of the page past the end", s + 2 * PAGE + 8, 0);
	touch("shared: a write to the page past the end", s + 2 * PAGE, 1);
	printf("private: last byte %c, the byte after it %d\n", p[SIZE - 1], p[SIZE]);
	touch("private: a read of the page past the end", p + 2 * PAGE + 100, 0);
	touch("private: a write to the page past the end", p + 2 * PAGE + 4095, 1);
	int zero = open("/dev/zero", O_RDONLY);
	errno = 0;
	show("read() into the page past the end", read(zero, p + 2 * PAGE, 16));
	close(zero);
	/* The file grows: its new page is there in the shared mapping. */
	show("ftruncate to 3 pages", ftruncate(fd, 3 * PAGE));
	touch("shared: a write to the page the file grew into", s + 2 * PAGE + 8, 1);
	char c = 0;
	pread(fd, &c, 1, 2 * PAGE + 8);
	printf("the file has it: %c\n", c);
	munmap(s, 3 * PAGE);
	munmap(p, 3 * PAGE);

	/* The program's own file, private, a page past its end's page. */
	int self = open("/proc/self/exe", O_RDONLY);
	fstat(self, &st);
	size_t len = (st.st_size + PAGE - 1) / PAGE * PAGE + PAGE;
	char *e = mmap(NULL, len, PROT_READ, MAP_PRIVATE, self, 0);
	printf("program file: starts with ELF %d\n", e != MAP_FAILED && !memcmp(e + 1, "ELF", 3));
	touch("program file: a read of the page past the end", e + len - PAGE, 0);
	touch("program file: a read of its last byte", e + st.st_size - 1, 0);
	/* Uncaught: the child ends by SIGBUS. */
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		(void)*(volatile char *)(e + len - 1);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	printf("a child reading past the end: killed by signal %d\n",
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	munmap(e, len);
	close(self);
	close(fd);
}

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

/* Whether fd's mtime is past the old one set_old_mtime gave it. */
static const char *mtime_moved(int fd)
{
	struct stat st;

	fstat(fd, &st);
	return yes(st.st_mtim.tv_sec > 1000000);
}

static void set_old_mtime(int fd)
{
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };

	futimens(fd, old);
}

/* The mtime of a file written through mappings. */
static void mapped_mtime(void)
{
	int fd = open(path, O_RDWR);
	char *m;

	set_old_mtime(fd);
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("a load through a shared mapping: %c, mtime moved: %s\n", *(volatile char *)m,
	       mtime_moved(fd));
	munmap(m, PAGE);
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m[1] = 'b';
	printf("a store through a shared mapping: mtime moved: %s\n", mtime_moved(fd));
	show("msync", msync(m, PAGE, MS_SYNC));
	printf("after msync: mtime moved: %s\n", mtime_moved(fd));
	munmap(m, PAGE);
	set_old_mtime(fd);
	m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	m[PAGE + 1] = 'c';
	munmap(m, 2 * PAGE);
	printf("a store to the second page, unmapped: mtime moved: %s\n", mtime_moved(fd));
	set_old_mtime(fd);
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	m[2] = 'd';
	munmap(m, PAGE);
	printf("a store through a private mapping: mtime moved: %s\n", mtime_moved(fd));
	char back[3] = "";
	pread(fd, back, 3, 0);
	printf("the file holds the shared store, not the private one: %s\n",
	       yes(back[1] == 'b' && back[2] == 'a'));
	close(fd);
}

int main(void)
{
	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	snprintf(dir, sizeof(dir), "/tmp/mapfile-%d", getpid());
	snprintf(path, sizeof(path), "%s/file", dir);
	mkdir(dir, 0700);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char buf[SIZE];
	memset(buf, 'a', sizeof(buf));
	buf[SIZE - 1] = 'z';
	write(fd, buf, sizeof(buf));
	close(fd);
	read_only(path, "tmpfs file");
	read_only("/proc/self/exe", "program file");
	past_end();
	mapped_mtime();
	unlink(path);
	rmdir(dir);
	printf("mapfile: done\n");
	return 0;
}
