/*
 * Interrupt and exception entry stubs. Every vector gets a stub that pushes
 * an error code (0 where the CPU pushes none) and its vector number, then
 * jumps to trap_common, which saves the general registers in the order of
 * struct trap_frame and calls trap_dispatch(frame).
 */
#include "frame.h"
#include "gdt.h"

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.altmacro
.macro STUB v
	.align 16
trap_stub_\v:
	.if !HAS_ERROR(\v)
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
.endm

.macro STUB_ADDR v
	.quad trap_stub_\v
.endm

	.set i, 0
	.rept 256
	STUB %i
	.set i, i + 1
	.endr

trap_common:
	/* From user mode? Then swap to the kernel's GS. */
	testb $3, 24(%rsp)              /* cs, above vector and error */
	jz 1f
	swapgs
1:	PUSH_REGS
	cld
	mov %rsp, %rdi
	call trap_dispatch
	.globl trap_return
trap_return:
	POP_REGS
	addq $16, %rsp          /* vector, error */
	testb $3, 8(%rsp)
	jz 2f
	swapgs
2:	iretq

	.section .rodata
	.align 8
	.globl trap_stub_table
trap_stub_table:
	.set i, 0
	.rept 256
	STUB_ADDR %i
	.set i, i + 1
	.endr
