#include "thread.h"
#include "endpoint.h"
#include "gdt.h"
#include "layout.h"
#include "klog.h"
#include "kmem.h"
#include "notification.h"
#include "percpu.h"
#include "sched.h"
#include "task.h"

#include "lib/string.h"

#define DEFAULT_TIMESLICE_TICKS 5

/* FPU state every new thread starts from (after fninit, default MXCSR). */
static uint8_t fpu_template[512] __attribute__((aligned(16)));
static bool fpu_template_ready;

struct thread *thread_create(struct task *charged, struct task *runs_in)
{
	if (!fpu_template_ready) {
		__asm__ volatile("fninit; fxsave64 (%0)" : : "r"(fpu_template) : "memory");
		fpu_template_ready = true;
	}
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
	memcpy(t->fpu, fpu_template, sizeof(t->fpu));
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

static void drop_ref(struct kobject **o)
{
	if (*o) {
		struct kobject *x = *o;
		*o = NULL;
		kobject_put(x);
	}
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
	drop_ref((struct kobject **)&t->bound);
	drop_ref((struct kobject **)&t->pager);
	drop_ref((struct kobject **)&t->exc_handler);
	drop_ref((struct kobject **)&t->reply);
	thread_set_task(t, NULL);
	if (t == current)
		sched_need_resched = true;
}

void thread_set_task(struct thread *t, struct task *task)
{
	struct task *old = t->task;

	if (old == task)
		return;
	if (task) {
		kobject_get(&task->obj);
		t->task_prev = NULL;
		t->task_next = task->threads;
		if (task->threads)
			task->threads->task_prev = t;
		task->threads = t;
		task->nthreads++;
	}
	t->task = task;
	if (old) {
		if (t->task_prev)
			t->task_prev->task_next = t->task_next;
		else
			old->threads = t->task_next;
		if (t->task_next)
			t->task_next->task_prev = t->task_prev;
		old->nthreads--;
		kobject_put(&old->obj);
	}
	if (!task)
		t->task_next = t->task_prev = NULL;
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
	kinfo("thread %s stopped: %s\n", t->name, why);
	t->state = THREAD_STOPPED;
	t->fault_pending = false;
	if (t == current)
		sched_need_resched = true;
	struct task *task = t->task;
	if (task && task->supervisor)
		notification_signal(task->supervisor, task->supervisor_bits);
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
	t->fs_base = r->fs_base < USER_TOP ? r->fs_base : 0;
	if (t == current)
		__asm__ volatile("wrmsr" : : "c"(0xC0000100), "a"((uint32_t)t->fs_base),
				 "d"((uint32_t)(t->fs_base >> 32)));
}
