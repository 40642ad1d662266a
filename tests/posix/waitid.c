/*
 * waitid, differential (Linux's waitid(2)): P_PID, P_PGID (a group and
 * 0, the caller's), P_ALL; WEXITED, WNOHANG (a siginfo of zeros when no
 * child has ended), WNOWAIT (the child stays waitable, wait4 takes it
 * after); the siginfo's si_signo, si_code (CLD_EXITED, CLD_KILLED, and
 * CLD_DUMPED only where wait4's status says a core was written), si_pid,
 * si_uid, si_status; the errors (ECHILD, EINVAL) and a waitid that waits
 * for a child that ends later; WSTOPPED and WCONTINUED (CLD_STOPPED with
 * the stop signal, CLD_CONTINUED with SIGCONT, each told once, WNOWAIT
 * leaving it untold).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ECHILD) X(EINVAL) X(EFAULT)
#include "check.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static const char *code_name(int code)
{
	switch (code) {
	case 0: return "0";
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	default: return "other";
	}
}

/* The siginfo, with the child's pid told as which child it was. */
static void info(const char *what, const siginfo_t *si, pid_t child)
{
	printf("  %s: signo %d code %s pid %s uid-ok %d status %d\n", what, si->si_signo,
	       code_name(si->si_code), si->si_pid == child ? "the child" : si->si_pid ? "another" : "0",
	       si->si_pid ? si->si_uid == getuid() : si->si_uid == 0, si->si_status);
}

/* A child that exits with status once the parent closes fd (the write
 * end of a pipe it reads), so it is alive for sure until then. */
static pid_t child_exiting_after(int status, int fds[2])
{
	pipe(fds);
	pid_t pid = fork();

	if (pid == 0) {
		char c;
		close(fds[1]);
		read(fds[0], &c, 1);
		_exit(status);
	}
	close(fds[0]);
	return pid;
}

static pid_t child_exiting(int status, long after_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		sleep_ms(after_ms);
		_exit(status);
	}
	return pid;
}

static void exits(void)
{
	siginfo_t si;
	pid_t a = child_exiting(3, 0);

	memset(&si, 0x55, sizeof(si));
	show("waitid P_PID WEXITED", waitid(P_PID, (id_t)a, &si, WEXITED));
	info("exit 3", &si, a);

	pid_t b = child_exiting(300 & 0xFF, 0);
	show("waitid P_ALL WEXITED", waitid(P_ALL, 0, &si, WEXITED));
	info("exit 300", &si, b);
	show("waitid P_ALL with no child", waitid(P_ALL, 0, &si, WEXITED));
}

static void killed(void)
{
	siginfo_t si;
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	kill(pid, SIGTERM);
	show("waitid SIGTERM", waitid(P_PID, (id_t)pid, &si, WEXITED));
	info("killed", &si, pid);

	/* A signal whose default writes a core: CLD_DUMPED exactly when
	 * wait4's status says a core was written (the host's core_pattern
	 * decides that; Mica writes none). */
	pid = fork();
	if (pid == 0) {
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none);
		abort();
	}
	memset(&si, 0, sizeof(si));
	show("waitid SIGABRT, WNOWAIT", waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT));
	int status = 0;
	show("wait4 takes it after", wait4(pid, &status, 0, NULL) == pid ? 0 : -1);
	printf("  signo %d status %d signal %d; CLD_DUMPED exactly with a core: %d\n", si.si_signo,
	       si.si_status, WTERMSIG(status),
	       (si.si_code == CLD_DUMPED) == (WCOREDUMP(status) != 0) &&
	       (si.si_code == CLD_DUMPED || si.si_code == CLD_KILLED));
}

static void nohang(void)
{
	siginfo_t si;
	int fds[2];
	pid_t pid = child_exiting_after(5, fds);

	memset(&si, 0x55, sizeof(si));
	show("waitid WNOHANG before it ends", waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG));
	info("nothing yet", &si, pid);
	close(fds[1]);
	show("waitid waits for it", waitid(P_PID, (id_t)pid, &si, WEXITED));
	info("ended", &si, pid);

	pid = child_exiting(6, 0);
	sleep_ms(100);
	show("waitid WNOWAIT", waitid(P_ALL, 0, &si, WEXITED | WNOWAIT));
	info("seen", &si, pid);
	show("waitid WNOWAIT again", waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | WNOHANG));
	info("seen again", &si, pid);
	show("waitid takes it", waitid(P_PID, (id_t)pid, &si, WEXITED));
	info("taken", &si, pid);
	int status;
	show("wait4 after: none left", waitpid(pid, &status, WNOHANG));
}

/* A child that stops itself, then is continued and killed. */
static void stops(void)
{
	siginfo_t si;
	pid_t pid = fork();

	if (pid == 0) {
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	show("waitid WSTOPPED|WNOWAIT", waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOWAIT));
	info("stopped, seen", &si, pid);
	show("waitid WSTOPPED", waitid(P_PID, (id_t)pid, &si, WSTOPPED));
	info("stopped, told", &si, pid);
	memset(&si, 0x55, sizeof(si));
	show("waitid WSTOPPED|WNOHANG again", waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOHANG));
	info("told once", &si, pid);
	kill(pid, SIGCONT);
	show("waitid WCONTINUED", waitid(P_PID, (id_t)pid, &si, WCONTINUED));
	info("continued", &si, pid);
	memset(&si, 0x55, sizeof(si));
	show("waitid WCONTINUED|WNOHANG again", waitid(P_PID, (id_t)pid, &si, WCONTINUED | WNOHANG));
	info("told once", &si, pid);
	kill(pid, SIGKILL);
	show("waitid WEXITED", waitid(P_PID, (id_t)pid, &si, WEXITED));
	info("killed", &si, pid);
}

static void groups(void)
{
	siginfo_t si;
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		sleep_ms(100);
		_exit(9);
	}
	setpgid(pid, pid);
	show("waitid P_PGID of our group", waitid(P_PGID, 0, &si, WEXITED | WNOHANG));
	show("waitid P_PGID of its group", waitid(P_PGID, (id_t)pid, &si, WEXITED));
	info("its group", &si, pid);

	pid = child_exiting(10, 100);
	show("waitid P_PGID 0 (ours)", waitid(P_PGID, 0, &si, WEXITED));
	info("our group", &si, pid);
}

static void errors(void)
{
	siginfo_t si;
	int fds[2];
	pid_t pid = child_exiting_after(0, fds);

	show("waitid no options", waitid(P_ALL, 0, &si, 0));
	show("waitid bad option", waitid(P_ALL, 0, &si, WEXITED | 0x40));
	show("waitid bad idtype", waitid((idtype_t)7, 0, &si, WEXITED));
	show("waitid P_PID 0", waitid(P_PID, 0, &si, WEXITED));
	show("waitid not a child", waitid(P_PID, (id_t)getpid(), &si, WEXITED));
	show("waitid WSTOPPED only, WNOHANG", waitid(P_ALL, 0, &si, WSTOPPED | WNOHANG));
	close(fds[1]);
	show("waitid null infop", waitid(P_PID, (id_t)pid, NULL, WEXITED | WNOWAIT));
	/* An ended child is no child to WSTOPPED alone (Linux: ECHILD). */
	show("waitid WSTOPPED only, the child ended", waitid(P_ALL, 0, &si, WSTOPPED | WNOHANG));
	show("waitid takes it", waitid(P_ALL, 0, &si, WEXITED));
	show("nothing left", waitid(P_ALL, 0, &si, WEXITED));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	exits();
	killed();
	nohang();
	groups();
	stops();
	errors();
	printf("waitid: done\n");
	return 0;
}
