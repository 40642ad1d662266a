/*
 * prctl(2): the options programs commonly use, as Linux's kernel/sys.c
 * answers them; every other option is EINVAL ("option is not
 * recognized"), as Linux's for one it does not have.
 *
 *   PR_SET_NAME, PR_GET_NAME    the name (comm: /proc/PID/comm, the
 *                               second field of /proc/PID/stat, ps): 15
 *                               bytes at most, NUL-terminated. One per
 *                               process here (Linux keeps one per thread;
 *                               /proc/PID/comm is the main thread's)
 *   PR_SET_PDEATHSIG, PR_GET_PDEATHSIG  the signal sent when the parent
 *                               ends (process_end); 0 after fork
 *   PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS  a flag that cannot be
 *                               cleared, kept by fork and execve (everybody
 *                               is root here: it changes nothing else)
 *   PR_SET_DUMPABLE, PR_GET_DUMPABLE  0 or 1 (no core files are written);
 *                               1 again after execve
 */
#include "signals.h"
#include "syscall.h"

#define PR_SET_PDEATHSIG     1
#define PR_GET_PDEATHSIG     2
#define PR_GET_DUMPABLE      3
#define PR_SET_DUMPABLE      4
#define PR_SET_NAME          15
#define PR_GET_NAME          16
#define PR_SET_NO_NEW_PRIVS  38
#define PR_GET_NO_NEW_PRIVS  39
#define TASK_COMM_LEN        16 /* Linux's: the name's bytes with its NUL */

/* PR_SET_NAME: at most TASK_COMM_LEN - 1 bytes from va up to a NUL (as
 * strncpy_from_user: a fault before them is EFAULT). */
static long name_set(struct process *p, uint64_t va)
{
	char name[TASK_COMM_LEN];
	unsigned n = 0;

	for (; n < TASK_COMM_LEN - 1; n++) {
		if (as_copy_in(&p->as, &name[n], va + n, 1) < 0)
			return -LINUX_EFAULT;
		if (!name[n])
			break;
	}
	memset(p->name, 0, sizeof(p->name));
	memcpy(p->name, name, n);
	return 0;
}

long posix_prctl(struct process *p, struct user_regs *r)
{
	uint64_t arg2 = r->rsi, arg3 = r->rdx, arg4 = r->r10, arg5 = r->r8;
	char name[TASK_COMM_LEN];
	int sig;

	switch ((int)r->rdi) {
	case PR_SET_PDEATHSIG:
		if (arg2 > LINUX_NSIG)
			return -LINUX_EINVAL;
		p->pdeath_signal = (int)arg2;
		return 0;
	case PR_GET_PDEATHSIG:
		sig = p->pdeath_signal;
		return as_copy_out(&p->as, arg2, &sig, sizeof(sig)) < 0 ? -LINUX_EFAULT : 0;
	case PR_GET_DUMPABLE:
		return !p->not_dumpable;
	case PR_SET_DUMPABLE:
		if (arg2 > 1)
			return -LINUX_EINVAL;
		p->not_dumpable = !arg2;
		return 0;
	case PR_SET_NAME:
		return name_set(p, arg2);
	case PR_GET_NAME:
		memset(name, 0, sizeof(name));
		memcpy(name, p->name, strnlen(p->name, TASK_COMM_LEN - 1));
		return as_copy_out(&p->as, arg2, name, sizeof(name)) < 0 ? -LINUX_EFAULT : 0;
	case PR_SET_NO_NEW_PRIVS:
		if (arg2 != 1 || arg3 || arg4 || arg5)
			return -LINUX_EINVAL;
		p->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (arg2 || arg3 || arg4 || arg5)
			return -LINUX_EINVAL;
		return p->no_new_privs;
	default:
		return -LINUX_EINVAL;
	}
}
