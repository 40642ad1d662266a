/*
 * The POSIX server: pager and exception handler of every process it
 * starts. A process is a task whose `syscall` instructions the kernel
 * redirects to the server as messages (IPC_LABEL_SYSCALL), with its threads
 * (struct thread: one for each kernel thread of the task). The server keeps each process's memory in an
 * address-space record (lib/aspace.h) whose pages are its own, so copying
 * to and from a process is as_copy_in/as_copy_out: a bad pointer is an
 * error code, never a fault of the server. docs/posix.md describes it.
 *
 * One thread serves everything; nothing here is shared with another.
 */
#ifndef MICA_POSIX_POSIX_H
#define MICA_POSIX_POSIX_H

#include "lib/aspace.h"
#include "lib/mica.h"
#include "lib/task.h"

#include "exec_stack.h"
#include "linux.h"
#include "vdso_map.h"
#include "vfs.h"

#define PROCESS_MAX        8            /* processes at once */
#define PROCESS_MAX_PAGES  ((256UL << 20) / AS_PAGE_SIZE)  /* 256 MiB of memory each */
#define PROCESS_QUOTA      (256UL << 10)  /* kernel memory for each task, bytes */
#define THREAD_MAX         64           /* threads of all processes at once */
#define PROCESS_BADGE_BASE 0x100        /* the badge of thread slot i is base + i */
#define POSIX_CONTROL_BADGE (1UL << 32) /* the console's requests (control.c) */
#define FD_MAX             1024         /* descriptors a process may have (RLIMIT_NOFILE) */
#define FILE_MAX           512          /* open file descriptions in the server */
#define EXE_PATH_MAX       128          /* /proc/self/exe's target */

/* An open file description: what open made, shared by dup's descriptors. */
struct file {
	unsigned refs;          /* descriptors (of every process) on it; 0: free */
	int node;               /* in the file tree (vfs.h) */
	uint64_t offset;
	uint32_t flags;         /* O_ACCMODE, O_APPEND, O_NONBLOCK, O_LARGEFILE */
};

/* Opened for reading, for writing (not O_PATH): read(2)'s and write(2)'s
 * EBADF otherwise. */
static inline bool file_readable(const struct file *f)
{
	return (f->flags & LINUX_O_ACCMODE) != LINUX_O_WRONLY && !(f->flags & LINUX_O_PATH);
}

static inline bool file_writable(const struct file *f)
{
	return (f->flags & LINUX_O_ACCMODE) != LINUX_O_RDONLY && !(f->flags & LINUX_O_PATH);
}

/* The most bytes one read, write or sendfile moves (Linux's MAX_RW_COUNT). */
#define POSIX_RW_MAX 0x7FFFF000UL

/* A descriptor: files[file - 1], or free when file is 0. */
struct fd_slot {
	uint16_t file;
	bool cloexec;
};

/* RUNNING: alive (its call may be blocked); ENDED: its call ended it,
 * for a moment; ZOMBIE: ended, its status kept for its parent's wait. */
enum process_state { PROCESS_FREE, PROCESS_RUNNING, PROCESS_ENDED, PROCESS_ZOMBIE };

#define SLEEP_FOREVER UINT64_MAX
/* thread.sleep_rem of a sleep until an absolute CLOCK_REALTIME deadline
 * (no remaining time is written back; a change of the clock moves the
 * deadline: realtime.c). Never a user address (odd, in page 0). */
#define SLEEP_REALTIME 1

/* Who sent a pending signal, for its siginfo (signal.c). With code
 * SI_TIMER (a POSIX timer's, posix_timer.c) pid is si_timerid, status
 * si_overrun and addr si_value. */
struct signal_source {
	int code, pid, status;
	uint64_t addr;          /* a fault's: the instruction's address */
};

/* A thread of a process: a kernel thread in the process's task, whose
 * page faults and redirected calls come badged PROCESS_BADGE_BASE +
 * index (thread.c). What Linux keeps per thread is here: the waiting
 * call, the signal mask and the signals sent to this thread, the
 * alternate stack, the futex it waits on; the rest is the process's. */
/* THREAD_ENDED: its call (exit) ended it, for a moment. */
enum thread_state { THREAD_FREE, THREAD_RUNNING, THREAD_ENDED };

/* Where a thread is with FUTEX_WAIT or FUTEX_LOCK_PI (futex.c, futex_pi.c). */
enum futex_state { FUTEX_NONE, FUTEX_WAITING, FUTEX_WOKEN };

/* A futex's name (futex.c, as Linux's get_futex_key): a word of private
 * memory — with FUTEX_PRIVATE_FLAG, or in a private mapping — is its
 * process and address; a word of a shared mapping (an AS_OBJECT region)
 * is the memory object and the byte's offset in it, the same in every
 * process that maps it, wherever. */
struct futex_key {
	const struct process *proc;     /* private: its process; NULL: shared */
	uint64_t object;                /* shared: the memory object (shmem.c) */
	uint64_t offset;                /* private: the address; shared: the offset */
};

