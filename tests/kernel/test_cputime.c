/* Per-thread CPU time: thread_read_regs with THREAD_REGS_CPUTIME, and
 * with THREAD_REGS_CPUTIMES its user and system samples. */
#include "child.h"

/* The thread's CPU time in ns, or a negative error. */
static long cpu_ns(cap_slot_t thread)
{
	uint64_t ns = 0;
	long err = sys_thread_read_regs(thread | THREAD_REGS_CPUTIME, (uint64_t)&ns);

	return err < 0 ? err : (long)ns;
}

/* Spinning for 40 ms of the kernel's clock counts as running: at least
 * half of it (nothing else is ready), and not more than the time passed
 * (a generous bound for the calibration: cycles mistaken for ns would
 * be two or three times it), nor more in all than the time since boot. */
KTEST(cputime_spinning_thread_grows)
{
	long before = cpu_ns(ROOT_SLOT_THREAD);
	uint64_t start = (uint64_t)sys_clock();

	KCHECK(before >= 0);
	while ((uint64_t)sys_clock() < start + 40000000)
		;
	long after = cpu_ns(ROOT_SLOT_THREAD);
	uint64_t wall = (uint64_t)sys_clock() - start;
	if (after - before < (long)wall / 2 || after - before > (long)(wall + wall / 2))
		printf("    spun %lu ns of the clock, CPU time grew %ld ns\n", wall, after - before);
	KCHECK(after - before >= (long)wall / 2);
	KCHECK(after - before <= (long)(wall + wall / 2));
	/* No thread has run longer than the kernel has. */
	KCHECK(after <= sys_clock() + sys_clock() / 2);
}

static cap_slot_t blocker_notif;

static void blocker(uint64_t unused)
{
	sys_notify_wait(blocker_notif, 0);
	sys_notify_wait(blocker_notif, 0);
}

/* A thread blocked on a notification is not charged while others (and
 * the idle thread) run; woken, it is charged again. */
KTEST(cputime_blocked_thread_does_not_grow)
{
	cap_slot_t timer = ktest_create(CAP_NOTIFICATION);

	blocker_notif = ktest_create(CAP_NOTIFICATION);
	cap_slot_t t = ktest_spawn(blocker, 0, KTEST_PRIORITY);
	KCHECK(t != CAP_SLOT_NONE);
	ktest_settle();                                 /* it ran and blocks */
	long first = cpu_ns(t);
	KCHECK(first > 0);                              /* it ran to its wait */
	uint64_t start = (uint64_t)sys_clock();
	while ((uint64_t)sys_clock() < start + 20000000)
		;                                       /* we spin */
	KEXPECT(ktest_wait(timer, 20), KTEST_TIMED_OUT); /* idle runs */
	KEXPECT(cpu_ns(t), first);
	KEXPECT(sys_notify_signal(blocker_notif, 1), 0);
	ktest_settle();                                 /* it ran to its next wait */
	KCHECK(cpu_ns(t) > first);
	KEXPECT(sys_notify_signal(blocker_notif, 1), 0); /* and to its end */
	ktest_join(t);
	sys_cap_delete(timer);
	sys_cap_delete(blocker_notif);
	slot_free(timer);
	slot_free(blocker_notif);
}

static volatile bool yielder_stop;

static void yielder(uint64_t unused)
{
	while (!yielder_stop)
		sys_yield();
}

/* Read over and over, our own count and that of a thread switching with
 * us, the counts never go back. */
KTEST(cputime_is_monotonic)
{
	long mine = 0, its = 0;

	yielder_stop = false;
	cap_slot_t t = ktest_spawn(yielder, 0, KTEST_PRIORITY);

	KCHECK(t != CAP_SLOT_NONE);
	for (int i = 0; i < 2000; i++) {
		long m = cpu_ns(ROOT_SLOT_THREAD), o = cpu_ns(t);
		if (m < mine || o < its) {
			yielder_stop = true;
			ktest_join(t);
			KCHECK(m >= mine && o >= its);
		}
		mine = m;
		its = o;
		sys_yield();
	}
	yielder_stop = true;
	ktest_join(t);
	KCHECK(its > 0);
}

static volatile long other_task_results[3];

static void read_cputime(uint64_t slot)
{
	uint64_t ns = 0;

	other_task_results[0] = sys_thread_read_regs(ROOT_SLOT_THREAD | THREAD_REGS_CPUTIME,
						     (uint64_t)&ns);
	other_task_results[1] = sys_thread_read_regs(slot | THREAD_REGS_CPUTIME, (uint64_t)&ns);
	other_task_results[2] = (long)ns;
}

/* A thread of another task reads our thread's CPU time only through a
 * capability it was given with READ; the checks of the call. */
