/*
 * Futexes (Linux's futex(2), futex(7)): a thread waits until another
 * wakes it at the same word of their process's memory. A wait is a call
 * that waits like a pipe's read (SYSCALL_BLOCK, main.c): the thread's
 * record keeps the word's address, its bitset and when it began
 * (t->futex*); FUTEX_WAKE marks the waiters it wakes (thread_mark), and
 * their calls, tried again, return 0. The server runs alone on the CPU
 * above its processes' threads, so reading the word and parking the
 * thread is one step, as Linux's futex_wait promises. A futex is named
 * by a struct futex_key (posix.h): its process and address in private
 * memory (or with FUTEX_PRIVATE_FLAG), the memory object and offset in
 * a shared mapping without it — so a process-shared mutex, condition
 * variable or semaphore in MAP_SHARED memory works across fork, as
 * Linux's. The priority-inheritance futexes are futex_pi.c. Also
 * set_robust_list and get_robust_list, and what a thread's end does to
 * futexes (CLONE_CHILD_CLEARTID, the robust list).
 */
#include "clock.h"
#include "futex.h"
#include "linux_socket.h"
#include "syscall.h"

#define FUTEX_WAIT              0
#define FUTEX_WAKE              1
#define FUTEX_REQUEUE           3
#define FUTEX_CMP_REQUEUE       4
#define FUTEX_WAKE_OP           5
#define FUTEX_LOCK_PI           6
#define FUTEX_UNLOCK_PI         7
#define FUTEX_TRYLOCK_PI        8
#define FUTEX_WAIT_BITSET       9
#define FUTEX_WAKE_BITSET       10
#define FUTEX_PRIVATE_FLAG      128
#define FUTEX_CLOCK_REALTIME    256
#define FUTEX_BITSET_MATCH_ANY  0xFFFFFFFFU
#define FUTEX_WAIT_REQUEUE_PI   11
#define FUTEX_CMP_REQUEUE_PI    12
#define FUTEX_LOCK_PI2          13

#define FUTEX_WAITERS           0x80000000U
#define FUTEX_OWNER_DIED        0x40000000U
#define FUTEX_TID_MASK          0x3FFFFFFFU
#define ROBUST_LIST_LIMIT       2048    /* entries walked at a thread's end, as Linux */
#define ROBUST_HEAD_SIZE        24      /* struct robust_list_head */

#define NS_PER_SEC              1000000000UL

static uint64_t wait_count;     /* the order threads began to wait in */

uint64_t futex_seq_next(void)
{
	return ++wait_count;
}

struct futex_key futex_key_of(struct process *p, uint64_t addr, bool private)
{
	if (!private) {
		const struct as_region *r = as_region_at(&p->as, addr);
		if (r && r->kind == AS_OBJECT)
			return (struct futex_key){ NULL, r->object, r->source + (addr - r->start) };
	}
	return (struct futex_key){ p, 0, addr };
}

static bool same_key(const struct futex_key *a, const struct futex_key *b)
{
	return a->proc == b->proc && a->object == b->object && a->offset == b->offset;
}

long futex_wake(const struct futex_key *key, uint64_t n, uint32_t bitset)
{
	long woken = 0;

	for (unsigned i = 0; i < THREAD_MAX; i++) {
		const struct thread *t = &threads[i];
		if (t->state == THREAD_RUNNING && t->futex == FUTEX_WAITING &&
		    (t->futex_pi || t->futex_requeue_pi) && same_key(&t->futex_key, key))
			return -LINUX_EINVAL;   /* a PI futex's waiters are not for FUTEX_WAKE */
	}
	while ((uint64_t)woken < n) {
		struct thread *first = NULL;
		for (unsigned i = 0; i < THREAD_MAX; i++) {
			struct thread *t = &threads[i];
			if (t->state == THREAD_RUNNING && t->futex == FUTEX_WAITING &&
			    same_key(&t->futex_key, key) && (t->futex_bitset & bitset) &&
			    (!first || t->futex_seq < first->futex_seq))
				first = t;
		}
		if (!first)
			break;
		first->futex = FUTEX_WOKEN;
		thread_mark(first);
		woken++;
	}
	return woken;
}

/* Move at most n waiters from key to key2 (FUTEX_REQUEUE; addr2: key2's
 * address in p): how many. */