struct thread {
	enum thread_state state;
	unsigned index;                 /* in threads[] */
	struct process *proc;
	int tid;                        /* the main thread's is the pid */
	cap_slot_t kthread;             /* the kernel thread */
	bool blocked;                   /* its system call waits: saved, reply */
	bool wake;                      /* what it waits for changed, or a signal came: look again */
	struct user_regs saved;         /* the registers of the call that waits */
	cap_slot_t reply;               /* the reply object it waits on */
	uint64_t io_done;               /* bytes a waiting write has moved so far (recvmmsg,
					 * sendmmsg: messages) */
	uint64_t mmsg_end, mmsg_inner;  /* a waiting recvmmsg's deadline (ns of sys_clock);
					 * recvmmsg, sendmmsg: the waiting message's io_done */
	uint64_t sigmask;               /* blocked signals: bit sig - 1 */
	uint64_t sigpending;            /* sent to this thread and not yet delivered */
	struct signal_source siginfo[LINUX_NSIG];       /* of each of those */
	struct linux_stack altstack;    /* sigaltstack; size 0: none */
	bool in_sigsuspend;             /* waits in rt_sigsuspend with sigsuspend_old saved */
	uint64_t sigwait_set;           /* waits in rt_sigtimedwait for these (0: not) */
	uint64_t sigsuspend_old;
	uint64_t sleep_at, sleep_rem;   /* a waiting sleep's, poll's or futex's deadline (ns
					 * of sys_clock; SLEEP_FOREVER: none), rem (0: none;
					 * SLEEP_REALTIME: none, and the deadline is an
					 * absolute CLOCK_REALTIME one: realtime.c) */
	uint64_t clear_child_tid;       /* set_tid_address, clone's CLONE_CHILD_CLEARTID */
	uint64_t robust_list;           /* set_robust_list's head (0: none) */
	enum futex_state futex;         /* FUTEX_WAIT's, FUTEX_LOCK_PI's */
	struct futex_key futex_key;     /* the futex it waits on */
	uint64_t futex_addr;            /* its word's address in this thread's process */
	bool futex_pi;                  /* waits in FUTEX_LOCK_PI: woken owning the lock */
	bool futex_requeue_pi;          /* waits in FUTEX_WAIT_REQUEUE_PI (futex_pi: requeued) */
	struct futex_key futex_key2;    /* FUTEX_WAIT_REQUEUE_PI: the PI futex it may move to, */
	uint64_t futex_addr2;           /* and its word's address in this thread's process */
	int futex_pi_owner;             /* FUTEX_LOCK_PI: the owner's tid it waits behind */
	uint32_t futex_bitset;          /* FUTEX_WAIT_BITSET's (FUTEX_WAIT: all ones) */
	uint64_t futex_seq;             /* when it began to wait: the first wakes first */
	uint64_t fault_at;              /* its last page fault's page and access (main.c) */
	unsigned fault_repeats;         /* how often in a row, answered */
};

/* What a process's parent's wait4 (WUNTRACED, WCONTINUED) has to hear. */
enum job_report { JOB_REPORT_NONE, JOB_REPORT_STOPPED, JOB_REPORT_CONTINUED };

struct process {
	enum process_state state;
	unsigned index;                 /* in processes[] */
	int pid, ppid;
	int pgid, sid;                  /* process group, session (sys_job.c) */
	char name[32];                  /* the program's file name (for logs) */
	struct task_handle task;        /* the task (its thread slot unused: threads[]) */
	struct thread *current;         /* the thread whose message the server handles */
	unsigned nthreads;              /* threads alive */
	struct aspace as;
	uint64_t brk_start, brk;        /* the heap: from brk_start (page aligned) to brk */
	uint64_t sigpending;            /* sent to the process and not yet delivered */
	struct linux_sigaction actions[LINUX_NSIG];
	struct signal_source siginfo[LINUX_NSIG];       /* of each pending signal */
	uint64_t alarm_at, alarm_interval;      /* ITIMER_REAL (ns of sys_clock; 0: off) */
	uint64_t cpu_timer_at[2];       /* ITIMER_VIRTUAL, ITIMER_PROF: when its CPU time
					 * (process_cpu_ns) reaches it (0: off) */
	uint64_t cpu_timer_interval[2];
	int exit_status;                /* 0..255, when it exited */
	int exit_signal;                /* the signal that killed it, or 0 */
	uint64_t cpu_ended_ns;          /* CPU time of its threads that ended (cputime.c) */
	uint64_t cpu_ended_ticks[2];    /* their user and system samples */
	uint64_t cpu_prev[2];           /* user and system time last told (never less) */
	uint64_t cpu_children_ns;       /* of its children it waited for, and theirs */
	uint64_t cpu_children_system_ns;        /* of that, system time */
	struct fd_slot fds[FD_MAX];
	uint64_t nofile;                /* RLIMIT_NOFILE: descriptors below it may be used */
	int cwd;                        /* the working directory's node */
	uint32_t umask;
	char exe[EXE_PATH_MAX];         /* its executable's path (/proc/self/exe) */
	uint64_t arg_start, arg_end;    /* its argument strings on its stack (/proc/PID/cmdline) */
	uint64_t env_start, env_end;    /* its environment's (/proc/PID/environ) */
	bool stopped;                   /* by a stop signal, until SIGCONT (signal_stop.c) */
	int stop_signal;                /* the signal that stopped it */
	enum job_report job_report;     /* a stop or continue wait4 has not reported */
	unsigned unsupported_logged;    /* lines about unsupported calls so far */
	uint64_t unsupported_seen[8];   /* a bit per number 512..1023 already logged (syscall.c) */
};

