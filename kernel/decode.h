/*
 * Decoding system-call arguments, for the handlers (syscall.h): capability
 * lookups that check range, liveness, type and rights, and the rejection
 * log. Each macro returns from the calling handler with -ERR_* when its
 * check fails, after logging (at loglevel=3) the handler, line, thread and
 * reason: `reject: FUNCTION:LINE thread 'NAME': REASON (error N)`.
 */
#ifndef MICA_DECODE_H
#define MICA_DECODE_H

#include <stdint.h>

#include "cap.h"

struct task;

/* Log why the current thread's call is refused; returns -err. */
long reject(const char *fn, int line, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The capability in slot of the caller's table, of type (CAP_NULL: any)
 * with at least rights; 0, or -ERR_INVALID_CAP (out of range, empty, or
 * naming a destroyed object), -ERR_WRONG_TYPE, -ERR_NO_RIGHTS. */
long decode_cap(const char *fn, int line, uint64_t slot, unsigned type,
		unsigned rights, struct cap **out);

/* A task named by slot with rights, or the caller's own for
 * CAP_SLOT_SELF (no capability needed); errors as decode_cap. */
long decode_task(const char *fn, int line, uint64_t slot, unsigned rights,
		 struct task **out);

/* The empty slot of task's table; 0, -ERR_INVALID_CAP (out of range) or
 * -ERR_SLOT_IN_USE. */
long decode_empty_slot(const char *fn, int line, struct task *task, uint64_t slot,
		       struct cap **out);

#define REJECT(err, ...) return reject(__func__, __LINE__, (err), __VA_ARGS__)

#define DECODE_OR_RETURN(call)            \
	do {                              \
		long e_ = (call);         \
		if (e_)                   \
			return e_;        \
	} while (0)

/* var = the capability (struct cap *) in slot. */
#define LOOKUP(var, slot, type, rights) \
	DECODE_OR_RETURN(decode_cap(__func__, __LINE__, (slot), (type), (rights), &(var)))

/* var = the object the capability in slot names (type's struct pointer). */
#define LOOKUP_OBJECT(var, slot, type, rights)         \
	do {                                           \
		struct cap *c_;                        \
		LOOKUP(c_, (slot), (type), (rights));  \
		(var) = (void *)c_->obj;               \
	} while (0)

/* var = the task named by slot (CAP_SLOT_SELF: the caller's). */
#define LOOKUP_TASK(var, slot, rights) \
	DECODE_OR_RETURN(decode_task(__func__, __LINE__, (slot), (rights), &(var)))

/* var = the empty slot of task's table, to be filled. */
#define NEED_EMPTY(var, task, slot) \
	DECODE_OR_RETURN(decode_empty_slot(__func__, __LINE__, (task), (slot), &(var)))

#endif
