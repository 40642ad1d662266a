/*
 * A process's life: its address space (the program's segments, the stack
 * with argv, envp and the auxiliary vector, later brk and mmap), a task
 * with syscall redirection whose pager and exception handler is the
 * server, and at its end all of it given back.
 */
#include "clock.h"
#include "exec_stack.h"
#include "file.h"
#include "futex.h"
#include "layout.h"
#include "memory.h"
#include "path.h"
#include "posix.h"
#include "procfs.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "timers.h"
#include "tty.h"
#include "vdso_map.h"
#include "vfs.h"

#include "lib/elf.h"
#include "lib/loader.h"

struct process processes[PROCESS_MAX];
static int next_pid = 1;

int pid_next(void)
{
	return next_pid++;
}

int pids_given(void)
{
	return next_pid - 1;
}

long regs_fetch(struct thread *t, struct user_regs *r)
{
	struct user_regs all;
	long err;

	if (regs_complete(r))
		return 0;
	if ((err = sys_thread_read_regs(t->kthread, (uint64_t)&all)) < 0)
		return err;
	all.rax = r->rax;
	all.rdi = r->rdi;
	all.rsi = r->rsi;
	all.rdx = r->rdx;
	all.r10 = r->r10;
	all.r8 = r->r8;
	all.r9 = r->r9;
	*r = all;
	return 0;
}

static uint64_t cpuid_1_edx(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d;
}

/* Name the regions the loader made for the segments of node's file
 * (moved by bias, as loaded) by the file and their offsets in it, for
 * /proc/PID/maps, when node is a root-filesystem file (its node stays
 * for good); a file elsewhere (tmpfs, a boot module) is named by
 * nothing. */
static void image_label(struct aspace *as, int node, uint64_t bias)
{
	const struct vfs_node *n = node >= 0 ? &vfs_nodes[node] : NULL;
	struct elf_image img;

	if (!n || VFS_WRITABLE(n) || !n->data ||
	    elf_parse_at(n->data, n->size, USER_SPACE_TOP, bias, &img) != ELF_OK)
		return;
	for (int i = 0; i < img.nsegments; i++) {
		const struct elf_segment *sg = &img.segments[i];
		uint64_t first = sg->vaddr & ~(AS_PAGE_SIZE - 1);
		uint64_t end = (sg->vaddr + sg->memsz + AS_PAGE_SIZE - 1) & ~(AS_PAGE_SIZE - 1);
		as_label(as, first, end - first, ~0u, MAP_TAG_FILE + (uint64_t)node,
			 sg->offset & ~(AS_PAGE_SIZE - 1));
	}
}

/* A root-filesystem file's pages from the file cache (memory.c), for the
 * loader to share between every process that runs the file rather than
 * copy into each (ctx: the node, as an int). */
static void *image_page(void *ctx, uint64_t offset)
{
	return memory_file_page((int)(intptr_t)ctx, offset / AS_PAGE_SIZE);
}

static void image_page_unused(void *ctx, void *page)
{
	(void)ctx;
	memory_file_page_unused(page);
}

/* loader_load, sharing the pages of node's file when file is a
 * root-filesystem file's bytes (node -1, or a tmpfs file's copy: copied). */
static const char *image_load(struct aspace *as, const void *file, size_t size, int node,
			      uint64_t lo, uint64_t hi, uint64_t dyn_base,
			      struct loader_image *image)
{
	const struct vfs_node *n = node >= 0 ? &vfs_nodes[node] : NULL;
	struct loader_pages pages = { image_page, image_page_unused, (void *)(intptr_t)node };
	bool shared = n && !VFS_WRITABLE(n) && n->data && n->data == file;

	return loader_load_shared(as, file, size, lo, hi, dyn_base, shared ? &pages : NULL, image);
}

/* The interpreter a dynamically linked program names (glibc's ld.so,
 * from the root filesystem), loaded at POSIX_INTERP_BASE: NULL or why
 * not; its entry point in *entry. */
