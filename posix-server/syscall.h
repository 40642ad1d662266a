/*
 * The Linux system calls the server carries out: one line each in
 * POSIX_SYSCALLS, which builds the dispatch table (syscall.c) and declares
 * the handlers (posix_NAME, in the files each group names). Numbers and names are Linux's, from linux_syscalls.h (made
 * by the build from the host's <asm/unistd_64.h>). Every other number is
 * answered -ENOSYS and logged once per process by name.
 *
 * A handler gets the process and its registers (arguments in rdi, rsi,
 * rdx, r10, r8, r9) and returns the result for rax: >= 0, or -errno. It
 * may change other registers (arch_prctl sets fs_base) and may end the
 * process (exit), after which its result is not used.
 */
#ifndef MICA_POSIX_SYSCALL_H
#define MICA_POSIX_SYSCALL_H

#include "linux_syscalls.h"
#include "posix.h"

enum linux_syscall {
#define LINUX_NR_ENUM(nr, name) LINUX_NR_##name = nr,
	LINUX_SYSCALLS(LINUX_NR_ENUM)
#undef LINUX_NR_ENUM
};
#define LINUX_SYSCALL_MAX 512   /* numbers from here on are nobody's */

/* A handler's answer when the call must wait (a pipe, wait4): the
 * process's thread is not answered; when what it waits for changes
 * (process_wake), the call is made again with the same registers. */
#define SYSCALL_BLOCK (-100000L)

