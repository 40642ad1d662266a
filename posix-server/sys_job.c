/*
 * Process groups and sessions, as a shell needs them: setpgid, getpgid,
 * getpgrp, setsid, getsid. A process starts in a group and a session of
 * its own (pgid = sid = pid); fork's child inherits both; execve keeps
 * them. kill (signal.c) and wait4 (sys_exec.c) take a group as -pgid or
 * 0; the terminal's foreground group is tty.c's. Orphaned process
 * groups (POSIX's term: no member has a parent in another group of the
 * same session): a stop signal sent there with its default action is
 * discarded (signal_stop.c), a background read or write of the terminal
 * is EIO (tty.c), and a group an ending process orphans gets SIGHUP and
 * SIGCONT when one of its members is stopped (job_orphans_at_exit).
 * Not done: setpgid's EACCES for a child that has exec'd (it is allowed
 * here).
 */
#include "signals.h"
#include "syscall.h"

/* The process with this pid, alive (or, with zombies, ended and not yet
 * waited for), or NULL. */
static struct process *by_pid(int pid, bool zombies)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *q = &processes[i];
		if (q->pid == pid && (q->state == PROCESS_RUNNING ||
				      (zombies && q->state == PROCESS_ZOMBIE)))
			return q;
	}
	return NULL;
}

long posix_setpgid(struct process *p, struct user_regs *r)
{
	int pid = (int)r->rdi, pgid = (int)r->rsi;
	struct process *t = pid ? by_pid(pid, false) : p;

	if (pid < 0 || pgid < 0)
		return -LINUX_EINVAL;
	if (!t || (t != p && t->ppid != p->pid))
		return -LINUX_ESRCH;
	if (!pgid)
		pgid = t->pid;
	/* A session leader stays its group's; a child of another session
	 * cannot be moved; the group must be in the session (or new). */
	if (t->sid == t->pid || t->sid != p->sid)
		return -LINUX_EPERM;
	if (pgid != t->pid) {
		bool found = false;
		for (unsigned i = 0; i < PROCESS_MAX && !found; i++) {
			const struct process *q = &processes[i];
			found = (q->state == PROCESS_RUNNING || q->state == PROCESS_ZOMBIE) &&
				q->pgid == pgid && q->sid == p->sid;
		}
		if (!found)
			return -LINUX_EPERM;
	}
	t->pgid = pgid;
	return 0;
}

/* pid's (0: p's) group or session: ESRCH for nobody. */
static long id_of(struct process *p, int pid, bool session)
{
	const struct process *t = pid ? by_pid(pid, true) : p;

	if (pid < 0 || !t)
		return -LINUX_ESRCH;
	return session ? t->sid : t->pgid;
}

long posix_getpgid(struct process *p, struct user_regs *r)
{
	return id_of(p, (int)r->rdi, false);
}

long posix_getpgrp(struct process *p, struct user_regs *r)
{
	return p->pgid;
}

long posix_setsid(struct process *p, struct user_regs *r)
{
	/* A group leader cannot: its group would straddle two sessions. */
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *q = &processes[i];
		if ((q->state == PROCESS_RUNNING || q->state == PROCESS_ZOMBIE) && q->pgid == p->pid)
			return -LINUX_EPERM;
	}
	p->sid = p->pgid = p->pid;
	return p->pid;
}

long posix_getsid(struct process *p, struct user_regs *r)
{
	return id_of(p, (int)r->rdi, true);
}

bool pgrp_orphaned(int pgid, const struct process *ignore)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *q = &processes[i];
		if (q->state != PROCESS_RUNNING || q->pgid != pgid || q == ignore)
			continue;
		/* A parent that ended (or never was: ppid 0) is none, as
		 * Linux's init that adopts the child is of no session of it. */
		const struct process *parent = q->ppid ? by_pid(q->ppid, false) : NULL;
		if (parent && parent != ignore && parent->pgid != pgid && parent->sid == q->sid)
			return false;
	}
	return true;
}

static bool has_stopped(int pgid)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_RUNNING && processes[i].pgid == pgid &&
		    processes[i].stopped)
			return true;
	return false;
}

/* Group pgid was kept from being orphaned by p (it was a member with a
 * parent elsewhere in the session, or the parent of such a member): is it
 * orphaned without p, with a stopped member? Then SIGHUP and SIGCONT. */
static void orphaned_by(const struct process *p, int pgid)
{
	if (pgrp_orphaned(pgid, p) && has_stopped(pgid)) {
		for (unsigned i = 0; i < PROCESS_MAX; i++) {
			struct process *q = &processes[i];
			if (q != p && q->state == PROCESS_RUNNING && q->pgid == pgid) {
				signal_send(q, LINUX_SIGHUP, LINUX_SI_KERNEL, 0, 0);
				signal_send(q, LINUX_SIGCONT, LINUX_SI_KERNEL, 0, 0);
			}
		}
	}
}

void job_orphans_at_exit(const struct process *p)
{
	const struct process *parent = p->ppid ? by_pid(p->ppid, false) : NULL;

	if (parent && parent->pgid != p->pgid && parent->sid == p->sid)
		orphaned_by(p, p->pgid);
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		const struct process *c = &processes[i];
		if (c->state == PROCESS_RUNNING && c->ppid == p->pid && c != p &&
		    c->pgid != p->pgid && c->sid == p->sid)
			orphaned_by(p, c->pgid);
	}
}
