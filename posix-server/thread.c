/*
 * The threads of processes. Each is a kernel thread in its process's
 * task whose pager and exception handler is the server's endpoint badged
 * with the thread's slot (PROCESS_BADGE_BASE + index), so every page
 * fault and redirected call says which thread it is from; the thread
 * names its process. A process starts with one (process.c); clone with
 * CLONE_THREAD adds more (sys_exec.c); exit ends one, exit_group and
 * every other end of the process all of them. Kernel threads are
 * charged to the server's own kernel quota; THREAD_MAX bounds them.
 */
#include "clock.h"
#include "futex.h"
#include "memory.h"
#include "signals.h"
#include "syscall.h"

struct thread threads[THREAD_MAX];
uint64_t threads_marked[THREAD_WORDS];
uint64_t threads_marked_any;
uint64_t threads_waiting[THREAD_WORDS];

uint32_t threads_wakes;

void threads_wake_all(void)
{
	threads_wakes++;
	for (unsigned k = 0; k < THREAD_WORDS; k++)
		for (uint64_t w = threads_waiting[k]; w; w &= w - 1)
			thread_mark(&threads[k * 64 + (unsigned)__builtin_ctzl(w)]);
}

struct thread *thread_of_tid(int tid)
{
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].tid == tid &&
		    threads[i].proc->state == PROCESS_RUNNING)
			return &threads[i];
	return NULL;
}

struct thread *thread_new(struct process *p, int tid)
{
	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state != THREAD_FREE)
			continue;
		memset(t, 0, sizeof(*t));
		t->index = i;
		t->proc = p;
		t->tid = tid;
		t->kthread = CAP_SLOT_NONE;
		t->state = THREAD_RUNNING;
		p->nthreads++;
		return t;
	}
	return NULL;
}

cap_slot_t thread_badged_endpoint(const struct thread *t)
{
	cap_slot_t badged = slot_alloc();

	if (badged != CAP_SLOT_NONE &&
	    sys_cap_copy(posix_endpoint, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE,
			 PROCESS_BADGE_BASE + t->index) < 0) {
		slot_free(badged);
		badged = CAP_SLOT_NONE;
	}
	return badged;
}

/* Its kernel thread destroyed, its CPU time kept in its process's. */
static void kthread_drop(struct thread *t)
{
	if (t->kthread != CAP_SLOT_NONE) {
		thread_cpu_ended(t);
		sys_obj_destroy(t->kthread);
		sys_cap_delete(t->kthread);
		slot_free(t->kthread);
		t->kthread = CAP_SLOT_NONE;
	}
}

long thread_run(struct thread *t, const struct user_regs *regs)
{
	struct process *p = t->proc;
	cap_slot_t badged = thread_badged_endpoint(t);
	long err;

	if (badged == CAP_SLOT_NONE)
		return -ERR_NO_MEMORY;
	t->kthread = slot_alloc();
	struct thread_config cfg = {
		.fields = THREAD_CFG_PAGER | THREAD_CFG_EXCEPTION | THREAD_CFG_PRIORITY |
			  THREAD_CFG_NAME,
		.pager = badged, .exception = badged,
		.priority = posix_priority > 1 ? posix_priority - 1 : 1,
	};
	memcpy(cfg.name, p->name, strnlen(p->name, sizeof(cfg.name) - 1));
	if (t->kthread == CAP_SLOT_NONE)
		err = -ERR_NO_MEMORY;
	else if ((err = sys_obj_create(CAP_THREAD, t->kthread, p->task.task)) >= 0 &&
		 (err = sys_thread_configure(t->kthread, (uint64_t)&cfg)) >= 0 &&
		 (err = sys_thread_start(t->kthread, regs->rip, regs->rsp, 0)) >= 0)
		/* Below the server's priority, it has not run yet (one CPU):
		 * its registers (the thread pointer, the call's result) are
		 * set before its first instruction. */
		err = sys_thread_write_regs(t->kthread, (uint64_t)regs);
	if (err < 0 && t->kthread != CAP_SLOT_NONE) {
		sys_cap_delete(t->kthread);     /* an object made is destroyed with it */
		slot_free(t->kthread);
		t->kthread = CAP_SLOT_NONE;
	}
	sys_cap_delete(badged);
	slot_free(badged);
	return err;
}

long thread_fpu_copy(struct thread *to, const struct thread *from)
{
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(16)));
	long err = sys_thread_read_regs(from->kthread | THREAD_REGS_FPU, (uint64_t)fpu);

	return err < 0 ? err : sys_thread_write_regs(to->kthread | THREAD_REGS_FPU, (uint64_t)fpu);
}

void thread_release(struct thread *t)
{
	if (t->state == THREAD_FREE)
		return;
	kthread_drop(t);
	if (t->blocked)
		reply_put(t->reply);    /* free again: its waiter is gone */
	thread_set_blocked(t, false);
	t->wake = false;
	t->state = THREAD_FREE;
	t->proc->nthreads--;
	if (t->proc->current == t)
		t->proc->current = NULL;
	if (memory_waited)
		threads_wake_all();     /* one may now be the last of its account to free its share */
}

void threads_release(struct process *p, const struct thread *keep)
{
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc == p && &threads[i] != keep)
			thread_release(&threads[i]);
}

bool thread_exit(struct thread *t)
{
	struct process *p = t->proc;

	if (p->nthreads <= 1)
		return false;
	futex_thread_gone(t);
	thread_release(t);
	/* A process-wide signal it would have taken finds another. */
	for (int sig = 1; sig <= LINUX_NSIG; sig++)
		if (p->sigpending & (1UL << (sig - 1))) {
			p->sigpending &= ~(1UL << (sig - 1));
			signal_send(p, sig, p->siginfo[sig - 1].code, p->siginfo[sig - 1].pid,
				    p->siginfo[sig - 1].status);
		}
	return true;
}
