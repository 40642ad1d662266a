/*
 * The IPC fast path for the two operations a client/server pair repeats:
 * call, and reply_recv. A chain of checks for the common case (short
 * message in registers, no items, the partner already waiting, a direct
 * switch allowed), then the commit, which cannot fail. Anything unusual
 * returns false before anything changed and the general path in
 * endpoint.c takes over. Boot with `nofastpath` to use the general path
 * for everything (the kernel tests pass both ways).
 */
#include "fastpath.h"
#include "endpoint.h"
#include "ipc.h"
#include "notification.h"
#include "sched.h"
#include "task.h"

#include "uapi/ipc.h"

bool fastpath_enabled = true;
uint64_t fastpath_hits;

/* The endpoint capability in slot with rights, or NULL. */
static struct endpoint *fast_endpoint(uint64_t slot, uint8_t rights, struct cap **out)
{
	struct cap *c = cap_slot(&current->task->caps, slot);

	if (!c || !c->obj || c->obj->dead || c->obj->type != CAP_ENDPOINT ||
	    (c->rights & rights) != rights)
		return NULL;
	*out = c;
	return (struct endpoint *)c->obj;
}

/* Short, and not a kernel label (which the general path refuses). */
static bool short_message(uint64_t tag)
{
	return ipc_tag_words(tag) <= IPC_REG_WORDS && ipc_tag_items(tag) == 0 &&
	       ipc_tag_label(tag) < IPC_LABEL_NOTIFY;
}

bool fastpath_call(struct trap_frame *f)
{
	struct cap *c;
	struct endpoint *ep;
	struct thread *receiver;
	struct reply *reply;

	if (!fastpath_enabled || f->rdi > IPC_SLOT_MASK || !short_message(f->rsi))
		return false;
	if (!(ep = fast_endpoint(f->rdi, CAP_RIGHT_WRITE, &c)))
		return false;
	receiver = ep->receivers.head;
	if (!receiver || !reply_is_free(reply = receiver->reply))
		return false;
	if (!sched_outranks_ready(receiver))
		return false;

	/* Commit. */
	waitq_remove(&ep->receivers, receiver);
	receiver->waiting_on = NULL;
	ipc_transfer(current, receiver, c->badge, false);
	current->ipc_is_call = true;
	endpoint_bind_reply(reply, current);
	fastpath_hits++;
	sched_block_switch(thread_unblock(receiver) ? receiver : NULL);
	return true;
}

bool fastpath_reply_recv(struct trap_frame *f)
{
	struct cap *c, *rc;
	struct endpoint *ep;
	struct reply *reply;
	struct thread *caller;

	if (!fastpath_enabled || f->rdi > IPC_SLOT_MASK || !short_message(f->rsi))
		return false;
	if (!(ep = fast_endpoint(f->rdi, CAP_RIGHT_READ, &c)))
		return false;
	rc = cap_slot(&current->task->caps, f->r12);
	if (!rc || !rc->obj || rc->obj->dead || rc->obj->type != CAP_REPLY ||
	    !(rc->rights & CAP_RIGHT_WRITE))
		return false;
	reply = (struct reply *)rc->obj;
	caller = reply->caller;
	if (!caller || caller->fault_pending || caller->suspended)
		return false;
	/* Nobody queued to send, no signal pending: we will block. */
	if (!waitq_empty(&ep->senders) || (current->bound && current->bound->word))
		return false;
	if (!sched_outranks_ready(caller))
		return false;

	/* Commit: answer the caller, queue ourselves as receiver. */
	reply->caller = NULL;
	caller->caller_of = NULL;
	caller->waiting_on = NULL;
	ipc_transfer(current, caller, 0, false);
	caller->state = THREAD_READY;
	current->state = THREAD_BLOCKED_RECV;
	current->waiting_on = ep;
	endpoint_set_receive_reply(current, reply);
	waitq_push(&ep->receivers, current);
	fastpath_hits++;
	sched_block_switch(caller);
	return true;
}
