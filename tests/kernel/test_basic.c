/* System call argument checking and capability operations. */
#include "ktest.h"

static cap_slot_t idle_notif;

static void blocks_last(uint64_t unused)
{
	sys_notify_wait(idle_notif, 0);
}

/* Found by the fuzzer: the idle thread's first run started in idle_loop
 * without finishing the switch, so the thread that blocked just before it
 * kept a reference for ever and was never freed (nor its quota given
 * back). First in the suite, so that this is the kernel's first idle. */
KTEST(first_idle_releases_the_thread_before_it)
{
	struct task_info before = ktest_info();
	cap_slot_t timer = ktest_create(CAP_NOTIFICATION);

	idle_notif = ktest_create(CAP_NOTIFICATION);
	cap_slot_t t = ktest_spawn(blocks_last, 0, KTEST_PRIORITY - 10);
	/* We block first; it runs and blocks; nothing is ready: idle. */
	KEXPECT(ktest_wait(timer, 50), KTEST_TIMED_OUT);
	KEXPECT(sys_obj_destroy(t), 0);
	ktest_join(t);
	sys_cap_delete(timer);
	sys_cap_delete(idle_notif);
	slot_free(timer);
	slot_free(idle_notif);
	KEXPECT(ktest_info().quota_used, before.quota_used);
}

KTEST(debug_write_checks_buffer)
{
	KEXPECT(sys_debug_write((uint64_t)"", 0), 0);
	KEXPECT(sys_debug_write(0x1000, 10), -ERR_BAD_ADDRESS);             /* unmapped */
	KEXPECT(sys_debug_write(0xFFFF800000000000UL, 8), -ERR_BAD_ADDRESS); /* kernel */
	KEXPECT(sys_debug_write((uint64_t)"x", 5000), -ERR_INVALID_ARG);
}

KTEST(unknown_syscall_is_rejected)
{
	KEXPECT(mica_syscall(SYS_COUNT, 0, 0, 0, 0, 0, 0, 0), -ERR_NO_SYSCALL);
	KEXPECT(mica_syscall(~0UL, 0, 0, 0, 0, 0, 0, 0), -ERR_NO_SYSCALL);
}

