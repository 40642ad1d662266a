/* Kernel memory is charged to quotas: exhausting one is an error for its
 * task only, and everything comes back when objects and tasks go. */
#include "child.h"

static volatile long quota_counts[2], quota_errors[2];

static void exhaust(uint64_t unused)
{
	long n = 0, err;
	cap_slot_t s = 0;

	/* Tasks until the quota runs out: each takes 64 KiB of ours. */
	while ((err = sys_obj_create(CAP_TASK, s, 64 * 1024)) == 0 && s + 1 < TASK_CAP_SLOTS)
		n++, s++;
	quota_counts[0] = n;
	quota_errors[0] = err;
	for (cap_slot_t i = 0; i < s; i++)
		sys_cap_delete(i);
	/* Threads without bound: each costs a kernel stack. */
	n = 0;
	s = 0;
	while ((err = sys_obj_create(CAP_THREAD, s, CAP_SLOT_SELF)) == 0 && s + 1 < TASK_CAP_SLOTS)
		n++, s++;
	quota_counts[1] = n;
	quota_errors[1] = err;
}

KTEST(quota_exhaustion_is_contained)
{
	struct task_info before = ktest_info();

	quota_counts[0] = quota_counts[1] = -1;
	struct child *c = child_start(exhaust, 0, 128 * 1024, CHILD_STOP, true);
	KCHECK(c);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(quota_errors[0], -ERR_NO_MEMORY);
	KEXPECT(quota_errors[1], -ERR_NO_MEMORY);
	KCHECK(quota_counts[0] >= 0 && quota_counts[0] < 2);
	KCHECK(quota_counts[1] > 1 && quota_counts[1] < 16);
	child_destroy(c);
	struct task_info after = ktest_info();
	KEXPECT(after.quota_used, before.quota_used);
	/* We can still make objects. */
	cap_slot_t e = ktest_create(CAP_ENDPOINT);
	KCHECK(e != CAP_SLOT_NONE);
	sys_cap_delete(e);
	slot_free(e);
}

KTEST(task_quota_is_carved_from_parent)
{
	struct task_info me = ktest_info();
	cap_slot_t t = ktest_slot();

	KEXPECT(sys_obj_create(CAP_TASK, t, 1024), -ERR_INVALID_ARG);     /* too small */
	KEXPECT(sys_obj_create(CAP_TASK, t, me.quota_limit), -ERR_NO_MEMORY);
	KEXPECT(sys_obj_create(CAP_TASK, t, 1 << 20), 0);
	struct task_info with = ktest_info();
	KCHECK(with.quota_used >= me.quota_used + (1 << 20));
	struct task_info child;
	KEXPECT(sys_task_info(t, (uint64_t)&child), 0);
	KEXPECT(child.quota_limit, 1 << 20);
	KCHECK(child.quota_used > 0);       /* its own page tables and capability table */
	KEXPECT(sys_cap_delete(t), 0);      /* last reference: the task goes */
	KEXPECT(ktest_info().quota_used, me.quota_used);
}

/* Found by the fuzzer: a quota so large that used + quota wrapped around
 * passed the check, and the task's end refunded more than was charged. */
KTEST(task_quota_too_large_to_add_is_refused)
{
	struct task_info me = ktest_info();
	cap_slot_t t = ktest_slot();

	KEXPECT(sys_obj_create(CAP_TASK, t, ~0UL), -ERR_NO_MEMORY);
	KEXPECT(sys_obj_create(CAP_TASK, t, ~0UL - me.quota_used + 1), -ERR_NO_MEMORY);
	KEXPECT(sys_obj_create(CAP_TASK, t, 1UL << 63), -ERR_NO_MEMORY);
	KEXPECT(ktest_info().quota_used, me.quota_used);
	slot_free(t);
}

static cap_slot_t stress_ep, stress_reply;

static void stress_server(uint64_t rounds)
{
	struct msg m;
	long err = ipc_recv(stress_ep, stress_reply, &m);

	for (uint64_t i = 0; err == 0 && i < rounds; i++) {
		m.w[0]++;
		m.tag = ipc_tag(0, 1, 0);
		if (i + 1 == rounds) {
			ipc_reply(stress_reply, &m);
			break;
		}
		err = ipc_reply_recv(stress_ep, stress_reply, &m);
	}
}

static bool stress_round(int ipcs, int maps, int objects, int tasks)
{
	stress_ep = ktest_create(CAP_ENDPOINT);
	stress_reply = ktest_create(CAP_REPLY);
	cap_slot_t t = ktest_spawn(stress_server, (uint64_t)ipcs, 150);
	bool ok = t != CAP_SLOT_NONE;
	for (int i = 0; ok && i < ipcs; i++) {
		struct msg m = msg_make(0, 1);
		m.w[0] = (uint64_t)i;
		ok = ipc_call(stress_ep, &m) == 0 && m.w[0] == (uint64_t)i + 1;
	}
	ktest_join(t);
	for (int i = 0; ok && i < maps; i++) {
		uint64_t *p = ktest_pages(1 + i % 4);
		ok = p != NULL;
		if (p) {
			*p = (uint64_t)i;
			ktest_pages_free(p, 1 + i % 4);
		}
	}
	for (int i = 0; ok && i < objects; i++) {
		cap_slot_t s = ktest_create(i % 3 == 0 ? CAP_ENDPOINT : i % 3 == 1 ? CAP_NOTIFICATION : CAP_REPLY);
		ok = s != CAP_SLOT_NONE && sys_cap_delete(s) == 0;
		slot_free(s);
	}
	for (int i = 0; ok && i < tasks; i++) {
		cap_slot_t s = ktest_slot();
		ok = sys_obj_create(CAP_TASK, s, 256 * 1024) == 0 && sys_cap_delete(s) == 0;
		slot_free(s);
	}
	sys_cap_delete(stress_ep);
	sys_cap_delete(stress_reply);
	slot_free(stress_ep);
	slot_free(stress_reply);
	return ok;
}

KTEST(stress_then_no_leak)
{
	/* A first small round warms the kernel's size classes. */
	KCHECK(stress_round(10, 10, 10, 2));
	struct task_info before = ktest_info();
	KCHECK(stress_round(10000, 1000, 1000, 50));
	struct task_info after = ktest_info();
	KEXPECT(after.quota_used, before.quota_used);
	KEXPECT(after.caps_used, before.caps_used);
	KEXPECT(after.free_frames, before.free_frames);
}
