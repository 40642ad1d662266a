/*
 * System-call dispatch. A redirected task's calls go to its exception
 * handler untouched; every other call goes to its handler (syscall.h)
 * through an adapter generated from the table in uapi/syscalls.h, which
 * passes the handler as many argument registers as the table gives the
 * call. ipc_call and ipc_reply_recv come here only when the fast path
 * (fastpath.c, tried first by the entry code in switch.S) did not take
 * them.
 */
#include "syscall.h"
#include "decode.h"
#include "fastpath.h"
#include "fault.h"
#include "sched.h"
#include "task.h"

#include "uapi/errors.h"

#define SYSCALL_ARGS_0(f)
#define SYSCALL_ARGS_1(f) (f)->rdi
#define SYSCALL_ARGS_2(f) SYSCALL_ARGS_1(f), (f)->rsi
#define SYSCALL_ARGS_3(f) SYSCALL_ARGS_2(f), (f)->rdx
#define SYSCALL_ARGS_4(f) SYSCALL_ARGS_3(f), (f)->r10
#define SYSCALL_ARGS_5(f) SYSCALL_ARGS_4(f), (f)->r8
#define SYSCALL_ARGS_6(f) SYSCALL_ARGS_5(f), (f)->r9
#define SYSCALL_ARGS_7(f) SYSCALL_ARGS_6(f), (f)->r12

/* call_NAME(frame): sys_NAME with its arguments from the frame. */
#define SYSCALL_ADAPTER(nr, name, nargs)                                  \
	static long call_##name(const struct trap_frame *f)               \
	{                                                                 \
		return sys_##name(SYSCALL_ARGS_##nargs(f));               \
	}
MICA_SYSCALLS(SYSCALL_ADAPTER)
#undef SYSCALL_ADAPTER

static long (*const syscall_table[SYS_COUNT])(const struct trap_frame *) = {
#define SYSCALL_ENTRY(nr, name, nargs) [nr] = call_##name,
	MICA_SYSCALLS(SYSCALL_ENTRY)
#undef SYSCALL_ENTRY
};

/* switch.S sends these numbers to the fast path. */
_Static_assert(SYS_ipc_call == 21 && SYS_ipc_reply_recv == 23,
	       "switch.S: the fast path's system call numbers");

void syscall_entry_c(struct trap_frame *f)
{
	struct thread *self = current;

	if (__builtin_expect(self->task->redirect_syscalls, 0)) {
		fault_syscall_redirect(f);      /* switch.S tried fastpath_syscall */
	} else {
		long r;
		if (f->rax >= SYS_COUNT)
			r = reject(__func__, __LINE__, ERR_NO_SYSCALL, "no system call %lu", f->rax);
		else
			r = syscall_table[f->rax](f);
		if (r != SYSCALL_NO_RESULT)
			f->rax = (uint64_t)r;
	}
	if (sched_need_resched || current->state != THREAD_READY)
		schedule();
}

void syscall_exit_noncanonical(struct trap_frame *f)
{
	f->vector = 13;                 /* general protection, as user mode */
	f->error = 0;
	fault_user_trap(f);
	if (sched_need_resched || current->state != THREAD_READY)
		schedule();
}
