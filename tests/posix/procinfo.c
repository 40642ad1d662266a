/*
 * More of /proc, differential (relations and formats, never the numbers
 * that differ): /proc/stat (the cpu lines, btime with the uptime, the
 * processes count after a fork, procs_running, the CPU time a computing
 * process adds); /proc/self/maps (every line in Linux's format, in order,
 * the stack, the heap after brk, an anonymous mapping split by
 * mprotect, shared anonymous memory, a tmpfs file mapped shared at an
 * offset and the program's own file mapped privately, with stat's
 * device, inode and path); /proc/self/environ and a child's; the
 * threads in /proc/self/task with their stat, status and comm; the
 * state letters of a child that sleeps, computes, is stopped and is a
 * zombie, in stat and status.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

extern char **environ;

static char buf[65536];

/* The whole file at path into buf (NUL-terminated): its length, or -1. */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	long n = 0, r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* The value after "key " in /proc/stat's text (buf). */
static long stat_value(const char *key)
{
	char *at = strstr(buf, key);

	return at ? atol(at + strlen(key)) : -1;
}

static long cpu_line_ticks(void)
{
	long v[10] = { 0 }, sum = 0;

	slurp("/proc/stat");
	sscanf(buf, "cpu %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4],
	       &v[5], &v[6], &v[7], &v[8], &v[9]);
	for (int i = 0; i < 10; i++)
		sum += i == 3 || i == 4 ? 0 : v[i];     /* busy: all but idle and iowait */
	return sum;
}

