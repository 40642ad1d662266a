/*
 * System call dispatch and the calls that manage capabilities, objects,
 * threads, tasks and memory. Every call first decodes and checks all its
 * arguments (and may fail with an error code), then acts (and cannot
 * fail). Rejections are logged with function, line, thread and reason at
 * loglevel=3.
 */
#include <stdarg.h>

#include "endpoint.h"
#include "fastpath.h"
#include "fault.h"
#include "ipc.h"
#include "irq.h"
#include "klog.h"
#include "machine.h"
#include "mapdb.h"
#include "ioport.h"
#include "memory_region.h"
#include "kmem.h"
#include "notification.h"
#include "paging.h"
#include "root.h"
#include "sched.h"
#include "serial.h"
#include "task.h"
#include "thread.h"
#include "timer.h"
#include "uaccess.h"

#include "lib/fmt.h"
#include "lib/string.h"
#include "uapi/errors.h"
#include "uapi/ipc.h"
#include "uapi/memory.h"
#include "uapi/syscalls.h"

typedef uint64_t u64;

static long reject(const char *fn, int line, int err, const char *fmt, ...)
{
	if (klog_threshold >= KLOG_DEBUG) {
		char why[160];
		va_list ap;
		va_start(ap, fmt);
		fmt_vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		kdebug("reject: %s:%d thread '%s': %s (error %d)\n", fn, line,
		       current->name, why, err);
	}
	return -err;
}
#define REJECT(err, ...) return reject(__func__, __LINE__, err, __VA_ARGS__)

static const char *const type_names[CAP_TYPE_COUNT] = {
	"null", "endpoint", "notification", "reply", "irq", "task", "thread",
	"memory", "ioport", "irq-control",
};

/* The capability in slot of the caller's table, of type (CAP_NULL: any)
 * with at least rights; 0 or an error. */
static long lookup_at(const char *fn, int line, u64 slot, unsigned type,
		      unsigned rights, struct cap **out)
{
	struct cap *c = cap_slot(&current->task->caps, slot);

	if (!c || !c->obj)
		return reject(fn, line, ERR_INVALID_CAP, "slot %lu is empty or out of range", slot);
	if (c->obj->dead)
		return reject(fn, line, ERR_INVALID_CAP, "slot %lu names a destroyed %s",
			      slot, type_names[c->obj->type]);
	if (type && c->obj->type != type)
		return reject(fn, line, ERR_WRONG_TYPE, "slot %lu is a %s, not a %s", slot,
			      type_names[c->obj->type], type_names[type]);
	if ((c->rights & rights) != rights)
		return reject(fn, line, ERR_NO_RIGHTS, "slot %lu has rights %#x, needs %#x",
			      slot, c->rights, rights);
	*out = c;
	return 0;
}
#define LOOKUP(var, slot, type, rights)                                            \
	do {                                                                       \
		long e_ = lookup_at(__func__, __LINE__, (slot), (type), (rights), &(var)); \
		if (e_)                                                            \
			return e_;                                                 \
	} while (0)

/* A task named by slot, or the caller's own for CAP_SLOT_SELF. */
static long lookup_task(const char *fn, int line, u64 slot, unsigned rights,
			struct task **out)
{
	if (slot == CAP_SLOT_SELF) {
		*out = current->task;
		return 0;
	}
	struct cap *c;
	long e = lookup_at(fn, line, slot, CAP_TASK, rights, &c);
	if (!e)
		*out = (struct task *)c->obj;
	return e;
}
#define LOOKUP_TASK(var, slot, rights)                                           \
	do {                                                                     \
		long e_ = lookup_task(__func__, __LINE__, (slot), (rights), &(var)); \
		if (e_)                                                          \
			return e_;                                               \
	} while (0)

