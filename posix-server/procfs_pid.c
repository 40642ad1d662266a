/*
 * The parts of /proc that depend on who looks, as Linux's proc(5) has
 * them: /proc lists the live processes (zombies too) as directories named
 * by their pids, /proc/self is a link to the caller's pid, and /proc/PID/
 * holds stat, status, cmdline, comm, exe, cwd, fd/, fdinfo/, maps and
 * environ (procfs_maps.c) and task/, a directory per thread (its tid)
 * with its own stat, status and comm.
 * /proc/PID/fd/N is a link whose text is what Linux shows (a path,
 * `pipe:[INO]`, `socket:[INO]`, `anon_inode:[eventfd]`) and which opens
 * the descriptor's own node, not a path (vfs.c follows it through
 * procfs_follow). The nodes are made when looked up (vfs_proc_node: at
 * most VFS_PROC_NODES, the least recently used going first) and say
 * which pid and descriptor they stand for; each use looks the process up
 * again, so a node outliving its process finds nothing (ENOENT, ESRCH).
 */
#include "clock.h"
#include "file.h"
#include "path.h"
#include "procfs.h"
#include "syscall.h"
#include "tty.h"
#include "vfs.h"

#include "lib/fmt.h"

#define KIB(pages) ((pages) * (PAGE_SIZE / 1024))
#define LINK_MAX_TEXT (LINUX_PATH_MAX + 16)

/* The entries of /proc/PID: name, mode, device. */
static const struct {
	const char *name;
	uint32_t mode;
	uint8_t device;
} pid_entries[] = {
	{ "fd", LINUX_S_IFDIR | 0500, PROC_PID_FD },
	{ "fdinfo", LINUX_S_IFDIR | 0500, PROC_PID_FDINFO },
	{ "exe", LINUX_S_IFLNK | 0777, PROC_PID_EXE },
	{ "cwd", LINUX_S_IFLNK | 0777, PROC_PID_CWD },
	{ "stat", LINUX_S_IFREG | 0444, PROC_PID_STAT },
	{ "status", LINUX_S_IFREG | 0444, PROC_PID_STATUS },
	{ "cmdline", LINUX_S_IFREG | 0444, PROC_PID_CMDLINE },
	{ "comm", LINUX_S_IFREG | 0644, PROC_PID_COMM },
	{ "maps", LINUX_S_IFREG | 0444, PROC_PID_MAPS },
	{ "environ", LINUX_S_IFREG | 0400, PROC_PID_ENVIRON },
	{ "task", LINUX_S_IFDIR | 0555, PROC_PID_TASK },
};
#define PID_ENTRIES (sizeof(pid_entries) / sizeof(pid_entries[0]))

/* The entries of /proc/PID/task/TID: the thread's own. */
static const struct {
	const char *name;
	uint8_t device;
} task_entries[] = {
	{ "stat", PROC_TASK_STAT }, { "status", PROC_TASK_STATUS }, { "comm", PROC_TASK_COMM },
};
#define TASK_ENTRIES (sizeof(task_entries) / sizeof(task_entries[0]))

/* The process with pid, alive or a zombie (alive only: live), or NULL. */
static struct process *process_of_pid(int pid, bool live)
{
	for (unsigned i = 0; i < PROCESS_MAX; i++) {
		struct process *p = &processes[i];
		if (p->pid == pid && (p->state == PROCESS_RUNNING ||
				      (!live && p->state == PROCESS_ZOMBIE)))
			return p;
	}
	return NULL;
}

/* Thread tid of p (alive), or NULL. */
static struct thread *thread_of(const struct process *p, long tid)
{
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].proc == p && threads[i].tid == tid)
			return &threads[i];
	return NULL;
}

static long number(const char *name, size_t len)
{
	long v = 0;

	for (size_t i = 0; i < len && v < 1L << 31; i++)
		v = v * 10 + (name[i] - '0');
	return v;
}

