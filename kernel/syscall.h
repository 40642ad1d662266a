/*
 * System calls inside the kernel. Each line of the table in
 * uapi/syscalls.h has a handler, sys_NAME, beside the object it acts on
 * (thread.c, endpoint.c, cap.c, ...); syscall.c dispatches to it.
 *
 * A handler takes its call's arguments, as many as the table says, in
 * register order (rdi, rsi, rdx, r10, r8, r9, r12). The message words of
 * the IPC calls are among them but are read from the frame by
 * ipc_transfer, so a message keeps while its sender waits. A handler first
 * decodes and checks every argument (decode.h; it may fail with -ERR_*,
 * logged at loglevel=3), then acts (and cannot fail). It returns the
 * result for rax: >= 0, -ERR_*, or SYSCALL_NO_RESULT.
 */
#ifndef MICA_SYSCALL_H
#define MICA_SYSCALL_H

#include <stdint.h>

#include "trap.h"
#include "uapi/syscalls.h"

/* A handler returns this when the result was already written into the
 * thread's frame by whoever woke it, or nobody will read it (the thread
 * blocked, stopped or is gone). No call returns it: results are >= 0 (a
 * notification word never has bit 63) or small negative errors. */
#define SYSCALL_NO_RESULT (-0x7FFFFFFFFFFFFFFFL - 1)

#define SYSCALL_PARAMS_0 void
#define SYSCALL_PARAMS_1 uint64_t
#define SYSCALL_PARAMS_2 uint64_t, uint64_t
#define SYSCALL_PARAMS_3 uint64_t, uint64_t, uint64_t
#define SYSCALL_PARAMS_4 uint64_t, uint64_t, uint64_t, uint64_t
#define SYSCALL_PARAMS_5 uint64_t, uint64_t, uint64_t, uint64_t, uint64_t
#define SYSCALL_PARAMS_6 uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t
#define SYSCALL_PARAMS_7 uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t

#define SYSCALL_HANDLER(nr, name, nargs) long sys_##name(SYSCALL_PARAMS_##nargs);
MICA_SYSCALLS(SYSCALL_HANDLER)
#undef SYSCALL_HANDLER

/* Every `syscall` of a user thread enters here (switch.S), with the user
 * registers saved in frame, unless the IPC fast path took it; it leaves
 * the result in frame->rax. */
void syscall_entry_c(struct trap_frame *frame);

/* The system call returns to a non-canonical address (a `syscall` in the
 * last two bytes of the lower half): neither sysret nor iretq may go
 * there (they would fault in the kernel), so the thread takes the
 * general-protection fault (vector 13, error 0) at that address, as its
 * exception handler sees it; returns when it is to run again (switch.S
 * checks the address again). */
void syscall_exit_noncanonical(struct trap_frame *frame);

#endif
