#include "endpoint.h"
#include "fault.h"
#include "ipc.h"
#include "klog.h"
#include "notification.h"
#include "sched.h"
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
 */

void endpoint_bind_reply(struct reply *r, struct thread *caller)
{
	r->caller = caller;
	caller->caller_of = r;
	caller->state = THREAD_BLOCKED_REPLY;
	caller->waiting_on = r;
}

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
			thread_stop_faulted(sender, "fault handler received without a free reply object");
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

	self->ipc_is_call = call;
	self->ipc_can_grant = can_grant;
	if (receiver) {
		struct reply *reply = receiver->reply;
		ipc_transfer(self, receiver, badge, false);
		if (call) {
			if (!reply_is_free(reply)) {
				thread_wake(receiver, 0);
				return -ERR_DELETED;
			}
			endpoint_bind_reply(reply, self);
			sched_block_switch(thread_unblock(receiver) ? receiver : NULL);
			return SYSCALL_NO_RESULT;
		}
		thread_wake(receiver, 0);
		return 0;
	}
	if (nonblock)
		return -ERR_WOULD_BLOCK;
	self->state = THREAD_BLOCKED_SEND;
	self->waiting_on = ep;
	self->ipc_badge = badge;
	waitq_push(&ep->senders, self);
	sched_block_switch(NULL);
	return SYSCALL_NO_RESULT;
}

bool endpoint_send_fault(struct thread *t, struct endpoint *ep, uint64_t badge)
{
	if (!ep || ep->obj.dead)
		return false;
	kassert(t == current && t->fault_pending);
	t->ipc_is_call = true;
	t->ipc_can_grant = false;
	struct thread *receiver = waitq_pop(&ep->receivers);
	if (receiver) {
		struct reply *reply = receiver->reply;
		ipc_transfer(t, receiver, badge, false);
		if (!reply_is_free(reply)) {
			thread_wake(receiver, 0);
			thread_stop_faulted(t, "fault handler received without a free reply object");
			sched_block_switch(NULL);
			return true;
		}
		endpoint_bind_reply(reply, t);
		sched_block_switch(thread_unblock(receiver) ? receiver : NULL);
		return true;
	}
	t->state = THREAD_BLOCKED_SEND;
	t->waiting_on = ep;
	t->ipc_badge = badge;
	waitq_push(&ep->senders, t);
	sched_block_switch(NULL);
	return true;
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

	if (reply && reply->caller)
		return -ERR_BUSY;
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
	endpoint_set_receive_reply(self, reply);
	waitq_push(&ep->receivers, self);
	sched_block_switch(NULL);
	return SYSCALL_NO_RESULT;
}

long reply_send(struct reply *r)
{
	struct thread *caller = r->caller;

	if (!caller)
		return -ERR_INVALID_ARG;
	r->caller = NULL;
	caller->caller_of = NULL;
	caller->waiting_on = NULL;
	current->ipc_can_grant = true;   /* a reply may carry what it likes */
	if (caller->fault_pending) {
		fault_reply(caller, current);
		return 0;
	}
	ipc_transfer(current, caller, 0, false);
	if (thread_unblock(caller))
		sched_wake(caller);
	return 0;
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
