/*
 * The IPC fast path (fastpath.c): ipc_call and ipc_reply_recv handled
 * entirely when they are the common case. Each returns false, having
 * changed nothing, when the general path (endpoint.c) must take the call.
 * When they take it they do not return: the thread blocks, and when its
 * partner answers it goes straight back to user mode with the registers
 * the answer set (sched_switch_abandon).
 *
 * Only switch.S's system call entry calls them: fastpath.c is compiled
 * with rbx and r12-r15 call-clobbered and rbp unused (Makefile,
 * FASTPATH_CFLAGS), since
 * the entry restores every register from the trap frame when they
 * return. A C caller would lose its callee-saved registers.
 */
#ifndef MICA_FASTPATH_H
#define MICA_FASTPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "trap.h"

extern bool fastpath_enabled;   /* false: `nofastpath` on the command line */
extern uint64_t fastpath_hits;  /* calls the fast path took */

/* Never called for a redirected task's `syscall` (switch.S). */
bool fastpath_call(struct trap_frame *f);
bool fastpath_reply_recv(struct trap_frame *f);

/* A redirected `syscall` of current, whose task is TASK_REDIRECT_ARGS
 * (switch.S calls it for those only), handed straight to its exception
 * handler waiting in receive. Returns, having changed nothing, when the
 * general path (fault.c) must send it. */
void fastpath_syscall(struct trap_frame *f);

#endif
