/*
 * Job control, differential: the same lines on Linux and on Mica. A
 * child stopped by SIGSTOP (its own raise), SIGTSTP (while it waits in a
 * read) and SIGSTOP (while it computes without system calls); wait4's
 * WUNTRACED and WCONTINUED statuses (WIFSTOPPED, WSTOPSIG, WIFCONTINUED),
 * each told once; SIGCHLD with CLD_STOPPED and CLD_CONTINUED, and none
 * with SA_NOCLDSTOP; a stopped child's read does not finish until
 * SIGCONT; SIGKILL ends a stopped child, SIGTERM waits for its SIGCONT;
 * SIGTSTP caught runs
 * its handler and stops nothing.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int chld_count, chld_code, chld_status, tstp_caught;

static void on_chld(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	chld_count++;
	chld_code = si->si_code;
	chld_status = si->si_status;
}

static void on_tstp(int sig)
{
	(void)sig;
	tstp_caught++;
}

static const char *code_name(int code)
{
	switch (code) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	default: return "other";
	}
}

static void describe(const char *what, pid_t got, pid_t want, int status)
{
	printf("%s: %s", what, got == want ? "child" : got == 0 ? "nothing" : "other");
	if (got == want) {
		if (WIFSTOPPED(status))
			printf(" stopped by %d", WSTOPSIG(status));
		else if (WIFCONTINUED(status))
			printf(" continued");
		else if (WIFSIGNALED(status))
			printf(" killed by %d", WTERMSIG(status));
		else if (WIFEXITED(status))
			printf(" exited %d", WEXITSTATUS(status));
	}
	printf("\n");
}

/* Wait for the next SIGCHLD (at most a few seconds) and say it. */
static void sigchld_seen(const char *what, int before)
{
	for (int i = 0; i < 300 && chld_count == before; i++)
		usleep(10000);
	printf("%s: sigchld %d %s status %d\n", what, chld_count - before,
	       chld_count > before ? code_name(chld_code) : "-", chld_count > before ? chld_status : 0);
}

int main(void)
{
	struct sigaction sa;
	int to_child[2], from_child[2], status, before;
	pid_t pid, got;
	char c;

	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(30);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	pipe(to_child);
	pipe(from_child);

	before = chld_count;
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		raise(SIGSTOP);
		write(from_child[1], "a", 1);
		/* Waits in a read; stopped meanwhile; answers after SIGCONT. */
		if (read(to_child[0], &c, 1) == 1)
			write(from_child[1], &c, 1);
		for (;;)
			pause();
	}
	got = waitpid(pid, &status, WUNTRACED);
	describe("raise SIGSTOP, wait WUNTRACED", got, pid, status);
	sigchld_seen("raise SIGSTOP", before);
	got = waitpid(pid, &status, WUNTRACED | WNOHANG);
	describe("again WUNTRACED|WNOHANG", got, pid, status);
	before = chld_count;
	kill(pid, SIGCONT);
	got = waitpid(pid, &status, WCONTINUED);
	describe("SIGCONT, wait WCONTINUED", got, pid, status);
	sigchld_seen("SIGCONT", before);
	got = waitpid(pid, &status, WCONTINUED | WNOHANG);
	describe("again WCONTINUED|WNOHANG", got, pid, status);
	read(from_child[0], &c, 1);
	printf("child runs: %c\n", c);

	/* Stopped while it waits in a read: the byte written meanwhile is
	 * not read until it continues. */
	usleep(100000);
	before = chld_count;
	kill(pid, SIGTSTP);
	got = waitpid(pid, &status, WUNTRACED);
	describe("SIGTSTP in a read", got, pid, status);
	sigchld_seen("SIGTSTP", before);
	write(to_child[1], "b", 1);
	struct pollfd pf = { from_child[0], POLLIN, 0 };
	printf("while stopped: %d ready\n", poll(&pf, 1, 300));
	kill(pid, SIGCONT);
	int n;
	while ((n = poll(&pf, 1, 5000)) < 0)
		;                       /* EINTR: the SIGCHLD of the continue */
	if (n == 1 && read(from_child[0], &c, 1) == 1)
		printf("after SIGCONT: %c\n", c);
	waitpid(pid, &status, WCONTINUED);

	/* SIGTERM waits while the child is stopped, and ends it when it
	 * continues. */
	kill(pid, SIGSTOP);
	waitpid(pid, &status, WUNTRACED);
	kill(pid, SIGTERM);
	usleep(200000);
	got = waitpid(pid, &status, WNOHANG);
	describe("SIGTERM while stopped", got, pid, status);
	kill(pid, SIGCONT);
	got = waitpid(pid, &status, 0);
	describe("then SIGCONT", got, pid, status);

	/* A child that computes without system calls is stopped too; SIGKILL
	 * ends it stopped. SA_NOCLDSTOP: no SIGCHLD for the stop. */
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	pid = fork();
	if (pid == 0) {
		volatile unsigned long n = 0;
		for (;;)
			n++;
	}
	usleep(100000);
	before = chld_count;
	kill(pid, SIGSTOP);
	got = waitpid(pid, &status, WUNTRACED);
	describe("SIGSTOP while computing", got, pid, status);
	usleep(200000);
	printf("SA_NOCLDSTOP: sigchld %d\n", chld_count - before);
	kill(pid, SIGKILL);
	got = waitpid(pid, &status, 0);
	describe("SIGKILL while stopped", got, pid, status);

	/* SIGTSTP caught: the handler runs, nothing stops. */
	signal(SIGTSTP, on_tstp);
	raise(SIGTSTP);
	printf("SIGTSTP caught: %d\n", tstp_caught);
	/* SIGCONT to a process that is not stopped: nothing (default). */
	raise(SIGCONT);
	printf("stops: done\n");
	return 0;
}