#define POSIX_SYSCALLS(X)                                                        \
	/* sys_io.c: descriptors */                                              \
	X(read) X(write) X(readv) X(writev) X(pread64) X(pwrite64) X(lseek)      \
	X(getdents64) X(fstat) X(ftruncate) X(ioctl) X(fcntl) X(dup) X(dup2)     \
	X(dup3) X(close)                                                         \
	/* sys_sync.c */                                                         \
	X(fsync) X(fdatasync) X(sync) X(syncfs)                                  \
	/* sys_sendfile.c */                                                     \
	X(sendfile) X(copy_file_range)                                           \
	/* sys_splice.c */                                                       \
	X(splice) X(tee) X(vmsplice)                                             \
	/* sys_file.c, sys_stat.c (the stat family): paths */                    \
	X(open) X(openat) X(creat) X(stat) X(lstat) X(newfstatat) X(statx)       \
	X(statfs) X(fstatfs)                                                     \
	X(access) X(faccessat) X(faccessat2) X(readlink) X(readlinkat)           \
	X(getcwd) X(chdir) X(fchdir) X(mkdir) X(mkdirat) X(unlink) X(unlinkat)   \
	X(rmdir) X(rename) X(renameat) X(renameat2) X(truncate) X(umask)         \
	/* sys_link.c: more names (hard and symbolic links, mknod) */            \
	X(link) X(linkat) X(symlink) X(symlinkat) X(mknod) X(mknodat)            \
	/* sys_chmod.c */                                                        \
	X(chmod) X(fchmod) X(fchmodat)                                           \
	/* sys_utime.c: setting files' times */                                 \
	X(utimensat) X(futimesat) X(utimes) X(utime)                             \
	/* sys_memory.c */                                                       \
	X(brk) X(mmap) X(munmap) X(mprotect) X(mremap) X(madvise) X(msync)      \
	/* sys_process.c */                                                      \
	X(exit) X(exit_group) X(getpid) X(getppid) X(gettid) X(getuid)           \
	X(geteuid) X(getgid) X(getegid) X(getgroups) X(set_tid_address)          \
	X(arch_prctl) X(sched_yield) X(sched_getaffinity) X(sched_setaffinity)   \
	X(prlimit64) X(getrlimit) X(setrlimit)                                   \
	/* futex.c */                                                            \
	X(futex) X(set_robust_list) X(get_robust_list)                           \
	/* signal.c */                                                           \
	X(rt_sigaction) X(rt_sigprocmask) X(rt_sigpending) X(rt_sigreturn)       \
	X(rt_sigsuspend) X(pause) X(sigaltstack) X(kill) X(tgkill) X(tkill)      \
	/* signal_wait.c */                                                      \
	X(rt_sigtimedwait)                                                       \
	/* timer.c: sleeping, alarms */                                          \
	X(nanosleep) X(clock_nanosleep) X(alarm) X(setitimer) X(getitimer)       \
	/* timerfd.c */                                                          \
	X(timerfd_create) X(timerfd_settime) X(timerfd_gettime)                  \
	/* posix_timer.c */                                                      \
	X(timer_create) X(timer_settime) X(timer_gettime) X(timer_getoverrun)    \
	X(timer_delete)                                                          \
	/* sys_exec.c */                                                         \
	X(fork) X(vfork) X(clone) X(clone3) X(execve) X(wait4) X(waitid)         \
	/* sys_job.c: process groups, sessions */                               \
	X(setpgid) X(getpgid) X(getpgrp) X(setsid) X(getsid)                     \
	/* pipe.c */                                                             \
	X(pipe) X(pipe2)                                                         \
	/* eventfd.c */                                                          \
	X(eventfd) X(eventfd2)                                                   \
	/* poll.c */                                                             \
	X(poll) X(ppoll) X(select) X(pselect6) X(epoll_create) X(epoll_create1)  \
	X(epoll_ctl) X(epoll_wait) X(epoll_pwait)                                \
	/* sys_info.c */                                                         \
	X(clock_gettime) X(clock_getres) X(getrandom) X(time) X(gettimeofday)    \
	/* sys_host.c: the system's names */                                     \
	X(uname) X(sethostname) X(setdomainname)                                 \
	/* sys_syslog.c: the kernel log */                                       \
	X(syslog)                                                                \
	/* sys_sched.c: niceness, I/O priority, scheduling policy */             \
	X(getpriority) X(setpriority) X(ioprio_get) X(ioprio_set)                \
	X(sched_getscheduler) X(sched_getparam) X(sched_get_priority_max)        \
	X(sched_get_priority_min) X(sched_setscheduler) X(sched_setparam)        \
	X(sched_rr_get_interval)                                                 \
	/* sys_sysinfo.c */                                                      \
	X(sysinfo)                                                               \
	/* sys_prctl.c */                                                        \
	X(prctl)                                                                 \
	/* realtime.c */                                                         \
	X(clock_settime) X(settimeofday) X(adjtimex) X(clock_adjtime)           \
	/* cputime.c */                                                          \
	X(getrusage) X(times)                                                    \
	/* sys_socket.c, sys_sockopt.c: sockets */                               \
	X(socket) X(socketpair) X(bind) X(listen) X(accept) X(accept4)           \
	X(connect) X(sendto) X(recvfrom) X(sendmsg) X(recvmsg) X(shutdown)       \
	X(getsockname) X(getpeername) X(setsockopt) X(getsockopt)               \
	/* sys_socket_mmsg.c */                                                  \
	X(recvmmsg) X(sendmmsg)

/* The calls whose handlers read or set registers other than rax and the
 * arguments (the stack, the instruction pointer, fs_base, all of them):
 * syscall_dispatch completes a call's registers for them first
 * (regs_fetch, posix.h). */
#define POSIX_SYSCALLS_ALL_REGS(X)                                               \
	X(fork) X(vfork) X(clone) X(clone3) X(execve) X(rt_sigreturn)            \
	X(sigaltstack) X(arch_prctl)

#define POSIX_SYSCALL_DECLARE(name) long posix_##name(struct process *p, struct user_regs *r);
POSIX_SYSCALLS(POSIX_SYSCALL_DECLARE)
#undef POSIX_SYSCALL_DECLARE

/* Log every call with its arguments and result (args trace=1). */
extern bool syscall_trace;
/* syscount=1 (main.c): count each process's calls by number and its
 * sockets' bytes; logged in one line when it ends (syscall_count_report,
 * from process_end). Off by default. */
