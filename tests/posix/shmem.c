/*
 * Shared mappings, differential: MAP_SHARED|MAP_ANONYMOUS (and of
 * /dev/zero) shared with a forked child both ways — pages touched before
 * the fork and pages first touched after it, a counter passed back and
 * forth — beside a private mapping the child's writes do not reach;
 * MAP_SHARED of a tmpfs file: the mapping's writes reach read(), write()
 * reaches the mapping, another process mapping the file on its own sees
 * them and its writes are seen, at an offset, after munmap the file
 * keeps them; msync and its errors; mprotect to read-only ends a writer
 * with SIGSEGV; many shared mappings made, used by a child and dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(ENOMEM) X(EACCES)
#include "check.h"

#define PAGE 4096

static char dir[64];

/* How the child ended. */
static void ended(const char *what, pid_t pid)
{
	int status = 0;

	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	else
		printf("%s: exited with status %d\n", what, WEXITSTATUS(status));
}

static void anonymous(void)
{
	char *shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *private = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	show("mmap shared anonymous", shared == MAP_FAILED ? -1 : 0);
	strcpy(shared, "before the fork");
	strcpy(private, "private");
	pid_t pid = fork();
	if (pid == 0) {
		strcpy(shared + 10, "CHILD");            /* a page shared at the fork */
		strcpy(shared + 2 * PAGE, "first touched by the child");
		strcpy(private, "CHILD'S");
		_exit(shared[0] == 'b' ? 0 : 1);
	}
	ended("child", pid);
	printf("page 0: %s\n", shared);
	printf("page 2: %s\n", shared + 2 * PAGE);
	printf("private: %s\n", private);

	/* A counter passed back and forth ten times through a pipe each way. */
	int to_child[2], to_parent[2];
	volatile int *counter = (volatile int *)(shared + 3 * PAGE);
	pipe(to_child);
	pipe(to_parent);
	*counter = 0;
	pid = fork();
	if (pid == 0) {
		char c;
		for (int i = 0; i < 10; i++) {
			read(to_child[0], &c, 1);
			*counter += 10;
			write(to_parent[1], "x", 1);
		}
		_exit(0);
	}
	char c;
	for (int i = 0; i < 10; i++) {
		*counter += 1;
		write(to_child[1], "x", 1);
		read(to_parent[0], &c, 1);
	}
	ended("counting child", pid);
	printf("counter: %d\n", *counter);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	show("munmap shared", munmap(shared, 4 * PAGE));
	munmap(private, PAGE);

	int zero = open("/dev/zero", O_RDWR);
	char *z = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
	close(zero);
	show("mmap /dev/zero shared", z == MAP_FAILED ? -1 : 0);
	pid = fork();
	if (pid == 0) {
		strcpy(z, "through /dev/zero");
		_exit(0);
	}
	ended("child", pid);
	printf("/dev/zero: %s\n", z);
	munmap(z, PAGE);
}

static void file(void)
{
	char path[128], buf[64] = "";
	snprintf(path, sizeof(path), "%s/file", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	show("ftruncate 3 pages", ftruncate(fd, 3 * PAGE));
	char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("mmap the file shared", m == MAP_FAILED ? -1 : 0);
	strcpy(m + 100, "written through the mapping");
	show("pread", pread(fd, buf, 27, 100));
	printf("read: %s\n", buf);
	show("pwrite", pwrite(fd, "WRITTEN", 7, 100));
	printf("mapping: %.27s\n", m + 100);
	show("msync MS_SYNC", msync(m, 3 * PAGE, MS_SYNC));
	show("msync MS_ASYNC", msync(m + PAGE, PAGE, MS_ASYNC));
	show("msync unaligned", msync(m + 1, PAGE, MS_SYNC));
	show("msync both", msync(m, PAGE, MS_SYNC | MS_ASYNC));

	/* Another process maps the file on its own, at an offset. */
	strcpy(m + 2 * PAGE + 8, "parent's");
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);
		char *cm = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, PAGE);
		if (cm == MAP_FAILED)
			_exit(2);
		int saw = !strcmp(cm + PAGE + 8, "parent's");
		strcpy(cm + 16, "the child's, at an offset");
		munmap(cm, 2 * PAGE);
		close(cfd);
		_exit(saw ? 0 : 3);
	}
	ended("child mapping the file", pid);
	printf("mapping: %s\n", m + PAGE + 16);
	memset(buf, 0, sizeof(buf));
	pread(fd, buf, 25, PAGE + 16);
	printf("read: %s\n", buf);
	show("munmap", munmap(m, 3 * PAGE));
	show("msync unmapped", msync(m, PAGE, MS_SYNC));
	memset(buf, 0, sizeof(buf));
	pread(fd, buf, 8, 2 * PAGE + 8);
	printf("after munmap, the file: %s\n", buf);

	/* A write-only or read-only descriptor cannot be mapped shared and writable. */
	int ro = open(path, O_RDONLY);
	errno = 0;
	char *bad = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	show("mmap shared writable of a read-only descriptor", bad == MAP_FAILED ? -1 : 0);
	char *rm = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	show("mmap shared read-only", rm == MAP_FAILED ? -1 : 0);
	pwrite(fd, "seen", 4, 0);
	printf("read-only mapping: %.4s\n", rm);
	munmap(rm, PAGE);
	close(ro);

	/* mprotect to read-only takes write access from pages already written. */
	m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pid = fork();
	if (pid == 0) {
		m[0] = 'a';
		mprotect(m, PAGE, PROT_READ);
		m[1] = 'b';
		_exit(0);
	}
	ended("child writing after mprotect", pid);
	printf("the file's first bytes: %.2s\n", m);
	munmap(m, PAGE);
	close(fd);
	unlink(path);
}

/* Shared mappings made, used by a child and dropped, again and again:
 * each goes with its last mapper. */
static void cycles(void)
{
	int good = 0;

	for (int i = 0; i < 20; i++) {
		char *m = mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			break;
		pid_t pid = fork();
		if (pid == 0) {
			for (int p = 0; p < 64; p++)
				m[p * PAGE] = (char)(p + i);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		good += m[63 * PAGE] == (char)(63 + i);
		munmap(m, 64 * PAGE);
	}
	printf("cycles: %d of 20 saw the child's writes\n", good);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "/tmp/shmem-%d", (int)getpid());
	if (mkdir(dir, 0700) < 0) {
		perror("mkdir");
		return 1;
	}
	anonymous();
	file();
	cycles();
	rmdir(dir);
	printf("shmem: done\n");
	return 0;
}
