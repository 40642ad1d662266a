/*
 * prctl(2)'s common options, one line per check, the same on Linux and
 * on Mica (tests/system/test_posix.py compares them): the name
 * (PR_SET_NAME cut to 15 bytes, PR_GET_NAME, /proc/self/comm and
 * /proc/self/stat's second field, EFAULT for a bad pointer), the parent's
 * death signal (PR_SET_PDEATHSIG and GET; 0 in a forked child; sent to a
 * child when its parent ends), PR_SET_NO_NEW_PRIVS (its argument checks;
 * kept by fork and execve), PR_SET_DUMPABLE (0 or 1; 1 again after
 * execve) and EINVAL for an option Linux does not have.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(EINVAL) X(EFAULT)
#include "check.h"

#define BAD_POINTER ((unsigned long)8)  /* in no process's memory */
#define NO_OPTION   0x7fff1234          /* an option no Linux has */

/* The first line of file, its newline taken off, into buf. */
static const char *first_line(const char *file, char *buf, size_t size)
{
	int fd = open(file, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static void names(void)
{
	char name[32], line[256];

	memset(name, 'x', sizeof(name));
	report("PR_GET_NAME", prctl(PR_GET_NAME, name));
	printf("name at the start: %s\n", name);
	report("PR_SET_NAME 20 bytes", prctl(PR_SET_NAME, "renamed-process-long"));
	memset(name, 'x', sizeof(name));
	prctl(PR_GET_NAME, name);
	printf("name: %s (%zu bytes, NUL at 15: %s)\n", name, strlen(name), name[15] ? "no" : "yes");
	printf("/proc/self/comm: %s\n", first_line("/proc/self/comm", line, sizeof(line)));
	first_line("/proc/self/stat", line, sizeof(line));
	char *open_paren = strchr(line, '('), *close_paren = strrchr(line, ')');
	if (open_paren && close_paren > open_paren)
		*close_paren = 0;
	printf("/proc/self/stat's name: %s\n", open_paren ? open_paren + 1 : "(none)");
	report("PR_SET_NAME short", prctl(PR_SET_NAME, "short"));
	prctl(PR_GET_NAME, name);
	printf("name: %s\n", name);
	report("PR_SET_NAME bad pointer", prctl(PR_SET_NAME, BAD_POINTER));
	report("PR_GET_NAME bad pointer", prctl(PR_GET_NAME, BAD_POINTER));
	prctl(PR_GET_NAME, name);
	printf("name after the bad pointer: %s\n", name);
}

static void privileges(void)
{
	report("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	report("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
	report("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	report("PR_GET_DUMPABLE after 0", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	report("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	report("PR_GET_NO_NEW_PRIVS arg2 1", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
	report("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
	report("PR_SET_NO_NEW_PRIVS 1 arg3 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
	report("PR_SET_NO_NEW_PRIVS 1", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	report("PR_GET_NO_NEW_PRIVS after 1", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	report("option 0x7fff1234", prctl(NO_OPTION, 0, 0, 0, 0));
	/* A child: both kept by fork; after its execve of this program
	 * (argument "exec"), dumpable is 1 again, no_new_privs kept. */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		printf("child: dumpable %d, no_new_privs %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
		       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		fflush(stdout);
		execl("/proc/self/exe", "prctl", "exec", (char *)NULL);
		_exit(99);
	}
	int status = 0;
	waitpid(c, &status, 0);
	printf("child ended: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	report("PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	got = sig;
}

static void death_signal(void)
{
	int sig = -1, ready[2], result[2];
	char byte = 0;

	report("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &sig));
	printf("death signal: %d\n", sig);
	report("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
	report("PR_SET_PDEATHSIG SIGUSR2", prctl(PR_SET_PDEATHSIG, SIGUSR2));
	prctl(PR_GET_PDEATHSIG, &sig);
	printf("death signal: %d\n", sig);
	report("PR_GET_PDEATHSIG bad pointer", prctl(PR_GET_PDEATHSIG, BAD_POINTER));
	/* A child's is 0; a grandchild's is sent when the child ends. */
	if (pipe(ready) || pipe(result))
		return;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		int s = -1;
		prctl(PR_GET_PDEATHSIG, &s);
		printf("child: death signal %d\n", s);
		fflush(stdout);
		if (fork() == 0) {
			signal(SIGUSR1, on_usr1);
			prctl(PR_SET_PDEATHSIG, SIGUSR1);
			write(ready[1], "r", 1);
			for (int i = 0; i < 500 && !got; i++)
				usleep(10000);
			char r = got ? (char)got : 'n';
			write(result[1], &r, 1);
			_exit(0);
		}
		char b;
		read(ready[0], &b, 1);
		_exit(0);       /* the grandchild's parent ends */
	}
	waitpid(c, NULL, 0);
	close(result[1]);
	read(result[0], &byte, 1);
	printf("grandchild: SIGUSR1 when its parent ended: %s\n", byte == SIGUSR1 ? "yes" : "no");
	prctl(PR_SET_PDEATHSIG, 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		printf("after execve: dumpable %d, no_new_privs %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
		       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		return 0;
	}
	names();
	privileges();
	death_signal();
	return 0;
}
