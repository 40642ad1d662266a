/*
 * Processes making processes and threads: fork (and vfork, and clone or
 * clone3 as fork — what glibc's fork and posix_spawn call), clone and
 * clone3 with CLONE_THREAD (pthread_create's: thread.c), execve, wait4.
 * A child's memory is
 * the parent's pages shared copy-on-write (process_fork); its descriptors
 * share their open file descriptions with the parent's. execve replaces
 * the program in place (same process, same pid): descriptors marked
 * close-on-exec are closed. wait4 and waitid wait (the call blocks) until
 * a child has ended (or, with WUNTRACED or WCONTINUED, stopped or
 * continued: signal_stop.c), with its status as Linux encodes it (wait4)
 * or its siginfo (waitid).
 */
#include "clock.h"
#include "exec_stack.h"
#include "path.h"
#include "syscall.h"
#include "vfs.h"

#define CLONE_VM             0x00000100UL
#define CLONE_FS             0x00000200UL
#define CLONE_FILES          0x00000400UL
#define CLONE_SIGHAND        0x00000800UL
#define CLONE_VFORK          0x00004000UL
#define CLONE_THREAD         0x00010000UL
#define CLONE_SYSVSEM        0x00040000UL
#define CLONE_SETTLS         0x00080000UL
#define CLONE_PARENT_SETTID  0x00100000UL
#define CLONE_CHILD_CLEARTID 0x00200000UL
#define CLONE_DETACHED       0x00400000UL
#define CLONE_CHILD_SETTID   0x01000000UL
#define CSIGNAL              0xFFUL

/* What a thread shares (all of it: what glibc's and musl's
 * pthread_create ask for), and what it may ask besides. */
#define CLONE_THREAD_NEEDS   (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define CLONE_THREAD_MAY     (CLONE_THREAD_NEEDS | CLONE_SYSVSEM | CLONE_SETTLS |          \
			      CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | \
			      CLONE_CHILD_SETTID)

/* struct clone_args of clone3, as far as it is used (CLONE_ARGS_SIZE_VER0). */
struct linux_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

#define WNOHANG   1
#define WUNTRACED 2
#define WCONTINUED 8
#define WEXITED   4             /* waitid's: which changes it waits for */
#define WSTOPPED  2
#define WNOWAIT   0x01000000    /* waitid: leave the child waitable */
#define P_ALL     0
#define P_PID     1
#define P_PGID    2
#define WALL_FLAGS 0xE0000000UL     /* __WNOTHREAD, __WALL, __WCLONE */

#define EXEC_STRINGS 32768          /* bytes of argv and envp strings execve takes */

/* A child like p, its call's result 0; newsp: its stack, or 0 for p's. */
static long fork_with(struct process *p, struct user_regs *r, uint64_t newsp,
		      struct process **child)
{
	struct user_regs regs = *r;
	long err;

	regs.rax = 0;
	if (newsp)
		regs.rsp = newsp;
	*child = process_fork(p, &regs, &err);
	return *child ? (*child)->pid : err;
}

long posix_fork(struct process *p, struct user_regs *r)
{
	struct process *c;

	return fork_with(p, r, 0, &c);
}

/* vfork's child runs in a copy-on-write copy, so the parent need not
 * wait for it. */
long posix_vfork(struct process *p, struct user_regs *r)
{
	return posix_fork(p, r);
}

/* A new thread of p (CLONE_THREAD): the caller's registers with rax 0,
 * its stack newsp and (CLONE_SETTLS) its thread pointer tls, the
 * caller's signal mask. Its tid, or -EAGAIN (THREAD_MAX threads, or
 * the account's share or RLIMIT_NPROC: share.c),
 * -ENOMEM (no kernel memory for it), -EPERM (tls outside user space). */
static long clone_thread(struct process *p, struct user_regs *r, uint64_t flags, uint64_t newsp,
			 uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	struct user_regs regs = *r;
	struct thread *c;
	long err;

	if ((flags & CLONE_SETTLS) && tls >= USER_SPACE_TOP)
		return -LINUX_EPERM;
	if ((err = share_tasks(p, false)) < 0)
		return err;
	if (!(c = thread_new(p, pid_next())))
		return -LINUX_EAGAIN;
	regs.rax = 0;
	if (newsp)
		regs.rsp = newsp;
	if (flags & CLONE_SETTLS)
		regs.fs_base = tls;
	c->sigmask = p->current->sigmask;
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;
	/* Both before it runs: pthread_join may look at once. */
	if (flags & CLONE_PARENT_SETTID)
		as_copy_out(&p->as, ptid, &c->tid, sizeof(c->tid));
	if (flags & CLONE_CHILD_SETTID)
		as_copy_out(&p->as, ctid, &c->tid, sizeof(c->tid));
	if ((err = thread_run(c, &regs)) < 0 || (err = thread_fpu_copy(c, p->current)) < 0) {
		thread_release(c);
		return err == -ERR_NO_MEMORY ? -LINUX_ENOMEM : -LINUX_EAGAIN;
	}
	if (syscall_trace)
		printf("posix: %s (pid %d): thread %d\n", p->name, p->pid, c->tid);
	return c->tid;
}

