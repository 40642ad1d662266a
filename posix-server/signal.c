/*
 * Signals: sending (kill, tgkill, tkill, SIGCHLD, SIGALRM, SIGPIPE),
 * actions, masks, and delivery. The actions are the process's; the mask,
 * the alternate stack and the signals sent to one thread (tgkill, a
 * fault, SIGPIPE) are each thread's; a signal sent to the process is
 * pending in the process until a thread that does not block it takes it.
 * A signal is delivered when a thread is in the server's hands: on the
 * way back from a system call (its answer's registers rewritten to enter
 * the handler on a frame laid out as Linux's), or at once when the
 * thread waits in a call (the call ends with EINTR, or starts again
 * after the handler with SA_RESTART). A signal whose default action ends
 * the process ends it (every thread) at once wherever it is; a caught
 * one reaches a thread that computes without system calls by having it
 * suspended and its registers rewritten (main.c's signal_running).
 * Sleeping and alarms are timer.c's; faults and the frame's FPU state
 * signal_fault.c's.
 */
#include "futex.h"
#include "layout.h"
#include "signals.h"
#include "syscall.h"
#include "timers.h"

#define SIG_BIT(sig)   (1UL << ((sig) - 1))
#define UNBLOCKABLE    (SIG_BIT(LINUX_SIGKILL) | SIG_BIT(LINUX_SIGSTOP))
#define NS_PER_SEC     1000000000UL
#define RED_ZONE       128
#define SYSCALL_INSN   2        /* bytes of the `syscall` instruction */
#define RFLAGS_TF      0x100UL
#define RFLAGS_DF      0x400UL
#define RFLAGS_RESTORE 0xDD5UL  /* CF PF AF ZF SF TF DF OF: what sigreturn restores */

/* Signals whose default action is nothing (the stop signals' is to
 * stop: signal_stop.c). */
static bool default_ignored(int sig)
{
	switch (sig) {
	case LINUX_SIGCHLD: case LINUX_SIGCONT: case LINUX_SIGURG: case LINUX_SIGWINCH:
		return true;
	default:
		return false;
	}
}

static bool ignored(const struct process *p, int sig)
{
	uint64_t handler = p->actions[sig - 1].handler;

	if (sig == LINUX_SIGKILL)
		return false;
	return handler == LINUX_SIG_IGN || (handler == LINUX_SIG_DFL && default_ignored(sig));
}

/* The lowest pending signal t does not block and its process does not
 * ignore, or 0: those sent to t first, then its process's (*shared). */
static int next_signal(const struct thread *t, bool *shared)
{
	const struct process *p = t->proc;
	uint64_t own = t->sigpending & ~t->sigmask, all = p->sigpending & ~t->sigmask;

	for (int sig = 1; own; sig++, own >>= 1)
		if ((own & 1) && !ignored(p, sig)) {
			*shared = false;
			return sig;
		}
	for (int sig = 1; all; sig++, all >>= 1)
		if ((all & 1) && !ignored(p, sig)) {
			*shared = true;
			return sig;
		}
	return 0;
}

bool signal_deliverable(const struct thread *t)
{
	bool shared;

	return next_signal(t, &shared) != 0;
}

int signal_fatal(const struct thread *t)
{
	bool shared;
	int sig = next_signal(t, &shared);

	return sig && t->proc->actions[sig - 1].handler == LINUX_SIG_DFL && !signal_is_stop(sig)
		       ? sig : 0;
}

/* Whether some thread of p blocks sig. */
static bool blocked_by_any(const struct process *p, int sig)
{
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].proc == p &&
		    (threads[i].sigmask & SIG_BIT(sig)))
			return true;
	return false;
}

void signal_send(struct process *p, int sig, int code, int from, int status)
{
	signal_send_source(p, sig, &(struct signal_source){ code, from, status, 0 });
}