static const char *interp_load(struct aspace *as, const char *path, uint64_t *entry)
{
	static char why[96];
	struct vfs_lookup l;
	struct loader_image img;

	if (vfs_resolve(VFS_ROOT, path, VFS_FOLLOW, NULL, &l) < 0 ||
	    vfs_nodes[l.node].type != VFS_FILE || !vfs_nodes[l.node].data) {
		fmt_snprintf(why, sizeof(why), "its interpreter %s is not in the root filesystem",
			     path);
		return why;
	}
	const char *err = image_load(as, vfs_nodes[l.node].data, vfs_nodes[l.node].size, l.node,
				     POSIX_INTERP_BASE, POSIX_STACK_TOP - POSIX_STACK_SIZE,
				     POSIX_INTERP_BASE, &img);
	if (err || img.interp) {
		fmt_snprintf(why, sizeof(why), "its interpreter %s: %s", path,
			     err ? err : "asks for an interpreter itself");
		return why;
	}
	*entry = img.entry;
	image_label(as, l.node, POSIX_INTERP_BASE);
	return NULL;
}

/* The address space at the start: segments (the interpreter's too),
 * stack; node: the program's file in the file tree (-1: none). NULL or
 * why not; where the thread starts in *entry. */
static const char *space_build(struct aspace *as, const void *file, size_t size,
			       struct exec_start *s, int node, uint64_t *entry, uint64_t *sp)
{
	const char *why = image_load(as, file, size, node, POSIX_IMAGE_LO, POSIX_IMAGE_HI,
				     POSIX_DYN_BASE, &s->image);

	if (why)
		return why;
	image_label(as, node, POSIX_DYN_BASE);
	*entry = s->image.entry;
	s->base = 0;
	if (s->image.interp) {
		if ((why = interp_load(as, s->image.interp, entry)))
			return why;
		s->base = POSIX_INTERP_BASE;
	}
	if (as_add(as, POSIX_STACK_TOP - POSIX_STACK_SIZE, POSIX_STACK_SIZE,
		   IPC_MAP_READ | IPC_MAP_WRITE, AS_ANON, 0, false) < 0)
		return "the stack overlaps the image";
	if (vdso_map(as) < 0)
		return "the vDSO overlaps the image";
	s->sysinfo_ehdr = POSIX_VDSO_BASE;
	random_fill(s->random, sizeof(s->random));
	s->hwcap = cpuid_1_edx();
	s->hwcap2 = 0;
	s->minsigstksz = signal_frame_max();
	s->uid = s->gid = 0;
	s->clock_ticks = LINUX_CLOCKS_PER_SEC;
	long err = exec_stack_build(as, POSIX_STACK_TOP, s, sp);
	if (err)
		return err == -ERR_NO_MEMORY ? "out of memory" : "the arguments do not fit";
	return NULL;
}

/* Where the argument strings exec_stack_build laid out for s (stack
 * pointer sp) are: from argv[0]'s, one after the other (/proc/PID/cmdline). */
static void args_find(struct process *p, struct aspace *as, const struct exec_start *s,
		      uint64_t sp)
{
	uint64_t at = 0, len = 0;

	for (unsigned i = 0; i < s->argc; i++)
		len += strlen(s->argv[i]) + 1;
	if (!s->argc || as_copy_in(as, &at, sp + 8, sizeof(at)) < 0)
		at = len = 0;
	p->arg_start = at;
	p->arg_end = at + len;
	/* envp[0] after argv's NULL; the environment's strings likewise. */
	at = len = 0;
	for (unsigned i = 0; i < s->envc; i++)
		len += strlen(s->envp[i]) + 1;
	if (!s->envc || as_copy_in(as, &at, sp + 8 * (s->argc + 2), sizeof(at)) < 0)
		at = len = 0;
	p->env_start = at;
	p->env_end = at + len;
}

/* The task and its first thread, t's: the server as pager and exception
 * handler (badged with t's slot), its calls redirected. */
