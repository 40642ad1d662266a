/*
 * User-mode faults as messages: a page fault goes to the thread's pager,
 * any other exception (and a redirected `syscall`) with all registers to
 * its exception handler, as a call on the thread's behalf. With nobody to
 * tell, the thread stops and its task's supervisor is signalled.
 */
#ifndef MICA_FAULT_H
#define MICA_FAULT_H

#include "thread.h"

/* A user-mode exception or page fault of the current thread (trap.c). */
void fault_user_trap(struct trap_frame *frame);

/* The current thread's task has its system calls redirected: send this
 * one, untouched, to the thread's exception handler (syscall.c): all
 * registers (TASK_REDIRECT_REGS) or the number and arguments
 * (TASK_REDIRECT_ARGS; fastpath_syscall carries the common case). */
void fault_syscall_redirect(struct trap_frame *frame);

/* Answer faulter, blocked in a fault or exception message, with
 * replier's message: its items, then new registers (all of them, or rax
 * alone from a one-word answer to a syscall message), a resume or a stop
 * (reply_send, endpoint.c). */
void fault_reply(struct thread *faulter, struct thread *replier);

#endif
