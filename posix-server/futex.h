/*
 * Futexes of the POSIX server's processes (futex.c; priority
 * inheritance and requeueing onto it: futex_pi.c). A waiter's record
 * (struct futex_key, the futex_* fields) is struct thread's (posix.h).
 */
#ifndef MICA_POSIX_FUTEX_H
#define MICA_POSIX_FUTEX_H

#include "posix.h"

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
/* A waiting futex call of t's tried again (FUTEX_WAIT's, FUTEX_LOCK_PI's,
 * FUTEX_WAIT_REQUEUE_PI's) at now: SYSCALL_BLOCK while it waits, else
 * its wait is over: 0 when it was woken (a PI waiter owns the lock),
 * -ETIMEDOUT when its deadline passed. */
long futex_wait_again(struct thread *t, uint64_t now);
/* The deadline of the user timespec at timeout (0: none, SLEEP_FOREVER):
 * from now when not absolute, else of CLOCK_REALTIME when realtime
 * (realtime_deadline), else of the kernel clock. 0, -EFAULT, -EINVAL. */
long futex_deadline(struct process *p, uint64_t timeout, bool absolute, bool realtime,
		    uint64_t now, uint64_t *deadline);
/* t waits on key (its word at addr in t's process) for a wake that
 * meets bitset, until deadline (realtime: an absolute CLOCK_REALTIME
 * one, which follows the clock), after the threads waiting already; as
 * a plain waiter (the caller marks a PI or requeue-PI one after).
 * Returns SYSCALL_BLOCK. */
long futex_park(struct thread *t, const struct futex_key *key, uint64_t addr, uint32_t bitset,
		uint64_t deadline, bool realtime);
/* t ends: the word at its clear_child_tid set to 0 and woken (one
 * waiter), and each robust futex it holds marked FUTEX_OWNER_DIED and
 * woken, as Linux does at a thread's exit. */
void futex_thread_gone(struct thread *t);

#endif
