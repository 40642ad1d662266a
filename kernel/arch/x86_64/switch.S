/*
 * Kernel context switch and system call entry.
 */
#include "gdt.h"

#define CPU_KERNEL_RSP 0
#define CPU_USER_RSP   8

	.text
/*
 * void switch_context(uint64_t *save_ksp, uint64_t next_ksp)
 * Save the callee-saved registers on this stack, store its pointer, load
 * the next thread's stack and return into it.
 */
	.globl switch_context
switch_context:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* A new thread's first switch returns here: leave through its trap frame. */
	.globl thread_first_entry
thread_first_entry:
	call sched_finish_switch
	jmp trap_return

/*
 * `syscall` from user mode: RCX = user RIP, R11 = user RFLAGS, interrupts
 * masked by FMASK. Build a struct trap_frame on the thread's kernel stack
 * (vector 0x100, error 0) and call syscall_entry_c(frame); return through
 * trap_return like any interrupt.
 */
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:CPU_USER_RSP
	movq %gs:CPU_KERNEL_RSP, %rsp
	pushq $SEL_USER_DATA
	pushq %gs:CPU_USER_RSP
	pushq %r11
	pushq $SEL_USER_CODE
	pushq %rcx
	pushq $0
	pushq $0x100
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
	cld
	movq %rsp, %rdi
	call syscall_entry_c
	jmp trap_return
