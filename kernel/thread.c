#include "thread.h"
#include "decode.h"
#include "endpoint.h"
#include "gdt.h"
#include "ipc.h"
#include "layout.h"
#include "klog.h"
#include "kmem.h"
#include "notification.h"
#include "percpu.h"
#include "root.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"
#include "fpu.h"
#include "timer.h"
#include "uaccess.h"

#include "lib/string.h"
#include "uapi/errors.h"

#define DEFAULT_TIMESLICE_TICKS 5

struct thread *thread_create(struct task *charged, struct task *runs_in)
{
	if (!task_charge(charged, THREAD_KSTACK_SIZE))
		return NULL;
	struct thread *t = kobject_alloc(charged, CAP_THREAD, sizeof(*t));
	if (!t) {
		task_refund(charged, THREAD_KSTACK_SIZE);
		return NULL;
	}
	t->kstack = kmalloc(THREAD_KSTACK_SIZE);
	if (!t->kstack) {
		task_refund(charged, THREAD_KSTACK_SIZE);
		kobject_put(&t->obj);
		return NULL;
	}
	t->state = THREAD_INACTIVE;
	thread_set_task(t, runs_in);
	t->priority = current ? current->priority : 0;   /* never above its creator's */
	t->timeslice_ticks = DEFAULT_TIMESLICE_TICKS;
	fpu_init_state(t->fpu);
	memcpy(t->name, "thread", 7);
	return t;
}

void thread_start(struct thread *t, uint64_t ip, uint64_t sp, uint64_t arg)
{
	struct trap_frame *f = thread_frame(t);

	memset(f, 0, sizeof(*f));
	f->rip = ip;
	f->rsp = sp;
	f->rdi = arg;
	f->rflags = 0x202;
	f->cs = SEL_USER_CODE;
	f->ss = SEL_USER_DATA;
	/* switch_context pops six callee-saved registers, then returns. */
	uint64_t *ksp = (uint64_t *)f;
	*--ksp = (uint64_t)thread_first_entry;
	for (int i = 0; i < 6; i++)
		*--ksp = 0;
	t->ksp = (uint64_t)ksp;
	t->fs_base = t->ipc_buffer;     /* the runtime finds its buffer through FS */
	t->state = THREAD_READY;
	t->suspended = false;
	sched_wake(t);
}

void thread_cancel_wait(struct thread *t)
{
	switch (t->state) {
	case THREAD_READY:
		if (t != current)
			sched_dequeue(t);
		break;
	case THREAD_BLOCKED_SEND:
	case THREAD_BLOCKED_RECV:
	case THREAD_BLOCKED_REPLY:
		endpoint_cancel(t);
		break;
	case THREAD_BLOCKED_NOTIFY:
		notification_cancel(t);
		break;
	default:
		break;
	}
	t->fault_pending = false;
}

bool thread_unblock(struct thread *t)
{
	t->waiting_on = NULL;
	if (t->suspended) {
		t->state = THREAD_INACTIVE;
		return false;
	}
	t->state = THREAD_READY;
	return true;
}

void thread_wake(struct thread *t, long result)
{
	thread_frame(t)->rax = (uint64_t)result;
	if (thread_unblock(t))
		sched_wake(t);
}

void thread_destroy(struct thread *t)
{
	thread_cancel_wait(t);
	/* A server thread dying between receive and reply: its reply object
	 * stays bound; the caller is failed when the object goes. */
	t->state = THREAD_DEAD;
	if (t->bound) {
		t->bound->bound = NULL;
	}
	kobject_set_ref((struct kobject **)&t->bound, NULL);
	kobject_set_ref((struct kobject **)&t->pager, NULL);
	kobject_set_ref((struct kobject **)&t->exc_handler, NULL);
	kobject_set_ref((struct kobject **)&t->reply, NULL);
	thread_set_task(t, NULL);
	if (t == current)
		sched_need_resched = true;
}

void thread_set_task(struct thread *t, struct task *task)
{
	struct task *old = t->task;

	if (old == task)
		return;
	ipc_buffer_forget(t);
	t->recv_caps.gen = 0;           /* another capability table */
	/* Out of the old task's list before the links are reused for the
	 * new one's. */
	if (old) {
		if (t->task_prev)
			t->task_prev->task_next = t->task_next;
		else
			old->threads = t->task_next;
		if (t->task_next)
			t->task_next->task_prev = t->task_prev;
		old->nthreads--;
	}
	t->task_next = t->task_prev = NULL;
	if (task) {
		kobject_get(&task->obj);
		t->task_next = task->threads;
		if (task->threads)
			task->threads->task_prev = t;
		task->threads = t;
		task->nthreads++;
	}
	t->task = task;
	if (old)
		kobject_put(&old->obj);
}