/* clone and clone3: a thread (CLONE_THREAD, with everything shared), or
 * a child as fork (CLONE_VM|CLONE_VFORK, posix_spawn's, gets a copy
 * too); CLONE_SIGHAND, CLONE_FS or CLONE_FILES without a thread are not
 * there (ENOSYS). */
static long clone_common(struct process *p, struct user_regs *r, uint64_t flags, uint64_t newsp,
			 uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	const uint64_t known = CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID |
			       CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
	struct process *c;

	if (flags & CLONE_THREAD) {
		/* As Linux: a thread shares the signal actions, and they the
		 * memory; the rest of what it does not share is not here. */
		if ((flags & (CLONE_SIGHAND | CLONE_VM)) != (CLONE_SIGHAND | CLONE_VM) ||
		    (flags & ~(CLONE_THREAD_MAY | CSIGNAL)))
			return -LINUX_EINVAL;
		if ((flags & CLONE_THREAD_NEEDS) != CLONE_THREAD_NEEDS)
			return -LINUX_ENOSYS;
		return clone_thread(p, r, flags, newsp, ptid, ctid, tls);
	}
	if (flags & (CLONE_SIGHAND | CLONE_FS | CLONE_FILES))
		return -LINUX_ENOSYS;
	if (flags & ~known)
		return -LINUX_EINVAL;
	long pid = fork_with(p, r, newsp, &c);
	if (pid < 0)
		return pid;
	int tid = (int)pid;
	if (flags & CLONE_PARENT_SETTID)
		as_copy_out(&p->as, ptid, &tid, sizeof(tid));
	if (flags & CLONE_CHILD_SETTID)
		as_copy_out(&c->as, ctid, &tid, sizeof(tid));
	if (flags & CLONE_CHILD_CLEARTID)
		thread_of_tid(c->pid)->clear_child_tid = ctid;
	return pid;
}

/* clone(flags, newsp, parent_tid, child_tid, tls): x86_64's order. */
long posix_clone(struct process *p, struct user_regs *r)
{
	return clone_common(p, r, r->rdi, r->rsi, r->rdx, r->r10, r->r8);
}

/* clone3(args, size): the same from a struct clone_args; the stack is
 * [stack, stack + stack_size). */
long posix_clone3(struct process *p, struct user_regs *r)
{
	struct linux_clone_args a;

	if (r->rsi < sizeof(a))
		return -LINUX_EINVAL;
	if (r->rsi > AS_PAGE_SIZE)
		return -LINUX_E2BIG;
	if (as_copy_in(&p->as, &a, r->rdi, sizeof(a)) < 0)
		return -LINUX_EFAULT;
	if ((a.flags & (CSIGNAL | ~0xFFFFFFFFUL)) || a.exit_signal > LINUX_NSIG ||
	    ((a.flags & CLONE_THREAD) && a.exit_signal) || (a.stack && !a.stack_size) ||
	    (!a.stack && a.stack_size))
		return -LINUX_EINVAL;
	return clone_common(p, r, a.flags | a.exit_signal, a.stack ? a.stack + a.stack_size : 0,
			    a.parent_tid, a.child_tid, a.tls);
}

/* A vector of strings (argv, envp) at va into out[], the strings into
 * *buf: its count, or -EFAULT, -E2BIG. A null vector is empty. */
static long strings_in(struct process *p, uint64_t va, const char **out, char **buf, char *end)
{
	unsigned n = 0;

	for (; va; n++) {
		uint64_t s;
		if (as_copy_in(&p->as, &s, va + 8UL * n, 8) < 0)
			return -LINUX_EFAULT;
		if (!s)
			break;
		if (n == EXEC_MAX_ARGS)
			return -LINUX_E2BIG;
		out[n] = *buf;
		for (;; s++) {
			if (*buf == end)
				return -LINUX_E2BIG;
			if (as_copy_in(&p->as, *buf, s, 1) < 0)
				return -LINUX_EFAULT;
			if (!*(*buf)++)
				break;
		}
	}
	return n;
}