KTEST(cputime_needs_the_capability)
{
	cap_slot_t write_only = ktest_slot();
	uint64_t ns;

	KEXPECT(sys_cap_copy(ROOT_SLOT_THREAD, CAP_SLOT_SELF, write_only, CAP_RIGHT_WRITE, 0), 0);
	KEXPECT(sys_thread_read_regs(write_only | THREAD_REGS_CPUTIME, (uint64_t)&ns),
		-ERR_NO_RIGHTS);
	KEXPECT(sys_thread_read_regs(ROOT_SLOT_THREAD | THREAD_REGS_CPUTIME, 0x10),
		-ERR_BAD_ADDRESS);
	KEXPECT(sys_thread_read_regs(ROOT_SLOT_IOPORTS | THREAD_REGS_CPUTIME, (uint64_t)&ns),
		-ERR_WRONG_TYPE);
	sys_cap_delete(write_only);
	slot_free(write_only);

	/* Without the capability: its table does not have our thread. */
	for (int given = 0; given < 2; given++) {
		other_task_results[0] = other_task_results[1] = other_task_results[2] = 1;
		struct child *c = child_create(256 * 1024, CHILD_STOP, true);
		KCHECK(c);
		if (given)
			KEXPECT(child_give(c, ROOT_SLOT_THREAD, 5, CAP_RIGHT_READ), 0);
		KEXPECT(child_run(c, read_cputime, 5), 0);
		KCHECK(child_wait(c));
		bool exited = child_exited(c);
		child_destroy(c);
		KCHECK(exited);
		KEXPECT(other_task_results[0], -ERR_INVALID_CAP);
		if (given) {
			KEXPECT(other_task_results[1], 0);
			KCHECK(other_task_results[2] > 0);
		} else {
			KEXPECT(other_task_results[1], -ERR_INVALID_CAP);
			KEXPECT(other_task_results[2], 0);
		}
	}
}

/* The thread's count and samples (all 0 when they cannot be read). */
static struct thread_cputimes cputimes(cap_slot_t thread)
{
	struct thread_cputimes c = { 0, 0, 0 };

	if (sys_thread_read_regs(thread | THREAD_REGS_CPUTIMES, (uint64_t)&c) < 0)
		return (struct thread_cputimes){ 0, 0, 0 };
	return c;
}

static cap_slot_t slow_ep, slow_reply;

/* A server that takes 60 ms of the clock over one call, spinning. */
static void slow_server(uint64_t unused)
{
	struct msg m;

	if (ipc_recv(slow_ep, slow_reply, &m) == 0) {
		uint64_t start = (uint64_t)sys_clock();
		while ((uint64_t)sys_clock() < start + 60000000)
			;
		m = msg_make(1, 0);
		ipc_reply(slow_reply, &m);
	}
}

/* The timer's samples: spinning in user mode counts as our user time;
 * the time a server spends on our call counts as our system time, not
 * as the server's user time; the count itself is the same as
 * THREAD_REGS_CPUTIME's. (A tick is 10 ms: 60 ms of spinning is at
 * least two of them even when QEMU loses some.) */
KTEST(cputime_samples_split_user_from_system)
{
	struct thread_cputimes a = cputimes(ROOT_SLOT_THREAD), b;
	uint64_t start = (uint64_t)sys_clock();

	while ((uint64_t)sys_clock() < start + 60000000)
		;
	b = cputimes(ROOT_SLOT_THREAD);
	KCHECK(b.user_ticks >= a.user_ticks + 2);
	KCHECK(b.ns > a.ns);
	KCHECK(cpu_ns(ROOT_SLOT_THREAD) >= (long)b.ns);

	slow_ep = ktest_create(CAP_ENDPOINT);
	slow_reply = ktest_create(CAP_REPLY);
	cap_slot_t t = ktest_spawn(slow_server, 0, 150);
	KCHECK(t != CAP_SLOT_NONE);
	struct thread_cputimes s0 = cputimes(t);
	a = cputimes(ROOT_SLOT_THREAD);
	struct msg m = msg_make(7, 0);
	KEXPECT(ipc_call(slow_ep, &m), 0);
	b = cputimes(ROOT_SLOT_THREAD);
	struct thread_cputimes s1 = cputimes(t);
	if (b.system_ticks < a.system_ticks + 2)
		printf("    system ticks %lu -> %lu, the server's user ticks %lu -> %lu\n",
		       a.system_ticks, b.system_ticks, s0.user_ticks, s1.user_ticks);
	KCHECK(b.system_ticks >= a.system_ticks + 2);
	KCHECK(s1.user_ticks <= s0.user_ticks + 1);     /* its own: none while it served */
	ktest_join(t);
	sys_cap_delete(slow_ep);
	sys_cap_delete(slow_reply);
	slot_free(slow_ep);
	slot_free(slow_reply);
	KEXPECT(sys_thread_read_regs(ROOT_SLOT_THREAD | THREAD_REGS_CPUTIMES, 0x10),
		-ERR_BAD_ADDRESS);
}
