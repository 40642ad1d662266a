#include <stdarg.h>

#include "decode.h"
#include "klog.h"
#include "sched.h"
#include "task.h"

#include "lib/fmt.h"
#include "uapi/errors.h"

long reject(const char *fn, int line, int err, const char *fmt, ...)
{
	if (klog_threshold >= KLOG_DEBUG) {
		char why[160];
		va_list ap;
		va_start(ap, fmt);
		fmt_vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		klog_limited(KLOG_DEBUG, "reject: %s:%d thread '%s': %s (error %d)\n", fn, line,
			     current->name, why, err);
	}
	return -err;
}

long decode_cap(const char *fn, int line, uint64_t slot, unsigned type,
		unsigned rights, struct cap **out)
{
	struct cap *c = cap_slot(&current->task->caps, slot);

	if (!c || !c->obj)
		return reject(fn, line, ERR_INVALID_CAP, "slot %lu is empty or out of range", slot);
	if (c->obj->dead)
		return reject(fn, line, ERR_INVALID_CAP, "slot %lu names a destroyed %s",
			      slot, cap_type_name(c->obj->type));
	if (type && c->obj->type != type)
		return reject(fn, line, ERR_WRONG_TYPE, "slot %lu is a %s, not a %s", slot,
			      cap_type_name(c->obj->type), cap_type_name(type));
	if ((c->rights & rights) != rights)
		return reject(fn, line, ERR_NO_RIGHTS, "slot %lu has rights %#x, needs %#x",
			      slot, c->rights, rights);
	*out = c;
	return 0;
}

long decode_task(const char *fn, int line, uint64_t slot, unsigned rights,
		 struct task **out)
{
	if (slot == CAP_SLOT_SELF) {
		*out = current->task;
		return 0;
	}
	struct cap *c;
	long e = decode_cap(fn, line, slot, CAP_TASK, rights, &c);
	if (!e)
		*out = (struct task *)c->obj;
	return e;
}

long decode_empty_slot(const char *fn, int line, struct task *task, uint64_t slot,
		       struct cap **out)
{
	struct cap *c = cap_slot(&task->caps, slot);

	if (!c)
		return reject(fn, line, ERR_INVALID_CAP, "destination slot %lu out of range", slot);
	if (c->obj)
		return reject(fn, line, ERR_SLOT_IN_USE, "destination slot %lu is in use", slot);
	*out = c;
	return 0;
}
