#include "sched.h"
#include "sched_switch.h"
#include "cpu.h"
#include "gdt.h"
#include "klog.h"
#include "percpu.h"
#include "syscall.h"
#include "endpoint.h"
#include "task.h"

#include "lib/string.h"

struct thread *current;
bool sched_need_resched;

/* One circular queue per priority, and a bitmap of non-empty ones. */
static struct thread *ready[256];
static uint64_t ready_bits[4];
uint64_t sched_ready_words;         /* bit w: ready_bits[w] is not 0 */
static struct thread idle_thread;
static uint8_t idle_stack[4096] __attribute__((aligned(16)));
/* The thread we just switched away from. The running thread holds a
 * reference to itself, dropped only once we are off its stack, so a thread
 * that destroys itself is freed after the switch. */
struct thread *sched_switched_from;

void sched_enqueue(struct thread *t)
{
	struct thread **q = &ready[t->priority];

	if (t == &idle_thread)
		return;
	kassert(!t->queue_next);
	if (*q) {
		t->queue_next = *q;
		t->queue_prev = (*q)->queue_prev;
		(*q)->queue_prev->queue_next = t;
		(*q)->queue_prev = t;
	} else {
		t->queue_next = t->queue_prev = t;
		*q = t;
		ready_bits[t->priority / 64] |= 1ULL << (t->priority % 64);
		sched_ready_words |= 1ULL << (t->priority / 64);
	}
}

void sched_dequeue(struct thread *t)
{
	struct thread **q = &ready[t->priority];

	if (!t->queue_next)
		return;
	if (t->queue_next == t) {
		*q = NULL;
		ready_bits[t->priority / 64] &= ~(1ULL << (t->priority % 64));
		if (!ready_bits[t->priority / 64])
			sched_ready_words &= ~(1ULL << (t->priority / 64));
	} else {
		t->queue_prev->queue_next = t->queue_next;
		t->queue_next->queue_prev = t->queue_prev;
		if (*q == t)
			*q = t->queue_next;
	}
	t->queue_next = t->queue_prev = NULL;
}

static inline struct thread *highest_ready(void)
{
	if (!sched_ready_words)
		return &idle_thread;
	int w = 63 - __builtin_clzll(sched_ready_words);
	return ready[w * 64 + 63 - __builtin_clzll(ready_bits[w])];
}

static void switch_to(struct thread *next)
{
	struct thread *prev = current;

	if (next == prev)
		return;
	sched_switch_prepare(prev, next);
	sched_switched_from = prev;
	switch_context(&prev->ksp, next->ksp);
	sched_finish_switch();      /* back on prev's stack */
}

void schedule(void)
{
	sched_need_resched = false;
	struct thread *next = highest_ready();

	/* Round robin: the current thread, if still ready, goes behind its
	 * equals once its slice is used up; otherwise it keeps the CPU
	 * unless someone strictly higher is ready. */
	if (current->state == THREAD_READY && current != &idle_thread) {
		if (next == &idle_thread || next->priority < current->priority ||
		    (next->priority == current->priority && current->ticks_left > 0))
			return;
		sched_enqueue(current);
		next = highest_ready();
	}
	sched_dequeue(next);
	if (next->ticks_left == 0)
		next->ticks_left = next->timeslice_ticks;
	switch_to(next);
}

bool sched_outranks_ready_queued(const struct thread *t)
{
	return t->priority >= highest_ready()->priority;
}

void sched_wake(struct thread *t)
{
	sched_enqueue(t);
	if (current && (t->priority > current->priority || current->state != THREAD_READY))
		sched_need_resched = true;
}

/* Current has blocked; t, the partner it just made ready (state READY,
 * not queued), outranks every ready thread: switch straight to it, the
 * queues untouched. Returns when current runs again. */
static void switch_direct(struct thread *t)
{
	kassert(current->state != THREAD_READY);
	if (t->ticks_left == 0)
		t->ticks_left = t->timeslice_ticks;
	sched_need_resched = false;
	switch_to(t);
}

void sched_switch_abandon(struct thread *t)
{
	kassert(current->state != THREAD_READY);
	sched_switch_abandon_inline(current, t, false);
}

void sched_resume_user(void)
{
	sched_finish_switch();
	if (sched_need_resched || current->state != THREAD_READY)
		schedule();
}

void sched_block_switch(struct thread *t)
{
	/* Direct process switch to the partner that just became ready, when
	 * nothing more important waits; the queues are not touched. */
	if (t && sched_outranks_ready(t)) {
		switch_direct(t);
		return;
	}
	kassert(current->state != THREAD_READY);
	if (t)
		sched_enqueue(t);
	schedule();
}

uint64_t sched_cpu_cycles(const struct thread *t)
{
	return t == current ? t->cpu_cycles + rdtsc() : t->cpu_cycles;
}

void sched_finish_switch(void)
{
	struct thread *prev = sched_switched_from;

	sched_switched_from = NULL;
	/* Not the last reference (a blocked partner, the common case): no
	 * need for kobject_put's teardown checks. */
	if (prev && prev->obj.refs > 1)
		prev->obj.refs--;
	else if (prev)
		kobject_put(&prev->obj);
}

void sched_tick(bool user_mode)
{
	if (current == &idle_thread) {
		if (highest_ready() != &idle_thread)
			sched_need_resched = true;
		return;
	}
	/* The sample that splits CPU time into user and system time (as
	 * Linux's tick accounting): a server handling a call or fault (the
	 * reply object it received into names the caller) works for the
	 * caller, as the kernel would in its system call. */
	struct thread *caller = current->reply ? current->reply->caller : NULL;
	if (caller)
		caller->system_ticks++;
	else if (user_mode)
		current->user_ticks++;
	else
		current->system_ticks++;
	if (current->ticks_left > 0)
		current->ticks_left--;
	if (current->ticks_left == 0)
		sched_need_resched = true;
}

static void idle_loop(void)
{
	/* The first switch to idle "returns" here rather than into switch_to:
	 * finish it, or the thread switched from keeps a reference for ever. */
	sched_finish_switch();
	for (;;) {
		cpu_idle();             /* sti; hlt: the tick or an IRQ wakes us */
		irq_disable();
		if (sched_need_resched || highest_ready() != &idle_thread)
			schedule();
	}
}

void sched_init(void)
{
	idle_thread.state = THREAD_READY;
	idle_thread.kstack = idle_stack;
	idle_thread.obj.refs = 1;       /* never freed */
	memcpy(idle_thread.name, "idle", 5);
	fpu_init_state(idle_thread.fpu);
	/* The idle thread's first switch "returns" into idle_loop. */
	uint64_t *sp = (uint64_t *)(idle_stack + sizeof(idle_stack));
	*--sp = 0;                      /* alignment */
	*--sp = (uint64_t)idle_loop;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	idle_thread.ksp = (uint64_t)sp;
}

void sched_start(void)
{
	static struct thread boot_thread;   /* the boot stack, abandoned */

	/* The boot code runs with interrupts on (the idle report loop needs
	 * the tick). From here the kernel's rule holds: a tick between taking
	 * `next` off the run queue and switching to it would schedule from
	 * the boot thread to idle, and `next` (init) would never run. */
	irq_disable();
	boot_thread.state = THREAD_DEAD;
	boot_thread.obj.refs = 2;       /* never freed */
	current = &boot_thread;
	struct thread *next = highest_ready();
	sched_dequeue(next);
	next->ticks_left = next->timeslice_ticks;
	switch_to(next);
	panic("sched: returned to the boot stack");
}

long sys_yield(void)
{
	current->ticks_left = 0;
	sched_need_resched = true;
	return 0;
}
