#include "object.h"
#include "endpoint.h"
#include "irq.h"
#include "klog.h"
#include "kmem.h"
#include "notification.h"
#include "task.h"
#include "thread.h"

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
