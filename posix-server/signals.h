/*
 * Signals of the POSIX server's processes (signal.c: sending, delivery,
 * the handler's frame; signal_fault.c: exceptions and page faults as
 * signals; signal_fpu.c: the frame's FPU state; signal_stop.c and
 * sys_job.c: stopping, continuing, orphaned process groups).
 */
#ifndef MICA_POSIX_SIGNALS_H
#define MICA_POSIX_SIGNALS_H

#include "posix.h"

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

#endif
