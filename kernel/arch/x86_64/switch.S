/*
 * Kernel context switch and system call entry.
 */
#include "frame.h"
#include "gdt.h"

#define CPU_USER_RSP   0                /* struct percpu */

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
switch_load:                            /* to the stack at rsi */
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/*
 * void switch_abandon(uint64_t *save_ksp, uint64_t frame, uint64_t next_ksp,
 *                     bool finished)
 * switch_context for a thread that blocked in a system call with nothing
 * left to do in the kernel once it is woken but return to user mode
 * through its frame (at `frame`, the top of its kernel stack): its kernel
 * context is dropped, and the saved stack pointer made to resume at
 * fast_resume instead, just below the frame (the six registers popped on
 * the way are don't-cares). When next was left the same way and the
 * switch is `finished` (sched_switch_abandon did what sched_resume_user
 * would), the switch goes straight to next's system call exit. Does not
 * return.
 */
	.globl switch_abandon
switch_abandon:
	leaq -ABANDON_GAP(%rsi), %rax
	movq $fast_resume, ABANDON_RESUME(%rax)
	movq %rax, (%rdi)
	testb %cl, %cl
	jz 1f
	cmpq $fast_resume, ABANDON_RESUME(%rdx)
	jne 1f
	leaq ABANDON_GAP(%rdx), %rsp
	jmp syscall_exit
1:	movq %rdx, %rsi
	jmp switch_load

	.globl fast_resume
fast_resume:
	call sched_resume_user
	jmp syscall_exit

/* A new thread's first switch returns here: leave through its trap frame. */
	.globl thread_first_entry
thread_first_entry:
	call sched_finish_switch
	jmp trap_return

/*
 * `syscall` from user mode: RCX = user RIP, R11 = user RFLAGS, interrupts
 * masked by FMASK. Build a struct trap_frame on the thread's kernel stack
 * (vector 0x100, error 0) and call syscall_entry_c(frame); ipc_call and
 * ipc_reply_recv try the fast path (fastpath.c) first, and so does a
 * redirected task's call when its task is TASK_REDIRECT_ARGS (a
 * redirected task's number is Linux's: never Mica's fast path). Booted
 * `nofastpath`, the entry is syscall_entry_general, which never tries it.
 *
 * The way back is `sysret` when the frame holds what sysret restores: rcx
 * the return address and r11 the flags, as `syscall` left them (the
 * vector word is still VEC_SYSCALL: thread_set_regs marks a frame it
 * rewrites). The selectors need no check: nothing changes them in a user
 * thread's frame, and sysret loads the same ones (STAR). Anything else
 * leaves through trap_return's iretq, which restores any frame, except a
 * non-canonical return address (a `syscall` in the last two bytes of the
 * lower half returns to 0x800000000000): sysret there faults in ring 0 on
 * the user's stack on Intel CPUs, iretq faults in the kernel too, so the
 * thread takes the general-protection fault instead
 * (syscall_exit_noncanonical).
 */
.macro SYSCALL_FRAME
	swapgs
	movq %rsp, %gs:CPU_USER_RSP
	movq gdt_tss+TSS_RSP0(%rip), %rsp
	pushq $SEL_USER_DATA
	pushq %gs:CPU_USER_RSP
	pushq %r11
	pushq $SEL_USER_CODE
	pushq %rcx
	pushq $0
	pushq $0x100                    /* VEC_SYSCALL */
	PUSH_REGS
	cld
	movq %rsp, %rdi
.endm

	.globl syscall_entry
syscall_entry:
	SYSCALL_FRAME
	movq current(%rip), %rcx        /* current->task->redirect_syscalls */
	movq T_TASK(%rcx), %rcx
	cmpb $0, TASK_REDIRECT(%rcx)
	jne 5f
	cmpq $21, %rax                  /* SYS_ipc_call (syscall.c checks) */
	je 2f
	cmpq $23, %rax                  /* SYS_ipc_reply_recv */
	je 3f
1:	call syscall_entry_c
	.globl syscall_exit
syscall_exit:
	btq $47, F_RIP(%rsp)            /* past the lower half */
	jc 4f
	cmpq $0x100, F_VECTOR(%rsp)     /* VEC_SYSCALL: not rewritten */
	jne trap_return
	POP_REGS
	/* Interrupts stay masked until sysret loads the user's flags, so
	 * nothing runs between the stack switch and the return. */
	movq (F_RSP - F_REGS)(%rsp), %rsp
	swapgs
	sysretq
	/* Neither sysret nor iretq may return there: the thread faults. */
4:	movq %rsp, %rdi
	call syscall_exit_noncanonical
	jmp syscall_exit
	/* The fast path returns only when it did not take the call. */
2:	call fastpath_call
	movq %rsp, %rdi
	jmp 1b
3:	call fastpath_reply_recv
	movq %rsp, %rdi
	jmp 1b
	/* A redirected task's `syscall`: TASK_REDIRECT_ARGS tries the fast
	 * path to its handler; the general path sends what it leaves. */
5:	cmpb $2, TASK_REDIRECT(%rcx)    /* TASK_REDIRECT_ARGS */
	jne 1b
	call fastpath_syscall
	movq %rsp, %rdi
	jmp 1b

/* The entry booted `nofastpath` (percpu_init): the general path only. */
	.globl syscall_entry_general
syscall_entry_general:
	SYSCALL_FRAME
	call syscall_entry_c
	jmp syscall_exit
