#include "notification.h"
#include "decode.h"
#include "endpoint.h"
#include "irq.h"
#include "ipc.h"
#include "klog.h"
#include "sched.h"
#include "syscall.h"

#include "uapi/errors.h"
#include "uapi/ipc.h"

void notification_signal(struct notification *n, uint64_t bits)
{
	n->word |= bits;
	struct thread *w = waitq_pop(&n->waiters);
	if (w) {
		uint64_t word = n->word;
		n->word = 0;
		thread_wake(w, (long)word);
		return;
	}
	/* A bound thread waiting on its endpoint takes the signal there. */
	struct thread *b = n->bound;
	if (b && b->state == THREAD_BLOCKED_RECV) {
		endpoint_cancel(b);
		struct trap_frame *f = thread_frame(b);
		f->rsi = ipc_tag(IPC_LABEL_NOTIFY, 0, 0);
		f->rdi = n->word;
		n->word = 0;
		thread_wake(b, 0);
	}
}

long notification_wait(struct notification *n, bool nonblock)
{
	if (n->word) {
		uint64_t word = n->word;
		n->word = 0;
		return (long)word;
	}
	if (nonblock)
		return 0;
	current->state = THREAD_BLOCKED_NOTIFY;
	current->waiting_on = n;
	waitq_push(&n->waiters, current);
	sched_block_switch(NULL);
	return SYSCALL_NO_RESULT;
}

void notification_cancel(struct thread *t)
{
	struct notification *n = t->waiting_on;

	if (n)
		waitq_remove(&n->waiters, t);
	t->waiting_on = NULL;
}

uint64_t notification_take_bound(struct thread *t)
{
	struct notification *n = t->bound;

	if (!n || !n->word)
		return 0;
	uint64_t word = n->word;
	n->word = 0;
	return word;
}

static struct notification *timer_list;   /* armed, soonest first */

static void timer_unlink(struct notification *n)
{
	for (struct notification **p = &timer_list; *p; p = &(*p)->timer_next) {
		if (*p == n) {
			*p = n->timer_next;
			break;
		}
	}
	n->timer_next = NULL;
	n->timer_bits = 0;
}

void notification_timer_set(struct notification *n, uint64_t bits, uint64_t deadline)
{
	if (n->timer_bits)
		timer_unlink(n);
	if (!bits)
		return;
	n->timer_bits = bits;
	n->timer_deadline = deadline;
	struct notification **p = &timer_list;
	while (*p && (*p)->timer_deadline <= deadline)
		p = &(*p)->timer_next;
	n->timer_next = *p;
	*p = n;
}

void notification_timer_expire(uint64_t now)
{
	struct notification *n;

	while ((n = timer_list) && n->timer_deadline <= now) {
		uint64_t bits = n->timer_bits;
		timer_unlink(n);
		notification_signal(n, bits);
	}
}

void notification_destroy(struct notification *n)
{
	struct thread *t;

	if (n->timer_bits)
		timer_unlink(n);

	while ((t = waitq_pop(&n->waiters))) {
		t->waiting_on = NULL;
		thread_wake(t, -ERR_DELETED);
	}
	/* An IRQ signalling a notification nobody can wait on any more must
	 * not hold its (possibly shared) line masked. */
	irq_unbind_notification(n);
	if (n->bound) {
		struct thread *b = n->bound;
		n->bound = NULL;
		b->bound = NULL;
		kobject_put(&n->obj);   /* the bound thread's reference */
	}
}

/* ---- system calls ---- */

long sys_notify_signal(uint64_t slot, uint64_t bits)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_NOTIFICATION, CAP_RIGHT_WRITE);
	if (bits == 0 || (bits >> 63))
		REJECT(ERR_INVALID_ARG, "bits %#lx: need 1..2^63-1", bits);
	/* A badged capability signals its badge, whatever the caller asks:
	 * that is how a waiter tells its signallers apart. */
	notification_signal((struct notification *)c->obj, c->badge ? c->badge : bits);
	return 0;
}

long sys_notify_wait(uint64_t slot, uint64_t ignored)
{
	struct notification *n;

	LOOKUP_OBJECT(n, slot & IPC_SLOT_MASK, CAP_NOTIFICATION, CAP_RIGHT_READ);
	return notification_wait(n, slot & IPC_NONBLOCK);
}

long sys_notify_timer(uint64_t slot, uint64_t bits, uint64_t deadline)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_NOTIFICATION, CAP_RIGHT_WRITE);
	if (bits >> 63)
		REJECT(ERR_INVALID_ARG, "bits %#lx: need 0..2^63-1", bits);
	if (bits && c->badge)
		bits = c->badge;
	notification_timer_set((struct notification *)c->obj, bits, deadline);
	return 0;
}