#define NEED_EMPTY(var, task, slot)                                                   \
	do {                                                                          \
		(var) = cap_slot(&(task)->caps, (slot));                              \
		if (!(var))                                                           \
			REJECT(ERR_INVALID_CAP, "destination slot %lu out of range", (u64)(slot)); \
		if ((var)->obj)                                                       \
			REJECT(ERR_SLOT_IN_USE, "destination slot %lu is in use", (u64)(slot)); \
	} while (0)

/* ---- misc ---- */

static long sys_debug_write(u64 buf, u64 len, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	char kbuf[256];

	if (len > 4096)
		REJECT(ERR_INVALID_ARG, "length %lu over 4096", len);
	for (u64 done = 0; done < len;) {
		u64 n = len - done < sizeof(kbuf) ? len - done : sizeof(kbuf);
		if (copy_from_user(current->task, kbuf, buf + done, n))
			REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not readable", buf, len);
		for (u64 i = 0; i < n; i++)
			kprintf("%c", kbuf[i]);
		done += n;
	}
	return (long)len;
}

static long sys_yield(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	current->ticks_left = 0;
	sched_need_resched = true;
	return 0;
}

static long sys_clock(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	return (long)timer_uptime_ns();
}

static long sys_thread_exit(u64 code, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct task *task = current->task;

	/* The root task's first thread ending ends the system (tests use
	 * this to report their result as QEMU's exit status). */
	if (current == root_thread) {
		kinfo("root task exited with status %lu (IPC fast path taken %lu times)\n",
		      code, fastpath_hits);
		machine_exit(code ? MACHINE_EXIT_FAIL : MACHINE_EXIT_PASS);
	}
	if (task->supervisor)
		notification_signal(task->supervisor, task->supervisor_bits);
	kobject_destroy(&current->obj);
	return SYSCALL_NO_RESULT;
}

/* ---- objects and capabilities ---- */

static long sys_obj_create(u64 type, u64 dest, u64 arg, u64 a3, u64 a4, u64 a5, u64 a6)
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

static long sys_obj_destroy(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_NULL, CAP_RIGHT_CONTROL);
	if (c->obj->type == CAP_MEMORY || c->obj->type == CAP_IOPORT ||
	    c->obj->type == CAP_IRQ_CONTROL)
		REJECT(ERR_WRONG_TYPE, "a %s cannot be destroyed", type_names[c->obj->type]);
	if (c->obj->type == CAP_TASK && (struct task *)c->obj == root_task)
		REJECT(ERR_INVALID_ARG, "the root task cannot be destroyed");
	kobject_destroy(c->obj);
	return current->state == THREAD_READY ? 0 : SYSCALL_NO_RESULT;
}

static long sys_cap_copy(u64 src, u64 task_slot, u64 dest, u64 mask, u64 badge, u64 a5, u64 a6)
{
	struct cap *s, *d;
	struct task *dt;

	LOOKUP(s, src, CAP_NULL, 0);
	LOOKUP_TASK(dt, task_slot, CAP_RIGHT_CONTROL);
	NEED_EMPTY(d, dt, dest);
	if (badge && s->obj->type != CAP_ENDPOINT && s->obj->type != CAP_NOTIFICATION)
		REJECT(ERR_INVALID_ARG, "a %s cannot carry a badge", type_names[s->obj->type]);
	/* notify_wait returns the word as a signed result: it must stay >= 0. */
	if ((badge >> 63) && s->obj->type == CAP_NOTIFICATION)
		REJECT(ERR_INVALID_ARG, "notification badge %#lx has bit 63 set", badge);
	if (badge && s->badge)
		REJECT(ERR_INVALID_ARG, "slot %lu is badged already", src);
	cap_derive(s, d, (uint8_t)mask, badge);
	return 0;
}

static long sys_cap_move(u64 src, u64 task_slot, u64 dest, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *s, *d;
	struct task *dt;

	LOOKUP(s, src, CAP_NULL, 0);
	LOOKUP_TASK(dt, task_slot, CAP_RIGHT_CONTROL);
	NEED_EMPTY(d, dt, dest);
	cap_move_to(s, d);
	return 0;
}

