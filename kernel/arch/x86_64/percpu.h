/* Per-CPU data reached through GS in kernel mode (one CPU for now). */
#ifndef MICA_PERCPU_H
#define MICA_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "gdt.h"

struct percpu {
	uint64_t user_rsp;      /* scratch for syscall entry */
};

extern struct percpu cpu0;

/* GS, syscall MSRs (the entry with the IPC fast path, or without it:
 * fast false), FPU/SSE enable (XSAVE unless xsave is false: fpu_init). */
void percpu_init(bool fast, bool xsave);

/* Entering thread with kernel stack top at rsp0 (the TSS's rsp0, where
 * interrupts and the system call entry find it). */
static inline void percpu_set_kernel_stack(uint64_t rsp0)
{
	gdt_set_kernel_stack(rsp0);
}

/* switch.S: the `syscall` entry point (LSTAR), the context switch and the
 * first return to user mode of a new thread. */
extern char syscall_entry[], syscall_entry_general[];
void switch_context(uint64_t *save_ksp, uint64_t next_ksp);
void switch_abandon(uint64_t *save_ksp, uint64_t frame, uint64_t next_ksp, bool finished)
	__attribute__((noreturn));
extern char thread_first_entry[];
/* Where a thread left by switch_abandon resumes (ABANDON_RESUME, frame.h),
 * and the system call exit, to be jumped to with rsp at a trap frame. */
extern char fast_resume[], syscall_exit[];

#endif