static long procfs_child(void *caller, int dir, const char *name, size_t len)
{
	const struct vfs_node *d = &vfs_nodes[dir];
	char text[16];
	struct process *p;

	(void)caller;
	switch (d->device) {
	case PROC_ROOT: {
		long pid = number(name, len);
		if (!process_of_pid((int)pid, false))
			return -LINUX_ENOENT;
		fmt_snprintf(text, sizeof(text), "%ld", pid);
		return vfs_proc_node(dir, text, LINUX_S_IFDIR | 0555, PROC_PID, (int)pid, -1);
	}
	case PROC_PID:
		if (!process_of_pid(d->pid, false))
			return -LINUX_ENOENT;
		for (unsigned i = 0; i < PID_ENTRIES; i++)
			if (strlen(pid_entries[i].name) == len && !memcmp(pid_entries[i].name, name, len))
				return vfs_proc_node(dir, pid_entries[i].name, pid_entries[i].mode,
						     pid_entries[i].device, d->pid, -1);
		return -LINUX_ENOENT;
	case PROC_PID_TASK: {
		long tid = number(name, len);
		if (!(p = process_of_pid(d->pid, true)) || !thread_of(p, tid))
			return -LINUX_ENOENT;
		fmt_snprintf(text, sizeof(text), "%ld", tid);
		return vfs_proc_node(dir, text, LINUX_S_IFDIR | 0555, PROC_TASK_TID, d->pid, (int)tid);
	}
	case PROC_TASK_TID:
		if (!(p = process_of_pid(d->pid, true)) || !thread_of(p, d->fd))
			return -LINUX_ENOENT;
		for (unsigned i = 0; i < TASK_ENTRIES; i++)
			if (strlen(task_entries[i].name) == len && !memcmp(task_entries[i].name, name, len))
				return vfs_proc_node(dir, task_entries[i].name, LINUX_S_IFREG | 0444,
						     task_entries[i].device, d->pid, d->fd);
		return -LINUX_ENOENT;
	default: {              /* PROC_PID_FD, PROC_PID_FDINFO */
		bool digits = len > 0 && len < 8 && (name[0] != '0' || len == 1);
		for (size_t i = 0; i < len && digits; i++)
			digits = name[i] >= '0' && name[i] <= '9';
		long fd = digits ? number(name, len) : -1;
		if (fd < 0 || !(p = process_of_pid(d->pid, true)) || !fd_file(p, (uint64_t)fd))
			return -LINUX_ENOENT;
		fmt_snprintf(text, sizeof(text), "%ld", fd);
		if (d->device == PROC_PID_FD)
			return vfs_proc_node(dir, text, LINUX_S_IFLNK | 0700, PROC_FD, d->pid, (int)fd);
		return vfs_proc_node(dir, text, LINUX_S_IFREG | 0444, PROC_FDINFO, d->pid, (int)fd);
	}
	}
}

/* What Linux's /proc/PID/fd/N says of node (d_path, or the pseudo
 * file system's name and inode), into buf (size bytes). */
static void describe(int node, char *buf, size_t size)
{
	const struct vfs_node *n = &vfs_nodes[node];

	if (n->type == VFS_PIPE && n->fifo) {   /* a named pipe's: its name's path */
		node = n->fifo - 1;
		n = &vfs_nodes[node];
	}
	switch (n->type) {
	case VFS_PIPE: fmt_snprintf(buf, size, "pipe:[%d]", node + 1); return;
	case VFS_SOCKET: fmt_snprintf(buf, size, "socket:[%d]", node + 1); return;
	case VFS_EVENTFD: fmt_snprintf(buf, size, "anon_inode:[eventfd]"); return;
	case VFS_TIMERFD: fmt_snprintf(buf, size, "anon_inode:[timerfd]"); return;
	case VFS_DEVICE:
		if (n->device == DEV_PTY_MASTER) {      /* a pty's master: what was opened */
			fmt_snprintf(buf, size, "/dev/ptmx");
			return;
		}
		break;
	}
	if (n->fs == FS_PIPE) {         /* the other node in no directory: epoll's */
		fmt_snprintf(buf, size, "anon_inode:[eventpoll]");
		return;
	}
	if (n->parent < 0 || vfs_path(node, buf, size) < 0)
		fmt_snprintf(buf, size, "/%s (deleted)", n->name);
}

