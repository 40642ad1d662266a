/* A task's capability table of a chosen size (task_configure's
 * TASK_CFG_CAP_SLOTS): grown and shrunk with its capabilities kept in
 * the derivation tree, charged to the task's quota, refused when a slot
 * to go is filled, out of range or over quota. */
#include "ktest.h"

static long set_slots(cap_slot_t task, uint64_t n)
{
	struct task_config cfg = { .fields = TASK_CFG_CAP_SLOTS, .cap_slots = n };

	return sys_task_configure(task, (uint64_t)&cfg);
}

static struct task_info info_of(cap_slot_t task)
{
	struct task_info i = { 0 };

	sys_task_info(task, (uint64_t)&i);
	return i;
}

KTEST(cap_table_grows_and_shrinks_keeping_the_tree)
{
	struct task_info me = ktest_info();
	cap_slot_t t = ktest_slot(), mine = ktest_slot();
	cap_slot_t e = ktest_create(CAP_ENDPOINT);

	KEXPECT(sys_obj_create(CAP_TASK, t, 1 << 20), 0);
	struct task_info i0 = info_of(t);
	KEXPECT(i0.cap_slots, TASK_CAP_SLOTS);
	/* Children of e: two in t, one of ours between them in the list. */
	KEXPECT(sys_cap_copy(e, t, 5, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(sys_cap_copy(e, CAP_SLOT_SELF, mine, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(sys_cap_copy(e, t, 6, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(sys_cap_copy(e, t, 1000, CAP_RIGHTS_ALL, 0), -ERR_INVALID_CAP);

	KEXPECT(set_slots(t, 1024), 0);
	struct task_info i1 = info_of(t);
	KEXPECT(i1.cap_slots, 1024);
	KEXPECT(i1.caps_used, 2);
	KEXPECT(i1.quota_used, i0.quota_used + (1024 - TASK_CAP_SLOTS) * 64);
	KEXPECT(sys_cap_copy(e, t, 1000, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(info_of(t).caps_used, 3);

	/* Refused, and nothing changes. */
	KEXPECT(set_slots(t, 7), -ERR_SLOT_IN_USE);
	KEXPECT(set_slots(t, 0), -ERR_INVALID_ARG);
	KEXPECT(set_slots(t, TASK_CAP_SLOTS_MAX + 1), -ERR_INVALID_ARG);
	KEXPECT(set_slots(t, 1UL << 32), -ERR_INVALID_ARG);
	KEXPECT(info_of(t).cap_slots, 1024);
	KEXPECT(info_of(t).quota_used, i1.quota_used + 0);

	/* The moved slots are still e's children: revoking finds them all. */
	KEXPECT(sys_cap_revoke(e), 0);
	KEXPECT(info_of(t).caps_used, 0);
	uint64_t ci[3];
	KEXPECT(sys_cap_info(mine, (uint64_t)ci), 0);
	KEXPECT(ci[0], CAP_NULL);

	/* Small: 7 slots are one 512-byte block. */
	KEXPECT(set_slots(t, 7), 0);
	KEXPECT(info_of(t).cap_slots, 7);
	KEXPECT(info_of(t).quota_used, i0.quota_used - TASK_CAP_SLOTS * 64 + 512);
	KEXPECT(sys_cap_copy(e, t, 7, CAP_RIGHTS_ALL, 0), -ERR_INVALID_CAP);
	KEXPECT(sys_cap_copy(e, t, 6, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(set_slots(t, TASK_CAP_SLOTS), 0);
	KEXPECT(info_of(t).caps_used, 1);
	KEXPECT(info_of(t).quota_used, i0.quota_used);

	KEXPECT(sys_cap_delete(t), 0);
	KEXPECT(sys_cap_delete(e), 0);
	slot_free(t);
	slot_free(e);
	slot_free(mine);
	KEXPECT(ktest_info().quota_used, me.quota_used);
}

KTEST(cap_table_growth_is_charged_to_the_task)
{
	struct task_info me = ktest_info();
	cap_slot_t t = ktest_slot();

	/* 64 KiB: its page tables and 16 KiB of slots leave no 256 KiB. */
	KEXPECT(sys_obj_create(CAP_TASK, t, 64 * 1024), 0);
	struct task_info i0 = info_of(t);
	KEXPECT(set_slots(t, TASK_CAP_SLOTS_MAX), -ERR_NO_MEMORY);
	KEXPECT(info_of(t).cap_slots, TASK_CAP_SLOTS);
	KEXPECT(info_of(t).quota_used, i0.quota_used);
	KEXPECT(set_slots(t, 512), 0);
	/* Grown 4 KiB at a time until its quota refuses: it can still
	 * shrink (only growth is charged, the shrink refunded). */
	uint64_t n = 512;
	while (n < TASK_CAP_SLOTS_MAX && set_slots(t, n + 64) == 0)
		n += 64;
	KEXPECT(n < TASK_CAP_SLOTS_MAX, 1);
	uint64_t full = info_of(t).quota_used;
	KEXPECT(set_slots(t, n - 64), 0);
	KEXPECT(info_of(t).cap_slots, n - 64);
	KEXPECT(info_of(t).quota_used, full - 64 * 64);
	KEXPECT(sys_cap_delete(t), 0);
	slot_free(t);
	KEXPECT(ktest_info().quota_used, me.quota_used);
}

/* The caller's own table, grown: slots past 256 work for every call,
 * the fast path's too (a call and reply through an endpoint there). */
static cap_slot_t far_ep, far_reply;

static void far_server(uint64_t unused)
{
	struct msg m;

	(void)unused;
	if (ipc_recv(far_ep, far_reply, &m) == 0) {
		struct msg r = msg_make(1, 1);
		r.w[0] = m.w[0] + 1;
		ipc_reply(far_reply, &r);
	}
}

KTEST(cap_table_of_the_caller_grows)
{
	struct task_info me = ktest_info();

	KEXPECT(set_slots(CAP_SLOT_SELF, 512), 0);
	KEXPECT(ktest_info().cap_slots, 512);
	far_ep = 400;
	far_reply = 450;
	KEXPECT(sys_obj_create(CAP_ENDPOINT, far_ep, 0), 0);
	KEXPECT(sys_obj_create(CAP_REPLY, far_reply, 0), 0);
	cap_slot_t n = 511;
	KEXPECT(sys_obj_create(CAP_NOTIFICATION, n, 0), 0);
	KEXPECT(sys_notify_signal(n, 4), 0);
	KEXPECT(sys_notify_wait(n | IPC_NONBLOCK, 0), 4);

	cap_slot_t th = ktest_spawn(far_server, 0, 150);
	KCHECK(th != CAP_SLOT_NONE);
	struct msg m = msg_make(7, 1);
	m.w[0] = 41;
	KEXPECT(ipc_call(far_ep, &m), 0);
	KEXPECT(m.w[0], 42);
	ktest_join(th);

	KEXPECT(set_slots(CAP_SLOT_SELF, TASK_CAP_SLOTS), -ERR_SLOT_IN_USE);
	KEXPECT(sys_cap_delete(far_ep), 0);
	KEXPECT(sys_cap_delete(far_reply), 0);
	KEXPECT(sys_cap_delete(n), 0);
	KEXPECT(set_slots(CAP_SLOT_SELF, TASK_CAP_SLOTS), 0);
	KEXPECT(ktest_info().cap_slots, TASK_CAP_SLOTS);
	KEXPECT(ktest_info().quota_used, me.quota_used);
}