long posix_execve(struct process *p, struct user_regs *r)
{
	static char path[LINUX_PATH_MAX], strings[EXEC_STRINGS], dir[EXE_PATH_MAX];
	static struct exec_start s;
	struct vfs_lookup l;
	char *buf = strings;
	long err, n;

	if ((err = path_in(p, r->rdi, path)) ||
	    (err = vfs_resolve(p->cwd, path, VFS_FOLLOW, p, &l)))
		return err;
	const struct vfs_node *node = &vfs_nodes[l.node];
	if (node->type != VFS_FILE || !(node->mode & 0111))
		return -LINUX_EACCES;
	memset(&s, 0, sizeof(s));
	if ((n = strings_in(p, r->rsi, s.argv, &buf, strings + sizeof(strings))) < 0)
		return n;
	s.argc = (unsigned)n;
	if ((n = strings_in(p, r->rdx, s.envp, &buf, strings + sizeof(strings))) < 0)
		return n;
	s.envc = (unsigned)n;
	/* /proc/self/exe and AT_EXECFN: the file's own path, links followed. */
	long len = vfs_path(l.parent, dir, sizeof(dir));
	char exe[EXE_PATH_MAX];
	if (len < 0 || fmt_snprintf(exe, sizeof(exe), "%s/%s", len > 1 ? dir : "",
				    node->name) >= (int)sizeof(exe))
		return -LINUX_ENAMETOOLONG;
	s.execfn = exe;
	struct user_regs regs;
	if ((err = process_exec(p, l.node, &s, &regs)))
		return err;
	*r = regs;
	memset(p->exe, 0, sizeof(p->exe));
	memcpy(p->exe, exe, strlen(exe));
	memset(p->name, 0, sizeof(p->name));
	const char *name = *path_base(path) ? path_base(path) : node->name;
	memcpy(p->name, name, strnlen(name, sizeof(p->name) - 1));
	p->not_dumpable = false;        /* as Linux's begin_new_exec */
	if (syscall_trace)
		printf("posix: %s (pid %d): exec %s\n", p->name, p->pid, exe);
	return 0;
}

/* Linux's wait status: the exit status in bits 8..15, or the signal. */
static int wait_status(const struct process *c)
{
	return c->exit_signal ? c->exit_signal & 0x7F : (c->exit_status & 0xFF) << 8;
}

/* What a wait may tell of child c with these options (WUNTRACED is
 * WSTOPPED): its end, or a stop or a continue not told yet. */
enum child_news { NEWS_NONE, NEWS_ENDED, NEWS_STOPPED, NEWS_CONTINUED };

static enum child_news child_news(const struct process *c, uint64_t options)
{
	if (c->state == PROCESS_ZOMBIE)
		return NEWS_ENDED;
	if (c->job_report == JOB_REPORT_STOPPED && c->stopped && (options & WUNTRACED))
		return NEWS_STOPPED;
	if (c->job_report == JOB_REPORT_CONTINUED && (options & WCONTINUED))
		return NEWS_CONTINUED;
	return NEWS_NONE;
}

/* Told to its parent p: an ended child is reaped, a stop or a continue
 * is told once. */
static void child_told(struct process *p, struct process *c)
{
	if (c->state == PROCESS_ZOMBIE) {
		process_reaped(p, c);
		c->state = PROCESS_FREE;
	} else {
		c->job_report = JOB_REPORT_NONE;
	}
}

long posix_wait4(struct process *p, struct user_regs *r)
{
	int want = (int)r->rdi;
	uint64_t status_va = r->rsi, options = r->rdx, rusage_va = r->r10;
	bool any = false;

	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | WALL_FLAGS) || want == INT32_MIN)
		return -LINUX_EINVAL;
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *c = &processes[i];
		/* A pid, -1 any child, 0 one of the caller's group, -pgid of that group. */
		if ((c->state != PROCESS_RUNNING && c->state != PROCESS_ZOMBIE) ||
		    c->ppid != p->pid || (want > 0 && c->pid != want) ||
		    (want == 0 && c->pgid != p->pgid) || (want < -1 && c->pgid != -want))
			continue;
		any = true;
		/* A stop (WUNTRACED) or a continue (WCONTINUED) not told yet:
		 * told once, as Linux encodes it (0x7f | sig << 8; 0xffff). */
		enum child_news news = child_news(c, options);
		if (news == NEWS_NONE)
			continue;
		int status = news == NEWS_ENDED ? wait_status(c) :
			     news == NEWS_STOPPED ? 0x7f | c->stop_signal << 8 : 0xffff;
		/* The child's times (an ended one's; 0 for a stop or a
		 * continue: Linux's are the child's so far, not counted here). */
		struct linux_rusage ru;
		rusage_of_child(c, &ru);
		if (c->state != PROCESS_ZOMBIE)
			memset(&ru, 0, sizeof(ru));
		if ((status_va && as_copy_out(&p->as, status_va, &status, sizeof(status)) < 0) ||
		    (rusage_va && as_copy_out(&p->as, rusage_va, &ru, sizeof(ru)) < 0))
			return -LINUX_EFAULT;
		child_told(p, c);
		return c->pid;
	}
	if (!any)
		return -LINUX_ECHILD;
	return options & WNOHANG ? 0 : SYSCALL_BLOCK;
}