KTEST(obj_create_checks_slot_and_type)
{
	cap_slot_t s = ktest_slot();
	uint64_t info[3];

	KEXPECT(sys_obj_create(CAP_ENDPOINT, s, 0), 0);
	KEXPECT(sys_cap_info(s, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_ENDPOINT);
	KEXPECT(info[1], CAP_RIGHTS_ALL);
	KEXPECT(sys_obj_create(CAP_ENDPOINT, s, 0), -ERR_SLOT_IN_USE);
	KEXPECT(sys_obj_create(CAP_ENDPOINT, TASK_CAP_SLOTS, 0), -ERR_INVALID_CAP);
	KEXPECT(sys_obj_create(CAP_MEMORY, ktest_slot(), 0), -ERR_INVALID_ARG);
	KEXPECT(sys_obj_create(99, ktest_slot(), 0), -ERR_INVALID_ARG);
	KEXPECT(sys_cap_info(s, 0x10), -ERR_BAD_ADDRESS);
	KEXPECT(sys_cap_delete(s), 0);
	KEXPECT(sys_cap_delete(s), -ERR_INVALID_CAP);
	KEXPECT(sys_cap_info(s, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_NULL);
}

KTEST(cap_copy_reduces_rights_and_badges)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), copy = ktest_slot(), copy2 = ktest_slot();
	uint64_t info[3];

	KEXPECT(sys_cap_copy(ep, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, 42), 0);
	KEXPECT(sys_cap_info(copy, (uint64_t)info), 0);
	KEXPECT(info[1], CAP_RIGHT_WRITE);
	KEXPECT(info[2], 42);
	/* A badged copy cannot be re-badged; rights only shrink. */
	KEXPECT(sys_cap_copy(copy, CAP_SLOT_SELF, copy2, CAP_RIGHTS_ALL, 7), -ERR_INVALID_ARG);
	KEXPECT(sys_cap_copy(copy, CAP_SLOT_SELF, copy2, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(sys_cap_info(copy2, (uint64_t)info), 0);
	KEXPECT(info[1], CAP_RIGHT_WRITE);
	KEXPECT(info[2], 42);
	/* Missing rights and wrong types are refused. */
	struct msg m = msg_make(1, 0);
	KEXPECT(ipc_recv(copy, CAP_SLOT_NONE, &m), -ERR_NO_RIGHTS);
	KEXPECT(sys_notify_signal(copy, 1), -ERR_WRONG_TYPE);
	KEXPECT(sys_cap_copy(ep, CAP_SLOT_SELF, ep, CAP_RIGHTS_ALL, 0), -ERR_SLOT_IN_USE);
	KEXPECT(sys_cap_copy(ROOT_SLOT_IOPORTS, CAP_SLOT_SELF, ktest_slot(), CAP_RIGHTS_ALL, 5),
		-ERR_INVALID_ARG);
	/* Revoke deletes every copy, the original stays. */
	KEXPECT(sys_cap_revoke(ep), 0);
	KEXPECT(sys_cap_info(copy, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_NULL);
	KEXPECT(sys_cap_info(copy2, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_NULL);
	KEXPECT(sys_cap_info(ep, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_ENDPOINT);
	KEXPECT(sys_cap_delete(ep), 0);
}

/* notify_wait returns the word as a signed result, so a notification
 * badge must leave bit 63 clear; endpoint badges arrive in rdi and may use
 * all 64 bits. */
KTEST(cap_copy_refuses_negative_notification_badge)
{
	cap_slot_t n = ktest_create(CAP_NOTIFICATION), ep = ktest_create(CAP_ENDPOINT);
	cap_slot_t copy = ktest_slot();
	uint64_t info[3];

	KEXPECT(sys_cap_copy(n, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, 1UL << 63), -ERR_INVALID_ARG);
	KEXPECT(sys_cap_copy(n, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, ~0UL), -ERR_INVALID_ARG);
	KEXPECT(sys_cap_copy(n, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, (1UL << 63) - 1), 0);
	KEXPECT(sys_notify_signal(copy, 1), 0);
	KEXPECT(sys_notify_wait(n, 0), (long)((1UL << 63) - 1));
	KEXPECT(sys_cap_delete(copy), 0);
	KEXPECT(sys_cap_copy(ep, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, 1UL << 63), 0);
	KEXPECT(sys_cap_info(copy, (uint64_t)info), 0);
	KEXPECT(info[2], 1UL << 63);
	KEXPECT(sys_cap_delete(copy), 0);
	KEXPECT(sys_cap_delete(ep), 0);
	KEXPECT(sys_cap_delete(n), 0);
	slot_free(copy);
}

KTEST(cap_move_keeps_object)
{
	cap_slot_t n = ktest_create(CAP_NOTIFICATION), to = ktest_slot();
	uint64_t info[3];

	KEXPECT(sys_notify_signal(n, 4), 0);
	KEXPECT(sys_cap_move(n, CAP_SLOT_SELF, to), 0);
	KEXPECT(sys_cap_info(n, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_NULL);
	KEXPECT(sys_notify_wait(to | IPC_NONBLOCK, 0), 4);
	KEXPECT(sys_cap_move(n, CAP_SLOT_SELF, ktest_slot()), -ERR_INVALID_CAP);
	KEXPECT(sys_cap_delete(to), 0);
}

KTEST(notification_signal_poll_wait)
{
	cap_slot_t n = ktest_create(CAP_NOTIFICATION);

	KEXPECT(sys_notify_wait(n | IPC_NONBLOCK, 0), 0);
	KEXPECT(sys_notify_signal(n, 0x5), 0);
	KEXPECT(sys_notify_signal(n, 0x10), 0);
	KEXPECT(sys_notify_wait(n, 0), 0x15);
	KEXPECT(sys_notify_wait(n | IPC_NONBLOCK, 0), 0);
	KEXPECT(sys_notify_signal(n, 0), -ERR_INVALID_ARG);
	KEXPECT(sys_notify_signal(n, 1UL << 63), -ERR_INVALID_ARG);
	/* The largest word comes back whole. */
	KEXPECT(sys_notify_signal(n, (1UL << 63) - 1), 0);
	KEXPECT(sys_notify_wait(n, 0), (long)((1UL << 63) - 1));
	/* Through a badged copy the badge is signalled, not the argument. */
	cap_slot_t badged = slot_alloc();
	KEXPECT(sys_cap_copy(n, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE, 0x100), 0);
	KEXPECT(sys_notify_signal(badged, 0x1), 0);
	KEXPECT(sys_notify_wait(n | IPC_NONBLOCK, 0), 0x100);
	KEXPECT(sys_notify_wait(badged | IPC_NONBLOCK, 0), -ERR_NO_RIGHTS);
	KEXPECT(sys_cap_delete(badged), 0);
	slot_free(badged);
	KEXPECT(sys_cap_delete(n), 0);
}

static cap_slot_t signal_target;

static void signaller(uint64_t bits)
{
	sys_notify_signal(signal_target, bits);
}

KTEST(notification_wakes_waiter)
{
	signal_target = ktest_create(CAP_NOTIFICATION);
	/* A lower-priority thread signals once we block. */
	cap_slot_t t = ktest_spawn(signaller, 0x80, 100);
	KCHECK(t != CAP_SLOT_NONE);
	KEXPECT(sys_notify_wait(signal_target, 0), 0x80);
	ktest_join(t);
	KEXPECT(sys_cap_delete(signal_target), 0);
}

KTEST(notification_timer_signals_at_deadline)
{
	cap_slot_t n = ktest_create(CAP_NOTIFICATION);
	uint64_t start = (uint64_t)sys_clock();

	KEXPECT(sys_notify_timer(n, 1UL << 63, start), -ERR_INVALID_ARG);
	KEXPECT(sys_notify_timer(ROOT_SLOT_IOPORTS, 1, start), -ERR_WRONG_TYPE);
	/* Armed for 50 ms from now: nothing before, the bits after. */
	KEXPECT(sys_notify_timer(n, 0x4, start + 50000000), 0);
	KEXPECT(sys_notify_wait(n | IPC_NONBLOCK, 0), 0);
	KEXPECT(sys_notify_wait(n, 0), 0x4);
	KCHECK((uint64_t)sys_clock() >= start + 50000000);
	/* One-shot: it does not fire again. Re-arming replaces the earlier
	 * setting, and bits 0 disarms. */
	KEXPECT(sys_notify_timer(n, 0x1, start), 0);
	KEXPECT(sys_notify_timer(n, 0x2, (uint64_t)sys_clock() + 20000000), 0);
	KEXPECT(sys_notify_wait(n, 0), 0x2);
	KEXPECT(sys_notify_timer(n, 0x8, (uint64_t)sys_clock() + 20000000), 0);
	KEXPECT(sys_notify_timer(n, 0, 0), 0);
	/* A second, later timer on another notification still fires; the
	 * disarmed one stays silent. */
	cap_slot_t m = ktest_create(CAP_NOTIFICATION);
	KEXPECT(sys_notify_timer(m, 0x10, (uint64_t)sys_clock() + 40000000), 0);
	KEXPECT(sys_notify_wait(m, 0), 0x10);
	KEXPECT(sys_notify_wait(n | IPC_NONBLOCK, 0), 0);
	/* A notification destroyed while armed leaves the kernel's list. */
	KEXPECT(sys_notify_timer(m, 0x1, (uint64_t)sys_clock() + 10000000), 0);
	KEXPECT(sys_cap_delete(m), 0);
	KEXPECT(sys_notify_timer(n, 0x20, (uint64_t)sys_clock() + 30000000), 0);
	KEXPECT(sys_notify_wait(n, 0), 0x20);
	KEXPECT(sys_cap_delete(n), 0);
}

KTEST(clock_is_monotonic_with_fine_resolution)
{
	uint64_t start = (uint64_t)sys_clock(), prev = start, now = start;
	long fine = 0, reads = 0;

	/* Across a few 10 ms ticks: never backwards, and mostly in steps far
	 * below a millisecond (a system call takes microseconds). */
	while (now < start + 35000000 && reads < 5000000) {
		now = (uint64_t)sys_clock();
		reads++;
		KCHECK(now >= prev);
		if (now != prev && now - prev < 1000000)
			fine++;
		prev = now;
	}
	KCHECK(now >= start + 35000000);
	KCHECK(fine > reads / 2);
}

static inline uint64_t read_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

/* User code may read the TSC (CR4.TSD clear), and the clock computed from
 * it with clock_params' parameters lies between the `clock` readings taken
 * around it: the same function of the same counter. */
KTEST(clock_params_give_the_clock_from_the_tsc)
{
	struct clock_params p;

	KEXPECT(sys_clock_params(0x10), -ERR_BAD_ADDRESS);
	KEXPECT(sys_clock_params((uint64_t)&p), 0);
	KCHECK(p.mult > 0 && p.tsc_per_ms > 0 && p.tick_ns == 10000000);
	/* mult and tsc_per_ms say the same rate, within the rounding. */
	uint64_t ns_per_ms = (uint64_t)(((unsigned __int128)p.tsc_per_ms * p.mult) >> MICA_CLOCK_SHIFT);
	KCHECK(ns_per_ms > 999000 && ns_per_ms < 1001000);
	for (int i = 0; i < 1000; i++) {
		uint64_t before = (uint64_t)sys_clock();
		uint64_t mine = clock_from_tsc(&p, read_tsc());
		uint64_t after = (uint64_t)sys_clock();
		KCHECK(before <= mine && mine <= after);
	}
}
