/* Endpoints: rendezvous points for synchronous IPC. A thread waits in at
 * most one queue: senders (send, call, or a fault message) or receivers. */
#ifndef MICA_ENDPOINT_H
#define MICA_ENDPOINT_H

#include "object.h"
#include "thread.h"
#include "waitq.h"

struct endpoint {
	struct kobject obj;
	struct waitq senders;
	struct waitq receivers;
};

struct reply {
	struct kobject obj;
	struct thread *caller;      /* blocked on this reply, or NULL */
};

/* r can take a caller: given, alive (a receiver may still hold a reply
 * object destroyed while it waited) and not bound to another call. */
static inline bool reply_is_free(const struct reply *r)
{
	return r && !r->obj.dead && !r->caller;
}

void endpoint_destroy(struct endpoint *ep);
void reply_destroy(struct reply *r);

/* caller now waits for the reply through r. */
static inline void endpoint_bind_reply(struct reply *r, struct thread *caller)
{
	r->caller = caller;
	caller->caller_of = r;
	caller->state = THREAD_BLOCKED_REPLY;
	caller->waiting_on = r;
}

/* The reply object t's pending receive binds callers to (references). */
void endpoint_set_receive_reply(struct thread *t, struct reply *reply);

/* Remove t from whatever endpoint queue or reply it waits on. */
void endpoint_cancel(struct thread *t);

/*
 * Send the message current holds to ep (live), badged with badge;
 * can_grant: its capability items may be delivered. call: wait for the
 * reply; a call that reaches a receiver without a free reply object fails
 * with -ERR_DELETED. A pending fault message (fault_pending, always a
 * call) is sent the same way; without a reply object to answer it the
 * thread stops instead. Blocks unless nonblock (-ERR_WOULD_BLOCK). Returns
 * the call's result, or SYSCALL_NO_RESULT when the thread blocked, stopped
 * or its partner set the result.
 */
long endpoint_send(struct endpoint *ep, uint64_t badge, bool can_grant,
		   bool call, bool nonblock);

/* Receive on ep, binding a caller to reply (NULL, or one with no caller
 * bound). Returns 0 or SYSCALL_NO_RESULT (message delivered, or blocked),
 * -ERR_WOULD_BLOCK when nonblock finds no sender. */
long endpoint_recv(struct endpoint *ep, struct reply *reply, bool nonblock);

/* Answer the caller bound to r (there must be one) with current's message. */
void reply_send(struct reply *r);

#endif
