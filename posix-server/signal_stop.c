/*
 * Job control: stopping and continuing a process (signal(7), "Stop" and
 * "Cont"). A stop signal whose action is the default (SIGSTOP always;
 * SIGTSTP, SIGTTIN, SIGTTOU unless caught, ignored, or blocked by every
 * thread) stops the whole process when it is sent: every kernel thread
 * is suspended (thread_suspend: one running in user mode stops at once;
 * one waiting for the server's answer is held when answered), its
 * waiting calls wait on (they are not interrupted, as Linux restarts
 * them), and signals sent to it meanwhile stay pending (no thread
 * takes them: Linux's wants_signal) — but SIGKILL, which continues it
 * to end it. SIGCONT continues a stopped process
 * (even caught, blocked or ignored), and then is delivered as any
 * other. Sending a stop signal drops a pending SIGCONT and SIGCONT the
 * pending stop signals. The parent learns both: SIGCHLD with
 * CLD_STOPPED or CLD_CONTINUED (not with SA_NOCLDSTOP), and wait4 with
 * WUNTRACED or WCONTINUED reports it once (sys_exec.c).
 * A stop signal other than SIGSTOP with its default action, sent to a
 * process of an orphaned process group (sys_job.c), is discarded: nobody
 * would be left to continue it (POSIX; Linux drops it when it would be
 * delivered, here when it is sent).
 */
#include "signals.h"
#include "syscall.h"

#define SIG_BIT(sig)  (1UL << ((sig) - 1))
#define STOP_BITS     (SIG_BIT(LINUX_SIGSTOP) | SIG_BIT(LINUX_SIGTSTP) | SIG_BIT(LINUX_SIGTTIN) | \
		       SIG_BIT(LINUX_SIGTTOU))

bool signal_is_stop(int sig)
{
	return sig >= 1 && sig <= LINUX_NSIG && (STOP_BITS & SIG_BIT(sig));
}

/* Drop the pending signals in bits from p and its threads. */
static void drop_pending(struct process *p, uint64_t bits)
{
	p->sigpending &= ~bits;
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].proc == p)
			threads[i].sigpending &= ~bits;
}

/* p's parent learns that p stopped or continued. */
static void tell_parent(struct process *p, int code, int status)
{
	struct process *parent = process_parent(p);

	if (!parent)
		return;
	if (!(parent->actions[LINUX_SIGCHLD - 1].flags & LINUX_SA_NOCLDSTOP))
		signal_send(parent, LINUX_SIGCHLD, code, p->pid, status);
	process_wake(parent);
}

void job_stop(struct process *p, int sig)
{
	if (p->stopped || p->state != PROCESS_RUNNING)
		return;
	p->stopped = true;
	p->stop_signal = sig;
	p->job_report = JOB_REPORT_STOPPED;
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].proc == p)
			sys_thread_suspend(threads[i].kthread);
	tell_parent(p, LINUX_CLD_STOPPED, sig);
}

/* p goes on: its threads resumed, and looked at again for what came
 * while it was stopped (their calls, their signals). */
static void job_continue(struct process *p, bool report)
{
	if (!p->stopped)
		return;
	p->stopped = false;
	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state != THREAD_RUNNING || t->proc != p)
			continue;
		sys_thread_resume(t->kthread);
		if (t->wake || t->blocked || signal_deliverable(t))
			thread_mark(t);
	}
	if (report) {
		p->job_report = JOB_REPORT_CONTINUED;
		tell_parent(p, LINUX_CLD_CONTINUED, LINUX_SIGCONT);
	}
}

bool job_signal(struct process *p, int sig)
{
	if (sig == LINUX_SIGKILL) {
		job_continue(p, false);         /* to end */
		return false;
	}
	if (sig == LINUX_SIGCONT) {
		drop_pending(p, STOP_BITS);
		job_continue(p, true);
		return false;
	}
	if (!signal_is_stop(sig))
		return false;
	drop_pending(p, SIG_BIT(LINUX_SIGCONT));
	if (p->actions[sig - 1].handler != LINUX_SIG_DFL)
		return false;
	if (sig != LINUX_SIGSTOP) {
		bool taken = false;
		for (unsigned i = 0; i < THREAD_MAX && !taken; i++)
			taken = threads[i].state == THREAD_RUNNING && threads[i].proc == p &&
				!(threads[i].sigmask & SIG_BIT(sig));
		if (!taken)
			return false;   /* pending until a thread unblocks it */
		if (pgrp_orphaned(p->pgid, NULL))
			return true;    /* discarded */
	}
	job_stop(p, sig);
	return true;
}
