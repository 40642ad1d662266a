#include "object.h"
#include "decode.h"
#include "endpoint.h"
#include "irq.h"
#include "klog.h"
#include "kmem.h"
#include "notification.h"
#include "root.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"
#include "thread.h"

#include "uapi/errors.h"

static void charged_link(struct task *t, struct kobject *o)
{
	struct kobject *head = &t->objects;

	o->charged_next = head->charged_next;
	o->charged_prev = head;
	head->charged_next->charged_prev = o;
	head->charged_next = o;
}

static void charged_unlink(struct kobject *o)
{
	o->charged_prev->charged_next = o->charged_next;
	o->charged_next->charged_prev = o->charged_prev;
	o->charged_next = o->charged_prev = NULL;
}

void *kobject_alloc(struct task *charged, uint8_t type, size_t size)
{
	if (charged && !task_charge(charged, size))
		return NULL;
	struct kobject *o = kmalloc(size);
	if (!o) {
		if (charged)
			task_refund(charged, size);
		return NULL;
	}
	o->type = type;
	o->refs = 1;
	o->size = size;
	o->charged = charged;
	if (charged) {
		kobject_get(&charged->obj);
		charged_link(charged, o);
	}
	return o;
}

void kobject_destroy(struct kobject *o)
{
	if (o->dead)
		return;
	o->dead = true;
	kobject_get(o);         /* keep it while tearing down */
	switch (o->type) {
	case CAP_ENDPOINT: endpoint_destroy((struct endpoint *)o); break;
	case CAP_NOTIFICATION: notification_destroy((struct notification *)o); break;
	case CAP_REPLY: reply_destroy((struct reply *)o); break;
	case CAP_THREAD: thread_destroy((struct thread *)o); break;
	case CAP_TASK: task_destroy((struct task *)o); break;
	case CAP_IRQ: irq_destroy((struct irq *)o); break;
	default: break;
	}
	kobject_put(o);
}

static void kobject_free(struct kobject *o)
{
	struct task *charged = o->charged;
	size_t size = o->size;

	switch (o->type) {
	case CAP_THREAD: thread_free((struct thread *)o); break;
	case CAP_TASK: task_free((struct task *)o); break;
	default: break;
	}
	if (charged)
		charged_unlink(o);
	kfree(o, size);
	if (charged) {
		task_refund(charged, size);
		kobject_put(&charged->obj);
	}
}

void kobject_set_ref(struct kobject **field, struct kobject *o)
{
	struct kobject *old = *field;

	if (o)
		kobject_get(o);
	*field = o;
	if (old)
		kobject_put(old);
}

void kobject_put(struct kobject *o)
{
	kassert(o->refs > 0);
	if (o->refs == 1 && !o->dead) {
		/* Last reference: tear down first (this may take and drop
		 * references of its own). */
		kobject_destroy(o);
	}
	if (--o->refs == 0)
		kobject_free(o);
}

/* ---- system calls ---- */

long sys_obj_create(uint64_t type, uint64_t dest, uint64_t arg)
{
	struct task *self = current->task;
	struct cap *slot;
	struct kobject *obj;
	size_t size;

	NEED_EMPTY(slot, self, dest);
	switch (type) {
	case CAP_ENDPOINT: size = sizeof(struct endpoint); break;
	case CAP_NOTIFICATION: size = sizeof(struct notification); break;
	case CAP_REPLY: size = sizeof(struct reply); break;
	case CAP_TASK:
		if (arg < 64 * 1024)
			REJECT(ERR_INVALID_ARG, "task quota %lu under 64 KiB", arg);
		obj = (struct kobject *)task_create(self, arg);
		if (!obj)
			REJECT(ERR_NO_MEMORY, "no quota for a task with %lu bytes", arg);
		goto install;
	case CAP_THREAD: {
		struct task *runs_in;
		LOOKUP_TASK(runs_in, arg, CAP_RIGHT_CONTROL);
		obj = (struct kobject *)thread_create(self, runs_in);
		if (!obj)
			REJECT(ERR_NO_MEMORY, "no quota for a thread");
		goto install;
	}
	default:
		REJECT(ERR_INVALID_ARG, "cannot create objects of type %lu", type);
	}
	obj = kobject_alloc(self, (uint8_t)type, size);
	if (!obj)
		REJECT(ERR_NO_MEMORY, "quota exhausted (%lu of %lu bytes used)",
		       self->quota_used, self->quota_limit);
install:
	cap_install(&self->caps, dest, obj, CAP_RIGHTS_ALL, 0);
	kobject_put(obj);       /* the capability holds it now */
	return 0;
}

long sys_obj_destroy(uint64_t slot)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_NULL, CAP_RIGHT_CONTROL);
	if (c->obj->type == CAP_MEMORY || c->obj->type == CAP_IOPORT ||
	    c->obj->type == CAP_IRQ_CONTROL)
		REJECT(ERR_WRONG_TYPE, "a %s cannot be destroyed", cap_type_name(c->obj->type));
	if (c->obj->type == CAP_TASK && (struct task *)c->obj == root_task)
		REJECT(ERR_INVALID_ARG, "the root task cannot be destroyed");
	kobject_destroy(c->obj);
	return current->state == THREAD_READY ? 0 : SYSCALL_NO_RESULT;
}
