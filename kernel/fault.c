/*
 * User-mode faults: a page fault becomes a message to the thread's pager,
 * any other exception (and a redirected `syscall`) a message with all
 * registers to its exception handler. The thread waits, as a caller, for
 * the reply. With nobody to tell, the thread stops and its task's
 * supervisor notification is signalled.
 */
#include "fault.h"
#include "cpu.h"
#include "endpoint.h"
#include "ipc.h"
#include "klog.h"
#include "sched.h"
#include "task.h"

#include "uapi/ipc.h"

/* t's fault message (label, n words) goes to its handler ep (live) as a
 * call on its behalf, without GRANT: t waits for the reply, or stops if
 * the handler cannot answer. */
static void send_fault(struct thread *t, struct endpoint *ep, uint64_t badge,
		       uint64_t label, const uint64_t *words, unsigned n)
{
	kassert(t == current);
	ipc_set_fault_message(t, label, words, n);
	endpoint_send(ep, badge, false, true, false);
}

/* t's exception message (label, n words) to its exception handler; with
 * none (or a dead one) t stops and its supervisor hears of it. */
static void send_to_handler(struct thread *t, struct trap_frame *f, uint64_t label,
			    const uint64_t *words, unsigned n, uint64_t vector, uint64_t address)
{
	if (t->exc_handler && !t->exc_handler->obj.dead) {
		send_fault(t, t->exc_handler, t->exc_badge, label, words, n);
		return;
	}
	klog_limited(KLOG_INFO,
		     "fault: thread %s (task %s): %s %lu at rip %lx, address %lx, error %lx\n",
		     t->name, t->task->name,
		     vector == FAULT_VECTOR_SYSCALL ? "redirected syscall" : "exception",
		     vector, f->rip, address, f->error);
	thread_stop_faulted(t, "no exception handler");
	schedule();
}

static void send_exception(struct thread *t, struct trap_frame *f, uint64_t label,
			   uint64_t vector, uint64_t address)
{
	struct fault_regs fr;

	thread_get_regs(t, &fr.regs);
	fr.vector = vector;
	fr.error = f->error;
	fr.address = address;
	send_to_handler(t, f, label, (const uint64_t *)&fr, FAULT_REGS_WORDS, vector, address);
}

void fault_user_trap(struct trap_frame *f)
{
	struct thread *t = current;
	uint64_t address = f->vector == 14 ? read_cr2() : 0;

	if (f->vector == 14 && t->pager && !t->pager->obj.dead) {
		uint64_t words[3] = { address, f->error, f->rip };
		send_fault(t, t->pager, t->pager_badge, IPC_LABEL_PAGE_FAULT, words, 3);
		return;
	}
	send_exception(t, f, IPC_LABEL_EXCEPTION, f->vector, address);
}

void fault_syscall_redirect(struct trap_frame *f)
{
	if (current->task->redirect_syscalls == TASK_REDIRECT_ARGS) {
		struct syscall_args a = { f->rax, { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 } };
		send_to_handler(current, f, IPC_LABEL_SYSCALL_ARGS, (const uint64_t *)&a,
				SYSCALL_ARGS_WORDS, FAULT_VECTOR_SYSCALL, 0);
		return;
	}
	send_exception(current, f, IPC_LABEL_SYSCALL, FAULT_VECTOR_SYSCALL, 0);
}

void fault_reply(struct thread *faulter, struct thread *replier)
{
	uint64_t tag, words[FAULT_REGS_WORDS];
	uint64_t label = ipc_tag_label(faulter->fault_tag);
	bool page_fault = label == IPC_LABEL_PAGE_FAULT;
	bool syscall = label == IPC_LABEL_SYSCALL || label == IPC_LABEL_SYSCALL_ARGS;

	faulter->fault_pending = false;
	unsigned n = ipc_read_message(replier, &tag, words, FAULT_REGS_WORDS);
	ipc_deliver_fault_reply_items(replier, faulter);
	if (ipc_tag_label(tag) == IPC_REPLY_STOP) {
		faulter->state = THREAD_STOPPED;
		return;
	}
	if (!page_fault && n >= USER_REGS_WORDS)
		thread_set_regs(faulter, (const struct user_regs *)words);
	else if (syscall && n == 1)
		thread_frame(faulter)->rax = words[0];  /* the result alone: sysret allowed */
	if (thread_unblock(faulter))
		sched_wake(faulter);
}