static long task_build(struct process *p, struct thread *t, uint64_t entry, uint64_t sp)
{
	cap_slot_t badged = thread_badged_endpoint(t);
	long err;

	if (badged == CAP_SLOT_NONE)
		return -ERR_NO_MEMORY;
	struct task_spec spec = {
		.quota = PROCESS_QUOTA, .name = p->name,
		.priority = posix_priority > 1 ? posix_priority - 1 : 1,
		.pager = badged, .exception = badged, .ipc_buffer = 0,
		.supervisor = CAP_SLOT_NONE, .redirect_syscalls = TASK_REDIRECT_ARGS,
		.cap_slots = 1,         /* it makes no calls of Mica's: holds nothing */
	};
	if ((err = task_new(&spec, &p->task)) >= 0) {
		/* The thread is t's from now on (thread.c destroys it). */
		t->kthread = p->task.thread;
		p->task.thread = CAP_SLOT_NONE;
		err = sys_thread_start(t->kthread, entry, sp, 0);
	}
	sys_cap_delete(badged);
	slot_free(badged);
	return err;
}

/* Everything p holds: threads, task, memory, descriptors, working
 * directory. */
static void process_release(struct process *p)
{
	/* As Linux at each thread's exit: robust futexes marked, PI futexes
	 * handed on, clear_child_tid written, while the memory is there. */
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state != THREAD_FREE && threads[i].proc == p)
			futex_thread_gone(&threads[i]);
	threads_release(p, NULL);
	posix_timers_release(p);
	task_delete(&p->task);
	as_release(&p->as);
	fd_close_all(p);
	if (socket_lingering)
		socket_linger_end(p->account, 0);     /* its closed listeners too */
	if (p->cwd >= 0) {
		vfs_nodes[p->cwd].opens--;
		vfs_closed(p->cwd);
		p->cwd = -1;
	}
}

struct process *process_start(const char *name, const void *file, size_t size,
			      struct exec_start *s)
{
	struct process *p = NULL;
	struct thread *t;
	uint64_t sp = 0, entry = 0;

	for (unsigned i = 0; i < PROCESS_MAX && !p; i++)
		if (processes[i].state == PROCESS_FREE)
			p = &processes[i];
	if (!p) {
		printf("posix: %s: cannot start: %u processes already\n", name, PROCESS_MAX);
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	fd_table_init(p);
	if (!(t = thread_new(p, 0))) {
		printf("posix: %s: cannot start: %u threads already\n", name, THREAD_MAX);
		return NULL;
	}
	p->index = (unsigned)(p - processes);
	memcpy(p->name, name, strnlen(name, sizeof(p->name) - 1));
	as_init(&p->as, &process_as_ops, p, (unsigned)memory_account_share());
	p->cwd = -1;
	p->nofile = p->nofile_max = FD_MAX;
	p->account = share_account = next_pid;  /* a new account: its pid's (below) */
	p->nproc = p->nproc_max = SHARE(THREAD_MAX);
	p->umask = 022;
	memcpy(p->exe, s->execfn, strnlen(s->execfn, sizeof(p->exe) - 1));
	/* The program's node, if the file is the root filesystem's at execfn. */
	struct vfs_lookup l;
	int node = vfs_resolve(VFS_ROOT, s->execfn, VFS_FOLLOW, NULL, &l) >= 0 &&
		   vfs_nodes[l.node].data == file ? l.node : -1;
	const char *why = space_build(&p->as, file, size, s, node, &entry, &sp);
	p->brk_start = p->brk = s->image.end;
	if (!why)
		args_find(p, &p->as, s, sp);
	long err = why ? 0 : fd_console(p);
	if (!why && err == 0)
		err = task_build(p, t, entry, sp);
	if (why || err < 0) {
		printf("posix: %s: cannot start: %s\n", name,
		       why ? why : err == -LINUX_ENFILE ? "no open file left" : mica_strerror(err));
		process_release(p);
		return NULL;
	}
	process_set_cwd(p, VFS_ROOT);
	p->pid = t->tid = next_pid++;
	p->ppid = 0;
	p->pgid = p->sid = p->pid;
	p->state = PROCESS_RUNNING;
	printf("posix: started %s (pid %d)\n", p->name, p->pid);
	return p;
}

struct process *process_parent(const struct process *p)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_RUNNING && processes[i].pid == p->ppid)
			return &processes[i];
	return NULL;
}

