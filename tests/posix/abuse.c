/*
 * Targeted abuse of the POSIX server, for Mica only (a fork bomb and
 * resource exhaustion are not for the host): `abuse [CHECK...]` runs each
 * check (all by default) in a child of its own and prints one line per
 * check with what the calls answered. The server must answer every call
 * with an error or a result, carry on, and give back what the child held
 * when it ends: the last line says whether a fresh child can still open,
 * pipe and fork.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	static const char *names[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [EBADF] = "EBADF", [ECHILD] = "ECHILD",
		[EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR", [EINVAL] = "EINVAL",
		[ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [EFBIG] = "EFBIG", [ENOSPC] = "ENOSPC",
		[ERANGE] = "ERANGE", [ENAMETOOLONG] = "ENAMETOOLONG", [ENOSYS] = "ENOSYS",
		[ELOOP] = "ELOOP", [E2BIG] = "E2BIG", [EXDEV] = "EXDEV", [ENOTEMPTY] = "ENOTEMPTY",
		[EOVERFLOW] = "EOVERFLOW", [ENODEV] = "ENODEV", [EACCES] = "EACCES",
	};
	static char buf[16];

	if (e > 0 && e < (int)(sizeof(names) / sizeof(names[0])) && names[e])
		return names[e];
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

static const char *err(long r)
{
	static char buf[32];

	if (r >= 0) {
		snprintf(buf, sizeof(buf), "%ld", r);
		return buf;
	}
	return ename(errno);
}

/* writev with more vectors than Linux takes, with lengths that overflow
 * their sum, with a vector that is not mapped. */
static void iov(void)
{
	static char buf[16];
	struct iovec v[1100];
	int null = open("/dev/null", O_WRONLY), p[2];

	for (int i = 0; i < 1100; i++)
		v[i] = (struct iovec){ buf, 1 };
	printf("iov: 1025 %s", err(writev(null, v, 1025)));
	printf(", 1024 %s", err(writev(null, v, 1024)));
	for (int i = 0; i < 4; i++)
		v[i] = (struct iovec){ buf, (size_t)1 << 62 };
	printf(", sum past SSIZE_MAX %s", err(writev(null, v, 4)));
	v[0] = (struct iovec){ buf, SSIZE_MAX };
	v[1] = (struct iovec){ buf, 2 };
	printf(", SSIZE_MAX+2 %s", err(writev(null, v, 2)));
	pipe(p);
	v[0] = (struct iovec){ (void *)16, 4096 };
	printf(", unmapped %s", err(writev(p[1], v, 1)));
	printf(", readv unmapped %s\n", err(readv(open("/dev/zero", O_RDONLY), v, 1)));
}

/* Paths: too long, deep, looping symlinks, a directory moved into itself. */
static void paths(void)
{
	static char path[8192];
	char *end;

	strcpy(path, "/tmp");
	end = path + 4;
	while (end - path < 5000)
		end += sprintf(end, "/..");
	printf("paths: 5000 bytes %s", err(open(path, O_RDONLY)));
	path[4000] = 0;
	printf(", 4000 bytes of /.. %s", err(open(path, O_RDONLY | O_DIRECTORY) >= 0 ? 0 : -1));
	symlink("/tmp/l2", "/tmp/l1");
	symlink("/tmp/l1", "/tmp/l2");
	printf(", loop %s", err(open("/tmp/l1", O_RDONLY)));
	symlink("l3/../l3", "/tmp/l3");
	printf(", self %s", err(open("/tmp/l3/x", O_RDONLY)));
	unlink("/tmp/l1");      /* (their pages are tmpfs's: test_posix.py counts them) */
	unlink("/tmp/l2");
	unlink("/tmp/l3");
	mkdir("/tmp/a", 0755);
	mkdir("/tmp/a/b", 0755);
	printf(", rename into itself %s", err(rename("/tmp/a", "/tmp/a/b/c")));
	printf(", stat after %s", err(access("/tmp/a/b", F_OK)));
	printf(", rename onto its child %s", err(rename("/tmp/a", "/tmp/a/b")));
	printf(", rmdir /tmp %s", err(rmdir("/tmp")));
	printf(", rename / %s", err(rename("/tmp/a/b", "/")));
	int depth = 0;
	char top[32];
	snprintf(top, sizeof(top), "/tmp/deep%d", (int)getpid());
	mkdir(top, 0755);
	chdir(top);
	while (depth < 300 && mkdir("d", 0755) == 0 && chdir("d") == 0)
		depth++;
	char cwd[64];
	printf(", %d deep, getcwd small %s", depth, err(getcwd(cwd, sizeof(cwd)) ? 0 : -1));
	printf(", getcwd %s", !getcwd(path, sizeof(path)) ? err(-1) :
	       strlen(path) == strlen(top) + 2 * (size_t)depth ? "whole" : "wrong");
	/* The path string runs into an unmapped page. */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page + 4096, 4096);
	memset(page, 'a', 4096);
	printf(", unterminated %s\n", err(open(page, O_RDONLY)));
}

