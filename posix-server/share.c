/*
 * Each account's share of the server's tables (share.h;
 * docs/posix.md, "Limits"): the account whose call is handled, and the
 * processes and threads an account may have. The tables themselves
 * (files, pipes, epolls, eventfds, sockets, ptys) count their entries of
 * an account where they take a free one, with share_check; tmpfs its
 * nodes and pages (tmpfs.c: ENOSPC, as Linux's tmpfs); and what a send
 * or write that finds the account's share of memory full does.
 */
#include "memory.h"
#include "posix.h"
#include "syscall.h"

int share_account;
struct thread *share_thread;

long share_tasks(const struct process *p, bool process)
{
	unsigned procs = 0, tasks = 0;

	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state != PROCESS_FREE && processes[i].account == p->account)
			procs++;
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc->account == p->account)
			tasks++;
	if (process && procs >= SHARE(PROCESS_MAX))
		return -LINUX_EAGAIN;
	return tasks >= SHARE(THREAD_MAX) || tasks >= p->nproc ? -LINUX_EAGAIN : 0;
}

/* Whether a thread of t's account other than t may still give back some
 * of its share: one that does not itself wait for it. */
static bool others_may_free(const struct thread *t)
{
	for (unsigned i = 0; i < THREAD_MAX; i++) {
		const struct thread *u = &threads[i];
		if (u != t && u->state == THREAD_RUNNING && !u->share_wait &&
		    u->proc->state == PROCESS_RUNNING && u->proc->account == t->proc->account)
			return true;
	}
	return false;
}

long share_memory_full(struct thread *t, bool nonblock)
{
	if (!others_may_free(t))
		return -LINUX_ENOMEM;
	if (nonblock)
		return -LINUX_EAGAIN;
	t->share_wait = true;
	memory_waited = true;
	return SYSCALL_BLOCK;
}

bool share_memory_waits(void)
{
	if (!share_thread || memory_room(share_account) || !others_may_free(share_thread))
		return false;
	memory_waited = true;
	return true;
}
