/*
 * Each account's share of the server's tables (share.h;
 * docs/posix.md, "Limits"): the account whose call is handled, and the
 * processes and threads an account may have. The tables themselves
 * (files, pipes, epolls, eventfds, sockets, ptys) count their entries of
 * an account where they take a free one, with share_check; tmpfs its
 * nodes and pages (tmpfs.c: ENOSPC, as Linux's tmpfs).
 */
#include "posix.h"

int share_account;

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
