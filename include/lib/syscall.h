/*
 * User-level system call stubs, generated from the table in
 * uapi/syscalls.h: sys_NAME(args...) returns >= 0 or -ERR_*.
 * The IPC calls that return a message have their own wrappers in
 * lib/ipc.h.
 */
#ifndef MICA_LIB_SYSCALL_H
#define MICA_LIB_SYSCALL_H

#include <stdint.h>

#include "uapi/syscalls.h"

typedef uint64_t sysarg_t;

static inline long mica_syscall(sysarg_t nr, sysarg_t a0, sysarg_t a1, sysarg_t a2,
				sysarg_t a3, sysarg_t a4, sysarg_t a5, sysarg_t a6)
{
	register sysarg_t r10 __asm__("r10") = a3;
	register sysarg_t r8 __asm__("r8") = a4;
	register sysarg_t r9 __asm__("r9") = a5;
	register sysarg_t r12 __asm__("r12") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9), "r"(r12)
			 : "rcx", "r11", "memory");
	return ret;
}

#define MICA_STUB_0(nr, name) \
	static inline long sys_##name(void) { return mica_syscall(nr, 0, 0, 0, 0, 0, 0, 0); }
#define MICA_STUB_1(nr, name) \
	static inline long sys_##name(sysarg_t a0) { return mica_syscall(nr, a0, 0, 0, 0, 0, 0, 0); }
#define MICA_STUB_2(nr, name) \
	static inline long sys_##name(sysarg_t a0, sysarg_t a1) \
	{ return mica_syscall(nr, a0, a1, 0, 0, 0, 0, 0); }
#define MICA_STUB_3(nr, name) \
	static inline long sys_##name(sysarg_t a0, sysarg_t a1, sysarg_t a2) \
	{ return mica_syscall(nr, a0, a1, a2, 0, 0, 0, 0); }
#define MICA_STUB_4(nr, name) \
	static inline long sys_##name(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3) \
	{ return mica_syscall(nr, a0, a1, a2, a3, 0, 0, 0); }
#define MICA_STUB_5(nr, name) \
	static inline long sys_##name(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3, sysarg_t a4) \
	{ return mica_syscall(nr, a0, a1, a2, a3, a4, 0, 0); }
#define MICA_STUB_6(nr, name) \
	static inline long sys_##name(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3, sysarg_t a4, \
				      sysarg_t a5) \
	{ return mica_syscall(nr, a0, a1, a2, a3, a4, a5, 0); }
#define MICA_STUB_7(nr, name) \
	static inline long sys_##name(sysarg_t a0, sysarg_t a1, sysarg_t a2, sysarg_t a3, sysarg_t a4, \
				      sysarg_t a5, sysarg_t a6) \
	{ return mica_syscall(nr, a0, a1, a2, a3, a4, a5, a6); }

#define MICA_STUB(nr, name, nargs) MICA_STUB_##nargs(nr, name)
MICA_SYSCALLS(MICA_STUB)
#undef MICA_STUB

#endif
