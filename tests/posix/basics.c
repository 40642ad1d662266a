/*
 * Process start-up and the first system calls, one line per check, the
 * same on Linux and on Mica (tests/system/test_posix.py compares them):
 * arguments, environment, the auxiliary vector, brk and mmap through
 * malloc, errors (EFAULT, ENOSYS, ENOENT), clocks, random bytes, uname,
 * sysinfo, getgroups.
 * Exits with status 3.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EFAULT) X(ENOSYS) X(ENOENT) X(EBADF) X(ENOTTY) X(EINVAL)
#include "check.h"

extern char _start[];

static const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

static void auxv(void)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM), loads = 0;
	const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
	int random_set = 0;

	printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
	printf("AT_PHENT %lu\n", getauxval(AT_PHENT));
	for (unsigned long i = 0; ph && i < phnum; i++)
		loads += ph[i].p_type == PT_LOAD;
	printf("AT_PHDR, AT_PHNUM: %lu headers, %lu loadable\n", phnum, loads);
	printf("AT_ENTRY is _start: %s\n", yes(getauxval(AT_ENTRY) == (unsigned long)_start));
	for (int i = 0; random && i < 16; i++)
		random_set |= random[i];
	printf("AT_RANDOM set: %s\n", yes(random_set != 0));
	printf("AT_UID, AT_EUID, AT_GID, AT_EGID match: %s\n",
	       yes(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid() &&
		   getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid()));
	printf("AT_SECURE %lu\n", getauxval(AT_SECURE));
	printf("AT_CLKTCK %lu\n", getauxval(AT_CLKTCK));
	printf("AT_HWCAP set: %s\n", yes(getauxval(AT_HWCAP) != 0));
	printf("AT_EXECFN set: %s\n", yes(getauxval(AT_EXECFN) != 0));
	/* The interpreter's address: a dynamically linked program's only. */
	printf("AT_BASE set: %s\n", yes(getauxval(AT_BASE) != 0));
	printf("AT_PLATFORM %s\n", (const char *)getauxval(AT_PLATFORM));
}

static void memory(void)
{
	/* Many small blocks (glibc: from brk), one large (mmap). */
	enum { SMALL = 1000 };
	char *blocks[SMALL];
	int ok = 1;

	for (int i = 0; i < SMALL; i++) {
		blocks[i] = malloc(1024);
		ok &= blocks[i] != NULL;
		if (blocks[i])
			memset(blocks[i], i & 0xFF, 1024);
	}
	for (int i = 0; ok && i < SMALL; i++)
		ok &= blocks[i][1023] == (char)(i & 0xFF);
	for (int i = 0; i < SMALL; i++)
		free(blocks[i]);
	printf("malloc 1000 x 1 KiB: %s\n", yes(ok));

	size_t big = 4 << 20;
	unsigned char *b = malloc(big);
	unsigned long sum = 0;
	if (b) {
		for (size_t i = 0; i < big; i += 4096)
			b[i] = 1;
		for (size_t i = 0; i < big; i += 4096)
			sum += b[i];
	}
	printf("malloc 4 MiB: %s\n", yes(b && sum == big / 4096));
	free(b);

	unsigned char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int zero = m != MAP_FAILED && m[4096] == 0 && m[(1 << 20) - 1] == 0;
	if (m != MAP_FAILED)
		m[12345] = 7;
	printf("mmap 1 MiB zeroed: %s\n", yes(zero));
	printf("munmap: %d\n", m != MAP_FAILED ? munmap(m, 1 << 20) : -2);

	/* Protection: a PROT_NONE page opened read-write, a written page
	 * made read-only keeps its bytes, and the kernel side (write) cannot
	 * read a PROT_NONE page either. */
	unsigned char *q = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int opened = q != MAP_FAILED && mprotect(q, 4096, PROT_READ | PROT_WRITE) == 0;
	if (opened)
		q[100] = 42;
	printf("mprotect PROT_NONE to read-write: %s\n", yes(opened && q[100] == 42));
	printf("mprotect read-only keeps the bytes: %s\n",
	       yes(opened && mprotect(q, 4096, PROT_READ) == 0 && q[100] == 42));
	errno = 0;
	long n = q != MAP_FAILED ? write(1, q + 4096, 1) : 0;
	printf("write from a PROT_NONE page: %ld %s\n", n, errno == EFAULT ? "EFAULT" : "other");
	errno = 0;
	printf("mprotect of unmapped memory: %d %s\n", mprotect((void *)0x100000, 4096, PROT_READ),
	       errno == ENOMEM ? "ENOMEM" : "other");

	/* brk itself: up by 64 KiB, the memory usable, back down. */
	char *cur = (char *)syscall(SYS_brk, 0);
	char *up = (char *)syscall(SYS_brk, cur + 65536);
	if (up == cur + 65536)
		cur[65535] = 1;
	printf("brk grows by 64 KiB: %s\n", yes(up == cur + 65536));
	printf("brk shrinks back: %s\n", yes((char *)syscall(SYS_brk, cur) == cur));
}