bool process_any_alive(void)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_RUNNING)
			return true;
	return false;
}

struct ratelimit *process_log_limit(const struct process *p)
{
	static struct ratelimit headless;

	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state != PROCESS_FREE && processes[i].pid == p->account)
			return &processes[i].log_limit;
	return &headless;
}

void process_end(struct process *p, int status, int signal)
{
	struct process *parent = process_parent(p);

	process_release(p);
	process_cpu_ended(p);
	syscall_count_report(p);
	p->exit_status = status & 0xFF;
	p->exit_signal = signal;
	/* A program the server started (run list, console: its own account)
	 * is told how it ended; a process of its making only when a signal
	 * ended it, rate-limited (a shell's every command would fill the
	 * console otherwise). */
	if (p->account == p->pid && signal)
		printf("posix: %s (pid %d) killed by signal %d\n", p->name, p->pid, signal);
	else if (p->account == p->pid)
		printf("posix: %s (pid %d) exited with status %d\n", p->name, p->pid, p->exit_status);
	else if (signal)
		printf_limited("posix: %s (pid %d) killed by signal %d\n", p->name, p->pid, signal);
	job_orphans_at_exit(p);
	/* Its children have no parent to wait for them now. */
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *c = &processes[i];
		if (c->state == PROCESS_ZOMBIE && c->ppid == p->pid)
			c->state = PROCESS_FREE;
		else if (c->state == PROCESS_RUNNING && c->ppid == p->pid)
			c->ppid = -p->pid;      /* (0 once told: below) */
	}
	/* No zombie for a parent that ignores SIGCHLD (or asked with
	 * SA_NOCLDWAIT): as Linux, its children are reaped at once. */
	const struct linux_sigaction *chld = parent ? &parent->actions[LINUX_SIGCHLD - 1] : NULL;
	bool reaped = chld && (chld->handler == LINUX_SIG_IGN || (chld->flags & LINUX_SA_NOCLDWAIT));
	p->state = parent && !reaped ? PROCESS_ZOMBIE : PROCESS_FREE;
	signal_send(parent, LINUX_SIGCHLD, signal ? LINUX_CLD_KILLED : LINUX_CLD_EXITED, p->pid,
		    signal ? signal : p->exit_status);
	process_wake(parent);
	tty_process_ended(p);
	/* Its children's PR_SET_PDEATHSIG (prctl), now that it is gone. */
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *c = &processes[i];
		if (c->state != PROCESS_RUNNING || c->ppid != -p->pid)
			continue;
		c->ppid = 0;
		if (c->pdeath_signal)
			signal_send(c, c->pdeath_signal, LINUX_SI_USER, 0, 0);
	}
}

static struct process *slot_new(void)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		if (processes[i].state == PROCESS_FREE)
			return &processes[i];
	return NULL;
}

struct process *process_fork(struct process *p, const struct user_regs *regs, long *err)
{
	struct process *c;
	struct thread *ct, *pt = p->current;
	long e;