static long sys_cap_delete(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c = cap_slot(&current->task->caps, slot);

	if (!c || !c->obj)
		REJECT(ERR_INVALID_CAP, "slot %lu is empty or out of range", slot);
	cap_clear(c);
	return current->state == THREAD_READY ? 0 : SYSCALL_NO_RESULT;
}

static long sys_cap_revoke(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c = cap_slot(&current->task->caps, slot);

	if (!c || !c->obj)
		REJECT(ERR_INVALID_CAP, "slot %lu is empty or out of range", slot);
	cap_revoke_children(c);
	return current->state == THREAD_READY ? 0 : SYSCALL_NO_RESULT;
}

static long sys_cap_info(u64 slot, u64 out, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c = cap_slot(&current->task->caps, slot);
	u64 info[3] = { 0, 0, 0 };

	if (!c)
		REJECT(ERR_INVALID_CAP, "slot %lu out of range", slot);
	if (c->obj) {
		info[0] = c->obj->dead ? CAP_NULL : c->obj->type;
		info[1] = c->rights;
		info[2] = c->badge;
	}
	if (copy_to_user(current->task, out, info, sizeof(info)))
		REJECT(ERR_BAD_ADDRESS, "result buffer %lx not writable", out);
	return 0;
}

/* ---- threads and tasks ---- */

static long thread_lookup(const char *fn, int line, u64 slot, unsigned rights,
			  struct thread **t)
{
	struct cap *c;
	long e = lookup_at(fn, line, slot, CAP_THREAD, rights, &c);

	if (!e)
		*t = (struct thread *)c->obj;
	return e;
}
#define LOOKUP_THREAD(var, slot, rights)                                           \
	do {                                                                       \
		long e_ = thread_lookup(__func__, __LINE__, (slot), (rights), &(var)); \
		if (e_)                                                            \
			return e_;                                                 \
	} while (0)

static void set_ref(struct kobject **field, struct kobject *o)
{
	if (o)
		kobject_get(o);
	if (*field)
		kobject_put(*field);
	*field = o;
}