/* Descriptors: open until refused; dup2 and F_DUPFD past the limit; a
 * limit raised past what the server has. */
static void fds(void)
{
	int n = 0;
	long r;
	struct rlimit lim = { 1 << 20, 1 << 20 };

	while ((r = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	printf("fds: %d opened, then %s", n, err(r));
	printf(", dup2 1023 %s", err(dup2(0, 1023)));
	printf(", dup2 1024 %s", err(dup2(0, 1024)));
	printf(", F_DUPFD 1<<30 %s", err(fcntl(0, F_DUPFD, 1 << 30)));
	printf(", setrlimit 1M %s", err(setrlimit(RLIMIT_NOFILE, &lim)));
	printf(", dup2 100000 %s", err(dup2(0, 100000)));
	printf(", poll 100000 %s", err(syscall(SYS_poll, 0L, 100000L, 0L)));
	printf(", select 1<<30 %s\n", err(select(1 << 30, NULL, NULL, NULL, &(struct timeval){ 0, 0 })));
}

/* epoll instances in each other: a cycle, a chain deeper than Linux's
 * (EPOLL_MAX_NESTS); then the global tables (pipes, epoll instances,
 * eventfds) taken by one process. */
static void tables(void)
{
	int n = 0, p[2], e[8];
	long r;
	struct epoll_event ev = { .events = EPOLLIN }, out[4];

	for (int i = 0; i < 8; i++)
		e[i] = epoll_create1(0);
	printf("tables: epoll in itself %s", err(epoll_ctl(e[0], EPOLL_CTL_ADD, e[0], &ev)));
	printf(", a in b %s", err(epoll_ctl(e[1], EPOLL_CTL_ADD, e[0], &ev)));
	printf(", b in a %s", err(epoll_ctl(e[0], EPOLL_CTL_ADD, e[1], &ev)));
	printf(", wait %s", err(epoll_wait(e[0], out, 4, 0)));
	for (int i = 3; i < 8; i++)
		r = epoll_ctl(e[i], EPOLL_CTL_ADD, e[i - 1], &ev);
	printf(", chain of 6 %s", err(r));
	printf(", wait %s", err(epoll_wait(e[7], out, 4, 0)));
	struct pollfd pf = { .fd = e[0], .events = POLLIN };
	printf(", poll %s", err(poll(&pf, 1, 0)));
	for (int i = 0; i < 8; i++)
		close(e[i]);
	while ((r = pipe(p)) == 0 && n < 2000)
		n++;
	printf(", %d pipes, then %s", n, err(r));
	n = 0;
	while ((r = epoll_create1(0)) >= 0 && n < 2000)
		n++;
	printf(", %d epolls, then %s", n, err(r));
	n = 0;
	while ((r = eventfd(0, 0)) >= 0 && n < 2000)
		n++;
	printf(", %d eventfds, then %s\n", n, err(r));
}

/* Forks until refused; the children wait to be killed. */
static void forks(void)
{
	pid_t kids[4096];
	int n = 0;
	long r;

	while (n < 4096 && (r = fork()) > 0)
		kids[n++] = (pid_t)r;
	if (r == 0) {
		pause();
		_exit(0);
	}
	printf("forks: %d, then %s", n, err(r));
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	printf(", %d reaped\n", reaped);
}

/* Memory: a page touched every 2 MiB of 200 MiB (a page table each, in
 * the process's kernel quota), one mapping larger than the address space,
 * small mappings until refused. */
static void memory(void)
{
	int n = 0, status;
	void *p;
	pid_t kid = fork();

	if (kid == 0) {
		size_t size = (size_t)200 << 20;
		char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED)
			_exit(1);
		for (size_t i = 0; i < size; i += 2 << 20)
			q[i] = 1;
		_exit(2);
	}
	waitpid(kid, &status, 0);
	printf("memory: sparse 200 MiB: %s %d", WIFSIGNALED(status) ? "signal" : "status",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	p = mmap(NULL, (size_t)1 << 48, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf(", 256 TiB %s", p == MAP_FAILED ? ename(errno) : "mapped");
	while (n < 200000 && (p = mmap(NULL, 4096, n % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) != MAP_FAILED)
		n++;
	printf(", %d small maps, then %s\n", n, n < 200000 ? ename(errno) : "-");
}

/* Recursion that runs off the stack, and a handler for it on a bad stack. */
static volatile int forever = 1;

static int deep(int n)
{
	volatile char pad[4096];
	pad[0] = (char)n;
	return forever ? deep(n + 1) + pad[0] : n;
}

static void handler(int sig)
{
	(void)sig;
	_exit(7);
}

static void stack(void)
{
	pid_t kid = fork();
	int status;

	if (kid == 0) {
		stack_t ss = { .ss_sp = (void *)0x1000, .ss_size = 65536 };
		sigaltstack(&ss, NULL);
		struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_ONSTACK };
		sigaction(SIGSEGV, &sa, NULL);
		_exit(deep(0));
	}
	waitpid(kid, &status, 0);
	printf("stack: %s %d\n", WIFSIGNALED(status) ? "signal" : "status",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* execve with more arguments than fit, and argv pointers that are bad. */
static void exec(void)
{
	static char *argv[200001];
	static char big[131072 + 1];

	memset(big, 'x', sizeof(big) - 1);
	for (int i = 0; i < 200000; i++)
		argv[i] = "a";
	printf("exec: 200000 args %s", err(execve("/bin/hello-musl", argv, NULL)));
	char *one[] = { big, NULL };
	printf(", one 128 KiB arg %s", err(execve("/bin/hello-musl", one, NULL)));
	printf(", argv unmapped %s", err(syscall(SYS_execve, "/bin/hello-musl", 16L, 0L)));
	char *bad[] = { "x", (char *)16, NULL };
	printf(", arg unmapped %s\n", err(execve("/bin/hello-musl", bad, NULL)));
}

/* Tmpfs files at offsets far past what tmpfs holds. */
static void sizes(void)
{
	int fd = open("/tmp/big", O_RDWR | O_CREAT | O_TRUNC, 0600);

	printf("sizes: ftruncate 1<<62 %s", err(ftruncate(fd, (off_t)1 << 62)));
	printf(", pwrite at 1<<62 %s", err(pwrite(fd, "x", 1, (off_t)1 << 62)));
	printf(", lseek max %s", err(lseek(fd, INT64_MAX, SEEK_SET)));
	printf(", write there %s", err(write(fd, "x", 1)));
	printf(", truncate back %s\n", err(ftruncate(fd, 0)));
	unlink("/tmp/big");
}

/* Only when named: every file description of the server taken for 30 s
 * (what another process, iperf3 -s, does meanwhile). */
static void hold(void)
{
	int n = 0;
	long r;

	while ((r = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	printf("hold: %d opened, then %s; holding them 30 s\n", n, err(r));
	sleep(30);
}

static const struct {
	const char *name;
	void (*run)(void);
	int named;      /* run only when named */
} checks[] = {
	{ "iov", iov, 0 }, { "paths", paths, 0 }, { "fds", fds, 0 }, { "tables", tables, 0 },
	{ "forks", forks, 0 }, { "memory", memory, 0 }, { "stack", stack, 0 }, { "exec", exec, 0 },
	{ "sizes", sizes, 0 }, { "hold", hold, 1 },
};

int main(int argc, char **argv)
{
	static char out[4096];

	setvbuf(stdout, out, _IOLBF, sizeof(out));   /* a line in one write, whole among the server's */
	for (unsigned i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int wanted = argc < 2 && !checks[i].named;
		for (int a = 1; a < argc; a++)
			wanted |= !strcmp(argv[a], checks[i].name);
		if (!wanted)
			continue;
		pid_t kid = fork();
		if (kid == 0) {
			checks[i].run();
			_exit(0);
		}
		int status;
		if (kid < 0 || waitpid(kid, &status, 0) != kid) {
			printf("%s: no child\n", checks[i].name);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			printf("%s: ended with status %#x\n", checks[i].name, status);
	}
	/* What a fresh child can do after all that. */
	int p[2], fd = open("/dev/null", O_RDONLY), piped = pipe(p);
	pid_t kid = fork();
	if (kid == 0)
		_exit(0);
	printf("after: open %s, pipe %s, fork %s\n", fd >= 0 ? "yes" : "no", piped == 0 ? "yes" : "no",
	       kid > 0 && waitpid(kid, NULL, 0) == kid ? "yes" : "no");
	return 0;
}
