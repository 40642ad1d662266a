/*
 * The switch itself, inline for its two users: the scheduler (sched.c)
 * and the IPC fast path (fastpath.c), whose direct switch is most of
 * what a fast call costs. Interrupts are off (the kernel's rule).
 */
#ifndef MICA_SCHED_SWITCH_H
#define MICA_SCHED_SWITCH_H

#include "cpu.h"
#include "fpu.h"
#include "frame.h"
#include "gdt.h"
#include "klog.h"
#include "percpu.h"
#include "sched.h"
#include "task.h"

/* The thread just switched away from, whose reference to itself
 * sched_finish_switch drops once we are off its stack (sched.c). */
extern struct thread *sched_switched_from;

/* Everything of a switch from prev (current) to next but the stacks:
 * CPU time, FPU/SSE state, FS base, address space, I/O bitmap, kernel
 * stack, current (which holds a reference to itself). in_task: the
 * caller knows next runs in a task (it has an IPC buffer there). */
static inline __attribute__((always_inline)) void
sched_switch_prepare_to(struct thread *prev, struct thread *next, bool in_task)
{
	/* CPU time: prev has run until now; next's count holds its total
	 * minus the TSC at its start while it runs (sched_cpu_cycles). */
	uint64_t now = rdtsc();

	prev->cpu_cycles += now;
	next->cpu_cycles -= now;
	fpu_save(&prev->fpu);
	fpu_restore(&next->fpu);
	/* FS_BASE, its halves loaded straight into EDX:EAX (little-endian). */
	uint32_t fs_lo, fs_hi;
	__builtin_memcpy(&fs_lo, (const char *)&next->fs_base, sizeof(fs_lo));
	__builtin_memcpy(&fs_hi, (const char *)&next->fs_base + 4, sizeof(fs_hi));
	__asm__ volatile("wrmsr" : : "c"(0xC0000100), "a"(fs_lo), "d"(fs_hi));
	struct task *task = next->task;
	if (in_task || task) {
		uint64_t root = task->pt_root;

		/* (The bitmap first: its bounds are read only when it changes.) */
		gdt_load_io_bitmap(task->io_bitmap, task->io_lo, task->io_hi);
		if (__builtin_expect(read_cr3() != root, 1))    /* (client and server) */
			write_cr3(root);
	}
	percpu_set_kernel_stack((uint64_t)(next->kstack + THREAD_KSTACK_SIZE));
	kobject_get(&next->obj);
	current = next;
}

static inline __attribute__((always_inline)) void sched_switch_prepare(struct thread *prev,
								       struct thread *next)
{
	sched_switch_prepare_to(prev, next, false);
}

/* sched_switch_abandon (sched.h) from prev (current), inline for the
 * fast path, which has just blocked current itself (sched_switch_abandon
 * checks it). in_task as for sched_switch_prepare_to. */
static inline __attribute__((always_inline, noreturn)) void
sched_switch_abandon_inline(struct thread *prev, struct thread *t, bool in_task)
{
	if (t->ticks_left == 0)
		t->ticks_left = t->timeslice_ticks;
	sched_need_resched = false;
	sched_switch_prepare_to(prev, t, in_task);
	/* Its reference to itself is not prev's last (the common case): drop
	 * it now, and sched_finish_switch has nothing left to do, so the
	 * switch may skip it. Then, when t was left the same way, what
	 * switch_abandon does is done here, inline: prev's kernel context
	 * dropped (it will resume at fast_resume) and t's system call exit
	 * taken straight away. */
	uintptr_t ksp = (uintptr_t)thread_frame(prev) - ABANDON_GAP;

	if (__builtin_expect(prev->obj.refs > 1, 1)) {
		/* (refs-- as one instruction on memory: GCC would load,
		 * subtract and store.) */
		__asm__("decl %0" : "+m"(prev->obj.refs));
		const uint64_t *next = (const uint64_t *)t->ksp;

		((uint64_t *)ksp)[ABANDON_RESUME / 8] = (uint64_t)fast_resume;
		prev->ksp = ksp;
		if (__builtin_expect(next[ABANDON_RESUME / 8] == (uint64_t)fast_resume, 1)) {
			__asm__ volatile("mov %0, %%rsp; jmp syscall_exit"
					 : : "r"((uintptr_t)next + ABANDON_GAP) : "memory");
			__builtin_unreachable();
		}
		switch_abandon(&prev->ksp, ksp + ABANDON_GAP, t->ksp, true);
	}
	sched_switched_from = prev;
	switch_abandon(&prev->ksp, ksp + ABANDON_GAP, t->ksp, false);
}

#endif