extern struct process processes[PROCESS_MAX];
extern struct thread threads[THREAD_MAX];

/* ---- main.c ---- */

extern cap_slot_t posix_endpoint;       /* where processes' faults and calls arrive */
extern unsigned posix_priority;         /* the server's thread's */
/* The call just handled yields (sched_yield): its answer goes with
 * ipc_reply, behind the ready threads of its priority, not with the
 * next receive. */
extern bool call_yields;
/* A reply object a thread that waited held, free again (its thread was
 * destroyed without an answer). */
void reply_put(cap_slot_t reply);

/* ---- runlist.c: the programs to run ---- */

/* The run list from the server's arguments (run=, runfile=, memlog=). */
void run_list_setup(const char *args);
/* The root filesystem's archive, where programs are looked for first. */
void run_list_rootfs(const void *archive, size_t size);
/* Start the next program of the list, skipping those that cannot start;
 * when none is left, say so with the memory. */
void run_next(void);

/* ---- random.c: AT_RANDOM and getrandom ---- */

/* n bytes from the server's generator: xoshiro256** seeded from the
 * clock and the time-stamp counter (and RDRAND where the CPU has it).
 * Not a cryptographic source yet. */
void random_fill(void *buf, size_t n);

/* ---- memory.c: the pages processes get, from init's INIT_PAGES_ALLOC ---- */

extern const struct as_ops process_as_ops;
/* The same pages for tmpfs files (vfs.h). */
extern const struct vfs_ops vfs_page_ops;
/* Pages handed out to processes (and their tables), and pages from init
 * held for the next, for the log. */
void memory_counts(uint64_t *used, uint64_t *reserve);
/* Pages the file cache holds (/proc/meminfo's Cached). */
uint64_t memory_cache_pages(void);
/* The page of the root-filesystem file at node (its data in the
 * archive) at page index, from the file cache (read in on first use; the
 * bytes past the file's end zeros): for a process to own with as_adopt
 * (copy-on-write). NULL: not a root-filesystem file, past its end, the
 * cache full, no memory. memory_file_page_unused(page) when no process
 * took it after all. */
void *memory_file_page(int node, uint64_t index);
void memory_file_page_unused(void *page);
/* Log those counts in pages and the server's own kernel quota in use, in
 * bytes (`memlog=1`: before each program of the run list and at its end,
 * for leak tests). */
void memory_log(void);
/* Revoke every page p owns but the one at keep from its mappings (and
 * from every other process sharing them): their kernel mapping records,
 * charged to p's kernel quota, are freed; p faults in again what it
 * uses. For a process whose quota no longer covers a new mapping. */
void memory_trim(struct process *p, uint64_t keep);

/* ---- shmem.c: the objects of shared mappings (AS_OBJECT) ---- */

/* The object of the part of a file mapping past the page holding the
 * file's end: it has no page, so a touch is SIGBUS (sys_memory.c). */
#define SHMEM_PAST_END UINT64_MAX
/* A region's tag (lib/aspace.h) for a mapping of the root filesystem's
 * file at node: MAP_TAG_FILE + node (/proc/PID/maps names it); 0: none. */
#define MAP_TAG_FILE 1

/* lib/aspace.h's object operations (process_as_ops): the object is a
 * tmpfs node; ctx the process (NULL: none). */
long shmem_page(void *ctx, uint64_t object, uint64_t offset, bool create, void **page);
void shmem_hold(void *ctx, uint64_t object);
void shmem_release(void *ctx, uint64_t object, uint64_t offset, uint64_t size, bool last);
/* Revoke the object pages p maps in [start, end) from every process
 * (they fault them in again): after mprotect, or to free p's kernel
 * mapping records (memory_trim). */
void shmem_revoke(struct process *p, uint64_t start, uint64_t end);
/* A new object for MAP_SHARED|MAP_ANONYMOUS of size bytes (zeros): its
 * node, which the first region's hold keeps (vfs_closed frees it when
 * none took it), or -ENOMEM. */
long shmem_anonymous(uint64_t size);

/* ---- file.c: open file descriptions, descriptor tables ---- */

extern struct file files[FILE_MAX];

/* A new description of node with open flags: its index, or -ENFILE. */
long file_open(int node, uint32_t flags);
/* Drop a reference to files[index]; at the last the node is closed. */
void file_put(int index);
/* The lowest free descriptor >= min (below p->nofile) for files[file],
 * which the caller has a reference on for it: the descriptor or -EMFILE. */
long fd_install(struct process *p, int file, uint64_t min, bool cloexec);
/* The description behind descriptor fd, or NULL (not open). */
struct file *fd_file(struct process *p, uint64_t fd);
/* 0, or -EBADF. */
long fd_close(struct process *p, uint64_t fd);
void fd_close_all(struct process *p);
/* Descriptors 0, 1 and 2 on one description of the console. 0 or -ENFILE. */
long fd_console(struct process *p);