static long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void proc_stat(void)
{
	long v[10];

	slurp("/proc/stat");
	int n = sscanf(buf, "cpu  %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	printf("stat: cpu line with at least 8 numbers %d, a cpu0 line %d\n", n >= 8,
	       strstr(buf, "\ncpu0 ") != NULL);
	long btime = stat_value("\nbtime "), running = stat_value("\nprocs_running ");
	long processes = stat_value("\nprocesses ");
	double up = 0;
	FILE *f = fopen("/proc/uptime", "r");
	fscanf(f, "%lf", &up);
	fclose(f);
	long now = (long)time(NULL);
	printf("stat: btime plus the uptime is now %d\n", labs(btime + (long)up - now) <= 2);
	printf("stat: procs_running at least 1 %d, procs_blocked there %d\n", running >= 1,
	       strstr(buf, "\nprocs_blocked ") != NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	slurp("/proc/stat");
	printf("stat: processes grew with a fork %d\n", stat_value("\nprocesses ") > processes);
	long before = cpu_line_ticks(), start = cpu_ms();
	volatile unsigned long x = 0;
	while (cpu_ms() - start < 300)
		for (int i = 0; i < 10000; i++)
			x += i;
	printf("stat: 300 ms of computing added at least 20 busy ticks %d\n",
	       cpu_line_ticks() - before >= 20);
}

int main(void);

/* ---- maps ---- */

struct map_line {
	unsigned long start, end, offset, inode;
	char perms[8], path[256];
	unsigned major, minor;
};

/* The maps line of p's memory holding address va into *m: 1, or 0. */
static int map_of(const char *maps, unsigned long va, struct map_line *m)
{
	for (const char *line = maps; *line;) {
		const char *nl = strchr(line, '\n');
		int path_at = 0;
		memset(m, 0, sizeof(*m));
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &m->start, &m->end, m->perms,
			   &m->offset, &m->major, &m->minor, &m->inode, &path_at) >= 7 &&
		    va >= m->start && va < m->end) {
			size_t len = nl ? (size_t)(nl - line) : strlen(line);
			if (path_at && (size_t)path_at < len) {
				size_t plen = len - path_at < sizeof(m->path) - 1 ? len - path_at
										 : sizeof(m->path) - 1;
				memcpy(m->path, line + path_at, plen);
			}
			return 1;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

/* Every line: the format, the columns, in order. */
static int maps_well_formed(const char *maps)
{
	unsigned long last = 0;

	for (const char *line = maps; *line;) {
		const char *nl = strchr(line, '\n');
		struct map_line m;
		int at = 0;
		if (!nl || sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &m.start, &m.end, m.perms,
				  &m.offset, &m.major, &m.minor, &m.inode, &at) < 7)
			return 0;
		if (m.start >= m.end || m.start < last || strlen(m.perms) != 4 ||
		    !strchr("r-", m.perms[0]) || !strchr("w-", m.perms[1]) ||
		    !strchr("x-", m.perms[2]) || !strchr("ps", m.perms[3]) || line[8] == ' ')
			return 0;
		/* A path starts in column 74; without one the line ends in a space. */
		if (nl - line > 73 && (line[72] != ' ' || line[73] == ' '))
			return 0;
		if (nl - line <= 73 && nl[-1] != ' ')
			return 0;
		last = m.end;
		line = nl + 1;
	}
	return 1;
}

static void maps(void)
{
	struct map_line m;
	int local = 0;

	slurp("/proc/self/maps");
	printf("maps: well formed %d\n", maps_well_formed(buf));
	printf("maps: the stack's line [stack] %d\n", map_of(buf, (unsigned long)&local, &m) &&
	       !strcmp(m.path, "[stack]") && !strcmp(m.perms, "rw-p"));
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	printf("maps: the vDSO's line [vdso] r-xp %d\n", vdso && map_of(buf, vdso, &m) &&
	       !strcmp(m.path, "[vdso]") && !strcmp(m.perms, "r-xp"));
	unsigned long brk0 = syscall(SYS_brk, 0);
	unsigned long brk1 = syscall(SYS_brk, brk0 + 3 * PAGE);
	*(volatile char *)(brk1 - 1) = 1;
	slurp("/proc/self/maps");
	printf("maps: the break's line [heap] %d\n", map_of(buf, brk1 - 1, &m) &&
	       !strcmp(m.path, "[heap]") && !strcmp(m.perms, "rw-p"));

	char *a = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(a + PAGE, PAGE, PROT_READ);
	slurp("/proc/self/maps");
	struct map_line m0, m1, m2;
	map_of(buf, (unsigned long)a, &m0);
	map_of(buf, (unsigned long)a + PAGE, &m1);
	map_of(buf, (unsigned long)a + 2 * PAGE, &m2);
	printf("maps: anonymous, split: %s %s %s, offset %lu dev %u:%u inode %lu path '%s'\n",
	       m0.perms, m1.perms, m2.perms, m0.offset, m0.major, m0.minor, m0.inode, m0.path);
	printf("maps: the middle page alone %d\n", m1.start == (unsigned long)a + PAGE &&
	       m1.end == (unsigned long)a + 2 * PAGE);
	munmap(a, 3 * PAGE);

	char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	slurp("/proc/self/maps");
	map_of(buf, (unsigned long)s, &m);
	printf("maps: shared anonymous: %s, path starts /dev/zero %d\n", m.perms,
	       !strncmp(m.path, "/dev/zero", 9));
	munmap(s, PAGE);

	char dir[64], path[96];
	snprintf(dir, sizeof(dir), "/tmp/procinfo-%d", getpid());
	snprintf(path, sizeof(path), "%s/mapped", dir);
	mkdir(dir, 0700);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 3 * PAGE);
	struct stat st;
	fstat(fd, &st);
	char *f = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
	slurp("/proc/self/maps");
	map_of(buf, (unsigned long)f, &m);
	printf("maps: a file shared at an offset: %s %08lx, stat's device %d inode %d, path %d\n",
	       m.perms, m.offset, m.major == major(st.st_dev) && m.minor == minor(st.st_dev),
	       m.inode == st.st_ino, !strcmp(m.path, path));
	munmap(f, 2 * PAGE);
	close(fd);
	unlink(path);
	rmdir(dir);

	char exe[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	fd = open("/proc/self/exe", O_RDONLY);
	fstat(fd, &st);
	char *e = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
	slurp("/proc/self/maps");
	map_of(buf, (unsigned long)e, &m);
	printf("maps: the program's file private: %s %08lx, stat's device %d inode %d, path %d\n",
	       m.perms, m.offset, m.major == major(st.st_dev) && m.minor == minor(st.st_dev),
	       m.inode == st.st_ino, !strcmp(m.path, exe));
	munmap(e, PAGE);
	close(fd);
	/* The program's own code: its file, executable. */
	slurp("/proc/self/maps");
	map_of(buf, (unsigned long)&main, &m);
	printf("maps: main's line: %s, inode %d, path %d\n", m.perms, m.inode == st.st_ino,
	       !strcmp(m.path, exe));
}

/* ---- environ ---- */

static int environ_is(const char *file)
{
	long n = slurp(file), at = 0;

	for (char **e = environ; *e; e++) {
		long len = (long)strlen(*e) + 1;
		if (at + len > n || memcmp(buf + at, *e, len))
			return 0;
		at += len;
	}
	return at == n;
}

static void environ_files(void)
{
	printf("environ: the process's environment %d\n", environ_is("/proc/self/environ"));
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1);
		_exit(0);
	}
	char file[64];
	snprintf(file, sizeof(file), "/proc/%d/environ", pid);
	printf("environ: a forked child's the same %d\n", environ_is(file));
	close(p[1]);
	waitpid(pid, NULL, 0);
	close(p[0]);
}

/* ---- task ---- */

static pthread_barrier_t started;
static int wait_pipe[2];
static volatile pid_t tids[2];

static void *waiter(void *arg)
{
	char c;

	tids[(long)arg] = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&started);
	read(wait_pipe[0], &c, 1);      /* waits until main writes */
	return NULL;
}

static int task_entries(pid_t *got, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && n < max)
			got[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	return n;
}