void signal_send_source(struct process *p, int sig, const struct signal_source *src)
{
	struct thread *pick = NULL;
	unsigned best = 0;

	if (!p || p->state != PROCESS_RUNNING || sig < 1 || sig > LINUX_NSIG)
		return;
	if (job_signal(p, sig))
		return;
	if (ignored(p, sig) && !blocked_by_any(p, sig))
		return;
	p->sigpending |= SIG_BIT(sig);
	p->siginfo[sig - 1] = *src;
	if (ignored(p, sig))
		return;
	/* Who takes it: a thread that does not block it, one that waits in
	 * a call (it can be answered now) before one that runs, the main
	 * thread before the others (as Linux tries it first). */
	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state != THREAD_RUNNING || t->proc != p || (t->sigmask & SIG_BIT(sig)))
			continue;
		unsigned score = 1 + (t->blocked ? 2 : 0) + (t->tid == p->pid ? 1 : 0);
		if (score > best) {
			best = score;
			pick = t;
		}
	}
	if (!pick)      /* all block it: one waiting for it in rt_sigtimedwait takes it */
		for (unsigned i = 0; i < THREAD_MAX && !pick; i++)
			if (threads[i].state == THREAD_RUNNING && threads[i].proc == p &&
			    (threads[i].sigwait_set & SIG_BIT(sig)))
				pick = &threads[i];
	if (pick)
		thread_mark(pick);
}

void signal_send_thread(struct thread *t, int sig, int code, int from, int status)
{
	signal_send_thread_source(t, sig, &(struct signal_source){ code, from, status, 0 });
}

void signal_send_thread_source(struct thread *t, int sig, const struct signal_source *src)
{
	if (!t || t->state != THREAD_RUNNING || t->proc->state != PROCESS_RUNNING || sig < 1 ||
	    sig > LINUX_NSIG)
		return;
	if (job_signal(t->proc, sig))
		return;
	if (!(t->sigmask & SIG_BIT(sig)) && ignored(t->proc, sig))
		return;
	t->sigpending |= SIG_BIT(sig);
	t->siginfo[sig - 1] = *src;
	if (signal_deliverable(t) || (t->sigwait_set & SIG_BIT(sig)))
		thread_mark(t);
}

void signal_siginfo(struct linux_siginfo *info, int sig, const struct signal_source *src)
{
	memset(info, 0, sizeof(*info));
	info->signo = sig;
	info->code = src->code;
	if (src->code == LINUX_SI_TIMER) {
		info->timerid = src->pid;
		info->overrun = src->status;
		info->value = src->addr;
	} else if (src->addr) {
		info->addr = src->addr;
	} else {
		info->pid = src->pid;
		info->status = src->status;
	}
}

/* The frame for sig (sent by src) on t's stack, and r set to enter act's
 * handler on it. false: it cannot be (no restorer, the stack is not
 * writable). */
static bool frame_push(struct thread *t, struct user_regs *r, int sig,
		       const struct signal_source *src, struct linux_sigaction *act)
{
	struct process *p = t->proc;
	struct linux_rt_sigframe f;
	const struct linux_stack *alt = &t->altstack;
	bool on_alt = alt->size && r->rsp - alt->sp < alt->size;
	uint64_t sp = r->rsp - RED_ZONE;

	if (!(act->flags & LINUX_SA_RESTORER))
		return false;
	uint64_t fpstate;

	if ((act->flags & LINUX_SA_ONSTACK) && alt->size && !on_alt)
		sp = alt->sp + alt->size;
	if (!signal_fpu_push(t, &sp, &fpstate))
		return false;
	sp = ((sp - sizeof(f)) & ~15UL) - 8;    /* as after a call: sp + 8 aligned */
	memset(&f, 0, sizeof(f));
	f.pretcode = act->restorer;
	f.uc.flags = LINUX_UC_SIGCONTEXT_SS | LINUX_UC_STRICT_RESTORE_SS |
		     (signal_fpu_xsave() ? LINUX_UC_FP_XSTATE : 0);
	f.uc.stack = (struct linux_stack){ alt->sp, alt->size ? (on_alt ? LINUX_SS_ONSTACK : 0)
						    : LINUX_SS_DISABLE, 0, alt->size };
	struct linux_sigcontext *mc = &f.uc.mcontext;
	*mc = (struct linux_sigcontext){
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
		.r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
		.rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
		.rsp = r->rsp, .rip = r->rip, .eflags = r->rflags, .cs = 0x33, .ss = 0x2b,
		.fpstate = fpstate,
	};
	f.uc.sigmask = t->in_sigsuspend ? t->sigsuspend_old : t->sigmask;
	mc->oldmask = f.uc.sigmask;
	signal_siginfo(&f.info, sig, src);
	if (as_copy_out(&p->as, sp, &f, sizeof(f)) < 0)
		return false;
	signal_fpu_enter(t);
	r->rsp = sp;
	r->rip = act->handler;
	r->rdi = (uint64_t)sig;
	r->rsi = sp + offsetof(struct linux_rt_sigframe, info);
	r->rdx = sp + offsetof(struct linux_rt_sigframe, uc);
	r->rax = 0;
	r->rflags &= ~(RFLAGS_TF | RFLAGS_DF);
	t->sigmask |= act->mask | (act->flags & LINUX_SA_NODEFER ? 0 : SIG_BIT(sig));
	t->sigmask &= ~UNBLOCKABLE;
	if (act->flags & LINUX_SA_RESETHAND)
		act->handler = LINUX_SIG_DFL;
	t->in_sigsuspend = false;
	return true;
}