/* ---- pipe.c ---- */

/* A pipe end's read or write of user memory: bytes moved, 0 (end of
 * file), -EAGAIN, -EPIPE, -EFAULT, or SYSCALL_BLOCK (nothing can move
 * yet; the caller waits). */
long pipe_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
long pipe_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* pipe_write of len bytes of the server's own at buf (sendfile). */
long pipe_put(struct file *f, const void *buf, uint64_t len);
/* The readiness edges of f's pipe so far (epoll's EPOLLET, poll.c):
 * edges[0] counts the news for readers (a write, an end opened or
 * closed), edges[1] for writers (room made in a full pipe, an end
 * opened or closed), as Linux's pipe wakes its two queues. */
void pipe_edges(const struct file *f, uint32_t edges[2]);
/* Bytes the pipe holds (FIONREAD). */
uint64_t pipe_bytes(const struct file *f);
/* (splice, tee) Up to len of the bytes f's pipe holds, from skip on,
 * copied to buf and left there: how many. */
uint64_t pipe_peek(const struct file *f, uint64_t skip, void *buf, uint64_t len);
/* The first n bytes f's pipe holds dropped (read), its writers woken. */
void pipe_consume(const struct file *f, uint64_t n);
/* The bytes f's pipe has room for now. */
uint64_t pipe_room(const struct file *f);
/* Whether the other end of f's pipe is open anywhere (a reader's
 * writers, a writer's readers). */
bool pipe_has_peer(const struct file *f);
/* What a poll of f, an end of a pipe, sees now: POLLIN (bytes held),
 * POLLOUT (room for PIPE_BUF), POLLHUP (no writer left), POLLERR (no
 * reader left). */
unsigned pipe_poll(const struct file *f);
/* f, a new description of a pipe (open of /proc/PID/fd/N), is one
 * more end: a reader (O_RDONLY) or a writer. */
void pipe_opened(const struct file *f);
/* f, an end of a pipe, is closed (its last descriptor went). */
void pipe_closed(const struct file *f);
/* A new pipe's two open file descriptions (O_NONBLOCK as nonblock), in
 * no descriptor yet: 0, or -ENFILE. */
long pipe_files(uint32_t nonblock, long *rd, long *wr);

/* ---- procfs.c, procfs_net.c: the files of /proc made when read ---- */

/* Whether node is such a file (a VFS_FILE of FS_PROC). */
bool procfs_file(int node);
/* Its bytes from *off (advanced) into user buffer buf: bytes, 0 at
 * the end, -EFAULT, or SYSCALL_BLOCK (net/dev: waiting for the
 * netstack's answer, a bounded time). */
long procfs_read(struct process *p, struct file *f, uint64_t buf, uint64_t len, uint64_t *off);
/* Add to the file being made (fmt's formats); n bytes (false: they did
 * not all fit). */
void procfs_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool procfs_append(const void *bytes, size_t n);
/* (procfs_pid.c) /proc's nodes that depend on who looks (vfs_set_proc). */
extern const struct vfs_proc_ops procfs_ops;
/* The file of /proc/PID at node into the file being made: 0, or -ESRCH
 * (the process is gone), -ENOENT (fdinfo: the descriptor is closed). */
long procfs_pid_file(int node);
/* (procfs_maps.c) /proc/PID/maps and environ of p into the file being
 * made. */
void procfs_maps(const struct process *p);
void procfs_environ(struct process *p);
/* (procfs.c) /proc/stat's processes line: pids and tids given so far
 * (process.c). */
int pids_given(void);
/* Whether node is a directory of /proc whose entries depend on the
 * processes (/proc, /proc/PID, its fd, fdinfo, task and task/TID). */
bool procfs_dir(int node);
/* Its entry at *pos (>= 2: getdents64's offset; "." and ".." are the
 * caller's) or after: its name (size bytes), DT_ type and inode number,
 * and *pos past it; false at the end. */
bool procfs_dirent(int dir, uint64_t *pos, char *name, size_t size, uint8_t *type, uint64_t *ino);
/* net/dev's lines into the file being made; a read at offset 0 first
 * asks the netstack (procfs_net.c). 0, or SYSCALL_BLOCK. */
long procfs_net_dev(struct process *p, uint64_t off);
/* The server's notification came with bits: the netstack's answer. */
void procfs_notified(uint64_t bits);

/* ---- eventfd.c ---- */

/* An eventfd's read or write of 8 bytes at user address buf: 8,
 * -EINVAL (len < 8, a write of 2^64 - 1), -EAGAIN, -EFAULT, or
 * SYSCALL_BLOCK (a read of 0, a write past the largest count). */
long eventfd_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
long eventfd_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* POLLIN (the count is not 0), POLLOUT (1 more fits). */
unsigned eventfd_poll(const struct file *f);
/* Its readiness edges so far (as pipe_edges): [0] writes, [1] reads. */
void eventfd_edges(const struct file *f, uint32_t edges[2]);
/* f, an eventfd, is closed (its last descriptor went). */
void eventfd_closed(const struct file *f);

/* ---- poll.c ---- */

/* files[index] is an epoll instance: its last descriptor went. */
void epoll_closed(int index);