static long sys_thread_configure(u64 slot, u64 cfg_ptr, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct thread *t;
	struct thread_config cfg;
	struct task *task = NULL;
	struct cap *pager = NULL, *exc = NULL, *notif = NULL;

	LOOKUP_THREAD(t, slot, CAP_RIGHT_CONTROL);
	if (copy_from_user(current->task, &cfg, cfg_ptr, sizeof(cfg)))
		REJECT(ERR_BAD_ADDRESS, "config %lx not readable", cfg_ptr);
	if (cfg.fields & ~0xFFUL)
		REJECT(ERR_INVALID_ARG, "unknown fields %#lx", cfg.fields);
	if (cfg.fields & THREAD_CFG_TASK) {
		LOOKUP_TASK(task, cfg.task, CAP_RIGHT_CONTROL);
		if (t->ksp && task != t->task)
			REJECT(ERR_BUSY, "thread already started in another task");
	}
	if ((cfg.fields & THREAD_CFG_PAGER) && cfg.pager != CAP_SLOT_NONE)
		LOOKUP(pager, cfg.pager, CAP_ENDPOINT, CAP_RIGHT_WRITE);
	if ((cfg.fields & THREAD_CFG_EXCEPTION) && cfg.exception != CAP_SLOT_NONE)
		LOOKUP(exc, cfg.exception, CAP_ENDPOINT, CAP_RIGHT_WRITE);
	if ((cfg.fields & THREAD_CFG_NOTIFY) && cfg.notification != CAP_SLOT_NONE) {
		LOOKUP(notif, cfg.notification, CAP_NOTIFICATION, CAP_RIGHT_READ);
		struct notification *n = (struct notification *)notif->obj;
		if (n->bound && n->bound != t)
			REJECT(ERR_BUSY, "notification bound to another thread");
	}
	if ((cfg.fields & THREAD_CFG_PRIORITY) && cfg.priority > current->priority)
		REJECT(ERR_INVALID_ARG, "priority %lu above the caller's %u", cfg.priority,
		       current->priority);
	if ((cfg.fields & THREAD_CFG_TIMESLICE) && (cfg.timeslice_ms < 10 || cfg.timeslice_ms > 10000))
		REJECT(ERR_INVALID_ARG, "time slice %lu ms outside 10..10000", cfg.timeslice_ms);
	if ((cfg.fields & THREAD_CFG_IPC_BUFFER) &&
	    (cfg.ipc_buffer % PAGE_SIZE || cfg.ipc_buffer >= USER_TOP))
		REJECT(ERR_BAD_ADDRESS, "IPC buffer %lx not a page-aligned user address",
		       cfg.ipc_buffer);

	/* Checked; now apply. */
	if (task)
		thread_set_task(t, task);
	if (cfg.fields & THREAD_CFG_PAGER) {
		set_ref((struct kobject **)&t->pager, pager ? pager->obj : NULL);
		t->pager_badge = pager ? pager->badge : 0;
	}
	if (cfg.fields & THREAD_CFG_EXCEPTION) {
		set_ref((struct kobject **)&t->exc_handler, exc ? exc->obj : NULL);
		t->exc_badge = exc ? exc->badge : 0;
	}
	if (cfg.fields & THREAD_CFG_NOTIFY) {
		if (t->bound)
			t->bound->bound = NULL;
		set_ref((struct kobject **)&t->bound, notif ? notif->obj : NULL);
		if (t->bound)
			t->bound->bound = t;
	}
	if (cfg.fields & THREAD_CFG_PRIORITY) {
		bool queued = t->state == THREAD_READY && t != current;
		if (queued)
			sched_dequeue(t);
		t->priority = (uint8_t)cfg.priority;
		if (queued)
			sched_enqueue(t);
		sched_need_resched = true;
	}
	if (cfg.fields & THREAD_CFG_TIMESLICE)
		t->timeslice_ticks = (uint32_t)(cfg.timeslice_ms * TIMER_HZ / 1000);
	if (cfg.fields & THREAD_CFG_IPC_BUFFER)
		t->ipc_buffer = cfg.ipc_buffer;
	if (cfg.fields & THREAD_CFG_NAME) {
		memcpy(t->name, cfg.name, THREAD_NAME_LEN);
		t->name[THREAD_NAME_LEN - 1] = 0;
	}
	return 0;
}

static long sys_thread_start(u64 slot, u64 ip, u64 sp, u64 arg, u64 a4, u64 a5, u64 a6)
{
	struct thread *t;

	LOOKUP_THREAD(t, slot, CAP_RIGHT_CONTROL);
	if (t->ksp)
		REJECT(ERR_BUSY, "thread '%s' was started already", t->name);
	if (ip >= USER_TOP || sp >= USER_TOP)
		REJECT(ERR_BAD_ADDRESS, "ip %lx or sp %lx outside user space", ip, sp);
	thread_start(t, ip, sp, arg);
	return 0;
}

static long sys_thread_suspend(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct thread *t;

	LOOKUP_THREAD(t, slot, CAP_RIGHT_CONTROL);
	t->suspended = true;
	if (t->state == THREAD_READY) {
		if (t != current)
			sched_dequeue(t);
		t->state = THREAD_INACTIVE;
	}
	return t == current ? (thread_frame(t)->rax = 0, SYSCALL_NO_RESULT) : 0;
}

static long sys_thread_resume(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct thread *t;

	LOOKUP_THREAD(t, slot, CAP_RIGHT_CONTROL);
	t->suspended = false;
	if ((t->state == THREAD_INACTIVE && t->ksp) || t->state == THREAD_STOPPED) {
		t->state = THREAD_READY;
		sched_wake(t);
	}
	return 0;
}

