#include "endpoint.h"
#include "decode.h"
#include "fault.h"
#include "ipc.h"
#include "klog.h"
#include "notification.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"

#include "uapi/errors.h"
#include "uapi/ipc.h"

/*
 * Protocol of a call:
 *   caller: endpoint_send(call) -> either a receiver waits (transfer now)
 *           or the caller queues in ep->senders (BLOCKED_SEND).
 *   on transfer: the receiver's reply object gets caller, the caller
 *           becomes BLOCKED_REPLY with caller_of = that reply object.
 *   reply_send: transfer back, unbind, wake the caller.
 * A thread's pending message lives in its registers and IPC buffer (or in
 * fault_words for kernel-made fault messages) until it is transferred.
 * A fault message travels as a call, the same way.
 */

#define NO_REPLY_OBJECT "fault handler received without a free reply object"

/* The sender's message has been handed over to receiver. */
static void sender_done(struct thread *sender, struct thread *receiver,
			struct reply *reply)
{
	if (sender->ipc_is_call || sender->fault_pending) {
		if (reply_is_free(reply)) {
			endpoint_bind_reply(reply, sender);
			return;
		}
		/* No way to answer it: fail a call, stop a faulting thread. */
		if (sender->fault_pending) {
			thread_stop_faulted(sender, NO_REPLY_OBJECT);
			return;
		}
		thread_wake(sender, -ERR_DELETED);
		return;
	}
	thread_wake(sender, 0);
}

long endpoint_send(struct endpoint *ep, uint64_t badge, bool can_grant,
		   bool call, bool nonblock)
{
	struct thread *self = current;
	struct thread *receiver = waitq_pop(&ep->receivers);

	kassert(call || !self->fault_pending);
	self->ipc_is_call = call;
	self->ipc_can_grant = can_grant;
	if (!receiver) {
		if (nonblock)
			return -ERR_WOULD_BLOCK;
		self->state = THREAD_BLOCKED_SEND;
		self->waiting_on = ep;
		self->ipc_badge = badge;
		waitq_push(&ep->senders, self);
		sched_block_switch(NULL);
		return SYSCALL_NO_RESULT;
	}
	struct reply *reply = receiver->reply;
	ipc_transfer(self, receiver, badge, false);
	if (call && reply_is_free(reply)) {
		endpoint_bind_reply(reply, self);
		sched_block_switch(thread_unblock(receiver) ? receiver : NULL);
		return SYSCALL_NO_RESULT;
	}
	thread_wake(receiver, 0);
	if (!call)
		return 0;
	/* No way to answer it: fail a call, stop a faulting thread. */
	if (!self->fault_pending)
		return -ERR_DELETED;
	thread_stop_faulted(self, NO_REPLY_OBJECT);
	sched_block_switch(NULL);
	return SYSCALL_NO_RESULT;
}

void endpoint_set_receive_reply(struct thread *t, struct reply *reply)
{
	if (t->reply == reply)
		return;
	if (reply)
		kobject_get(&reply->obj);
	if (t->reply)
		kobject_put(&t->reply->obj);
	t->reply = reply;
}

long endpoint_recv(struct endpoint *ep, struct reply *reply, bool nonblock)
{
	struct thread *self = current;

	kassert(!reply || !reply->caller);
	/* The reply object of our latest receive, whatever it brings (the
	 * timer's samples look at whose call it holds: sched_tick). */
	endpoint_set_receive_reply(self, reply);
	/* A pending signal on the bound notification comes first. */
	uint64_t bits = notification_take_bound(self);
	if (bits) {
		struct trap_frame *f = thread_frame(self);
		f->rsi = ipc_tag(IPC_LABEL_NOTIFY, 0, 0);
		f->rdi = bits;
		return 0;
	}
	struct thread *sender = waitq_pop(&ep->senders);
	if (sender) {
		sender->waiting_on = NULL;
		ipc_transfer(sender, self, sender->ipc_badge, false);
		sender_done(sender, self, reply);
		return SYSCALL_NO_RESULT;   /* ipc_transfer set our registers */
	}
	if (nonblock)
		return -ERR_WOULD_BLOCK;
	self->state = THREAD_BLOCKED_RECV;
	self->waiting_on = ep;
	waitq_push(&ep->receivers, self);
	sched_block_switch(NULL);
	return SYSCALL_NO_RESULT;
}