static const char *procfs_link(void *caller, int node, size_t *len)
{
	static char text[LINK_MAX_TEXT];
	const struct vfs_node *n = &vfs_nodes[node];
	const struct process *self = caller;
	struct process *p = process_of_pid(n->pid, true);
	struct file *f;

	text[0] = 0;
	switch (n->device) {
	case PROC_SELF:
		if (!self)
			return NULL;
		fmt_snprintf(text, sizeof(text), "%d", self->pid);
		break;
	case PROC_PID_EXE:
		if (!p || !p->exe[0])
			return NULL;
		fmt_snprintf(text, sizeof(text), "%s", p->exe);
		break;
	case PROC_PID_CWD:
		if (!p || p->cwd < 0 || vfs_path(p->cwd, text, sizeof(text)) < 0)
			return NULL;
		break;
	case PROC_FD:
		if (!p || !(f = fd_file(p, (uint64_t)n->fd)))
			return NULL;
		describe(f->node, text, sizeof(text));
		break;
	default:
		return NULL;
	}
	*len = strlen(text);
	return text;
}

static long procfs_follow(void *caller, int node)
{
	const struct vfs_node *n = &vfs_nodes[node];
	struct process *p = process_of_pid(n->pid, true);
	struct file *f = p ? fd_file(p, (uint64_t)n->fd) : NULL;

	(void)caller;
	return f ? f->node : -LINUX_ENOENT;
}

const struct vfs_proc_ops procfs_ops = { procfs_child, procfs_link, procfs_follow };

/* ---- listing ---- */

bool procfs_dir(int node)
{
	const struct vfs_node *n = &vfs_nodes[node];

	return n->fs == FS_PROC && (n->device == PROC_ROOT || n->device == PROC_PID ||
				    n->device == PROC_PID_FD || n->device == PROC_PID_FDINFO ||
				    n->device == PROC_PID_TASK || n->device == PROC_TASK_TID);
}