bool signal_deliver(struct thread *t, struct user_regs *r)
{
	struct process *p = t->proc;
	bool shared;
	int sig;

	while ((sig = next_signal(t, &shared))) {
		struct linux_sigaction *act = &p->actions[sig - 1];
		struct signal_source src = shared ? p->siginfo[sig - 1] : t->siginfo[sig - 1];
		if (shared)
			p->sigpending &= ~SIG_BIT(sig);
		else
			t->sigpending &= ~SIG_BIT(sig);
		if (src.code == LINUX_SI_TIMER)
			posix_timer_delivered(p, src.pid, src.status);
		if (act->handler == LINUX_SIG_DFL && signal_is_stop(sig)) {
			/* In an orphaned group only SIGSTOP stops (signal_stop.c). */
			if (sig == LINUX_SIGSTOP || !pgrp_orphaned(p->pgid, NULL))
				job_stop(p, sig);       /* t is held when answered */
			continue;
		}
		if (act->handler == LINUX_SIG_DFL || !frame_push(t, r, sig, &src, act)) {
			if (act->handler != LINUX_SIG_DFL)
				printf_limit(process_log_limit(p),
					     "posix: %s (pid %d): no room for signal %d's frame: "
					     "SIGSEGV\n", p->name, p->pid, sig);
			p->state = PROCESS_ENDED;
			p->exit_signal = act->handler == LINUX_SIG_DFL ? sig : LINUX_SIGSEGV;
			return false;
		}
	}
	/* Drop what is pending, unblocked and ignored. */
	t->sigpending &= t->sigmask;
	p->sigpending &= t->sigmask;
	if (t->in_sigsuspend) {
		t->sigmask = t->sigsuspend_old;
		t->in_sigsuspend = false;
	}
	return true;
}

/* Calls that are not started again after a handler, even with SA_RESTART
 * (as Linux: they return EINTR; a futex wait with a timeout too). */
static bool restartable(uint64_t nr, const struct user_regs *r)
{
	switch (nr) {
	case LINUX_NR_futex:
		return !r->r10;
	case LINUX_NR_pause: case LINUX_NR_rt_sigsuspend: case LINUX_NR_nanosleep:
	case LINUX_NR_clock_nanosleep: case LINUX_NR_poll: case LINUX_NR_ppoll:
	case LINUX_NR_select: case LINUX_NR_pselect6: case LINUX_NR_epoll_wait:
	case LINUX_NR_epoll_pwait:
		return false;
	default:
		return true;
	}
}

void signal_interrupt(struct thread *t, struct user_regs *r)
{
	struct process *p = t->proc;
	bool shared;
	int sig = next_signal(t, &shared);
	uint64_t nr = r->rax, now = (uint64_t)sys_clock();

	if (t->sleep_at && t->sleep_at != SLEEP_FOREVER && t->sleep_rem &&
	    t->sleep_rem != SLEEP_REALTIME) {
		uint64_t left = t->sleep_at > now ? t->sleep_at - now : 0;
		struct linux_timespec ts = { (int64_t)(left / NS_PER_SEC), (int64_t)(left % NS_PER_SEC) };
		as_copy_out(&p->as, t->sleep_rem, &ts, sizeof(ts));
	}
	long futex = nr == LINUX_NR_futex ? futex_interrupted(t, r) : 0;

	t->sleep_at = 0;
	t->sigwait_set = 0;
	t->futex = FUTEX_NONE;
	if (t->io_done) {
		r->rax = t->io_done;
	} else if (futex < 0) {
		r->rax = (uint64_t)futex;
	} else if ((sig && (p->actions[sig - 1].flags & LINUX_SA_RESTART) && restartable(nr, r)) ||
		   futex == 1) {
		r->rip -= SYSCALL_INSN;         /* rax still holds the call's number */
	} else {
		r->rax = (uint64_t)-LINUX_EINTR;
	}
	t->io_done = 0;
}

/* ---- the calls ---- */