static long futex_requeue(struct process *p, const struct futex_key *key,
			  const struct futex_key *key2, uint64_t addr2, uint64_t n)
{
	long moved = 0;

	for (unsigned i = 0; i < THREAD_MAX && (uint64_t)moved < n; i++) {
		struct thread *t = &threads[i];
		if (t->state == THREAD_RUNNING && t->futex == FUTEX_WAITING && !t->futex_pi &&
		    same_key(&t->futex_key, key)) {
			if (t->futex_requeue_pi)
				return -LINUX_EINVAL;   /* as Linux: for FUTEX_CMP_REQUEUE_PI only */
			t->futex_key = *key2;
			if (t->proc == p)
				t->futex_addr = addr2;
			moved++;
		}
	}
	return moved;
}

long futex_wait_again(struct thread *t, uint64_t now)
{
	bool woken = t->futex == FUTEX_WOKEN;

	if (!woken && (t->sleep_at == SLEEP_FOREVER || t->sleep_at > now))
		return SYSCALL_BLOCK;
	t->futex = FUTEX_NONE;
	t->futex_pi = t->futex_requeue_pi = false;
	t->sleep_at = 0;
	return woken ? 0 : -LINUX_ETIMEDOUT;
}

long futex_deadline(struct process *p, uint64_t timeout, bool absolute, bool realtime,
		    uint64_t now, uint64_t *deadline)
{
	struct linux_timespec ts;

	*deadline = SLEEP_FOREVER;
	if (!timeout)
		return 0;
	if (as_copy_in(&p->as, &ts, timeout, sizeof(ts)) < 0)
		return -LINUX_EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_SEC)
		return -LINUX_EINVAL;
	uint64_t ns = (uint64_t)ts.sec > UINT64_MAX / 4 / NS_PER_SEC
		      ? UINT64_MAX / 4 : (uint64_t)ts.sec * NS_PER_SEC + (uint64_t)ts.nsec;
	*deadline = !absolute ? now + ns : realtime ? realtime_deadline(ns) : ns;
	return 0;
}

long futex_park(struct thread *t, const struct futex_key *key, uint64_t addr, uint32_t bitset,
		uint64_t deadline, bool realtime)
{
	t->futex = FUTEX_WAITING;
	t->futex_key = *key;
	t->futex_addr = addr;
	t->futex_pi = t->futex_requeue_pi = false;
	t->futex_bitset = bitset;
	t->futex_seq = futex_seq_next();
	t->sleep_at = deadline;
	t->sleep_rem = realtime && deadline != SLEEP_FOREVER ? SLEEP_REALTIME : 0;
	if (deadline != SLEEP_FOREVER)
		signal_timer_arm();
	return SYSCALL_BLOCK;
}

/* FUTEX_WAIT and FUTEX_WAIT_BITSET: the first try compares the word and
 * parks the thread with its deadline (absolute: of CLOCK_MONOTONIC, or
 * of CLOCK_REALTIME with FUTEX_CLOCK_REALTIME: realtime.c); the tries
 * after it end the call when it was woken (0) or its time is up
 * (-ETIMEDOUT). A signal ends it through signal_interrupt. */
static long futex_wait(struct process *p, uint64_t addr, uint32_t val, uint64_t timeout,
		       uint32_t bitset, bool absolute, bool realtime, bool private)
{
	struct thread *t = p->current;
	uint64_t now = (uint64_t)sys_clock(), deadline;
	uint32_t word;
	long err;

	if (t->futex == FUTEX_WOKEN || t->futex == FUTEX_WAITING)
		return futex_wait_again(t, now);
	if ((err = futex_deadline(p, timeout, absolute, realtime, now, &deadline)) < 0)
		return err;
	if (as_copy_in(&p->as, &word, addr, sizeof(word)) < 0)
		return -LINUX_EFAULT;
	if (word != val)
		return -LINUX_EAGAIN;
	if (deadline <= now)
		return -LINUX_ETIMEDOUT;
	struct futex_key key = futex_key_of(p, addr, private);
	return futex_park(t, &key, addr, bitset, deadline, absolute && realtime);
}

/* FUTEX_WAKE_OP's operation on the word at addr2: its old value, or -EFAULT. */
static long wake_op_apply(struct process *p, uint64_t addr2, uint32_t val3, uint32_t *old)
{
	unsigned op = (val3 >> 28) & 7;
	int32_t oparg = (int32_t)(val3 << 8) >> 20;     /* bits 12..23, signed */
	uint32_t now;

	if (val3 & (8U << 28))          /* FUTEX_OP_OPARG_SHIFT */
		oparg = (int32_t)(1U << (oparg & 31));  /* as Linux: a shift past 31 is taken mod 32 */
	if (as_copy_in(&p->as, old, addr2, 4) < 0)
		return -LINUX_EFAULT;
	switch (op) {
	case 0: now = (uint32_t)oparg; break;                   /* FUTEX_OP_SET */
	case 1: now = *old + (uint32_t)oparg; break;            /* FUTEX_OP_ADD */
	case 2: now = *old | (uint32_t)oparg; break;            /* FUTEX_OP_OR */
	case 3: now = *old & ~(uint32_t)oparg; break;           /* FUTEX_OP_ANDN */
	case 4: now = *old ^ (uint32_t)oparg; break;            /* FUTEX_OP_XOR */
	default: return -LINUX_ENOSYS;
	}
	return as_copy_out(&p->as, addr2, &now, 4) < 0 ? -LINUX_EFAULT : 0;
}