	if ((*err = share_tasks(p, true)) < 0)
		return NULL;
	if ((c = slot_new())) {
		memset(c, 0, sizeof(*c));
		fd_table_init(c);
	}
	if (!c || !(ct = thread_new(c, 0))) {
		*err = -LINUX_EAGAIN;
		return NULL;
	}
	c->index = (unsigned)(c - processes);
	memcpy(c->name, p->name, sizeof(c->name));
	memcpy(c->exe, p->exe, sizeof(c->exe));
	c->arg_start = p->arg_start;
	c->arg_end = p->arg_end;
	c->env_start = p->env_start;
	c->env_end = p->env_end;
	c->brk_start = p->brk_start;
	c->brk = p->brk;
	/* Only the calling thread is copied, with its mask and altstack;
	 * nothing pending, no timers: as Linux. */
	ct->sigmask = pt->sigmask;
	ct->altstack = pt->altstack;
	memcpy(c->actions, p->actions, sizeof(c->actions));
	c->nofile = p->nofile;
	c->nofile_max = p->nofile_max;
	c->account = p->account;
	c->nproc = p->nproc;
	c->nproc_max = p->nproc_max;
	c->umask = p->umask;
	c->no_new_privs = p->no_new_privs;
	c->not_dumpable = p->not_dumpable;
	c->nice = p->nice;
	c->ioprio = p->ioprio;
	sched_fork(c, p);
	c->cwd = -1;
	as_init(&c->as, &process_as_ops, c, (unsigned)memory_account_share());
	/* Copy-on-write: every page shared, read-only for both until one
	 * writes it (lib/aspace.h). */
	if ((e = fd_copy(c, p)) < 0 || (e = as_share(&c->as, &p->as)) < 0 ||
	    (e = task_build(c, ct, regs->rip, regs->rsp)) < 0 ||
	    (e = sys_thread_write_regs(ct->kthread, (uint64_t)regs)) < 0 ||
	    (e = thread_fpu_copy(ct, pt)) < 0) {
		process_release(c);
		*err = e == -LINUX_ENOMEM || e == -ERR_NO_MEMORY ? -LINUX_ENOMEM : -LINUX_EAGAIN;
		return NULL;
	}
	/* The thread is below the server's priority: it has not run yet
	 * when its registers are written (one CPU). */
	process_set_cwd(c, p->cwd);
	c->pid = ct->tid = next_pid++;
	c->ppid = p->pid;
	c->pgid = p->pgid;
	c->sid = p->sid;
	c->state = PROCESS_RUNNING;
	return c;
}

long process_exec(struct process *p, int node, struct exec_start *s, struct user_regs *regs)
{
	static struct aspace as;
	const struct vfs_node *n = &vfs_nodes[node];
	uint64_t entry = 0, sp = 0;
	long err = 0;
	void *copy = NULL;
	const void *file = n->data;

	/* A tmpfs file's bytes are in pages: made one run for the loader. */
	if (!file) {
		uint64_t size = (n->size + AS_PAGE_SIZE - 1) & ~(AS_PAGE_SIZE - 1);
		if (!size || !(copy = pages_alloc(size, NULL)))
			return size ? -LINUX_ENOMEM : -LINUX_ENOEXEC;
		vfs_read(node, 0, copy, n->size);
		file = copy;
	}
	as_init(&as, &process_as_ops, p, (unsigned)memory_account_share());
	const char *why = space_build(&as, file, n->size, s, node, &entry, &sp);
	if (copy)
		pages_free(copy);
	if (why) {
		as_release(&as);
		return !strcmp(why, "out of memory") ? -LINUX_ENOMEM
		       : !strcmp(why, "the arguments do not fit") ? -LINUX_E2BIG : -LINUX_ENOEXEC;
	}
	/* The other threads end; the caller goes on as the main thread,
	 * with the pid as its tid (as Linux). */
	struct thread *t = p->current;
	threads_release(p, t);
	posix_timers_release(p);        /* as Linux's exec: itimers stay, timers go */
	t->tid = p->pid;
	t->clear_child_tid = t->robust_list = 0;
	as_release(&p->as);
	as_move(&p->as, &as);
	p->brk_start = p->brk = s->image.end;
	args_find(p, &p->as, s, sp);
	fd_close_on_exec(p);
	/* Caught signals go back to their default action; ignored stay;
	 * the mask, pending signals and the alarm stay, the altstack goes. */
	memset(&t->altstack, 0, sizeof(t->altstack));
	signal_fpu_enter(t);    /* the FPU state a new program starts with, as Linux */
	for (unsigned i = 0; i < LINUX_NSIG; i++)
		if (p->actions[i].handler > 1)
			memset(&p->actions[i], 0, sizeof(p->actions[i]));
	memset(regs, 0, sizeof(*regs));
	regs->rip = entry;
	regs->rsp = sp;
	regs->rflags = 0x202;
	return err;
}