long posix_rt_sigaction(struct process *p, struct user_regs *r)
{
	uint64_t sig = r->rdi, act = r->rsi, old = r->rdx;
	struct linux_sigaction a;

	if (r->r10 != 8 || sig < 1 || sig > LINUX_NSIG)
		return -LINUX_EINVAL;
	if (act && (sig == LINUX_SIGKILL || sig == LINUX_SIGSTOP))
		return -LINUX_EINVAL;
	if (act && as_copy_in(&p->as, &a, act, sizeof(a)) < 0)
		return -LINUX_EFAULT;
	if (old && as_copy_out(&p->as, old, &p->actions[sig - 1], sizeof(a)) < 0)
		return -LINUX_EFAULT;
	if (act) {
		a.mask &= ~UNBLOCKABLE;
		p->actions[sig - 1] = a;
		if (ignored(p, (int)sig)) {     /* a pending one goes, as Linux */
			p->sigpending &= ~SIG_BIT(sig);
			for (unsigned i = 0; i < THREAD_MAX; i++)
				if (threads[i].proc == p)
					threads[i].sigpending &= ~SIG_BIT(sig);
		}
	}
	return 0;
}

long posix_rt_sigprocmask(struct process *p, struct user_regs *r)
{
	struct thread *t = p->current;
	uint64_t how = r->rdi, set = r->rsi, old = r->rdx, mask = 0;

	if (r->r10 != 8)
		return -LINUX_EINVAL;
	if (set && as_copy_in(&p->as, &mask, set, 8) < 0)
		return -LINUX_EFAULT;
	if (set && how > LINUX_SIG_SETMASK)
		return -LINUX_EINVAL;
	if (old && as_copy_out(&p->as, old, &t->sigmask, 8) < 0)
		return -LINUX_EFAULT;
	if (set) {
		uint64_t was = t->sigmask;
		if (how == LINUX_SIG_BLOCK)
			t->sigmask |= mask;
		else if (how == LINUX_SIG_UNBLOCK)
			t->sigmask &= ~mask;
		else
			t->sigmask = mask;
		t->sigmask &= ~UNBLOCKABLE;
		/* Process-wide signals it blocked now may be another's. */
		uint64_t newly = t->sigmask & ~was & p->sigpending;
		for (int sig = 1; newly; sig++, newly >>= 1)
			if (newly & 1) {
				struct signal_source src = p->siginfo[sig - 1];
				signal_send_source(p, sig, &src);
			}
	}
	return 0;
}

long posix_rt_sigpending(struct process *p, struct user_regs *r)
{
	uint64_t set = (p->current->sigpending | p->sigpending) & p->current->sigmask;

	if (r->rsi > 8)
		return -LINUX_EINVAL;
	return as_copy_out(&p->as, r->rdi, &set, r->rsi) < 0 ? -LINUX_EFAULT : 0;
}

/* The frame the handler returns through: registers and mask back as
 * they were. A frame that cannot be read or is not valid is SIGSEGV. */
long posix_rt_sigreturn(struct process *p, struct user_regs *r)
{
	struct linux_ucontext uc;

	if (as_copy_in(&p->as, &uc, r->rsp, sizeof(uc)) < 0 || uc.mcontext.rip >= USER_SPACE_TOP ||
	    uc.mcontext.rsp >= USER_SPACE_TOP || !signal_fpu_return(p->current, uc.mcontext.fpstate)) {
		printf_limit(process_log_limit(p),
			     "posix: %s (pid %d): rt_sigreturn with a bad frame at %lx: SIGSEGV\n",
			     p->name, p->pid, r->rsp);
		p->state = PROCESS_ENDED;
		p->exit_signal = LINUX_SIGSEGV;
		return 0;
	}
	const struct linux_sigcontext *mc = &uc.mcontext;
	*r = (struct user_regs){
		.rip = mc->rip, .rsp = mc->rsp,
		.rflags = (r->rflags & ~RFLAGS_RESTORE) | (mc->eflags & RFLAGS_RESTORE),
		.rax = mc->rax, .rbx = mc->rbx, .rcx = mc->rcx, .rdx = mc->rdx, .rsi = mc->rsi,
		.rdi = mc->rdi, .rbp = mc->rbp, .r8 = mc->r8, .r9 = mc->r9, .r10 = mc->r10,
		.r11 = mc->r11, .r12 = mc->r12, .r13 = mc->r13, .r14 = mc->r14, .r15 = mc->r15,
		.fs_base = r->fs_base,
	};
	p->current->sigmask = uc.sigmask & ~UNBLOCKABLE;
	return (long)mc->rax;
}