void thread_free(struct thread *t)
{
	if (t->kstack) {
		kfree(t->kstack, THREAD_KSTACK_SIZE);
		t->kstack = NULL;
		if (t->obj.charged)
			task_refund(t->obj.charged, THREAD_KSTACK_SIZE);
	}
}

void thread_stop_faulted(struct thread *t, const char *why)
{
	klog_limited(KLOG_INFO, "thread %s stopped: %s\n", t->name, why);
	t->state = THREAD_STOPPED;
	t->fault_pending = false;
	if (t == current)
		sched_need_resched = true;
	struct task *task = t->task;
	if (task && task->supervisor)
		notification_signal(task->supervisor, task->supervisor_bits);
	if (t == root_thread)
		root_thread_stopped(why);
}

void thread_get_regs(struct thread *t, struct user_regs *r)
{
	const struct trap_frame *f = thread_frame(t);

	r->rip = f->rip; r->rsp = f->rsp; r->rflags = f->rflags;
	r->rax = f->rax; r->rbx = f->rbx; r->rcx = f->rcx; r->rdx = f->rdx;
	r->rsi = f->rsi; r->rdi = f->rdi; r->rbp = f->rbp;
	r->r8 = f->r8; r->r9 = f->r9; r->r10 = f->r10; r->r11 = f->r11;
	r->r12 = f->r12; r->r13 = f->r13; r->r14 = f->r14; r->r15 = f->r15;
	r->fs_base = t->fs_base;
}

void thread_set_regs(struct thread *t, const struct user_regs *r)
{
	struct trap_frame *f = thread_frame(t);

	/* Only user-controllable state: flags limited to the arithmetic,
	 * direction and trap bits, interrupts always on; addresses must be
	 * canonical user addresses or iretq would fault in the kernel. */
	f->rip = r->rip < USER_TOP ? r->rip : 0;
	f->rsp = r->rsp < USER_TOP ? r->rsp : 0;
	f->rflags = (r->rflags & 0xDD5) | 0x202;
	f->rax = r->rax; f->rbx = r->rbx; f->rcx = r->rcx; f->rdx = r->rdx;
	f->rsi = r->rsi; f->rdi = r->rdi; f->rbp = r->rbp;
	f->r8 = r->r8; f->r9 = r->r9; f->r10 = r->r10; f->r11 = r->r11;
	f->r12 = r->r12; f->r13 = r->r13; f->r14 = r->r14; f->r15 = r->r15;
	if (f->vector == VEC_SYSCALL)
		f->vector = VEC_SYSCALL_REWRITTEN;     /* leaves by iretq */
	t->fs_base = r->fs_base < USER_TOP ? r->fs_base : 0;
	if (t == current)
		__asm__ volatile("wrmsr" : : "c"(0xC0000100), "a"((uint32_t)t->fs_base),
				 "d"((uint32_t)(t->fs_base >> 32)));
}

/* ---- system calls ---- */

long sys_thread_exit(uint64_t code)
{
	struct task *task = current->task;

	if (current == root_thread)
		root_thread_exited(code);
	task->exits++;
	task->exit_code = code;
	if (task->supervisor)
		notification_signal(task->supervisor, task->supervisor_bits);
	kobject_destroy(&current->obj);
	return SYSCALL_NO_RESULT;
}

long sys_thread_configure(uint64_t slot, uint64_t cfg_ptr)
{
	struct thread *t;
	struct thread_config cfg;
	struct task *task = NULL;
	struct cap *pager = NULL, *exc = NULL, *notif = NULL;

	LOOKUP_OBJECT(t, slot, CAP_THREAD, CAP_RIGHT_CONTROL);
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
		kobject_set_ref((struct kobject **)&t->pager, pager ? pager->obj : NULL);
		t->pager_badge = pager ? pager->badge : 0;
	}
	if (cfg.fields & THREAD_CFG_EXCEPTION) {
		kobject_set_ref((struct kobject **)&t->exc_handler, exc ? exc->obj : NULL);
		t->exc_badge = exc ? exc->badge : 0;
	}
	if (cfg.fields & THREAD_CFG_NOTIFY) {
		if (t->bound)
			t->bound->bound = NULL;
		kobject_set_ref((struct kobject **)&t->bound, notif ? notif->obj : NULL);
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
	if (cfg.fields & THREAD_CFG_IPC_BUFFER) {
		t->ipc_buffer = cfg.ipc_buffer;
		ipc_buffer_forget(t);
	}
	if (cfg.fields & THREAD_CFG_NAME) {
		memcpy(t->name, cfg.name, THREAD_NAME_LEN);
		t->name[THREAD_NAME_LEN - 1] = 0;
	}
	return 0;
}