static int has(const pid_t *set, int n, pid_t v)
{
	for (int i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

static char state_in_stat(const char *file)
{
	if (slurp(file) < 0)
		return '?';
	char *close_paren = strrchr(buf, ')');
	return close_paren ? close_paren[2] : '?';
}

static void task(void)
{
	pid_t got[8], pid = getpid();
	char file[96], comm[64];

	int n = task_entries(got, 8);
	printf("task: one thread, itself %d %d\n", n, n == 1 && got[0] == pid);
	pipe(wait_pipe);
	pthread_barrier_init(&started, NULL, 3);
	pthread_t t[2];
	pthread_create(&t[0], NULL, waiter, (void *)0L);
	pthread_create(&t[1], NULL, waiter, (void *)1L);
	pthread_barrier_wait(&started);
	n = task_entries(got, 8);
	printf("task: three threads %d, the main and both tids %d\n", n,
	       has(got, n, pid) && has(got, n, tids[0]) && has(got, n, tids[1]));
	/* A waiting thread sleeps (until it is in its read: looked at again). */
	snprintf(file, sizeof(file), "/proc/self/task/%d/stat", tids[0]);
	char state = '?';
	for (int i = 0; i < 200 && (state = state_in_stat(file)) != 'S'; i++)
		usleep(10000);
	slurp(file);
	printf("task: a waiting thread's stat: its tid %d, state %c\n", atoi(buf) == tids[0], state);
	snprintf(file, sizeof(file), "/proc/self/task/%d/stat", pid);
	printf("task: the reader's own state %c\n", state_in_stat(file));
	snprintf(file, sizeof(file), "/proc/self/task/%d/status", tids[1]);
	slurp(file);
	char want[64];
	snprintf(want, sizeof(want), "\nPid:\t%d\n", tids[1]);
	int pid_ok = strstr(buf, want) != NULL;
	snprintf(want, sizeof(want), "\nTgid:\t%d\n", pid);
	printf("task: status Pid the tid %d, Tgid the pid %d, Threads 3 %d\n", pid_ok,
	       strstr(buf, want) != NULL, strstr(buf, "\nThreads:\t3\n") != NULL);
	slurp("/proc/self/comm");
	strncpy(comm, buf, sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = 0;
	snprintf(file, sizeof(file), "/proc/self/task/%d/comm", tids[1]);
	slurp(file);
	printf("task: comm the process's %d\n", !strcmp(comm, buf));
	write(wait_pipe[1], "xx", 2);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	/* Linux clears the joined tid (mm_release) before the thread leaves
	 * its group (exit_notify): on a loaded host its entry may stay a
	 * moment after the join. Looked at again for up to 2 s. */
	for (int i = 0; (n = task_entries(got, 8)) != 1 && i < 200; i++)
		usleep(10000);
	printf("task: joined, one thread %d\n", n);
	snprintf(file, sizeof(file), "/proc/self/task/%d/stat", tids[0]);
	int gone = 0;
	for (int i = 0; !(gone = slurp(file) < 0) && i < 200; i++)
		usleep(10000);
	printf("task: a joined thread's stat gone %d\n", gone);
	close(wait_pipe[0]);
	close(wait_pipe[1]);
}

/* ---- states ---- */

static void show_state(const char *what, pid_t pid, char want)
{
	char file[64], state = '?';

	snprintf(file, sizeof(file), "/proc/%d/stat", pid);
	for (int i = 0; i < 300 && (state = state_in_stat(file)) != want; i++)
		usleep(10000);
	snprintf(file, sizeof(file), "/proc/%d/status", pid);
	slurp(file);
	char *line = strstr(buf, "State:\t");
	char *end = line ? strchr(line, '\n') : NULL;
	if (end)
		*end = 0;
	printf("state of %s: %c, status '%s'\n", what, state, line ? line + 7 : "");
}

static void states(void)
{
	int p[2];

	pipe(p);
	pid_t sleeper = fork();
	if (sleeper == 0) {
		close(p[0]);
		write(p[1], "s", 1);
		pause();
		_exit(0);
	}
	char c;
	read(p[0], &c, 1);
	show_state("a child in pause", sleeper, 'S');
	pid_t spinner = fork();
	if (spinner == 0) {
		volatile unsigned long x = 0;
		for (;;)
			x++;
	}
	show_state("a computing child", spinner, 'R');
	kill(spinner, SIGSTOP);
	int status;
	waitpid(spinner, &status, WUNTRACED);
	show_state("a stopped child", spinner, 'T');
	kill(spinner, SIGKILL);
	waitpid(spinner, &status, 0);
	kill(sleeper, SIGTERM);
	siginfo_t si;
	waitid(P_PID, sleeper, &si, WEXITED | WNOWAIT);
	show_state("an ended child not waited for", sleeper, 'Z');
	waitpid(sleeper, &status, 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	proc_stat();
	maps();
	environ_files();
	task();
	states();
	printf("procinfo: done\n");
	return 0;
}
