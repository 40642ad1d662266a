/*
 * Priority-inheritance futexes (Linux's futex(2), "Priority-inheritance
 * futexes"; Documentation/locking/pi-futex.rst): FUTEX_LOCK_PI,
 * FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI and FUTEX_UNLOCK_PI, which glibc's
 * and musl's PTHREAD_PRIO_INHERIT mutexes use. The word holds its
 * owner's tid, FUTEX_WAITERS when a thread waits for it in the server
 * (the owner's unlock must then come here) and FUTEX_OWNER_DIED when a
 * robust owner ended (futex.c's robust list). A lock of a word whose
 * owner is the caller is EDEADLK, of one whose owner does not exist
 * ESRCH; an unlock by another than the owner is EPERM. An unlock hands
 * the lock to the first waiter (its tid and FUTEX_WAITERS in the word),
 * which returns 0 owning it; so does an owner's end (futex_pi_owner_gone,
 * FUTEX_OWNER_DIED kept), as Linux's exit_pi_state_list. Waiters are
 * kept in the order they came: every process thread runs at one
 * priority here, so the priority boost Linux gives an owner has nothing
 * to change and is not done. A waiting FUTEX_LOCK_PI is started again
 * after a signal's handler (Linux's ERESTARTNOINTR: futex_interrupted).
 *
 * FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (Linux's futex(2);
 * Documentation/locking/futex-requeue-pi.rst): a condition variable's
 * waiter waits on a plain word (uaddr, while it holds val) naming the PI
 * futex (uaddr2) it is to be moved to; FUTEX_WAKE cannot wake it
 * (EINVAL). The signaller's FUTEX_CMP_REQUEUE_PI (nr_wake 1, while uaddr
 * holds val3) takes the PI futex for the first waiter if it is free
 * (that waiter returns 0 owning it, the word its tid), then moves up to
 * nr_requeue more (nr_requeue + 1 when the first could not take it) to
 * wait for the PI futex as FUTEX_LOCK_PI's waiters do: each returns 0
 * when an unlock hands it the lock (FUTEX_WAITERS set in the word with
 * the first moved). It returns how many were woken or moved. Before its requeue a waiter's signal starts
 * the call again; after it, the call returns EAGAIN; past its absolute
 * deadline, ETIMEDOUT (futex_wait_requeue_pi).
 */
#include "futex.h"
#include "linux_socket.h"
#include "syscall.h"

#define FUTEX_LOCK_PI           6
#define FUTEX_UNLOCK_PI         7
#define FUTEX_TRYLOCK_PI        8
#define FUTEX_WAIT_REQUEUE_PI   11
#define FUTEX_CMP_REQUEUE_PI    12
#define FUTEX_LOCK_PI2          13
#define FUTEX_CLOCK_REALTIME    256
#define FUTEX_WAITERS           0x80000000U
#define FUTEX_OWNER_DIED        0x40000000U
#define FUTEX_TID_MASK          0x3FFFFFFFU
#define FUTEX_BITSET_MATCH_ANY  0xFFFFFFFFU

static bool same_key(const struct futex_key *a, const struct futex_key *b)
{
	return a->proc == b->proc && a->object == b->object && a->offset == b->offset;
}

static bool pi_waiting(const struct thread *t)
{
	return t->state == THREAD_RUNNING && t->futex == FUTEX_WAITING && t->futex_pi;
}

/* The first thread waiting in FUTEX_LOCK_PI on key, or NULL. */
static struct thread *first_waiter(const struct futex_key *key)
{
	struct thread *first = NULL;

	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (pi_waiting(t) && same_key(&t->futex_key, key) &&
		    (!first || t->futex_seq < first->futex_seq))
			first = t;
	}
	return first;
}

/* The lock goes to w, the first waiter on its key: word (as w's process
 * sees it) written with keep's bits of the old word, w's tid and
 * FUTEX_WAITERS; the others on the key wait behind w now. 0 or -EFAULT. */
static long hand_to(struct thread *w, struct process *writer, uint64_t addr, uint32_t keep)
{
	uint32_t word;

	if (as_copy_in(&writer->as, &word, addr, 4) < 0)
		return -LINUX_EFAULT;
	word = (word & keep) | FUTEX_WAITERS | (uint32_t)w->tid;
	if (as_copy_out(&writer->as, addr, &word, 4) < 0)
		return -LINUX_EFAULT;
	w->futex = FUTEX_WOKEN;
	thread_mark(w);
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (pi_waiting(&threads[i]) && same_key(&threads[i].futex_key, &w->futex_key))
			threads[i].futex_pi_owner = w->tid;
	return 0;
}

