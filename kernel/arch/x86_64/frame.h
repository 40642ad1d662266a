/*
 * struct trap_frame (trap.h) for the assembly entry and exit code
 * (entry.S, switch.S): the offsets they read, and the 15 general
 * registers pushed and popped in the frame's order (r15 lowest).
 */
#ifndef MICA_FRAME_H
#define MICA_FRAME_H

#define F_VECTOR 120
#define F_RIP    136
#define F_RSP    160
#define F_REGS   120                    /* the 15 general registers */

/* A thread left by switch_abandon (switch.S): its saved stack pointer is
 * its frame minus ABANDON_GAP, and the return address there, at
 * ABANDON_RESUME above it, is fast_resume (six registers below it). */
#define ABANDON_GAP    56
#define ABANDON_RESUME 48

/* Fields the system call entry reads (checked in fastpath.c):
 * struct thread's task, struct task's redirect_syscalls. */
#define T_TASK        0x30
#define TASK_REDIRECT 0x98

#ifdef __ASSEMBLER__
.macro PUSH_REGS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_REGS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm
#endif

#endif