/* The fields of a siginfo that Linux's waitid writes (si_signo, si_errno,
 * si_code; si_pid, si_uid, si_status), the others left as they were. */
static long info_out(struct process *p, uint64_t va, const struct linux_siginfo *info)
{
	if (as_copy_out(&p->as, va, info, 12) < 0 ||
	    as_copy_out(&p->as, va + 16, (const uint8_t *)info + 16, 12) < 0)
		return -LINUX_EFAULT;
	return 0;
}

/* waitid (Linux's waitid(2)): idtype P_PID (id > 0), P_PGID (id, or 0:
 * the caller's group), P_ALL; WEXITED, WSTOPPED and WCONTINUED (a stop
 * or a continue not told yet, as wait4's WUNTRACED and WCONTINUED:
 * signal_stop.c), WNOHANG, WNOWAIT (the child stays a zombie, or its stop
 * or continue stays untold). The child's siginfo at infop: SIGCHLD,
 * si_code CLD_EXITED with the exit status, CLD_KILLED with the signal
 * (CLD_DUMPED never: no core is written), CLD_STOPPED with the stop
 * signal or CLD_CONTINUED with SIGCONT, si_pid, si_uid 0. With WNOHANG and
 * nothing to tell, 0 and a siginfo of zeros, as Linux. */
long posix_waitid(struct process *p, struct user_regs *r)
{
	uint64_t idtype = r->rdi, infop = r->rdx, options = r->r10, rusage_va = r->r8;
	int id = (int)r->rsi;
	const uint64_t known = WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | WALL_FLAGS;
	struct linux_siginfo info;
	bool any = false;

	if (options & ~known || !(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -LINUX_EINVAL;
	if (idtype == P_PGID && id == 0)
		id = p->pgid;
	if (idtype > P_PGID || (idtype != P_ALL && id <= 0))
		return -LINUX_EINVAL;
	memset(&info, 0, sizeof(info));
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *c = &processes[i];
		if ((c->state != PROCESS_RUNNING && c->state != PROCESS_ZOMBIE) || c->ppid != p->pid ||
		    (idtype == P_PID && c->pid != id) || (idtype == P_PGID && c->pgid != id))
			continue;
		/* As Linux: an ended child is none without WEXITED (ECHILD). */
		if (c->state == PROCESS_ZOMBIE && !(options & WEXITED))
			continue;
		any = true;
		enum child_news news = child_news(c, options);
		if (news == NEWS_NONE)
			continue;
		if (news == NEWS_ENDED) {
			info.code = c->exit_signal ? LINUX_CLD_KILLED : LINUX_CLD_EXITED;
			info.status = c->exit_signal ? c->exit_signal : c->exit_status & 0xFF;
		} else if (news == NEWS_STOPPED) {
			info.code = LINUX_CLD_STOPPED;
			info.status = c->stop_signal;
		} else {
			info.code = LINUX_CLD_CONTINUED;
			info.status = LINUX_SIGCONT;
		}
		info.signo = LINUX_SIGCHLD;
		info.pid = c->pid;
		struct linux_rusage ru;
		rusage_of_child(c, &ru);
		if (c->state != PROCESS_ZOMBIE)
			memset(&ru, 0, sizeof(ru));     /* as wait4's */
		if ((infop && info_out(p, infop, &info) < 0) ||
		    (rusage_va && as_copy_out(&p->as, rusage_va, &ru, sizeof(ru)) < 0))
			return -LINUX_EFAULT;
		if (!(options & WNOWAIT))
			child_told(p, c);
		return 0;
	}
	if (!any)
		return -LINUX_ECHILD;
	if (!(options & WNOHANG))
		return SYSCALL_BLOCK;
	return infop && info_out(p, infop, &info) < 0 ? -LINUX_EFAULT : 0;
}