static long sys_thread_read_regs(u64 slot, u64 out, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct thread *t;
	struct user_regs r;

	LOOKUP_THREAD(t, slot, CAP_RIGHT_READ);
	if (t == current)
		REJECT(ERR_BUSY, "a thread cannot read its own saved registers");
	thread_get_regs(t, &r);
	if (copy_to_user(current->task, out, &r, sizeof(r)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}

static long sys_thread_write_regs(u64 slot, u64 in, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct thread *t;
	struct user_regs r;

	LOOKUP_THREAD(t, slot, CAP_RIGHT_WRITE);
	if (t == current)
		REJECT(ERR_BUSY, "a thread cannot write its own saved registers");
	if (copy_from_user(current->task, &r, in, sizeof(r)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not readable", in);
	if (r.rip >= USER_TOP || r.rsp >= USER_TOP || r.fs_base >= USER_TOP)
		REJECT(ERR_INVALID_ARG, "rip, rsp or fs_base outside user space");
	thread_set_regs(t, &r);
	return 0;
}

static long sys_task_configure(u64 slot, u64 cfg_ptr, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct task *t;
	struct task_config cfg;
	struct cap *sup = NULL;

	LOOKUP_TASK(t, slot, CAP_RIGHT_CONTROL);
	if (copy_from_user(current->task, &cfg, cfg_ptr, sizeof(cfg)))
		REJECT(ERR_BAD_ADDRESS, "config %lx not readable", cfg_ptr);
	if (cfg.fields & ~3UL)
		REJECT(ERR_INVALID_ARG, "unknown fields %#lx", cfg.fields);
	/* The supervisor watches the task: the task itself cannot detach or
	 * change it, whether it names itself by CAP_SLOT_SELF or a capability. */
	if ((cfg.fields & TASK_CFG_SUPERVISOR) && t == current->task)
		REJECT(ERR_NO_RIGHTS, "a task cannot change its own supervisor");
	if ((cfg.fields & TASK_CFG_SUPERVISOR) && cfg.supervisor != CAP_SLOT_NONE) {
		LOOKUP(sup, cfg.supervisor, CAP_NOTIFICATION, CAP_RIGHT_WRITE);
		if (cfg.supervisor_bits == 0 || (cfg.supervisor_bits >> 63))
			REJECT(ERR_INVALID_ARG, "supervisor bits %#lx: need 1..2^63-1",
			       cfg.supervisor_bits);
	}
	if (cfg.fields & TASK_CFG_SUPERVISOR) {
		set_ref((struct kobject **)&t->supervisor, sup ? sup->obj : NULL);
		t->supervisor_bits = cfg.supervisor_bits;
	}
	if (cfg.fields & TASK_CFG_REDIRECT)
		t->redirect_syscalls = cfg.redirect != 0;
	return 0;
}

static long sys_task_info(u64 slot, u64 out, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct task *t;

	LOOKUP_TASK(t, slot, CAP_RIGHT_READ);
	struct task_info info = {
		.quota_limit = t->quota_limit,
		.quota_used = t->quota_used,
		.threads = t->nthreads,
		.free_frames = kmem_frames.free,
		.cap_slots = t->caps.nslots,
		.caps_used = t->caps.used,
	};
	if (copy_to_user(current->task, out, &info, sizeof(info)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}

/* ---- IPC ---- */

/* The labels from IPC_LABEL_NOTIFY up are the kernel's (notifications,
 * faults): nobody may send them, or a receiver could not trust them. */
#define CHECK_LABEL(tag)                                                          \
	do {                                                                      \
		if (ipc_tag_label(tag) >= IPC_LABEL_NOTIFY)                       \
			REJECT(ERR_INVALID_ARG, "label %#lx is the kernel's",     \
			       ipc_tag_label(tag));                               \
	} while (0)

static long sys_ipc_send(u64 ep, u64 tag, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_WRITE);
	CHECK_LABEL(tag);
	return endpoint_send((struct endpoint *)c->obj, c->badge,
			     c->rights & CAP_RIGHT_GRANT, false, ep & IPC_NONBLOCK);
}

static long sys_ipc_call(u64 ep, u64 tag, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_WRITE);
	CHECK_LABEL(tag);
	return endpoint_send((struct endpoint *)c->obj, c->badge,
			     c->rights & CAP_RIGHT_GRANT, true, ep & IPC_NONBLOCK);
}

static long reply_lookup(const char *fn, int line, u64 slot, struct reply **r)
{
	struct cap *c;

	if (slot == CAP_SLOT_NONE) {
		*r = NULL;
		return 0;
	}
	long e = lookup_at(fn, line, slot, CAP_REPLY, CAP_RIGHT_WRITE, &c);
	if (!e)
		*r = (struct reply *)c->obj;
	return e;
}

static long sys_ipc_recv(u64 ep, u64 reply_slot, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;
	struct reply *r;
	long e;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_READ);
	if ((e = reply_lookup(__func__, __LINE__, reply_slot, &r)))
		return e;
	return endpoint_recv((struct endpoint *)c->obj, r, ep & IPC_NONBLOCK);
}

static long sys_ipc_reply(u64 reply_slot, u64 tag, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct reply *r;
	long e;

	if (reply_slot == CAP_SLOT_NONE)
		REJECT(ERR_INVALID_CAP, "no reply capability given");
	if ((e = reply_lookup(__func__, __LINE__, reply_slot, &r)))
		return e;
	CHECK_LABEL(tag);
	if (!r->caller)
		REJECT(ERR_INVALID_ARG, "nobody waits for this reply");
	return reply_send(r);
}

static long sys_ipc_reply_recv(u64 ep, u64 tag, u64 a2, u64 a3, u64 a4, u64 a5, u64 reply_slot)
{
	struct cap *c;
	struct reply *r;
	long e;

	LOOKUP(c, ep & IPC_SLOT_MASK, CAP_ENDPOINT, CAP_RIGHT_READ);
	if ((e = reply_lookup(__func__, __LINE__, reply_slot, &r)))
		return e;
	if (r)
		CHECK_LABEL(tag);
	if (r && r->caller)
		reply_send(r);
	return endpoint_recv((struct endpoint *)c->obj, r, ep & IPC_NONBLOCK);
}

static long sys_notify_signal(u64 slot, u64 bits, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
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

static long sys_notify_wait(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, slot & IPC_SLOT_MASK, CAP_NOTIFICATION, CAP_RIGHT_READ);
	return notification_wait((struct notification *)c->obj, slot & IPC_NONBLOCK);
}

static long sys_notify_timer(u64 slot, u64 bits, u64 deadline, u64 a3, u64 a4, u64 a5, u64 a6)
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

/* ---- memory, I/O ports, IRQs ---- */

static long sys_mem_map(u64 slot, u64 offset, u64 va, u64 pages, u64 rights, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_MEMORY, CAP_RIGHT_READ);
	struct memory_region *r = (struct memory_region *)c->obj;
	if (offset % PAGE_SIZE || va % PAGE_SIZE)
		REJECT(ERR_INVALID_ARG, "offset %lx or address %lx not page aligned", offset, va);
	if (pages == 0 || pages > r->size / PAGE_SIZE ||
	    offset > r->size - pages * PAGE_SIZE)
		REJECT(ERR_RANGE, "%lu pages at offset %lx outside the %lu-byte region",
		       pages, offset, r->size);
	if (va >= USER_TOP || pages > (USER_TOP - va) / PAGE_SIZE)
		REJECT(ERR_BAD_ADDRESS, "%lu pages at %lx outside user space", pages, va);
	if ((rights & IPC_MAP_WRITE) && !(c->rights & CAP_RIGHT_WRITE))
		REJECT(ERR_NO_RIGHTS, "writable mapping of a read-only region");
	for (u64 i = 0; i < pages; i++)
		if (pt_lookup(current->task->pt_root, va + i * PAGE_SIZE))
			REJECT(ERR_RANGE, "address %lx is mapped already", va + i * PAGE_SIZE);
	uint64_t flags = (rights & IPC_MAP_WRITE ? PTE_WRITE : 0) |
			 (rights & IPC_MAP_EXEC ? 0 : PTE_NX) | (r->mmio ? PTE_UNCACHED : 0);
	for (u64 i = 0; i < pages; i++) {
		int err = mapdb_map(NULL, current->task, va + i * PAGE_SIZE,
				    r->base + offset + i * PAGE_SIZE, flags);
		if (err) {
			/* Out of quota part way: undo, so nothing changed. */
			while (i--)
				mapdb_unmap(mapdb_find(current->task, va + i * PAGE_SIZE), true, false);
			REJECT(-err, "mapping page %lu of %lu failed", i, pages);
		}
	}
	return 0;
}

static long sys_mem_unmap(u64 fp, u64 flags, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	unsigned log2 = fpage_log2(fp);
	uint64_t base = fpage_base(fp);

	/* At most 1 GiB, as for IPC items: the walk below is per page and
	 * must stay short (the kernel is not preemptible). */
	if (log2 < 12 || log2 > 30 || base & ((1UL << log2) - 1) || base >= USER_TOP ||
	    (1UL << log2) > USER_TOP - base)
		REJECT(ERR_INVALID_ARG, "bad flexpage %lx (4 KiB..1 GiB, aligned)", fp);
	if (flags & ~(u64)(MEM_UNMAP_SELF | MEM_UNMAP_WRITE_ONLY))
		REJECT(ERR_INVALID_ARG, "unknown flags %#lx", flags);
	for (uint64_t off = 0; off < (1UL << log2); off += PAGE_SIZE) {
		struct mapping *m = mapdb_find(current->task, base + off);
		if (m)
			mapdb_unmap(m, flags & MEM_UNMAP_SELF, flags & MEM_UNMAP_WRITE_ONLY);
	}
	return 0;
}

static long sys_mem_info(u64 slot, u64 out, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_MEMORY, 0);
	struct memory_region *r = (struct memory_region *)c->obj;
	struct mem_info info = { r->base, r->size, r->mmio ? MEM_INFO_MMIO : 0 };
	if (copy_to_user(current->task, out, &info, sizeof(info)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}

static long sys_ioport_map(u64 slot, u64 base, u64 count, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_IOPORT, CAP_RIGHT_WRITE);
	struct ioport_range *r = (struct ioport_range *)c->obj;
	if (count == 0 || base < r->base || count > r->count || base - r->base > r->count - count)
		REJECT(ERR_RANGE, "ports %lx+%lu outside the capability's range", base, count);
	for (u64 p = base; p < base + count; p++)
		if (ioport_reserved(p))
			REJECT(ERR_RANGE, "port %lx belongs to the kernel", p);
	if (task_allow_ioports(current->task, base, count))
		REJECT(ERR_NO_MEMORY, "no quota for the I/O bitmap");
	return 0;
}

static long sys_irq_create(u64 control, u64 gsi_flags, u64 dest, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c, *d;
	unsigned gsi = gsi_flags & 0xFFFF;

	LOOKUP(c, control, CAP_IRQ_CONTROL, CAP_RIGHT_CONTROL);
	NEED_EMPTY(d, current->task, dest);
	if (gsi_flags & ~(IRQ_FLAG_LEVEL | IRQ_FLAG_ACTIVE_LOW | 0xFFFF))
		REJECT(ERR_INVALID_ARG, "unknown flags in %#lx", gsi_flags);
	if (!irq_can_claim(gsi, gsi_flags & IRQ_FLAG_LEVEL, gsi_flags & IRQ_FLAG_ACTIVE_LOW))
		REJECT(ERR_BUSY, "IRQ input %u does not exist, or is taken and cannot be shared",
		       gsi);
	struct irq *irq = irq_claim(current->task, gsi, gsi_flags & IRQ_FLAG_LEVEL,
				    gsi_flags & IRQ_FLAG_ACTIVE_LOW);
	if (!irq)
		REJECT(ERR_NO_MEMORY, "quota exhausted");
	cap_install(&current->task->caps, dest, &irq->obj, CAP_RIGHTS_ALL, 0);
	kobject_put(&irq->obj);
	return 0;
}

static long sys_irq_bind(u64 slot, u64 notif_slot, u64 bits, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c, *n = NULL;

	LOOKUP(c, slot, CAP_IRQ, CAP_RIGHT_CONTROL);
	if (notif_slot != CAP_SLOT_NONE) {
		LOOKUP(n, notif_slot, CAP_NOTIFICATION, CAP_RIGHT_WRITE);
		if (bits == 0 || (bits >> 63))
			REJECT(ERR_INVALID_ARG, "bits %#lx: need 1..2^63-1", bits);
	}
	irq_bind((struct irq *)c->obj, n ? (struct notification *)n->obj : NULL, bits);
	return 0;
}

/* The serial console's input belongs to whoever holds its IRQ. */
static long sys_serial_read(u64 slot, u64 buf, u64 len, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;
	char in[64];
	u64 n = 0;
	int ch;

	LOOKUP(c, slot, CAP_IRQ, CAP_RIGHT_READ);
	if (((struct irq *)c->obj)->gsi != SERIAL_GSI)
		REJECT(ERR_INVALID_ARG, "IRQ %u is not the serial port's (%u)",
		       ((struct irq *)c->obj)->gsi, SERIAL_GSI);
	if (len > sizeof(in))
		len = sizeof(in);
	/* Check the buffer before a byte is taken from the UART. */
	if (len && (buf >= USER_TOP || len > USER_TOP - buf ||
		    !user_page_ptr(current->task, buf, true) ||
		    !user_page_ptr(current->task, buf + len - 1, true)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not writable", buf, len);
	while (n < len && (ch = serial_getc()) >= 0)
		in[n++] = (char)ch;
	if (n && copy_to_user(current->task, buf, in, n))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not writable", buf, n);
	return (long)n;
}

static long sys_irq_ack(u64 slot, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5, u64 a6)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_IRQ, CAP_RIGHT_WRITE);
	irq_ack((struct irq *)c->obj);
	return 0;
}

/* ---- dispatch ---- */

typedef long (*syscall_fn)(u64, u64, u64, u64, u64, u64, u64);

static const syscall_fn syscall_table[SYS_COUNT] = {
#define MICA_SYSCALL_ENTRY(nr, name, nargs) [nr] = sys_##name,
	MICA_SYSCALLS(MICA_SYSCALL_ENTRY)
#undef MICA_SYSCALL_ENTRY
};

void syscall_entry_c(struct trap_frame *f)
{
	struct thread *self = current;

	if (self->task->redirect_syscalls) {
		fault_syscall_redirect(f);
	} else if ((f->rax == SYS_ipc_call && fastpath_call(f)) ||
		   (f->rax == SYS_ipc_reply_recv && fastpath_reply_recv(f))) {
		/* done: the registers were set by whoever answered */
	} else {
		long r;
		if (f->rax >= SYS_COUNT)
			r = reject(__func__, __LINE__, ERR_NO_SYSCALL, "no system call %lu", f->rax);
		else
			r = syscall_table[f->rax](f->rdi, f->rsi, f->rdx, f->r10, f->r8,
						  f->r9, f->r12);
		if (r != SYSCALL_NO_RESULT)
			f->rax = (uint64_t)r;
	}
	if (sched_need_resched || current->state != THREAD_READY)
		schedule();
}
