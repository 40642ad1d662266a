/*
 * Tasks a server makes and pages itself (init's programs, the kernel
 * tests' children, the POSIX server's processes): a task with its first
 * thread, configured but not started, and its teardown. One copy of the
 * order these system calls need, for everybody.
 */
#ifndef MICA_LIB_TASK_H
#define MICA_LIB_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "uapi/cap.h"

struct task_spec {
	uint64_t quota;             /* kernel memory for the task, bytes (>= 64 KiB) */
	unsigned priority;          /* its first thread's, at most the caller's */
	const char *name;           /* its first thread's (shown in kernel logs) */
	cap_slot_t pager;           /* endpoint (a badged copy) for its page faults */
	cap_slot_t exception;       /* the same for other exceptions, or CAP_SLOT_NONE:
				       the thread stops and the supervisor hears of it */
	uint64_t ipc_buffer;        /* its first thread's IPC buffer, in its space */
	cap_slot_t supervisor;      /* notification signalled when it ends */
	uint64_t supervisor_bits;   /* ... with these bits (1..2^63-1) */
	uint8_t redirect_syscalls;  /* TASK_REDIRECT_*: its `syscall` instructions come to
				       the exception handler (a POSIX process) as
				       IPC_LABEL_SYSCALL or IPC_LABEL_SYSCALL_ARGS */
	uint32_t cap_slots;         /* its capability table's slots (0: TASK_CAP_SLOTS) */
};

/* A task and its first thread, as slots of the caller's table (0: none). */
struct task_handle {
	cap_slot_t task, thread;
};

/* Make the task and its first thread (sys_obj_create, thread_configure,
 * task_configure). 0, or a negative ERR_*; on failure nothing is left. */
long task_new(const struct task_spec *spec, struct task_handle *t);

/* Destroy the thread and the task (every other thread of the task and
 * everything it mapped go with it), delete and free both slots; t is all
 * 0 afterwards. Safe on a partly made or already deleted handle. */
void task_delete(struct task_handle *t);

#endif
