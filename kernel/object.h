/*
 * Kernel objects: the common header, reference counting and accounting.
 *
 * Every object begins with struct kobject. Capabilities hold references;
 * so do threads (their task, pager and exception endpoints, bound
 * notification) and objects charged to a task (the task). An object is
 * destroyed explicitly (obj_destroy) or when its last reference goes; its
 * memory is freed and its charge returned to the task that paid for it
 * when the last reference goes.
 */
#ifndef MICA_OBJECT_H
#define MICA_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/cap.h"

struct task;

struct kobject {
	uint8_t type;           /* enum cap_type */
	bool dead;              /* destroyed; only references keep it */
	uint32_t refs;
	size_t size;            /* bytes charged */
	struct task *charged;   /* paid for it (holds a reference), or NULL */
	struct kobject *charged_next, *charged_prev; /* on charged->objects */
};

/*
 * Allocate size bytes of zeroed object, charged to task's quota (NULL:
 * kernel-owned, for boot objects). Returns NULL when the quota or the
 * kernel's memory is exhausted. The object starts with one reference.
 */
void *kobject_alloc(struct task *charged, uint8_t type, size_t size);

static inline void kobject_get(struct kobject *o) { o->refs++; }

/* Point *field at o (NULL: at nothing), taking a reference on o and then
 * dropping the one *field held. */
void kobject_set_ref(struct kobject **field, struct kobject *o);

/* Drop a reference: destroy (if not yet) and free at zero. */
void kobject_put(struct kobject *o);

/* Tear the object down now (wake its waiters with ERR_DELETED, release
 * what it holds); its memory stays until the last reference goes. */
void kobject_destroy(struct kobject *o);

#endif