extern bool syscall_count;
/* Either of them: calls go through syscall_dispatch_traced. */
extern bool syscall_slow;
void syscall_count_bytes(const struct process *p, long sent, long received);
void syscall_count_report(const struct process *p);

typedef long (*syscall_fn)(struct process *p, struct user_regs *r);

/* By Linux's number: the handler (NULL: none), and whether it needs the
 * registers complete (POSIX_SYSCALLS_ALL_REGS). syscall.c. */
extern const syscall_fn syscall_handlers[LINUX_SYSCALL_MAX];
extern const bool syscall_all_regs[LINUX_SYSCALL_MAX];

/* -ENOSYS for nr, logged (once per number and process, by name). */
long syscall_unsupported(struct process *p, uint64_t nr);

/* With trace=1 or syscount=1: t's call nr (arguments in r) ended with
 * result, or waits (blocked): its trace line, its count. */
void syscall_note(struct thread *t, uint64_t nr, const struct user_regs *r, long result,
		  bool blocked);

/* Lingering listeners (socket_linger.c): how many, and a call of p's,
 * numbered nr, about to be made, which ends its account's unless it is
 * one of the few that keep them. */
extern unsigned socket_lingering;
void socket_linger_call(struct process *p, uint64_t nr);
/* UDP batches (socket_batch.c): how many are held; p's call r about to
 * be made, p's call waits. */
extern unsigned socket_batched;
void socket_batch_call(struct process *p, const struct user_regs *r);
void socket_batch_block(struct process *p);

/* posix.h's syscall_dispatch, noting each call (syscall_note) when slow. */
static inline __attribute__((always_inline)) enum dispatch_result
syscall_dispatch_body(struct thread *t, struct user_regs *r, bool slow)
{
	struct process *p = t->proc;
	uint64_t nr = r->rax;
	syscall_fn fn = nr < LINUX_SYSCALL_MAX ? syscall_handlers[nr] : NULL;
	long result;

	p->current = t;
	share_account = p->account;
	share_thread = t;
	t->share_wait = false;
	if (__builtin_expect(socket_lingering != 0, 0))
		socket_linger_call(p, nr);
	if (__builtin_expect(socket_batched != 0, 0))
		socket_batch_call(p, r);
	if (__builtin_expect(!fn, 0))
		result = syscall_unsupported(p, nr);
	else if (__builtin_expect(syscall_all_regs[nr], 0) && !regs_complete(r) &&
		 regs_fetch(t, r) < 0)
		result = -LINUX_EFAULT;
	else
		result = fn(p, r);
	if (result == SYSCALL_BLOCK && p->state == PROCESS_RUNNING && t->state == THREAD_RUNNING) {
		if (__builtin_expect(socket_batched != 0, 0))
			socket_batch_block(p);
		if (slow)
			syscall_note(t, nr, r, result, true);
		return DISPATCH_BLOCKED;
	}
	t->io_done = 0;
	if (slow)
		syscall_note(t, nr, r, result, false);
	if (p->state != PROCESS_RUNNING)
		return DISPATCH_ENDED;
	if (t->state == THREAD_ENDED)
		return DISPATCH_THREAD_ENDED;
	r->rax = (uint64_t)result;
	return DISPATCH_REPLY;
}

/* syscall_dispatch_body traced (syscall.c). */
enum dispatch_result syscall_dispatch_traced(struct thread *t, struct user_regs *r);

/* posix.h's syscall_dispatch: inline, since every call comes through it
 * (the server's loop, a waiting call tried again). */
static inline __attribute__((always_inline)) enum dispatch_result
syscall_dispatch(struct thread *t, struct user_regs *r)
{
	if (__builtin_expect(syscall_slow, 0))
		return syscall_dispatch_traced(t, r);
	return syscall_dispatch_body(t, r, false);
}

#endif