static bool wake_op_compare(uint32_t val3, uint32_t old)
{
	int32_t cmparg = (int32_t)(val3 << 20) >> 20;   /* bits 0..11, signed */
	int32_t o = (int32_t)old;

	switch ((val3 >> 24) & 15) {
	case 0: return o == cmparg;
	case 1: return o != cmparg;
	case 2: return o < cmparg;
	case 3: return o <= cmparg;
	case 4: return o > cmparg;
	case 5: return o >= cmparg;
	default: return false;
	}
}

/* futex(uaddr, op, val, timeout or val2, uaddr2, val3). */
long posix_futex(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, timeout = r->r10, addr2 = r->r8;
	unsigned op = (unsigned)r->rsi, cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	uint32_t val = (uint32_t)r->rdx, val3 = (uint32_t)r->r9;
	int32_t nwake = (int32_t)val, val2 = (int32_t)timeout;
	bool private = op & FUTEX_PRIVATE_FLAG;
	struct futex_key key, key2;

	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET &&
	    cmd != FUTEX_LOCK_PI2 && cmd != FUTEX_WAIT_REQUEUE_PI)
		return -LINUX_ENOSYS;
	/* As Linux's get_futex_key: unaligned is EINVAL, outside user
	 * space EFAULT (even for a wake, which reads nothing). */
	if (addr & 3)
		return -LINUX_EINVAL;
	if (addr > USER_SPACE_TOP - 4)
		return -LINUX_EFAULT;
	switch (cmd) {
	case FUTEX_WAIT:
		return futex_wait(p, addr, val, timeout, FUTEX_BITSET_MATCH_ANY, false, false, private);
	case FUTEX_WAIT_BITSET:
		if (!val3)
			return -LINUX_EINVAL;
		return futex_wait(p, addr, val, timeout, val3, true, op & FUTEX_CLOCK_REALTIME, private);
	case FUTEX_WAKE:
		val3 = FUTEX_BITSET_MATCH_ANY;
		/* fall through */
	case FUTEX_WAKE_BITSET:
		if (!val3)
			return -LINUX_EINVAL;
		key = futex_key_of(p, addr, private);
		return futex_wake(&key, nwake > 0 ? (uint64_t)nwake : 1, val3);
	case FUTEX_CMP_REQUEUE:
	case FUTEX_REQUEUE: {
		uint32_t word;
		if (nwake < 0 || val2 < 0 || addr2 & 3)
			return -LINUX_EINVAL;   /* waiters moved to an unaligned word would be lost */
		if (addr2 > USER_SPACE_TOP - 4)
			return -LINUX_EFAULT;
		if (cmd == FUTEX_CMP_REQUEUE) {
			if (as_copy_in(&p->as, &word, addr, 4) < 0)
				return -LINUX_EFAULT;
			if (word != val3)
				return -LINUX_EAGAIN;
		}
		key = futex_key_of(p, addr, private);
		key2 = futex_key_of(p, addr2, private);
		long woken = futex_wake(&key, (uint64_t)nwake, FUTEX_BITSET_MATCH_ANY);
		if (woken < 0)
			return woken;
		long moved = futex_requeue(p, &key, &key2, addr2, (uint64_t)val2);
		return moved < 0 ? moved : woken + moved;
	}
	case FUTEX_WAKE_OP: {
		uint32_t old;
		long err;
		if (addr2 & 3)
			return -LINUX_EINVAL;
		if (addr2 > USER_SPACE_TOP - 4)
			return -LINUX_EFAULT;
		if ((err = wake_op_apply(p, addr2, val3, &old)) < 0)
			return err;
		key = futex_key_of(p, addr, private);
		key2 = futex_key_of(p, addr2, private);
		long woken = futex_wake(&key, nwake > 0 ? (uint64_t)nwake : 1,
					FUTEX_BITSET_MATCH_ANY), more = 0;
		if (woken >= 0 && wake_op_compare(val3, old))
			more = futex_wake(&key2, val2 > 0 ? (uint64_t)val2 : 1, FUTEX_BITSET_MATCH_ANY);
		return woken < 0 ? woken : more < 0 ? more : woken + more;
	}
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_TRYLOCK_PI:
	case FUTEX_UNLOCK_PI:
		/* LOCK_PI's deadline is of CLOCK_REALTIME always, LOCK_PI2's
		 * with FUTEX_CLOCK_REALTIME (futex(2)). */
		return futex_pi(p, cmd, addr, timeout,
				cmd == FUTEX_LOCK_PI || (op & FUTEX_CLOCK_REALTIME), private);
	case FUTEX_WAIT_REQUEUE_PI:
	case FUTEX_CMP_REQUEUE_PI:
		if (addr2 & 3)
			return -LINUX_EINVAL;
		if (addr2 > USER_SPACE_TOP - 4)
			return -LINUX_EFAULT;
		return futex_requeue_pi(p, cmd, r, private);
	default:        /* FUTEX_FD, gone from Linux */
		return -LINUX_ENOSYS;
	}
}