bool procfs_dirent(int dir, uint64_t *pos, char *name, size_t size, uint8_t *type, uint64_t *ino)
{
	const struct vfs_node *d = &vfs_nodes[dir];
	struct process *p;
	int c;

	switch (d->device) {
	case PROC_ROOT:
		/* Its fixed entries at 2 + their place in the table, then the
		 * processes at 2 + VFS_NODES + their slot. */
		while (*pos < 2 + VFS_NODES) {
			unsigned at = (unsigned)(*pos - 2);
			if ((c = vfs_child_next(dir, &at)) < 0) {
				*pos = 2 + VFS_NODES;
				break;
			}
			*pos = 2 + at;
			if (VFS_PROC_NODE(&vfs_nodes[c]))
				continue;
			fmt_snprintf(name, size, "%s", vfs_nodes[c].name);
			*type = node_dirent_type(c);
			*ino = (uint64_t)c + 1;
			return true;
		}
		for (uint64_t i = *pos - 2 - VFS_NODES; i < PROCESS_MAX; i++) {
			p = &processes[i];
			if (p->state != PROCESS_RUNNING && p->state != PROCESS_ZOMBIE)
				continue;
			fmt_snprintf(name, size, "%d", p->pid);
			*type = LINUX_DT_DIR;
			*ino = ((uint64_t)p->pid << 16) + VFS_NODES;
			*pos = 2 + VFS_NODES + i + 1;
			return true;
		}
		return false;
	case PROC_PID:
		if (*pos - 2 >= PID_ENTRIES || !process_of_pid(d->pid, false))
			return false;
		fmt_snprintf(name, size, "%s", pid_entries[*pos - 2].name);
		*type = (pid_entries[*pos - 2].mode & LINUX_S_IFMT) == LINUX_S_IFDIR ? LINUX_DT_DIR
			: (pid_entries[*pos - 2].mode & LINUX_S_IFMT) == LINUX_S_IFLNK ? LINUX_DT_LNK
			: LINUX_DT_REG;
		*ino = ((uint64_t)d->pid << 16) + VFS_NODES + *pos;
		(*pos)++;
		return true;
	case PROC_PID_TASK:
		/* The threads at 2 + their slot. */
		if (!(p = process_of_pid(d->pid, true)))
			return false;
		for (uint64_t i = *pos - 2; i < THREAD_MAX; i++) {
			const struct thread *t = &threads[i];
			if (t->state != THREAD_RUNNING || t->proc != p)
				continue;
			fmt_snprintf(name, size, "%d", t->tid);
			*type = LINUX_DT_DIR;
			*ino = ((uint64_t)t->tid << 16) + VFS_NODES;
			*pos = i + 3;
			return true;
		}
		return false;
	case PROC_TASK_TID:
		if (*pos - 2 >= TASK_ENTRIES || !(p = process_of_pid(d->pid, true)) ||
		    !thread_of(p, d->fd))
			return false;
		fmt_snprintf(name, size, "%s", task_entries[*pos - 2].name);
		*type = LINUX_DT_REG;
		*ino = ((uint64_t)d->fd << 16) + VFS_NODES + *pos;
		(*pos)++;
		return true;
	default:                /* PROC_PID_FD, PROC_PID_FDINFO */
		if (!(p = process_of_pid(d->pid, true)))
			return false;
		for (uint64_t fd = *pos - 2; fd < p->fd_end; fd++) {
			if (!fd_file(p, fd))
				continue;
			fmt_snprintf(name, size, "%lu", fd);
			*type = d->device == PROC_PID_FD ? LINUX_DT_LNK : LINUX_DT_REG;
			*ino = ((uint64_t)d->pid << 16) + VFS_NODES + 16 + fd;
			*pos = fd + 3;
			return true;
		}
		return false;
	}
}

/* ---- the files of /proc/PID ---- */

/* The bytes of p's regions, in KiB. */
static uint64_t vm_kib(const struct process *p)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < p->as.nregions; i++)
		bytes += p->as.regions[i].end - p->as.regions[i].start;
	return bytes / 1024;
}

/* proc(5)'s state letter of p, or of its thread t (NULL: the process):
 * Z a zombie, T stopped, R a thread runs (the reader's own call is not
 * waiting), else S. */
static char state_of(const struct process *p, const struct thread *t)
{
	if (p->state == PROCESS_ZOMBIE)
		return 'Z';
	if (p->stopped)
		return 'T';
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].proc == p && !threads[i].blocked &&
		    (!t || t == &threads[i]))
			return 'R';
	return 'S';
}

static const char *state_name(char s)
{
	switch (s) {
	case 'R': return "R (running)";
	case 'S': return "S (sleeping)";
	case 'T': return "T (stopped)";
	default: return "Z (zombie)";
	}
}

