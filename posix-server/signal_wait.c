/*
 * rt_sigtimedwait (Linux's sigtimedwait(2), sigwaitinfo and sigwait
 * through it): take a pending signal of the set — the thread's own
 * first, then its process's, the lowest number first, whether blocked
 * or not — and return its number, its siginfo written to info (NULL:
 * not); with none pending, wait until one of the set is sent (signal_send
 * marks a thread waiting for it even when every thread blocks it), or
 * until the timeout (EAGAIN; a zero timeout does not wait). Another
 * signal with a handler ends the wait with EINTR (signal_interrupt).
 * glibc's and musl's SIGEV_THREAD timers wait here in a helper thread.
 * SIGKILL and SIGSTOP are never taken (as Linux). A signal of the set
 * that has a handler is taken here too, never handled: one pending
 * (blocked) at the call, and one the thread does not block sent while
 * it waits — that wakes the waiting call, which is tried again
 * (answer_waiting) and takes it before any signal is delivered, as Linux
 * unblocks the set for the wait and dequeues it on waking
 * (do_sigtimedwait). tests/posix/timers.c.
 */
#include "syscall.h"
#include "timers.h"

#define NS_PER_SEC    1000000000ULL
#define SIG_BIT(sig)  (1UL << ((sig) - 1))
#define UNBLOCKABLE   (SIG_BIT(LINUX_SIGKILL) | SIG_BIT(LINUX_SIGSTOP))

/* The lowest signal of set pending for t (its own first): taken off
 * the pending set, with its source; 0 when none. */
static int take(struct thread *t, uint64_t set, struct signal_source *src)
{
	struct process *p = t->proc;
	uint64_t *pending[2] = { &t->sigpending, &p->sigpending };
	struct signal_source *info[2] = { t->siginfo, p->siginfo };

	for (unsigned k = 0; k < 2; k++) {
		uint64_t hit = *pending[k] & set;
		if (!hit)
			continue;
		int sig = __builtin_ctzl(hit) + 1;
		*pending[k] &= ~SIG_BIT(sig);
		*src = info[k][sig - 1];
		return sig;
	}
	return 0;
}

long posix_rt_sigtimedwait(struct process *p, struct user_regs *r)
{
	struct thread *t = p->current;
	struct signal_source src;
	uint64_t set, now = (uint64_t)sys_clock();
	int sig;

	if (r->r10 != 8)
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &set, r->rdi, sizeof(set)) < 0)
		return -LINUX_EFAULT;
	set &= ~UNBLOCKABLE;
	if ((sig = take(t, set, &src))) {
		t->sleep_at = 0;
		t->sigwait_set = 0;
		if (src.code == LINUX_SI_TIMER)
			posix_timer_delivered(p, src.pid, src.status);
		if (r->rsi) {
			struct linux_siginfo info;
			signal_siginfo(&info, sig, &src);
			if (as_copy_out(&p->as, r->rsi, &info, sizeof(info)) < 0)
				return -LINUX_EFAULT;
		}
		return sig;
	}
	if (!t->sleep_at) {             /* the first try: the wait begins */
		uint64_t ns = SLEEP_FOREVER;
		if (r->rdx) {
			struct linux_timespec ts;
			if (as_copy_in(&p->as, &ts, r->rdx, sizeof(ts)) < 0)
				return -LINUX_EFAULT;
			if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_SEC)
				return -LINUX_EINVAL;
			if (!ts.sec && !ts.nsec)
				return -LINUX_EAGAIN;
			ns = (uint64_t)ts.sec > UINT64_MAX / 4 / NS_PER_SEC ? SLEEP_FOREVER
				: now + (uint64_t)ts.sec * NS_PER_SEC + (uint64_t)ts.nsec;
		}
		t->sleep_at = ns;
		t->sleep_rem = 0;
		t->sigwait_set = set;
		signal_timer_arm();
		return SYSCALL_BLOCK;
	}
	if (t->sleep_at != SLEEP_FOREVER && t->sleep_at <= now) {
		t->sleep_at = 0;
		t->sigwait_set = 0;
		return -LINUX_EAGAIN;
	}
	return SYSCALL_BLOCK;
}