/* ---- the robust list, and a thread's end ---- */

long posix_set_robust_list(struct process *p, struct user_regs *r)
{
	if (r->rsi != ROBUST_HEAD_SIZE)
		return -LINUX_EINVAL;
	p->current->robust_list = r->rdi;
	return 0;
}

/* get_robust_list(tid, head_ptr, len_ptr): tid 0 is the caller. */
long posix_get_robust_list(struct process *p, struct user_regs *r)
{
	struct thread *t = r->rdi ? thread_of_tid((int)r->rdi) : p->current;
	uint64_t len = ROBUST_HEAD_SIZE;

	if (!t)
		return -LINUX_ESRCH;
	if (as_copy_out(&p->as, r->rsi, &t->robust_list, 8) < 0 ||
	    as_copy_out(&p->as, r->rdx, &len, 8) < 0)
		return -LINUX_EFAULT;
	return 0;
}

/* A robust futex at addr held by t, which ends: marked FUTEX_OWNER_DIED
 * (its waiters bit kept), and a waiter woken — a PI futex's waiter gets
 * it later, from futex_pi_owner_gone, as Linux's exit_pi_state_list. */
static void futex_owner_died(struct thread *t, uint64_t addr, bool pi)
{
	struct process *p = t->proc;
	uint32_t word, now;

	if (addr & 3 || as_copy_in(&p->as, &word, addr, 4) < 0 ||
	    (word & FUTEX_TID_MASK) != (uint32_t)t->tid)
		return;
	now = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
	if (as_copy_out(&p->as, addr, &now, 4) < 0)
		return;
	struct futex_key key = futex_key_of(p, addr, false);
	if ((word & FUTEX_WAITERS) && !pi)
		futex_wake(&key, 1, FUTEX_BITSET_MATCH_ANY);
}

/* The robust list (struct robust_list_head: next, futex_offset,
 * list_op_pending; an entry's bit 0 flags a PI futex), walked as Linux's
 * exit_robust_list walks it. */
static void robust_list_release(struct thread *t)
{
	struct process *p = t->proc;
	uint64_t head[3], entry, next;

	if (!t->robust_list || as_copy_in(&p->as, head, t->robust_list, sizeof(head)) < 0)
		return;
	int64_t offset = (int64_t)head[1];
	uint64_t pending = head[2] & ~1UL;
	bool pi = head[0] & 1;
	entry = head[0] & ~1UL;
	for (unsigned n = 0; entry != t->robust_list && n < ROBUST_LIST_LIMIT; n++) {
		if (as_copy_in(&p->as, &next, entry, 8) < 0)
			return;
		if (entry != pending)
			futex_owner_died(t, entry + (uint64_t)offset, pi);
		pi = next & 1;
		entry = next & ~1UL;
	}
	if (pending)
		futex_owner_died(t, pending + (uint64_t)offset, head[2] & 1);
}

void futex_thread_gone(struct thread *t)
{
	uint32_t zero = 0;

	t->futex = FUTEX_NONE;          /* it waits no more */
	robust_list_release(t);
	futex_pi_owner_gone(t);
	if (t->clear_child_tid &&
	    as_copy_out(&t->proc->as, t->clear_child_tid, &zero, sizeof(zero)) == 0) {
		struct futex_key key = futex_key_of(t->proc, t->clear_child_tid, false);
		futex_wake(&key, 1, FUTEX_BITSET_MATCH_ANY);
	}
}

long futex_interrupted(const struct thread *t, const struct user_regs *r)
{
	unsigned cmd = (unsigned)r->rsi & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

	if (cmd == FUTEX_WAIT_REQUEUE_PI && t->futex_requeue_pi && t->futex_pi)
		return -LINUX_EAGAIN;
	return cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_WAIT_REQUEUE_PI;
}
