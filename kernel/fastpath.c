/*
 * The IPC fast path for the two operations a client/server pair repeats:
 * call, and reply_recv. A chain of checks for the common case (short
 * message in registers, no items, the partner already waiting, a direct
 * switch allowed), then the commit, which cannot fail. Anything unusual
 * returns false before anything changed and the general path in
 * endpoint.c takes over. Boot with `nofastpath` to use the general path
 * for everything (the system call entry is then one that never comes
 * here, percpu_init; the kernel tests pass both ways).
 *
 * The commit does only what a short message needs: the words the tag
 * counts go register to register (the others arrive as 0, as on the
 * general path), the receive counts in the receiver's IPC buffer are
 * reset through its cached kernel pointer (ipc_buffer_of), and the switch
 * is direct and drops the blocked thread's kernel context: all it will do
 * when answered is return to user mode (sched_switch_abandon_inline),
 * through `sysret` (switch.S). The switch is inline, and nothing else is
 * called in the common case: every instruction here is paid by every
 * fast call.
 *
 * A third entry carries a redirected `syscall` of a TASK_REDIRECT_ARGS
 * task to its exception handler waiting in receive (fastpath_syscall):
 * the number and six arguments go from the caller's frame to the
 * handler's registers and IPC buffer as the general path's fault message
 * would (fault.c), and the caller waits for the answer as a faulting
 * thread does. fastpath_reply_recv takes the answer when it is the
 * result alone (one word, label IPC_REPLY_RESUME): only rax changes, so
 * the caller leaves with `sysret`.
 */
#include "fastpath.h"
#include "endpoint.h"
#include "ipc.h"
#include "notification.h"
#include "sched.h"
#include "sched_switch.h"
#include "task.h"

#include "frame.h"

#include <stddef.h>

#include "uapi/ipc.h"

_Static_assert(offsetof(struct thread, task) == T_TASK &&
		       offsetof(struct task, redirect_syscalls) == TASK_REDIRECT &&
		       TASK_REDIRECT_ARGS == 2,
	       "switch.S: the offsets and mode the system call entry reads");

bool fastpath_enabled = true;
uint64_t fastpath_hits;

/* The capability in slot of self's task, if it names a live object
 * of type with rights; NULL otherwise. slot <= IPC_SLOT_MASK. */
static inline struct cap *fast_cap(const struct thread *self, uint64_t slot, unsigned type,
				   uint8_t rights)
{
	const struct cap_table *t = &self->task->caps;
	struct cap *c;

	if (slot >= t->nslots)
		return NULL;
	c = &t->slots[slot];
	if (!c->obj || c->obj->dead || c->obj->type != type || (c->rights & rights) != rights)
		return NULL;
	return c;
}

/* Short (the words fit the registers), no items, and not a kernel label
 * (which the general path refuses). */
static inline bool short_message(uint64_t tag)
{
	return ipc_tag_words(tag) <= IPC_REG_WORDS && ipc_tag_items(tag) == 0 &&
	       ipc_tag_label(tag) < IPC_LABEL_NOTIFY;
}

/* Deliver the short message in frame f to `to`: the counted words, 0 for
 * the rest; the tag, badge and result; the receive counts reset. */
static inline __attribute__((always_inline)) void
fast_transfer(const struct trap_frame *f, struct thread *to, uint64_t badge)
{
	struct trap_frame *tf = thread_frame(to);
	struct ipc_buffer *tb = ipc_buffer_of(to);
	unsigned n = ipc_tag_words(f->rsi);
	uint64_t w0 = 0, w1 = 0, w2 = 0, w3 = 0;

	switch (n) {
	case 4: w3 = f->r9;     /* fall through */
	case 3: w2 = f->r8;     /* fall through */
	case 2: w1 = f->r10;    /* fall through */
	case 1: w0 = f->rdx;
	}
	tf->rdx = w0;
	tf->r10 = w1;
	tf->r8 = w2;
	tf->r9 = w3;
	tf->rsi = ipc_tag(ipc_tag_label(f->rsi), n, 0);
	tf->rdi = badge;
	tf->rax = 0;
	if (tb)
		tb->recv_cap_count = tb->recv_pages = 0;
}

/* The commit's last step: self (current), blocked, switches straight to
 * `to`; in_task: `to` is known to run in a task (an IPC buffer of it was
 * found: ipc_buffer_of drops its cache whenever t's task changes). */
static inline __attribute__((always_inline, noreturn)) void
fast_switch(struct thread *self, struct thread *to, bool in_task)
{
	fastpath_hits++;
	sched_switch_abandon_inline(self, to, in_task);
}

bool fastpath_call(struct trap_frame *f)
{
	struct thread *self = current;
	struct cap *c;
	struct endpoint *ep;
	struct thread *receiver;
	struct reply *reply;

	if (f->rdi > IPC_SLOT_MASK || !short_message(f->rsi))
		return false;
	if (!(c = fast_cap(self, f->rdi, CAP_ENDPOINT, CAP_RIGHT_WRITE)))
		return false;
	ep = (struct endpoint *)c->obj;
	receiver = ep->receivers.head;
	if (!receiver || receiver->suspended || !reply_is_free(reply = receiver->reply) ||
	    self->fault_pending || !sched_outranks_ready(receiver))
		return false;

	/* Commit: the receiver takes the message and binds us to its reply
	 * object; we wait for the answer, it runs. */
	waitq_remove(&ep->receivers, receiver);
	fast_transfer(f, receiver, c->badge);
	endpoint_bind_reply(reply, self);
	receiver->waiting_on = NULL;
	receiver->state = THREAD_READY;
	fast_switch(self, receiver, false);
}