/* FUTEX_UNLOCK_PI. */
static long unlock_pi(struct process *p, uint64_t addr, bool private)
{
	struct futex_key key = futex_key_of(p, addr, private);
	uint32_t word, zero = 0;

	if (as_copy_in(&p->as, &word, addr, 4) < 0)
		return -LINUX_EFAULT;
	if ((word & FUTEX_TID_MASK) != (uint32_t)p->current->tid)
		return -LINUX_EPERM;
	struct thread *w = first_waiter(&key);
	if (w)
		return hand_to(w, p, addr, 0);  /* as Linux: FUTEX_OWNER_DIED dropped */
	/* Nobody waits: the word free, neither bit kept (as Linux). */
	return as_copy_out(&p->as, addr, &zero, 4) < 0 ? -LINUX_EFAULT : 0;
}

/* FUTEX_LOCK_PI, _LOCK_PI2, _TRYLOCK_PI: the first try takes a free
 * word, or sets FUTEX_WAITERS and waits (a trylock: EAGAIN) until
 * handed the lock (0) or past the absolute deadline (-ETIMEDOUT). */
static long lock_pi(struct process *p, uint64_t addr, uint64_t timeout, bool realtime,
		    bool private, bool trylock)
{
	struct thread *t = p->current;
	uint64_t now = (uint64_t)sys_clock(), deadline = SLEEP_FOREVER;
	uint32_t word, now_word;

	if (t->futex != FUTEX_NONE && t->futex_pi)     /* tried again: woken owning it */
		return futex_wait_again(t, now);
	long err;
	if (!trylock && (err = futex_deadline(p, timeout, true, realtime, now, &deadline)) < 0)
		return err;
	if (as_copy_in(&p->as, &word, addr, 4) < 0)
		return -LINUX_EFAULT;
	if ((word & FUTEX_TID_MASK) == (uint32_t)t->tid)
		return -LINUX_EDEADLK;
	struct futex_key key = futex_key_of(p, addr, private);
	struct thread *w = first_waiter(&key);
	if (!(word & FUTEX_TID_MASK)) {
		/* Free: taken, FUTEX_OWNER_DIED kept (as Linux's futex_lock_pi_atomic). */
		now_word = (word & FUTEX_OWNER_DIED) | (uint32_t)t->tid | (w ? FUTEX_WAITERS : 0);
		return as_copy_out(&p->as, addr, &now_word, 4) < 0 ? -LINUX_EFAULT : 0;
	}
	now_word = word | FUTEX_WAITERS;        /* first: the owner's unlock comes here */
	if (now_word != word && as_copy_out(&p->as, addr, &now_word, 4) < 0)
		return -LINUX_EFAULT;
	int owner = (int)(word & FUTEX_TID_MASK);
	if (!w && !thread_of_tid(owner))
		return -LINUX_ESRCH;
	if (trylock)
		return -LINUX_EAGAIN;
	if (deadline <= now)
		return -LINUX_ETIMEDOUT;
	futex_park(t, &key, addr, FUTEX_BITSET_MATCH_ANY, deadline, realtime);
	t->futex_pi = true;
	t->futex_pi_owner = w ? w->futex_pi_owner : owner;
	return SYSCALL_BLOCK;
}

long futex_pi(struct process *p, unsigned cmd, uint64_t addr, uint64_t timeout, bool realtime,
	      bool private)
{
	switch (cmd) {
	case FUTEX_UNLOCK_PI:
		return unlock_pi(p, addr, private);
	case FUTEX_TRYLOCK_PI:
		return lock_pi(p, addr, 0, false, private, true);
	default:        /* FUTEX_LOCK_PI, FUTEX_LOCK_PI2 */
		return lock_pi(p, addr, timeout, realtime, private, false);
	}
}

/* FUTEX_WAIT_REQUEUE_PI: waits on the word at addr while it holds val,
 * to be moved to the PI futex at addr2 (as futex_pi's header says). */
static long wait_requeue_pi(struct process *p, uint64_t addr, uint32_t val, uint64_t timeout,
			    uint64_t addr2, bool realtime, bool private)
{
	struct thread *t = p->current;
	uint64_t now = (uint64_t)sys_clock(), deadline;
	uint32_t word;
	long err;

	/* Tried again: woken only by being handed the PI futex, it owns it. */
	if (t->futex != FUTEX_NONE && t->futex_requeue_pi)
		return futex_wait_again(t, now);
	struct futex_key key = futex_key_of(p, addr, private), key2 = futex_key_of(p, addr2, private);
	if (same_key(&key, &key2))
		return -LINUX_EINVAL;
	if ((err = futex_deadline(p, timeout, true, realtime, now, &deadline)) < 0)
		return err;
	if (as_copy_in(&p->as, &word, addr, 4) < 0)
		return -LINUX_EFAULT;
	if (word != val)
		return -LINUX_EAGAIN;
	if (deadline <= now)
		return -LINUX_ETIMEDOUT;
	futex_park(t, &key, addr, FUTEX_BITSET_MATCH_ANY, deadline, realtime);
	t->futex_requeue_pi = true;
	t->futex_key2 = key2;
	t->futex_addr2 = addr2;
	return SYSCALL_BLOCK;
}

/* The first thread waiting on key (any kind), or NULL. */
static struct thread *first_on(const struct futex_key *key)
{
	struct thread *first = NULL;

