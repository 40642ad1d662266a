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
};

void notification_destroy(struct notification *n);
void notification_signal(struct notification *n, uint64_t bits);
long notification_wait(struct notification *n, bool nonblock);
void notification_cancel(struct thread *t);

/* Bits pending for t's bound notification, taken (0 if none). */
uint64_t notification_take_bound(struct thread *t);

#endif