long sys_thread_start(uint64_t slot, uint64_t ip, uint64_t sp, uint64_t arg)
{
	struct thread *t;

	LOOKUP_OBJECT(t, slot, CAP_THREAD, CAP_RIGHT_CONTROL);
	if (t->ksp)
		REJECT(ERR_BUSY, "thread '%s' was started already", t->name);
	if (ip >= USER_TOP || sp >= USER_TOP)
		REJECT(ERR_BAD_ADDRESS, "ip %lx or sp %lx outside user space", ip, sp);
	thread_start(t, ip, sp, arg);
	return 0;
}

long sys_thread_suspend(uint64_t slot)
{
	struct thread *t;

	LOOKUP_OBJECT(t, slot, CAP_THREAD, CAP_RIGHT_CONTROL);
	/* 1: it waits in an IPC or a notification (its saved registers are
	 * those of the call, which its completion will change). */
	long blocked = t->state >= THREAD_BLOCKED_SEND && t->state <= THREAD_BLOCKED_NOTIFY;
	t->suspended = true;
	if (t->state == THREAD_READY) {
		if (t != current)
			sched_dequeue(t);
		t->state = THREAD_INACTIVE;
	}
	return t == current ? (thread_frame(t)->rax = 0, SYSCALL_NO_RESULT) : blocked;
}

long sys_thread_resume(uint64_t slot)
{
	struct thread *t;

	LOOKUP_OBJECT(t, slot, CAP_THREAD, CAP_RIGHT_CONTROL);
	t->suspended = false;
	if ((t->state == THREAD_INACTIVE && t->ksp) || t->state == THREAD_STOPPED) {
		t->state = THREAD_READY;
		sched_wake(t);
	}
	return 0;
}

/* The thread in slot, whose saved registers the caller reads or writes:
 * not the caller itself, whose registers are live. */
static long decode_saved_regs(uint64_t slot, unsigned rights, struct thread **t)
{
	LOOKUP_OBJECT(*t, slot, CAP_THREAD, rights);
	if (*t == current)
		REJECT(ERR_BUSY, "a thread cannot %s its own saved registers",
		       rights == CAP_RIGHT_READ ? "read" : "write");
	return 0;
}

long sys_thread_read_regs(uint64_t slot, uint64_t out)
{
	struct thread *t;
	struct user_regs r;

	if (slot & THREAD_REGS_CPUTIMES) {
		LOOKUP_OBJECT(t, slot & ~THREAD_REGS_CPUTIMES, CAP_THREAD, CAP_RIGHT_READ);
		struct thread_cputimes c = { timer_cycles_to_ns(sched_cpu_cycles(t)), t->user_ticks,
					     t->system_ticks };
		if (copy_to_user(current->task, out, &c, sizeof(c)))
			REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
		return 0;
	}
	if (slot & THREAD_REGS_CPUTIME) {
		LOOKUP_OBJECT(t, slot & ~THREAD_REGS_CPUTIME, CAP_THREAD, CAP_RIGHT_READ);
		uint64_t ns = timer_cycles_to_ns(sched_cpu_cycles(t));
		if (copy_to_user(current->task, out, &ns, sizeof(ns)))
			REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
		return 0;
	}
	if (slot & THREAD_REGS_FPU) {
		DECODE_OR_RETURN(decode_saved_regs(slot & ~THREAD_REGS_FPU, CAP_RIGHT_READ, &t));
		if (copy_to_user(current->task, out, t->fpu, sizeof(t->fpu)))
			REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
		return 0;
	}
	DECODE_OR_RETURN(decode_saved_regs(slot, CAP_RIGHT_READ, &t));
	thread_get_regs(t, &r);
	if (copy_to_user(current->task, out, &r, sizeof(r)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}

long sys_thread_write_regs(uint64_t slot, uint64_t in)
{
	struct thread *t;
	struct user_regs r;

	if (slot & THREAD_REGS_FPU) {
		uint8_t fpu[sizeof(t->fpu)];
		const char *bad;
		DECODE_OR_RETURN(decode_saved_regs(slot & ~THREAD_REGS_FPU, CAP_RIGHT_WRITE, &t));
		if (copy_from_user(current->task, fpu, in, sizeof(fpu)))
			REJECT(ERR_BAD_ADDRESS, "buffer %lx not readable", in);
		if ((bad = fpu_check(fpu)))     /* xrstor would fault in the kernel */
			REJECT(ERR_INVALID_ARG, "FPU state: %s", bad);
		memcpy(t->fpu, fpu, sizeof(fpu));
		return 0;
	}
	DECODE_OR_RETURN(decode_saved_regs(slot, CAP_RIGHT_WRITE, &t));
	if (copy_from_user(current->task, &r, in, sizeof(r)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not readable", in);
	if (r.rip >= USER_TOP || r.rsp >= USER_TOP || r.fs_base >= USER_TOP)
		REJECT(ERR_INVALID_ARG, "rip, rsp or fs_base outside user space");
	thread_set_regs(t, &r);
	return 0;
}