/* The answer to a redirected call that is its result alone: a resume
 * with one word, for rax. */
#define SYSCALL_RESULT_TAG ipc_tag(IPC_REPLY_RESUME, 1, 0)

/* caller waits for the answer to a redirected syscall. (Its fault tag is
 * the one fastpath_syscall and fault.c give a call as struct
 * syscall_args.) */
static inline bool syscall_waits(const struct thread *caller)
{
	return caller->fault_tag == ipc_tag(IPC_LABEL_SYSCALL_ARGS, SYSCALL_ARGS_WORDS, 0);
}

void fastpath_syscall(struct trap_frame *f)
{
	struct thread *self = current;
	struct endpoint *ep = self->exc_handler;
	struct thread *receiver;
	struct reply *reply;
	struct ipc_buffer *tb;

	if (!ep || ep->obj.dead || self->fault_pending)
		return;
	receiver = ep->receivers.head;
	if (!receiver || receiver->suspended || !reply_is_free(reply = receiver->reply) ||
	    !sched_outranks_ready(receiver) || __builtin_expect(!(tb = ipc_buffer_of(receiver)), 0))
		return;

	/* Commit: the handler takes struct syscall_args (words 0..3 in
	 * registers, 4..6 in its IPC buffer) and binds us to its reply
	 * object; we wait for the answer as a faulting thread. */
	struct trap_frame *tf = thread_frame(receiver);
	uint64_t tag = ipc_tag(IPC_LABEL_SYSCALL_ARGS, SYSCALL_ARGS_WORDS, 0);

	waitq_remove(&ep->receivers, receiver);
	tf->rdx = f->rax;
	tf->r10 = f->rdi;
	tf->r8 = f->rsi;
	tf->r9 = f->rdx;
	tb->words[4] = f->r10;
	tb->words[5] = f->r8;
	tb->words[6] = f->r9;
	tb->recv_cap_count = tb->recv_pages = 0;
	tf->rsi = tag;
	tf->rdi = self->exc_badge;
	tf->rax = 0;
	self->fault_tag = tag;
	self->fault_pending = true;
	self->ipc_is_call = true;
	self->ipc_can_grant = false;
	endpoint_bind_reply(reply, self);
	receiver->waiting_on = NULL;
	receiver->state = THREAD_READY;
	fast_switch(self, receiver, true);
}

bool fastpath_reply_recv(struct trap_frame *f)
{
	struct thread *self = current;
	struct cap *c, *rc;
	struct endpoint *ep;
	struct reply *reply;
	struct thread *caller;
	uint64_t tag = f->rsi;
	bool result_only = tag == SYSCALL_RESULT_TAG;

	/* (A redirected call's answer is the common case: one compare.) */
	if (f->rdi > IPC_SLOT_MASK || (!result_only && !short_message(tag)))
		return false;
	if (self->recv_caps.gen == cap_generation && self->recv_caps.ep_slot == f->rdi &&
	    self->recv_caps.reply_slot == f->r12) {
		/* The slots of the last time still name them. */
		ep = self->recv_caps.ep;
		reply = self->recv_caps.reply;
		if (ep->obj.dead || reply->obj.dead)
			return false;
	} else {
		if (!(c = fast_cap(self, f->rdi, CAP_ENDPOINT, CAP_RIGHT_READ)) ||
		    !(rc = fast_cap(self, f->r12, CAP_REPLY, CAP_RIGHT_WRITE)))
			return false;
		ep = (struct endpoint *)c->obj;
		reply = (struct reply *)rc->obj;
		self->recv_caps.ep_slot = f->rdi;
		self->recv_caps.reply_slot = f->r12;
		self->recv_caps.ep = ep;
		self->recv_caps.reply = reply;
		self->recv_caps.gen = cap_generation;
	}
	caller = reply->caller;
	if (!caller || caller->suspended)
		return false;
	bool fault = caller->fault_pending;
	if (fault && !(result_only && syscall_waits(caller)))
		return false;
	/* Nobody queued to send, no signal pending: we will block. A
	 * receive reply object that changes is not the first one (rare:
	 * the general path takes it) nor the last reference to the one
	 * before (endpoint_set_receive_reply's kobject_put would tear it
	 * down). */
	struct reply *before = self->reply;
	if (!waitq_empty(&ep->senders) || (self->bound && self->bound->word))
		return false;
	if (__builtin_expect(before != reply, 0) && (!before || before->obj.refs <= 1))
		return false;
	if (!sched_outranks_ready(caller))
		return false;

	/* Commit: answer the caller, queue ourselves as receiver. */
	reply->caller = NULL;
	caller->caller_of = NULL;
	caller->waiting_on = NULL;
	if (fault) {
		caller->fault_pending = false;
		thread_frame(caller)->rax = f->rdx;
	} else {
		fast_transfer(f, caller, 0);
	}
	caller->state = THREAD_READY;
	self->state = THREAD_BLOCKED_RECV;
	self->waiting_on = ep;
	if (before != reply) {          /* endpoint_set_receive_reply */
		kobject_get(&reply->obj);
		before->obj.refs--;
		self->reply = reply;
	}
	waitq_push(&ep->receivers, self);
	fast_switch(self, caller, false);
}
