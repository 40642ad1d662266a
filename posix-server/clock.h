/*
 * Time in the POSIX server: CLOCK_REALTIME (realtime.c), CPU-time
 * clocks (cputime.c) and the timer that wakes sleeps and fires alarms
 * (timer.c).
 */
#ifndef MICA_POSIX_CLOCK_H
#define MICA_POSIX_CLOCK_H

#include "posix.h"

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

/* ---- timer.c ---- */

/* The server's notification (bound to its thread): its timer wakes
 * sleeps and fires alarms, signalling SIGNAL_TIMER_BIT (the other bits
 * are the sockets', socket.h, and netinfo's). */
extern cap_slot_t signal_notification;
#define SIGNAL_TIMER_BIT 0x1
/* The timer armed for the earliest deadline of every process; and what
 * to do when it fires. */
void signal_timer_arm(void);
void signal_timers(void);

#endif