/* Before each call the server may log about (an unsupported one), the
 * lines so far go out, so that its log line falls between them. */
static void errors(void)
{
	/* An address the compiler cannot see through, never mapped. */
	static volatile uintptr_t bad = 16;
	errno = 0;
	long n = write(1, (const void *)bad, 10);
	printf("write of a bad pointer: %ld %s\n", n, errname(errno));
	fflush(stdout);
	errno = 0;
	n = syscall(1000);
	printf("syscall 1000: %ld %s\n", n, errname(errno));
	errno = 0;
	n = open("/no/such/file", O_RDONLY);
	printf("open of a missing file: %ld %s\n", n, errname(errno));
	errno = 0;
	n = write(57, "x", 1);
	printf("write to descriptor 57: %ld %s\n", n, errname(errno));
	errno = 0;
	n = syscall(SYS_getrandom, (void *)16, 16, 0);
	printf("getrandom to a bad pointer: %ld %s\n", n, errname(errno));
}

static void system_info(void)
{
	struct timespec a, b;
	struct utsname u;
	unsigned char r[16] = { 0 };
	int random_set = 0;

	int ok = clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0;
	printf("clock_gettime monotonic: %s\n",
	       yes(ok && (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec))));
	printf("getrandom 16: %ld\n", (long)getrandom(r, sizeof(r), 0));
	for (int i = 0; i < 16; i++)
		random_set |= r[i];
	printf("getrandom bytes set: %s\n", yes(random_set));
	printf("uname: %d %s %s\n", uname(&u), u.sysname, u.machine);
	printf("pid positive: %s\n", yes(getpid() > 0));
	printf("gettid is pid: %s\n", yes(syscall(SYS_gettid) == getpid()));
	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	int rc = sysinfo(&si);
	printf("sysinfo: %d, memory: %s, processes: %s, unit: %s\n", rc,
	       yes(si.totalram > 0 && si.freeram <= si.totalram && si.sharedram <= si.totalram),
	       yes(si.procs >= 1), yes(si.mem_unit >= 1));
	errno = 0;
	long n = syscall(SYS_sysinfo, (void *)16);
	printf("sysinfo to a bad pointer: %ld %s\n", n, errname(errno));
	gid_t groups[256];
	int ngroups = getgroups(0, NULL);
	printf("getgroups: %s\n", yes(ngroups >= 0 && getgroups(256, groups) == ngroups));
	errno = 0;
	n = syscall(SYS_getgroups, -1, groups);
	printf("getgroups -1: %ld %s\n", n, errname(errno));
}

int main(int argc, char **argv, char **envp)
{
	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] %s\n", i, argv[i]);
	for (char **e = envp; *e; e++)
		printf("env %s\n", *e);
	printf("getenv HOME %s\n", getenv("HOME"));
	auxv();
	memory();
	errors();
	system_info();
	printf("exit status 3 next\n");
	return 3;
}
