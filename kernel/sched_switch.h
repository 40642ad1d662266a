/*
 * The switch itself, inline for its two users: the scheduler (sched.c)
 * and the IPC fast path (fastpath.c), whose direct switch is most of
 * what a fast call costs. Interrupts are off (the kernel's rule).
 */
#ifndef MICA_SCHED_SWITCH_H
#define MICA_SCHED_SWITCH_H

#include "cpu.h"
#include "fpu.h"
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
 * stack, current (which holds a reference to itself). */
static inline __attribute__((always_inline)) void sched_switch_prepare(struct thread *prev,
								       struct thread *next)
{
	/* CPU time: prev has run until now; next's count holds its total
	 * minus the TSC at its start while it runs (sched_cpu_cycles). */
	uint64_t now = rdtsc();

	prev->cpu_cycles += now;
	next->cpu_cycles -= now;
	fpu_save(&prev->fpu);
	fpu_restore(&next->fpu);
	wrmsr(0xC0000100, next->fs_base);    /* FS_BASE */
	struct task *task = next->task;
	if (task) {
		/* Read before write_cr3, whose memory clobber would load them again. */
		uint64_t root = task->pt_root;
		const uint8_t *io_bitmap = task->io_bitmap;
		unsigned io_lo = task->io_lo, io_hi = task->io_hi;

		if (read_cr3() != root)
			write_cr3(root);
		gdt_load_io_bitmap(io_bitmap, io_lo, io_hi);
	}
	percpu_set_kernel_stack((uint64_t)(next->kstack + THREAD_KSTACK_SIZE));
	kobject_get(&next->obj);
	current = next;
}

/* sched_switch_abandon (sched.h), inline for the fast path, which has
 * just blocked current itself (sched_switch_abandon checks it). */
static inline __attribute__((always_inline, noreturn)) void
sched_switch_abandon_inline(struct thread *t)
{
	struct thread *prev = current;

	if (t->ticks_left == 0)
		t->ticks_left = t->timeslice_ticks;
	sched_need_resched = false;
	sched_switch_prepare(prev, t);
	/* Its reference to itself is not prev's last (the common case): drop
	 * it now, and sched_finish_switch has nothing left to do, so
	 * switch_abandon may skip it. */
	bool finished = prev->obj.refs > 1;
	if (finished)
		prev->obj.refs--;
	else
		sched_switched_from = prev;
	switch_abandon(&prev->ksp, (uint64_t)thread_frame(prev), t->ksp, finished);
}

#endif
