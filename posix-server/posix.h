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
 *
 * This header has the server's limits, its processes and threads
 * (thread.c, process.c), its loop (main.c, runlist.c, control.c) and the
 * calls' dispatch (syscall.c; the table: syscall.h). The rest is in a
 * header per job: file.h (descriptions, descriptors, pipes, eventfds,
 * epoll), path.h (paths, stat), memory.h (pages, shared mappings),
 * signals.h (signals, job control), futex.h, clock.h (CLOCK_REALTIME,
 * CPU time, the timer), procfs.h, tty.h (terminals), socket.h, vfs.h.
 */
#ifndef MICA_POSIX_POSIX_H
#define MICA_POSIX_POSIX_H

#include "lib/aspace.h"
#include "lib/mica.h"
#include "lib/task.h"

#include "linux.h"
#include "share.h"

#define PROCESS_MAX        128          /* processes at once */
#define PROCESS_MAX_PAGES  ((256UL << 20) / AS_PAGE_SIZE)  /* 256 MiB of memory each at most; less
						 * with a smaller memory= (memory.h:
						 * memory_account_share) */
#define PROCESS_QUOTA      (256UL << 10)  /* kernel memory for each task, bytes */
#define THREAD_MAX         256          /* threads of all processes at once */
/* The server's capability table (its own grown at start: task_configure's
 * TASK_CFG_CAP_SLOTS): init's first 8, a task per process, a thread and a
 * reply object per thread, and 64 for its own endpoints, notifications
 * and the slots it takes for a moment (docs/posix.md, "What a process
 * costs"). */
#define POSIX_CAP_SLOTS    (8 + PROCESS_MAX + 2 * THREAD_MAX + 64)
#define PROCESS_BADGE_BASE 0x100        /* the badge of thread slot i is base + i */
#define POSIX_CONTROL_BADGE (1UL << 32) /* the console's requests (control.c) */
#define FD_MAX             1024         /* descriptors a process may have (RLIMIT_NOFILE) */
#define FD_FIRST           64           /* of them in its record; past those, a table of
					 * FD_MAX in a page of the server's (fd.c) */
#define FILE_MAX           2048         /* open file descriptions in the server */
#define EXE_PATH_MAX       128          /* /proc/self/exe's target */

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
	bool share_wait;                /* its call waits for a page of its account's share of
					 * memory (share_memory_full); ended with the call */
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
	/* Its open of a named pipe waits (fifo.c): the node + 1 (0: not),
	 * held open while it waits; for writing or reading; the other side's
	 * opens when it began. Ended with the call (thread_set_blocked). */
	int fifo_wait;
	bool fifo_wait_write;
	uint32_t fifo_wait_seen;
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
	unsigned fault_repeats;         /* how often in a row, answered, with no page
					 * revoked from others meanwhile */
	uint64_t fault_revokes;         /* memory_revokes when it was last answered */
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
	struct fd_slot *fds;            /* first_fds, or a page's table of FD_MAX (fd.c) */
	unsigned fd_slots;              /* fds[]'s entries: FD_FIRST or FD_MAX */
	unsigned fd_end;                /* one past the highest open descriptor (0: none):
					 * what fork, exec and exit look through */
	struct fd_slot first_fds[FD_FIRST];
	uint64_t nofile, nofile_max;    /* RLIMIT_NOFILE: descriptors below it may be used;
					 * its hard limit (FD_MAX at most) */
	int account;                    /* whose shares it uses (share.c): the pid its run
					 * list entry or console run started, kept by fork */
	struct ratelimit log_limit;     /* its account's lines, if it heads one
					 * (process_log_limit) */
	uint64_t nproc, nproc_max;      /* RLIMIT_NPROC: threads its account may have for a
					 * fork or clone of it to succeed; the hard limit
					 * (SHARE(THREAD_MAX) at most) */
	int cwd;                        /* the working directory's node */
	uint32_t umask;
	int nice, ioprio;               /* setpriority's, ioprio_set's (sys_sched.c) */
	uint8_t policy, rt_priority;    /* sched_setscheduler's: SCHED_*, 1..99 for FIFO and RR */
	bool reset_on_fork;             /* ... with SCHED_RESET_ON_FORK (sys_sched.c) */
	char exe[EXE_PATH_MAX];         /* its executable's path (/proc/self/exe) */
	uint64_t arg_start, arg_end;    /* its argument strings on its stack (/proc/PID/cmdline) */
	uint64_t env_start, env_end;    /* its environment's (/proc/PID/environ) */
	int pdeath_signal;              /* prctl's PR_SET_PDEATHSIG: sent when its parent
					 * ends (0: none; not kept by fork) */
	bool no_new_privs;              /* PR_SET_NO_NEW_PRIVS (kept by fork and execve) */
	bool not_dumpable;              /* PR_SET_DUMPABLE 0 (until execve) */
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

/* The environment every program the server starts (run list, console)
 * begins with: HOME, PATH (PROCESS_PATH) and TERM. */