/* stat of p, or of its thread t (NULL: the process's). */
static void pid_stat(struct process *p, const struct thread *t)
{
	const struct tty *term = tty_of_session(p->sid);
	int fg = term && term->pgrp ? term->pgrp : -1;
	uint64_t user, system;

	if (t)
		thread_cpu_split(t, &user, &system);
	else
		process_cpu_split(p, &user, &system);
	/* proc(5)'s 52 fields; signals and faults not counted are 0; utime,
	 * stime, cutime and cstime in clock ticks (cputime.c); priority 20 +
	 * nice and nice (setpriority: sys_sched.c). */
	const uint64_t ns_per_tick = 1000000000 / LINUX_CLOCKS_PER_SEC;
	procfs_printf("%d (%.15s) %c %d %d %d %d %d 4194304 0 0 0 0 %lu %lu %lu %lu %d %d %u 0 0 %lu %u "
		      "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		      t ? t->tid : p->pid, p->name, state_of(p, t), p->ppid, p->pgid, p->sid,
		      term ? tty_device_number(term) : 0, fg, user / ns_per_tick, system / ns_per_tick,
		      (p->cpu_children_ns - p->cpu_children_system_ns) / ns_per_tick,
		      p->cpu_children_system_ns / ns_per_tick, 20 + p->nice, p->nice, p->nthreads,
		      p->state == PROCESS_ZOMBIE ? 0 : vm_kib(p) * 1024,
		      p->state == PROCESS_ZOMBIE ? 0 : p->as.npages);
}

static void pid_status(const struct process *p, const struct thread *t)
{
	procfs_printf("Name:\t%.15s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\n"
		      "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
		      "FDSize:\t%lu\nGroups:\t\n",
		      p->name, p->umask, state_name(state_of(p, t)), p->pid, t ? t->tid : p->pid,
		      p->ppid, p->nofile);
	if (p->state != PROCESS_ZOMBIE)
		procfs_printf("VmSize:\t%8lu kB\nVmRSS:\t%8lu kB\n", vm_kib(p),
			      KIB((uint64_t)p->as.npages));
	procfs_printf("Threads:\t%u\n", p->nthreads);
}

/* The argument strings as they are in p's memory now, NUL-separated (at
 * most what the file's buffer holds). */
static void pid_cmdline(struct process *p)
{
	static char chunk[256];

	if (p->state == PROCESS_ZOMBIE)
		return;
	for (uint64_t at = p->arg_start; at < p->arg_end;) {
		uint64_t n = p->arg_end - at < sizeof(chunk) ? p->arg_end - at : sizeof(chunk);
		if (as_copy_in(&p->as, chunk, at, n) < 0)
			return;
		if (!procfs_append(chunk, n))
			return;
		at += n;
	}
}

static void pid_fdinfo(struct process *p, int fd)
{
	const struct fd_slot *slot = fd >= 0 && (unsigned)fd < p->fd_end ? &p->fds[fd] : NULL;
	const struct file *f = slot && slot->file ? &files[slot->file - 1] : NULL;

	if (!f)
		return;
	procfs_printf("pos:\t%lu\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n", f->offset,
		      f->flags | (slot->cloexec ? LINUX_O_CLOEXEC : 0), vfs_nodes[f->node].fs,
		      f->node + 1);
}

long procfs_pid_file(int node)
{
	const struct vfs_node *n = &vfs_nodes[node];
	bool task = n->device >= PROC_TASK_STAT && n->device <= PROC_TASK_COMM;
	struct process *p = process_of_pid(n->pid, n->device == PROC_FDINFO || task);
	const struct thread *t = p && task ? thread_of(p, n->fd) : NULL;

	if (!p || (task && !t))
		return -LINUX_ESRCH;
	switch (n->device) {
	case PROC_PID_STAT: pid_stat(p, NULL); break;
	case PROC_PID_STATUS: pid_status(p, NULL); break;
	case PROC_TASK_STAT: pid_stat(p, t); break;
	case PROC_TASK_STATUS: pid_status(p, t); break;
	case PROC_TASK_COMM: procfs_printf("%.15s\n", p->name); break;
	case PROC_PID_MAPS: procfs_maps(p); break;
	case PROC_PID_ENVIRON: procfs_environ(p); break;
	case PROC_PID_CMDLINE: pid_cmdline(p); break;
	case PROC_PID_COMM: procfs_printf("%.15s\n", p->name); break;
	case PROC_FDINFO:
		if (!fd_file(p, (uint64_t)n->fd))
			return -LINUX_ENOENT;
		pid_fdinfo(p, n->fd);
		break;
	}
	return 0;
}