	for (unsigned i = 0; i < THREAD_MAX; i++) {
		struct thread *t = &threads[i];
		if (t->state == THREAD_RUNNING && t->futex == FUTEX_WAITING &&
		    same_key(&t->futex_key, key) && (!first || t->futex_seq < first->futex_seq))
			first = t;
	}
	return first;
}

/* w, waiting in FUTEX_WAIT_REQUEUE_PI, now waits for the PI futex key2
 * behind owner, the last in line. */
static void requeue_onto(struct thread *w, const struct futex_key *key2, int owner)
{
	w->futex_pi = true;
	w->futex_key = *key2;
	w->futex_addr = w->futex_addr2;
	w->futex_pi_owner = owner;
	w->futex_seq = futex_seq_next();
}

/* FUTEX_CMP_REQUEUE_PI: how many waiters were woken owning the PI futex
 * at addr2 (0 or 1) or moved to it (at most nr_requeue), or -errno. */
static long cmp_requeue_pi(struct process *p, uint64_t addr, uint32_t nr_wake, int32_t nr_requeue,
			   uint64_t addr2, uint32_t val3, bool private)
{
	struct futex_key key = futex_key_of(p, addr, private), key2 = futex_key_of(p, addr2, private);
	uint32_t word, word2;
	long count = 0;

	if (nr_wake != 1 || nr_requeue < 0 || same_key(&key, &key2))
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, &word, addr, 4) < 0)
		return -LINUX_EFAULT;
	if (word != val3)
		return -LINUX_EAGAIN;
	struct thread *top = first_on(&key);
	if (!top)
		return 0;
	if (!top->futex_requeue_pi || !same_key(&top->futex_key2, &key2))
		return -LINUX_EINVAL;   /* not a FUTEX_WAIT_REQUEUE_PI for this PI futex */
	if (as_copy_in(&p->as, &word2, addr2, 4) < 0)
		return -LINUX_EFAULT;
	int owner = (int)(word2 & FUTEX_TID_MASK);
	if (owner == top->tid)
		return -LINUX_EDEADLK;
	if (!owner) {
		/* Free: the first waiter takes it (FUTEX_OWNER_DIED kept;
		 * FUTEX_WAITERS once another is moved behind it). */
		word2 = (word2 & FUTEX_OWNER_DIED) | (uint32_t)top->tid;
		if (as_copy_out(&p->as, addr2, &word2, 4) < 0)
			return -LINUX_EFAULT;
		requeue_onto(top, &key2, 0);
		top->futex = FUTEX_WOKEN;
		thread_mark(top);
		owner = top->tid;
		count = 1;
	} else {
		struct thread *w = first_waiter(&key2);
		if (!w && !thread_of_tid(owner))
			return -LINUX_ESRCH;
		if (w)
			owner = w->futex_pi_owner;
	}
	/* nr_requeue more, or one more when the first was not woken (as
	 * Linux's futex_requeue: task_count - nr_wake < nr_requeue). */
	for (long moved = 0; moved < (long)nr_requeue + 1 - count; moved++, count++) {
		struct thread *w = first_on(&key);
		if (!w)
			break;
		if (!w->futex_requeue_pi || !same_key(&w->futex_key2, &key2))
			return count ? count : -LINUX_EINVAL;
		if (!(word2 & FUTEX_WAITERS)) {
			word2 |= FUTEX_WAITERS;     /* the owner's unlock comes here */
			if (as_copy_out(&p->as, addr2, &word2, 4) < 0)
				return count ? count : -LINUX_EFAULT;
		}
		requeue_onto(w, &key2, owner);
	}
	return count;
}

long futex_requeue_pi(struct process *p, unsigned cmd, const struct user_regs *r, bool private)
{
	if (cmd == FUTEX_WAIT_REQUEUE_PI)
		return wait_requeue_pi(p, r->rdi, (uint32_t)r->rdx, r->r10, r->r8,
				       (unsigned)r->rsi & FUTEX_CLOCK_REALTIME, private);
	return cmp_requeue_pi(p, r->rdi, (uint32_t)r->rdx, (int32_t)r->r10, r->r8, (uint32_t)r->r9,
			      private);
}

void futex_pi_owner_gone(struct thread *t)
{
	for (;;) {
		struct thread *w = NULL;
		for (unsigned i = 0; i < THREAD_MAX && !w; i++)
			if (pi_waiting(&threads[i]) && &threads[i] != t &&
			    threads[i].futex_pi_owner == t->tid)
				w = &threads[i];
		if (!w)
			return;
		w = first_waiter(&w->futex_key);
		/* Written through the waiter's own mapping of the word. */
		if (hand_to(w, w->proc, w->futex_addr, FUTEX_OWNER_DIED) < 0) {
			w->futex = FUTEX_NONE;  /* its word is gone: it waits no more */
			w->futex_pi = false;
			thread_mark(w);
		}
	}
}
