/*
 * Scheduler: fixed priorities 0..255 (higher runs first), round robin
 * within a priority, preemption by the timer tick. The kernel itself is
 * never preempted: it runs with interrupts off, and switches happen when it
 * returns to user mode or blocks.
 */
#ifndef MICA_SCHED_H
#define MICA_SCHED_H

#include "thread.h"

extern struct thread *current;

void sched_init(void);

/* Put t on its ready queue (at the tail). */
void sched_enqueue(struct thread *t);
void sched_dequeue(struct thread *t);

/* Choose the next thread and switch to it if it is not current. Called on
 * the way back to user mode and when current blocks. */
void schedule(void);

/* t became ready: queue it; reschedule soon if it outranks current. */
void sched_wake(struct thread *t);

/* Current has blocked (state set, queued where it waits). Switch straight
 * to t, the partner it just made ready (IPC handoff), when no more
 * important thread is ready; otherwise queue t and schedule. Returns when
 * current runs again. t may be NULL. */
void sched_block_switch(struct thread *t);

/* Current has blocked in a system call with nothing left to do once
 * woken but return to user mode through its frame (the fast path); t, the
 * partner it just made ready (state READY, not queued), outranks every
 * ready thread (sched_outranks_ready, with nothing queued since). Switch
 * straight to t, the queues untouched, without keeping current's kernel
 * stack: when it runs again it goes straight back to user mode
 * (sched_resume_user, then the system call's exit). Does not return. */
void sched_switch_abandon(struct thread *t) __attribute__((noreturn));

/* Where a thread resumes after sched_switch_abandon: the switch's
 * leftovers, and a reschedule if one is due. */
void sched_resume_user(void);

/* t is at least as important as every ready thread (a direct switch to
 * it would not bypass anyone); inline for the common case of nobody
 * ready. */
extern uint64_t sched_ready_words;
bool sched_outranks_ready_queued(const struct thread *t);
static inline bool sched_outranks_ready(const struct thread *t)
{
	return !sched_ready_words || sched_outranks_ready_queued(t);
}

/* The time-stamp counter cycles t has run on the CPU, in user and kernel
 * mode (interrupts taken while it runs included): counted at each switch,
 * plus the current run if t is current. Never decreases. */
uint64_t sched_cpu_cycles(const struct thread *t);

/* Work left after a switch (freeing a dead thread's stack). */
void sched_finish_switch(void);

/* Timer tick (user_mode: it interrupted user mode): account the slice,
 * request a reschedule when it runs out; sample whom the CPU works for
 * (struct thread's user_ticks, system_ticks). */
void sched_tick(bool user_mode);

/* A reschedule is due before returning to user mode. */
extern bool sched_need_resched;

/* Enter the first user thread; never returns. */
void sched_start(void) __attribute__((noreturn));

#endif