#define PROCESS_PATH        "/bin:/usr/bin"
#define PROCESS_ENVIRONMENT 3
extern const char *const process_environment[PROCESS_ENVIRONMENT];
/* The executable a program name means, as execvp(3) finds it: a name
 * with a '/' is that path, any other is looked for in each directory
 * of PROCESS_PATH in turn. Its root-filesystem node, its path into path
 * (size bytes); -ENOENT (nowhere), -EACCES (not an executable regular
 * file), -ENOEXEC (a tmpfs file: not startable from here),
 * -ENAMETOOLONG: the first of these met, ENOENT last. */
long program_lookup(const char *name, char *path, size_t size);
/* The run list from the server's arguments (run=, runfile=, memlog=). */
void run_list_setup(const char *args);
/* Start the next program of the list, skipping those that cannot start;
 * when none is left, say so with the memory. */
void run_next(void);

/* ---- random.c: AT_RANDOM and getrandom ---- */

/* n bytes from the server's generator: xoshiro256** seeded from the
 * clock and the time-stamp counter (and RDRAND where the CPU has it).
 * Not a cryptographic source yet. */
void random_fill(void *buf, size_t n);

/* ---- control.c: the console's requests (proto/posix.h) ---- */

/* Register the control capability (POSIX_NAME). */
void control_init(void);
/* A request on it (badge POSIX_CONTROL_BADGE): the answer built in m. */
void control_request(struct msg *m);

/* ---- thread.c: the threads of processes ---- */

#define THREAD_WORDS ((THREAD_MAX + 63) / 64)
/* Bit i % 64 of word i / 64: threads[i] is marked (thread_mark): main.c
 * looks at those. */
extern uint64_t threads_marked[THREAD_WORDS];
/* Bit i % 64 of word i / 64: threads[i] waits in a call (its blocked). */
extern uint64_t threads_waiting[THREAD_WORDS];
/* Nonzero when a bit of threads_marked may be set (main.c's loop looks
 * at one word for every message: what a null call costs). */
extern uint64_t threads_marked_any;
/* Mark threads[index] in threads_marked. */
static inline void threads_mark_bit(unsigned index)
{
	threads_marked[index / 64] |= 1UL << (index % 64);
	threads_marked_any = 1;
}

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
	threads_mark_bit(t->index);
}
void fifo_wait_end(struct thread *t);      /* fifo.c */
/* t's call waits (saved, reply) or no longer does (answered,
 * interrupted, or its thread gone: a named pipe's waiting open lets go
 * of its node). */
static inline void thread_set_blocked(struct thread *t, bool blocked)
{
	t->blocked = blocked;
	if (!blocked)
		t->share_wait = false;
	if (!blocked && t->fifo_wait)
		fifo_wait_end(t);
	if (blocked)
		threads_waiting[t->index / 64] |= 1UL << (t->index % 64);
	else
		threads_waiting[t->index / 64] &= ~(1UL << (t->index % 64));
}
/* Every waiting call of every process is tried again (what a pipe, a
 * socket or the terminal changed may be what it waits for). */
void threads_wake_all(void);
/* How many times threads_wake_all was called (the console's readiness
 * edges for epoll's EPOLLET, poll.c). */
extern uint32_t threads_wakes;

/* ---- process.c ---- */

struct exec_start;      /* exec_stack.h */

/* The last component of path: a process's name (comm: ps,
 * /proc/PID/comm) is that of the path it was started or exec'd by, links
 * not followed, as Linux's kbasename(bprm->filename): /bin/ls, a link to
 * busybox, runs as "ls"; /proc/self/exe as "exe" (which busybox renames to
 * its applet's name with PR_SET_NAME). */
static inline const char *path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

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

/* The limiter for lines about what p did (a fault, an exception, a bad
 * signal frame, an unknown call number): its account's (share.c), kept
 * by the process that heads it, or one for every account whose head has
 * ended; a burst of RATELIMIT_BURST then one a second (lib/ratelimit.h).
 * So a program whose children crash or call nonsense in a loop cannot
 * flood the console, and other programs' lines still come (Linux too
 * rate-limits its "segfault at" lines: show_unhandled_signals). */
struct ratelimit *process_log_limit(const struct process *p);

/* p's parent if it is alive, or NULL. */
struct process *process_parent(const struct process *p);

/* Whether any process is alive. */
bool process_any_alive(void);

/* A copy of p (fork): its memory shared copy-on-write, its descriptors
 * shared, its thread started with regs (the child's result in rax).
 * The child, or NULL with *err a Linux errno (-EAGAIN: no slot, -ENOMEM). */
struct process *process_fork(struct process *p, const struct user_regs *regs, long *err);
/* What fork's child c takes of parent p's scheduling policy (sys_sched.c):
 * the same, or with SCHED_RESET_ON_FORK, SCHED_OTHER and nice 0 at the
 * worst, as Linux's sched_fork. */
void sched_fork(struct process *c, const struct process *p);

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
	for (unsigned k = 0; p && k < THREAD_WORDS; k++)
		for (uint64_t w = threads_waiting[k]; w; w &= w - 1) {
			struct thread *t = &threads[k * 64 + (unsigned)__builtin_ctzl(w)];
			if (t->proc == p)
				thread_mark(t);
		}
}

/* A Linux errno for a negative Mica ERR_* of the address-space calls. */
long errno_of(long mica_err);

#endif
