/*
 * The system call table: one line per call, expanded by the kernel into its
 * dispatch table and by user code into the stubs (lib/syscall.h).
 *
 * X(number, name, argument count). Arguments go in rdi, rsi, rdx, r10, r8,
 * r9 (then r12, r13) as the x86_64 `syscall` convention; the result comes
 * back in rax: >= 0 on success, -ERR_* on failure. docs/abi.md describes
 * each call.
 */
#ifndef MICA_UAPI_SYSCALLS_H
#define MICA_UAPI_SYSCALLS_H

#define MICA_SYSCALLS(X)                   \
	X(0, debug_write, 2)               \
	X(1, yield, 0)                     \
	X(2, clock, 0)                     \
	X(3, thread_exit, 1)               \
	X(4, obj_create, 3)                \
	X(5, obj_destroy, 1)               \
	X(6, cap_copy, 5)                  \
	X(7, cap_move, 3)                  \
	X(8, cap_delete, 1)                \
	X(9, cap_revoke, 1)                \
	X(10, cap_info, 2)                 \
	X(11, thread_configure, 2)         \
	X(12, thread_start, 4)             \
	X(13, thread_suspend, 1)           \
	X(14, thread_resume, 1)            \
	X(15, thread_read_regs, 2)         \
	X(16, thread_write_regs, 2)        \
	X(17, task_configure, 2)           \
	X(18, task_info, 2)                \
	X(19, ipc_send, 6)                 \
	X(20, ipc_recv, 2)                 \
	X(21, ipc_call, 6)                 \
	X(22, ipc_reply, 6)                \
	X(23, ipc_reply_recv, 7)           \
	X(24, notify_signal, 2)            \
	X(25, notify_wait, 2)              \
	X(26, mem_map, 5)                  \
	X(27, mem_unmap, 2)                \
	X(28, mem_info, 2)                 \
	X(29, irq_create, 3)               \
	X(30, irq_bind, 3)                 \
	X(31, irq_ack, 1)                  \
	X(32, ioport_map, 3)               \
	X(33, notify_timer, 3)             \
	X(34, serial_read, 3)              \
	X(35, serial_line, 4)              \
	X(36, clock_params, 1)              \
	X(37, ioport_close, 2)             \
	X(38, mem_unmap_list, 3)           \
	X(39, mem_phys, 2)

enum mica_syscall {
#define MICA_SYSCALL_ENUM(nr, name, nargs) SYS_##name = nr,
	MICA_SYSCALLS(MICA_SYSCALL_ENUM)
#undef MICA_SYSCALL_ENUM
	SYS_COUNT
};

#endif
