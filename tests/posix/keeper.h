/*
 * The keeper of tests/posix's Mica-only hogs of an account's shares
 * (shares.c, hogs.c; docs/posix.md, "Limits"): the program the console
 * ran forks it and ends, so that the console's terminal is free for the
 * next `run`; the keeper, once its parent has ended, takes what it takes,
 * says "NAME: holding (pid N)" and keeps it until SIGTERM (the console's
 * `kill N`), then ends its children and says "NAME: released". Static,
 * for one program's one file.
 */
#ifndef MICA_TESTS_POSIX_KEEPER_H
#define MICA_TESTS_POSIX_KEEPER_H

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t keeper_ended;

static void keeper_on_term(int sig)
{
	(void)sig;
	keeper_ended = 1;
}

/* The keeper forked: 0 in it, once its parent has ended (in its own
 * session: the hang-up at the parent's end ignored); in the parent its
 * pid, or -1 (fork failed). */
static inline pid_t keeper_start(void)
{
	signal(SIGTERM, keeper_on_term);
	signal(SIGHUP, SIG_IGN);
	pid_t keeper = fork();
	if (keeper != 0)
		return keeper;
	setsid();
	while (getppid() != 0 && getppid() != 1)
		usleep(10000);
	return 0;
}

/* "NAME: holding (pid N)", then all kept until SIGTERM; then the n
 * children ended (SIGKILL) and waited for. */
static inline void keeper_hold(const char *name, const pid_t *children, int n)
{
	printf("%s: holding (pid %d)\n", name, (int)getpid());
	fflush(stdout);
	while (!keeper_ended)
		pause();
	for (int i = 0; i < n; i++)
		kill(children[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(children[i], NULL, 0);
}

/* "NAME: released", and the keeper's end. */
static inline void keeper_released(const char *name)
{
	printf("%s: released\n", name);
	fflush(stdout);
	_exit(0);
}

static inline const char *yes(int ok)
{
	return ok ? "yes" : "no";
}

#endif
