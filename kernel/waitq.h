/* FIFO queues of blocked threads (endpoint senders and receivers,
 * notification waiters), linked through the thread's queue fields. */
#ifndef MICA_WAITQ_H
#define MICA_WAITQ_H

#include "thread.h"

struct waitq {
	struct thread *head;
};

static inline bool waitq_empty(const struct waitq *q) { return !q->head; }

static inline void waitq_push(struct waitq *q, struct thread *t)
{
	if (q->head) {
		t->queue_next = q->head;
		t->queue_prev = q->head->queue_prev;
		q->head->queue_prev->queue_next = t;
		q->head->queue_prev = t;
	} else {
		t->queue_next = t->queue_prev = t;
		q->head = t;
	}
}

/* t leaves q. A thread alone in its queue is the case to make fast (one
 * server thread waiting in receive: the IPC fast path's dequeue). */
static inline void waitq_remove(struct waitq *q, struct thread *t)
{
	if (__builtin_expect(t->queue_next == t, 1)) {
		q->head = NULL;
	} else {
		t->queue_prev->queue_next = t->queue_next;
		t->queue_next->queue_prev = t->queue_prev;
		if (q->head == t)
			q->head = t->queue_next;
	}
	t->queue_next = t->queue_prev = NULL;
}

static inline struct thread *waitq_pop(struct waitq *q)
{
	struct thread *t = q->head;

	if (t)
		waitq_remove(q, t);
	return t;
}

#endif
