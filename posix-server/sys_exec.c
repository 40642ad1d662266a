/*
 * Processes making processes: fork (and vfork, and clone as fork — what
 * glibc's fork and posix_spawn call), execve, wait4. A child's memory is
 * the parent's pages shared copy-on-write (process_fork); its descriptors
 * share their open file descriptions with the parent's. execve replaces
 * the program in place (same process, same pid): descriptors marked
 * close-on-exec are closed. wait4 and waitid wait (the call blocks) until
 * a child has ended, with its status as Linux encodes it (wait4) or its
 * siginfo (waitid).
 */
#include "syscall.h"
#include "vfs.h"

#define CLONE_VM             0x00000100UL
#define CLONE_FS             0x00000200UL
#define CLONE_FILES          0x00000400UL
#define CLONE_SIGHAND        0x00000800UL
#define CLONE_VFORK          0x00004000UL
#define CLONE_THREAD         0x00010000UL
#define CLONE_PARENT_SETTID  0x00100000UL
#define CLONE_CHILD_CLEARTID 0x00200000UL
#define CLONE_CHILD_SETTID   0x01000000UL
#define CSIGNAL              0xFFUL

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

/* clone as fork: no thread (CLONE_THREAD is ENOSYS until threads come);
 * CLONE_VM|CLONE_VFORK (posix_spawn) gets a copy too. */
long posix_clone(struct process *p, struct user_regs *r)
{
	uint64_t flags = r->rdi, newsp = r->rsi, ptid = r->rdx, ctid = r->r10;
	const uint64_t known = CSIGNAL | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID |
			       CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
	struct process *c;

	if (flags & (CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES))
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
		c->clear_child_tid = ctid;
	return pid;
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
	    (err = vfs_resolve(p->cwd, path, VFS_FOLLOW, p->exe, &l)))
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
	memcpy(p->name, node->name, strnlen(node->name, sizeof(p->name) - 1));
	if (syscall_trace)
		printf("posix: %s (pid %d): exec %s\n", p->name, p->pid, exe);
	return 0;
}

/* Linux's wait status: the exit status in bits 8..15, or the signal. */
static int wait_status(const struct process *c)
{
	return c->exit_signal ? c->exit_signal & 0x7F : (c->exit_status & 0xFF) << 8;
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
		if (c->state != PROCESS_ZOMBIE)
			continue;
		int status = wait_status(c);
		static const uint8_t zero[144];
		if ((status_va && as_copy_out(&p->as, status_va, &status, sizeof(status)) < 0) ||
		    (rusage_va && as_copy_out(&p->as, rusage_va, zero, sizeof(zero)) < 0))
			return -LINUX_EFAULT;
		c->state = PROCESS_FREE;
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
 * the caller's group), P_ALL; WEXITED (nothing stops here, so WSTOPPED
 * and WCONTINUED alone never see a child), WNOHANG, WNOWAIT (the child
 * stays a zombie). The child's siginfo at infop: SIGCHLD, si_code
 * CLD_EXITED with the exit status, or CLD_KILLED with the signal
 * (CLD_DUMPED never: no core is written), si_pid, si_uid 0. With
 * WNOHANG and no child ended, 0 and a siginfo of zeros, as Linux. */
long posix_waitid(struct process *p, struct user_regs *r)
{
	uint64_t idtype = r->rdi, infop = r->rdx, options = r->r10, rusage_va = r->r8;
	int id = (int)r->rsi;
	const uint64_t known = WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | WALL_FLAGS;
	struct linux_siginfo info;
	static const uint8_t zero[144];
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
		if (c->state != PROCESS_ZOMBIE)
			continue;
		info.signo = LINUX_SIGCHLD;
		info.code = c->exit_signal ? LINUX_CLD_KILLED : LINUX_CLD_EXITED;
		info.status = c->exit_signal ? c->exit_signal : c->exit_status & 0xFF;
		info.pid = c->pid;
		if ((infop && info_out(p, infop, &info) < 0) ||
		    (rusage_va && as_copy_out(&p->as, rusage_va, zero, sizeof(zero)) < 0))
			return -LINUX_EFAULT;
		if (!(options & WNOWAIT))
			c->state = PROCESS_FREE;
		return 0;
	}
	if (!any)
		return -LINUX_ECHILD;
	if (!(options & WNOHANG))
		return SYSCALL_BLOCK;
	return infop && info_out(p, infop, &info) < 0 ? -LINUX_EFAULT : 0;
}
