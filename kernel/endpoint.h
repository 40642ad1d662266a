/* Endpoints: rendezvous points for synchronous IPC. A thread waits in at
 * most one queue: senders (send, call, or a fault message) or receivers. */
#ifndef MICA_ENDPOINT_H
#define MICA_ENDPOINT_H

#include "object.h"
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
void endpoint_bind_reply(struct reply *r, struct thread *caller);

/* The reply object t's pending receive binds callers to (references). */
void endpoint_set_receive_reply(struct thread *t, struct reply *reply);

/* Remove t from whatever endpoint queue or reply it waits on. */
void endpoint_cancel(struct thread *t);

/*
 * Send the message current holds (or, with fault set, its pending fault
 * message) to ep. call: wait for the reply. Blocks unless nonblock.
 * Returns a syscall result or SYSCALL_NO_RESULT when the partner set it.
 */
long endpoint_send(struct endpoint *ep, uint64_t badge, bool can_grant,
		   bool call, bool nonblock);

/* Receive on ep, binding a caller to reply (may be NULL). */
long endpoint_recv(struct endpoint *ep, struct reply *reply, bool nonblock);

/* Answer the caller bound to r with current's message. */
long reply_send(struct reply *r);

/* Deliver a kernel-made fault message for t to its handler ep: t blocks as
 * a caller until a reply resumes it. Returns false if ep is NULL/dead. */
bool endpoint_send_fault(struct thread *t, struct endpoint *ep, uint64_t badge);

#endif
