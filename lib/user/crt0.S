/* Program entry: rdi = argument from whoever started us. */
	.text
	.globl _start
_start:
	xor %ebp, %ebp
	and $-16, %rsp
	call mica_start
1:	ud2
	jmp 1b

/* A spawned thread begins here: its function is on top of the stack,
 * its argument in rdi. */
	.globl thread_trampoline
thread_trampoline:
	popq %rax
	xor %ebp, %ebp
	and $-16, %rsp
	call *%rax
	xor %edi, %edi
	call thread_exit_self
2:	ud2
	jmp 2b
