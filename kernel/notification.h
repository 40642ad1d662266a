/* Notifications: a word of bits that signal() ORs into and wait() takes. */
#ifndef MICA_NOTIFICATION_H
#define MICA_NOTIFICATION_H

#include "object.h"
#include "waitq.h"

struct notification {
	struct kobject obj;
	uint64_t word;
	struct waitq waiters;
	struct thread *bound;       /* thread whose endpoint receive it also wakes */
	/* A one-shot timer: at timer_deadline (ns of the kernel clock) the
	 * notification is signalled with timer_bits. Armed notifications are
	 * kept in one list sorted by deadline (timer_next). */
	uint64_t timer_deadline;
	uint64_t timer_bits;        /* 0: not armed */
	struct notification *timer_next;
};

void notification_destroy(struct notification *n);
void notification_signal(struct notification *n, uint64_t bits);
long notification_wait(struct notification *n, bool nonblock);
void notification_cancel(struct thread *t);

/* Arm n's timer to signal bits at deadline (ns), replacing an earlier
 * setting; bits 0 disarms it. */
void notification_timer_set(struct notification *n, uint64_t bits, uint64_t deadline);
/* Signal every notification whose deadline is at or before now (ns). */
void notification_timer_expire(uint64_t now);

/* Bits pending for t's bound notification, taken (0 if none). */
uint64_t notification_take_bound(struct thread *t);

#endif