/* ---- tty.c, tty_console.c, pty.c: terminals (tty.h) ---- */

/* Whether f is a terminal's: the console, a pty's master or slave. */
bool tty_file(const struct file *f);
/* A read of a terminal: bytes, 0 (end of file, VMIN/VTIME's, a hung-up
 * slave), -EAGAIN, -EIO (a background read that may not stop, a
 * master whose slave closed), -EFAULT, or SYSCALL_BLOCK (nothing to read
 * yet, or stopped by SIGTTIN). */
long tty_file_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* A write: bytes taken (fewer when a pty's buffer filled), -EAGAIN,
 * -EIO (hung up; TOSTOP in an orphaned group), -EFAULT, or SYSCALL_BLOCK
 * (no room yet, or stopped by SIGTTOU with TOSTOP). */
long tty_file_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* POLLIN, POLLOUT, POLLHUP (and POLLERR for a hung-up slave). */
unsigned tty_file_poll(const struct file *f);
/* The terminal requests (tty_ioctl(4), pty(7)), FIONREAD included: 0 or
 * -errno (-ENOTTY for others). */
long tty_file_ioctl(struct process *p, struct file *f, uint64_t req, uint64_t arg);
/* Before an open of *node: /dev/tty becomes the caller's controlling
 * terminal's node (-ENXIO: none); a pty's slave may be opened (-EIO:
 * locked, or hung up). 0 to go on. */
long tty_open(struct process *p, int *node);
/* After it, on the new description f (open's flags): /dev/ptmx makes a
 * pty, f its master (-ENOSPC: none free; the caller drops f); a slave
 * opened without O_NOCTTY by a session leader without a terminal becomes
 * its controlling terminal if nobody has it. */
long tty_opened(struct process *p, struct file *f, uint64_t flags);
/* f, a terminal's, is closed (its last descriptor went). */
void tty_closed(const struct file *f);
/* Bytes typed at the console (control.c), through the line discipline. */
void tty_console_input(const uint8_t *bytes, unsigned n);
/* Send sig to every live process of group pgrp (> 0). */
void tty_signal_group(int pgrp, int sig);
/* p, a new session, gets the console (fresh settings, its group in
 * front) and is the console's job (tty_job). */
void tty_attach(struct process *p);
/* p has ended (process_end): the console's job's status kept; a session
 * leader's terminal let go, its foreground group sent SIGHUP. */
void tty_process_ended(const struct process *p);
/* The console's job: its pid (0: none) and whether it ended, how. */
int tty_job(bool *ended, int *status, int *signal);
/* Its end was told to the console: no job now. */
void tty_job_told(void);
/* The foreground group of the console if session sid has it, else 0. */
int tty_foreground(int sid);

/* ---- control.c: the console's requests (proto/posix.h) ---- */

/* Register the control capability (POSIX_NAME). */
void control_init(void);
/* A request on it (badge POSIX_CONTROL_BADGE): the answer built in m. */
void control_request(struct msg *m);

/* ---- sys_file.c, sys_stat.c: paths ---- */

/* The path at user address va into path[LINUX_PATH_MAX]: 0, -EFAULT or
 * -ENAMETOOLONG. */
long path_in(struct process *p, uint64_t va, char *path);
/* Copy the path at va and resolve it (vfs_resolve's flags) from dirfd
 * (AT_FDCWD: the working directory). 0 or -errno. */
long path_lookup(struct process *p, uint64_t dirfd, uint64_t va, unsigned flags,
		 struct vfs_lookup *out);
/* The node an *at call with flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH)
 * means: 0 and *node, or -errno. */
long path_at_node(struct process *p, uint64_t dirfd, uint64_t va, uint64_t flags, int *node);
/* struct stat of node to user address out: 0 or -EFAULT. */
long node_stat(struct process *p, int node, uint64_t out);
/* getdents64's type of node (DT_*). */
uint8_t node_dirent_type(int node);
/* p's working directory is node now (counted as an open of it). */
void process_set_cwd(struct process *p, int node);

/* ---- signal.c ---- */

/* Send sig to p, the process (nothing if p is not alive; dropped if no
 * thread of p blocks it and p ignores it), with code, the sender's pid
 * and (SIGCHLD) status for its siginfo. A thread that can take it now is
 * marked (thread_mark): one that waits in a call, the main thread first;
 * else one that runs (a signal whose default action ends p ends it). */
void signal_send(struct process *p, int sig, int code, int from, int status);
/* The siginfo of sig sent by src, as Linux lays it out (the frame's,
 * rt_sigtimedwait's). */
void signal_siginfo(struct linux_siginfo *info, int sig, const struct signal_source *src);
/* Send sig to thread t alone (tgkill, tkill, SIGPIPE), as signal_send. */
void signal_send_thread(struct thread *t, int sig, int code, int from, int status);
/* signal_send and signal_send_thread with the whole siginfo source (a
 * POSIX timer's: SI_TIMER, posix_timer.c). */
void signal_send_source(struct process *p, int sig, const struct signal_source *src);
void signal_send_thread_source(struct thread *t, int sig, const struct signal_source *src);
/* (signal_fault.c) The exception that sig stands for in thread t (its
 * registers r): true when its process catches it, r then entering the
 * handler (si_code code, si_addr addr); false when it ends the process (a
 * signal of a fault that t blocks or its process ignores ends it too, as
 * Linux). */
bool signal_fault(struct thread *t, struct user_regs *r, int sig, int code, uint64_t addr);
/* (signal_stop.c) Whether sig is a stop signal (SIGSTOP, SIGTSTP,
 * SIGTTIN, SIGTTOU). */
bool signal_is_stop(int sig);
/* What sending sig to p does to its being stopped: SIGCONT and SIGKILL
 * continue it, a stop signal with its default action stops it (true:
 * that was all, nothing is pending). */
bool job_signal(struct process *p, int sig);
/* Stop p by sig (its threads suspended; the parent told). */
void job_stop(struct process *p, int sig);
/* (sys_job.c) Whether process group pgid is orphaned (POSIX: no member
 * has a parent in another group of its session), ignore (may be NULL)
 * counted neither as a member nor as a parent. */
bool pgrp_orphaned(int pgid, const struct process *ignore);
/* p is ending (before its children lose it): each group its end
 * orphans — its own, its children's — that has a stopped member is sent
 * SIGHUP, then SIGCONT (POSIX _exit, Linux's kill_orphaned_pgrp). */
void job_orphans_at_exit(const struct process *p);
/* Linux's signal for exception vector, and its si_code (*code; an FPU
 * exception's from t's FPU state). */
int signal_of_vector(const struct thread *t, uint64_t vector, int *code);
/* The signal of a page fault at addr that p may not make, as_fault's
 * err, and its si_code (*code): SIGSEGV SEGV_MAPERR (nothing mapped),
 * SEGV_ACCERR (not with that access), SIGBUS BUS_ADRERR (a page of an
 * object that has none: past a file's end). */
int signal_of_page_fault(const struct process *p, uint64_t addr, long err, int *code);
/* That fault of t's, signal sig with code: true when its handler is
 * entered (t's registers rewritten; the fault's answer resumes it
 * there), false when the fault ends the process. */
bool signal_page_fault(struct thread *t, uint64_t addr, int sig, int code);
/* (signal_fpu.c) Whether frames carry an XSAVE area (the kernel
 * enabled XSAVE), and the most a frame takes of a stack, FPU state
 * included (Linux's AT_MINSIGSTKSZ). */
bool signal_fpu_xsave(void);
uint64_t signal_frame_max(void);
/* The FPU state of t saved below *sp for a frame (*sp moved below it,
 * *fpstate its address, or 0 when the kernel had none): false when it
 * cannot be written. */
bool signal_fpu_push(struct thread *t, uint64_t *sp, uint64_t *fpstate);
/* t's FPU state as a handler (and a new program) starts with it. */
void signal_fpu_enter(struct thread *t);
/* rt_sigreturn: t's FPU state back from the frame's fpstate (0: the
 * initial state); false when it cannot be read or is not valid. */
bool signal_fpu_return(struct thread *t, uint64_t fpstate);
/* Whether t has a pending signal (its own or its process's) it neither
 * blocks nor ignores. */
bool signal_deliverable(const struct thread *t);
/* Such a signal that ends the process by its default action, or 0. */
int signal_fatal(const struct thread *t);
/* Deliver t's pending signals into the registers r it resumes with (its
 * call's result in rax): a handler's frame on its stack for each caught
 * one. false: a signal ended the process (state PROCESS_ENDED,
 * exit_signal); t must not resume. */
bool signal_deliver(struct thread *t, struct user_regs *r);
/* t's call (registers r, as saved) waits and a signal came: r's result
 * becomes -EINTR, what a write moved so far, or (SA_RESTART) the call is
 * made again after the handler. */
void signal_interrupt(struct thread *t, struct user_regs *r);
/* A call of p->current that waits with the mask at user address va
 * (size bytes): set at its first try, the thread's own kept (as
 * rt_sigsuspend). 0, -EINVAL, -EFAULT. */
long signal_wait_mask(struct process *p, uint64_t va, uint64_t size);
/* The call ended without a signal: the thread's own mask back. */
void signal_wait_mask_end(struct process *p);

/* ---- thread.c: the threads of processes ---- */

/* Bit i: threads[i] is marked (thread_mark): main.c looks at those. */
extern uint64_t threads_marked;
/* Bit i: threads[i] waits in a call (its blocked). */
extern uint64_t threads_waiting;
_Static_assert(THREAD_MAX <= 64, "threads_waiting has a bit per thread");

/* The thread the badge of a message names (alive, of a live process),
 * or NULL. Inline: every message is looked up. */
static inline struct thread *thread_of_badge(uint64_t badge)
{
	if (badge - PROCESS_BADGE_BASE >= THREAD_MAX)
		return NULL;
	struct thread *t = &threads[badge - PROCESS_BADGE_BASE];
	return t->state == THREAD_RUNNING && t->proc->state == PROCESS_RUNNING ? t : NULL;
}
/* The live thread with this tid, or NULL. */
struct thread *thread_of_tid(int tid);
/* A new thread record of p (tid given, signal state empty, no kernel
 * thread yet), or NULL when THREAD_MAX are in use. */
struct thread *thread_new(struct process *p, int tid);
/* Its badged endpoint (the server's endpoint badged with t's slot) in a
 * new slot of the server, to name as pager and exception handler;
 * CAP_SLOT_NONE when it cannot be made. The caller deletes it. */
cap_slot_t thread_badged_endpoint(const struct thread *t);
/* Make t's kernel thread in its process's task and start it with regs
 * (clone). 0 or a negative Mica error (t then has none). */
long thread_run(struct thread *t, const struct user_regs *regs);
/* to's x87/SSE state (control words, MXCSR, registers) a copy of
 * from's, as Linux's clone and fork copy it; to has not run yet. 0 or a
 * negative Mica error. */
long thread_fpu_copy(struct thread *to, const struct thread *from);
/* t is gone: its kernel thread destroyed, a reply object it waited on
 * free again (reply_put), its record free; its process has one less. */
void thread_release(struct thread *t);
/* Every thread of p released (its end, its image replaced) but keep
 * (NULL: none). */
void threads_release(struct process *p, const struct thread *keep);
/* t ends on its own (exit, not exit_group): its CLEARTID word cleared
 * and woken, its robust futexes released, then released (its kernel
 * thread waits for our answer: the caller stops it first). false when
 * it was its process's last: the caller ends the process instead. */
bool thread_exit(struct thread *t);
/* Look at t again in main.c's loop: its call is tried again, or a
 * signal for it taken. */
static inline void thread_mark(struct thread *t)
{
	t->wake = true;
	threads_marked |= 1UL << t->index;
}
/* t's call waits (saved, reply) or no longer does. */
static inline void thread_set_blocked(struct thread *t, bool blocked)
{
	t->blocked = blocked;
	if (blocked)
		threads_waiting |= 1UL << t->index;
	else
		threads_waiting &= ~(1UL << t->index);
}
/* Every waiting call of every process is tried again (what a pipe, a
 * socket or the terminal changed may be what it waits for). */
void threads_wake_all(void);
/* How many times threads_wake_all was called (the console's readiness
 * edges for epoll's EPOLLET, poll.c). */
extern uint32_t threads_wakes;

/* ---- realtime.c: CLOCK_REALTIME ---- */

/* CLOCK_REALTIME's start from the CMOS clock (rtc.h), with the ports pi
 * says the server has; logged and left at the epoch when it cannot be
 * read. Once, at start. */
struct program_info;
void realtime_start(const struct program_info *pi);
/* An absolute CLOCK_REALTIME deadline ns as one of the kernel clock, for
 * a sleep_at (1 when already past); its sleep_rem is to be
 * SLEEP_REALTIME, so that a change of the clock moves it. */
uint64_t realtime_deadline(uint64_t ns);

/* ---- cputime.c: CPU time from the kernel's count per thread ---- */

/* t's CPU time in ns (0 without a kernel thread). */
uint64_t thread_cpu_ns(const struct thread *t);
/* t's kernel thread is going: its CPU time and samples kept in its
 * process's (cpu_ended_ns, cpu_ended_ticks). */
void thread_cpu_ended(const struct thread *t);
/* User and system time in ns (cputime.c): of p (its threads', live
 * and ended; never less than told before), of thread t. */
void process_cpu_split(struct process *p, uint64_t *user, uint64_t *system);
void thread_cpu_split(const struct thread *t, uint64_t *user, uint64_t *system);
/* p's: its live threads' and its ended threads' (all of it once ended). */
uint64_t process_cpu_ns(const struct process *p);
/* p has ended (its threads released): its time counts in
 * processes_cpu_ns for good. */
void process_cpu_ended(const struct process *p);
/* The CPU time of every process since the server started, the live and
 * the ended (/proc/stat). */
uint64_t processes_cpu_ns(void);
/* p's wait reaped its ended child c: c's time and its children's become
 * p's children's (RUSAGE_CHILDREN, times' cutime). */
void process_reaped(struct process *p, const struct process *c);
/* The rusage a wait for the ended child c reports (its time and its
 * children's, as Linux's wait4). */
void rusage_of_child(const struct process *c, struct linux_rusage *u);
/* The value of CPU-time clock id (CLOCK_PROCESS_CPUTIME_ID,
 * CLOCK_THREAD_CPUTIME_ID, or a negative id from pthread_getcpuclockid
 * or clock_getcpuclockid) for p's current thread, in ns: 0, or -EINVAL
 * for another id or a thread or process that does not exist. */
long cpu_clock(struct process *p, int64_t id, uint64_t *ns);

/* ---- futex.c ---- */

/* The futex at addr of p (private: FUTEX_PRIVATE_FLAG was given). */
struct futex_key futex_key_of(struct process *p, uint64_t addr, bool private);
/* Wake at most n threads waiting on key (FUTEX_WAIT) whose bitset meets
 * bitset, the first to wait first: how many woke, or -EINVAL when a
 * FUTEX_LOCK_PI waits there (as Linux). */
long futex_wake(const struct futex_key *key, uint64_t n, uint32_t bitset);
/* (futex_pi.c) FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI,
 * FUTEX_UNLOCK_PI (cmd) of the word at addr (timeout: a user timespec,
 * absolute, or 0): 0, SYSCALL_BLOCK, or -errno as Linux's futex(2). */
long futex_pi(struct process *p, unsigned cmd, uint64_t addr, uint64_t timeout, bool realtime,
	      bool private);
/* t ends: each PI futex it held that others wait for goes to the first
 * of them (its word: that one's tid, FUTEX_WAITERS, FUTEX_OWNER_DIED
 * kept), as Linux's exit_pi_state_list. */
void futex_pi_owner_gone(struct thread *t);
/* (futex_pi.c) FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (cmd),
 * the call's registers r: as futex_pi. */
long futex_requeue_pi(struct process *p, unsigned cmd, const struct user_regs *r, bool private);
/* What a signal does to t's waiting futex call (its registers r), asked
 * before the wait is dropped: 1 when it is started again whatever
 * SA_RESTART says (FUTEX_LOCK_PI, and FUTEX_WAIT_REQUEUE_PI before its
 * requeue: Linux's ERESTARTNOINTR), 0 when it is as other calls, or
 * the -errno it returns (-EAGAIN: FUTEX_WAIT_REQUEUE_PI after its
 * requeue, as Linux's futex_wait_requeue_pi). */
long futex_interrupted(const struct thread *t, const struct user_regs *r);
/* The order threads begin to wait in (futex.c, futex_pi.c). */
uint64_t futex_seq_next(void);
/* t ends: the word at its clear_child_tid set to 0 and woken (one
 * waiter), and each robust futex it holds marked FUTEX_OWNER_DIED and
 * woken, as Linux does at a thread's exit. */
void futex_thread_gone(struct thread *t);

/* ---- timer.c ---- */

/* The server's notification (bound to its thread): its timer wakes
 * sleeps and fires alarms. */
extern cap_slot_t signal_notification;
/* The timer armed for the earliest deadline of every process; and what
 * to do when it fires. */
void signal_timer_arm(void);
void signal_timers(void);

/* ---- process.c ---- */

/* Start the program in file[0..size) as a new process named name with
 * these arguments and environment (s: argv, envp, execfn; the rest is
 * filled in). The process or NULL, having said why on the console. */
struct process *process_start(const char *name, const void *file, size_t size,
			      struct exec_start *s);

/* End p: exited with status (0..255), or killed by signal (then status is
 * ignored). Its task and memory go; p is free afterwards. The caller has
 * answered its pending message (IPC_REPLY_STOP) or has none. */
void process_end(struct process *p, int status, int signal);

/* A new process id (thread ids come from the same numbers). */
int pid_next(void);

/* p's parent if it is alive, or NULL. */
struct process *process_parent(const struct process *p);

/* Whether any process is alive. */
bool process_any_alive(void);

/* A copy of p (fork): its memory shared copy-on-write, its descriptors
 * shared, its thread started with regs (the child's result in rax).
 * The child, or NULL with *err a Linux errno (-EAGAIN: no slot, -ENOMEM). */
struct process *process_fork(struct process *p, const struct user_regs *regs, long *err);

/* Replace p's program (execve): the file at node with these arguments;
 * on success *regs are the new thread's (entry, stack) and 0 is
 * returned; on failure p is as it was and the result is -errno. */
long process_exec(struct process *p, int node, struct exec_start *s, struct user_regs *regs);

/* ---- syscall.c ---- */

enum dispatch_result { DISPATCH_REPLY, DISPATCH_ENDED, DISPATCH_THREAD_ENDED, DISPATCH_BLOCKED };

/* Carry out the system call in regs (rax the number, arguments in rdi,
 * rsi, rdx, r10, r8, r9) for thread t: the result goes into regs->rax
 * (or regs change otherwise, as arch_prctl, execve): DISPATCH_REPLY. Or
 * DISPATCH_ENDED: its process has ended (exit_group, SIGPIPE) and must
 * not be resumed; DISPATCH_THREAD_ENDED: t alone ends (exit, with other
 * threads left: thread_exit); DISPATCH_BLOCKED: the call waits (enum in
 * syscall.h). Inline, in syscall.h. */

/* A call comes as struct syscall_args (IPC_LABEL_SYSCALL_ARGS): its
 * registers hold rax (the number) and the six arguments only, and rflags
 * is 0 (a thread's real rflags never is: bit 1 is always set) until
 * regs_fetch reads the others from the kernel. The answer to a call
 * whose registers are complete sets them all, else only rax (main.c). */
static inline bool regs_complete(const struct user_regs *r)
{
	return r->rflags != 0;
}

/* Complete r, the registers of t's call, from its kernel thread, which
 * waits for the answer (rax and the arguments as r has them). 0, or a
 * negative ERR_* (it is not waiting: it cannot be). process.c. */
long regs_fetch(struct thread *t, struct user_regs *r);

/* What p waits for has changed: the calls of its threads that wait are
 * tried again (main.c). */
static inline void process_wake(struct process *p)
{
	for (uint64_t w = p ? threads_waiting : 0; w; w &= w - 1) {
		struct thread *t = &threads[__builtin_ctzl(w)];
		if (t->proc == p)
			thread_mark(t);
	}
}

/* A Linux errno for a negative Mica ERR_* of the address-space calls. */
long errno_of(long mica_err);

#endif