void reply_send(struct reply *r)
{
	struct thread *caller = r->caller;

	kassert(caller);
	r->caller = NULL;
	caller->caller_of = NULL;
	caller->waiting_on = NULL;
	current->ipc_can_grant = true;   /* a reply may carry what it likes */
	if (caller->fault_pending) {
		fault_reply(caller, current);
		return;
	}
	ipc_transfer(current, caller, 0, false);
	if (thread_unblock(caller))
		sched_wake(caller);
}

void endpoint_cancel(struct thread *t)
{
	if (t->state == THREAD_BLOCKED_REPLY) {
		if (t->caller_of) {
			t->caller_of->caller = NULL;
			t->caller_of = NULL;
		}
	} else if (t->waiting_on) {
		struct endpoint *ep = t->waiting_on;
		waitq_remove(t->state == THREAD_BLOCKED_SEND ? &ep->senders : &ep->receivers, t);
	}
	t->waiting_on = NULL;
}

static void fail_all(struct waitq *q)
{
	struct thread *t;

	while ((t = waitq_pop(q))) {
		t->waiting_on = NULL;
		if (t->fault_pending)
			thread_stop_faulted(t, "fault handler endpoint deleted");
		else
			thread_wake(t, -ERR_DELETED);
	}
}

void endpoint_destroy(struct endpoint *ep)
{
	fail_all(&ep->senders);
	fail_all(&ep->receivers);
}

void reply_destroy(struct reply *r)
{
	struct thread *caller = r->caller;

	if (!caller)
		return;
	r->caller = NULL;
	caller->caller_of = NULL;
	caller->waiting_on = NULL;
	if (caller->fault_pending)
		thread_stop_faulted(caller, "reply to its fault message deleted");
	else
		thread_wake(caller, -ERR_DELETED);
}

/* ---- system calls ---- */

/* The labels from IPC_LABEL_NOTIFY up are the kernel's (notifications,
 * faults): nobody may send them, or a receiver could not trust them. */
#define CHECK_LABEL(tag)                                                          \
	do {                                                                      \
		if (ipc_tag_label(tag) >= IPC_LABEL_NOTIFY)                       \
			REJECT(ERR_INVALID_ARG, "label %#lx is the kernel's",     \
			       ipc_tag_label(tag));                               \
	} while (0)

/* var = the reply object in slot, or NULL for CAP_SLOT_NONE. */
#define LOOKUP_REPLY(var, slot)                                                   \
	do {                                                                      \
		if ((slot) == CAP_SLOT_NONE)                                      \
			(var) = NULL;                                             \
		else                                                              \
			LOOKUP_OBJECT(var, slot, CAP_REPLY, CAP_RIGHT_WRITE);    \
	} while (0)

/* ipc_send and ipc_call: the message stays in the caller's registers and
 * IPC buffer until it is transferred. */
static long send_message(uint64_t ep, uint64_t tag, bool call)
{
	struct cap *c;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_WRITE);
	CHECK_LABEL(tag);
	return endpoint_send((struct endpoint *)c->obj, c->badge,
			     c->rights & CAP_RIGHT_GRANT, call, ep & IPC_NONBLOCK);
}

long sys_ipc_send(uint64_t ep, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	return send_message(ep, tag, false);
}

long sys_ipc_call(uint64_t ep, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3)
{
	return send_message(ep, tag, true);
}

long sys_ipc_recv(uint64_t ep, uint64_t reply_slot)
{
	struct cap *c;
	struct reply *r;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_READ);
	LOOKUP_REPLY(r, reply_slot);
	if (r && r->caller)
		REJECT(ERR_BUSY, "reply object %lu still waits to answer a caller", reply_slot);
	return endpoint_recv((struct endpoint *)c->obj, r, ep & IPC_NONBLOCK);
}

long sys_ipc_reply(uint64_t reply_slot, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2,
		   uint64_t w3)
{
	struct reply *r;

	if (reply_slot == CAP_SLOT_NONE)
		REJECT(ERR_INVALID_CAP, "no reply capability given");
	LOOKUP_REPLY(r, reply_slot);
	CHECK_LABEL(tag);
	if (!r->caller)
		REJECT(ERR_INVALID_ARG, "nobody waits for this reply");
	reply_send(r);
	return 0;
}

long sys_ipc_reply_recv(uint64_t ep, uint64_t tag, uint64_t w0, uint64_t w1, uint64_t w2,
			uint64_t w3, uint64_t reply_slot)
{
	struct cap *c;
	struct reply *r;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_READ);
	LOOKUP_REPLY(r, reply_slot);
	if (r)
		CHECK_LABEL(tag);
	if (r && r->caller)
		reply_send(r);
	return endpoint_recv((struct endpoint *)c->obj, r, ep & IPC_NONBLOCK);
}
