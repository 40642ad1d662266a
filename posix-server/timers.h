/*
 * Timers that processes make: timerfds (timerfd.c) and POSIX
 * per-process timers (posix_timer.c). Both keep their deadlines in their
 * own clock's nanoseconds (CLOCK_REALTIME's move with clock_settime, as
 * Linux's); the server's one timer (timer.c: signal_timer_arm) is armed
 * for the earliest of them too, and its expiry (signal_timers) collects
 * their expirations.
 */
#ifndef MICA_POSIX_TIMERS_H
#define MICA_POSIX_TIMERS_H

#include "clock.h"
#include "file.h"
#include "posix.h"
#include "signals.h"

/* Clock id's time now in ns, for a clock a timer may run on that is not
 * a CPU-time clock (REALTIME: the kernel clock plus the vDSO's offset;
 * MONOTONIC, BOOTTIME: the kernel clock), or false for another. */
bool timer_clock_now(int64_t id, uint64_t *ns);
/* A deadline at (ns of clock id, a timer_clock_now one) as one of the
 * kernel clock (sys_clock), at least 1. */
uint64_t timer_clock_deadline(int64_t id, uint64_t at);
/* A timer due at *next (now >= *next) with interval ns (0: one-shot):
 * its expirations up to now, at least 1; *next moved past now (0 for a
 * one-shot), as Linux's hrtimer_forward counts overruns. */
uint64_t timer_expiries(uint64_t *next, uint64_t interval, uint64_t now);

/* ---- timerfd.c: timerfd_create(2) ---- */

/* A timerfd's read of 8 bytes at user address buf: 8 (the expirations
 * since the last read, a u64), -EINVAL (len < 8), -EAGAIN (none yet,
 * O_NONBLOCK), -ECANCELED (the clock was set, TFD_TIMER_CANCEL_ON_SET),
 * -EFAULT, or SYSCALL_BLOCK. */
long timerfd_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* Its poll events: POLLIN when an expiration is unread. */
unsigned timerfd_poll(const struct file *f);
/* Its readiness edges (epoll's EPOLLET, poll.c): [0] one per
 * collected expiry, [1] never. */
void timerfd_edges(const struct file *f, uint32_t edges[2]);
/* f, a timerfd, is closed (its last descriptor went). */
void timerfd_closed(const struct file *f);
/* The earliest deadline of any armed timerfd in ns of the kernel clock,
 * or 0; timerfds_expire: those due counted, their readers woken. */
uint64_t timerfds_first(void);
void timerfds_expire(void);
/* CLOCK_REALTIME was set: every timerfd set with TFD_TIMER_CANCEL_ON_SET
 * (absolute, REALTIME) turns readable and its next read is ECANCELED
 * (timerfd_create(2)). */
void timerfds_clock_was_set(void);

/* ---- posix_timer.c: timer_create(2) ---- */

/* The earliest time any POSIX timer is to be looked at, in ns of the
 * kernel clock (a CPU-time one's: now plus what is left, a tick at
 * least), or 0; posix_timers_expire: the due ones signalled and armed
 * again for their interval. */
uint64_t posix_timers_first(void);
void posix_timers_expire(void);
/* p's timer id's signal is taken with overrun as its si_overrun (what
 * timer_getoverrun tells from now on). */
void posix_timer_delivered(const struct process *p, int id, int overrun);
/* Every timer of p deleted (its exit, its execve, as Linux). */
void posix_timers_release(const struct process *p);

#endif