long posix_rt_sigsuspend(struct process *p, struct user_regs *r)
{
	long err = signal_wait_mask(p, r->rdi, r->rsi);

	return err ? err : SYSCALL_BLOCK;       /* until a signal: signal_interrupt */
}

long signal_wait_mask(struct process *p, uint64_t va, uint64_t size)
{
	struct thread *t = p->current;
	uint64_t mask;

	if (size != 8)
		return -LINUX_EINVAL;
	if (t->in_sigsuspend)
		return 0;
	if (as_copy_in(&p->as, &mask, va, 8) < 0)
		return -LINUX_EFAULT;
	t->sigsuspend_old = t->sigmask;
	t->sigmask = mask & ~UNBLOCKABLE;
	t->in_sigsuspend = true;
	return 0;
}

void signal_wait_mask_end(struct process *p)
{
	struct thread *t = p->current;

	if (t->in_sigsuspend) {
		t->sigmask = t->sigsuspend_old;
		t->in_sigsuspend = false;
	}
}

long posix_pause(struct process *p, struct user_regs *r)
{
	return SYSCALL_BLOCK;
}

long posix_sigaltstack(struct process *p, struct user_regs *r)
{
	struct thread *t = p->current;
	struct linux_stack ss, old = t->altstack;
	bool on_alt = old.size && r->rsp - old.sp < old.size;

	old.flags = on_alt ? LINUX_SS_ONSTACK : old.size ? 0 : LINUX_SS_DISABLE;
	if (r->rdi) {
		if (as_copy_in(&p->as, &ss, r->rdi, sizeof(ss)) < 0)
			return -LINUX_EFAULT;
		if (on_alt)
			return -LINUX_EPERM;
		if (ss.flags & ~LINUX_SS_DISABLE)
			return -LINUX_EINVAL;
		if (!(ss.flags & LINUX_SS_DISABLE) && ss.size < LINUX_MINSIGSTKSZ)
			return -LINUX_ENOMEM;
	}
	if (r->rsi && as_copy_out(&p->as, r->rsi, &old, sizeof(old)) < 0)
		return -LINUX_EFAULT;
	if (r->rdi)
		t->altstack = ss.flags & LINUX_SS_DISABLE ? (struct linux_stack){ 0 }
							  : (struct linux_stack){ ss.sp, 0, 0, ss.size };
	return 0;
}

/* kill's targets: pid > 0 that process; -1 every other process; 0 the
 * caller's process group; -pgid that group (sys_job.c). The console's
 * kill comes here too, from a process of pid 0 (control.c). */
long posix_kill(struct process *p, struct user_regs *r)
{
	int pid = (int)r->rdi, sig = (int)r->rsi, pgrp = 0;
	bool found = false;

	if (sig < 0 || sig > LINUX_NSIG || pid == INT32_MIN)
		return -LINUX_EINVAL;
	if (pid == 0)
		pgrp = p->pgid;         /* the caller's process group */
	else if (pid < -1)
		pgrp = -pid;            /* process group -pid */
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *t = &processes[i];
		if ((t->state != PROCESS_RUNNING && t->state != PROCESS_ZOMBIE) ||
		    (pid == -1 ? t == p : pgrp ? t->pgid != pgrp : t->pid != pid))
			continue;
		found = true;
		if (sig)
			signal_send(t, sig, LINUX_SI_USER, p->pid, 0);
	}
	/* A thread's id names its process too. */
	struct thread *th = pid > 0 && !found ? thread_of_tid(pid) : NULL;
	if (th && sig)
		signal_send(th->proc, sig, LINUX_SI_USER, p->pid, 0);
	return found || th ? 0 : -LINUX_ESRCH;
}

/* sig to the thread tid alone (of process tgid, if > 0). */
static long thread_kill(struct process *p, int tgid, int tid, int sig)
{
	if (tid <= 0 || sig < 0 || sig > LINUX_NSIG)
		return -LINUX_EINVAL;
	struct thread *t = thread_of_tid(tid);
	if (!t || (tgid > 0 && t->proc->pid != tgid))
		return -LINUX_ESRCH;
	if (sig)
		signal_send_thread(t, sig, LINUX_SI_TKILL, p->pid, 0);
	return 0;
}

long posix_tgkill(struct process *p, struct user_regs *r)
{
	if ((int)r->rdi <= 0)
		return -LINUX_EINVAL;
	return thread_kill(p, (int)r->rdi, (int)r->rsi, (int)r->rdx);
}

long posix_tkill(struct process *p, struct user_regs *r)
{
	return thread_kill(p, 0, (int)r->rdi, (int)r->rsi);
}
