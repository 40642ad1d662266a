/*
 * Destroying a task mid-flight: its clients are answered with an error
 * rather than left waiting, and every byte of kernel memory it used comes
 * back. This is what a supervisor relies on when it kills a driver.
 */
#include "child.h"

/* ---- clients of a server that dies ---- */

enum server_mode {
	SERVER_RECEIVES_THEN_SPINS,     /* the call is taken, never answered */
	SERVER_RECEIVES_THEN_BLOCKS,
	SERVER_NEVER_RECEIVES,          /* the call stays queued */
};

/* In the child. Slots given: 1 our task, 2 our event notification. Its
 * own: 10 endpoint, 11 reply object, 12 notification. */
static void doomed_server(uint64_t arg)
{
	enum server_mode mode = (enum server_mode)(arg & 0xFF);
	cap_slot_t ours = (cap_slot_t)(arg >> 8);
	struct msg m;

	if (sys_obj_create(CAP_ENDPOINT, 10, 0) < 0 || sys_obj_create(CAP_REPLY, 11, 0) < 0 ||
	    sys_obj_create(CAP_NOTIFICATION, 12, 0) < 0 ||
	    sys_cap_copy(10, 1, ours, CAP_RIGHT_WRITE, 0) < 0)
		return;
	sys_notify_signal(2, 0x1);              /* ready: call it at `ours` */
	if (mode != SERVER_NEVER_RECEIVES) {
		if (ipc_recv(10, 11, &m) < 0)
			return;
		sys_notify_signal(2, 0x2);      /* got the call */
		if (mode == SERVER_RECEIVES_THEN_SPINS)
			for (;;)
				__asm__ volatile("pause");
	}
	sys_notify_wait(12, 0);
}

static cap_slot_t server_ep;
static volatile long call_result;

static void server_client(uint64_t unused)
{
	struct msg m = msg_make(1, 1);

	call_result = 1;
	call_result = ipc_call(server_ep, &m);
}

static void server_dies_during_call(enum server_mode mode)
{
	cap_slot_t ev = ktest_create(CAP_NOTIFICATION);
	struct task_info before = ktest_info();
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);

	server_ep = ktest_slot();
	KCHECK(c);
	KEXPECT(child_give(c, ROOT_SLOT_TASK, 1, CAP_RIGHTS_ALL), 0);
	KEXPECT(child_give(c, ev, 2, CAP_RIGHTS_ALL), 0);
	KEXPECT(child_run(c, doomed_server, (uint64_t)mode | (uint64_t)server_ep << 8), 0);
	KEXPECT(ktest_wait(ev, 2000), 0x1);
	call_result = 0;
	cap_slot_t t = ktest_spawn(server_client, 0, 180);
	KCHECK(t != CAP_SLOT_NONE);
	if (mode == SERVER_NEVER_RECEIVES)
		ktest_settle();                 /* queued on the endpoint */
	else
		KEXPECT(ktest_wait(ev, 2000), 0x2);
	KEXPECT(call_result, 1);                /* waiting */
	child_destroy(c);
	ktest_join(t);
	KEXPECT(call_result, -ERR_DELETED);
	/* We still hold a capability to its endpoint, which keeps the dead
	 * endpoint and task objects; its quota is back all the same. */
	struct task_info held = ktest_info();
	KCHECK(held.quota_used - before.quota_used < 1024);
	sys_cap_delete(server_ep);
	slot_free(server_ep);
	KEXPECT(ktest_info().quota_used, before.quota_used);
	sys_cap_delete(ev);
	slot_free(ev);
}

KTEST(call_to_dying_server_that_took_it_and_spins)
{
	server_dies_during_call(SERVER_RECEIVES_THEN_SPINS);
}

KTEST(call_to_dying_server_that_took_it_and_blocks)
{
	server_dies_during_call(SERVER_RECEIVES_THEN_BLOCKS);
}

KTEST(call_queued_on_dying_servers_endpoint)
{
	server_dies_during_call(SERVER_NEVER_RECEIVES);
}

/* ---- everything a task used comes back ---- */

/*
 * The child builds a bit of everything, charged to itself, and leaves it
 * in use: threads blocked receiving (with a bound notification), in a
 * call taken but not answered, queued on an endpoint; a notification
 * with its timer armed and an IRQ bound to it; memory it mapped itself
 * and pages its pager mapped; its I/O bitmap; a grandchild task with a
 * thread; a badged capability. Then it calls us and we never answer.
 *
 * Slots given: 1 pager, 2 our endpoint, 3 RAM, 4 I/O ports, 5 IRQ
 * control. Its own: 10, 11 endpoints; 12 reply; 13, 14 notifications;
 * 15..17 threads; 18 IRQ; 19 task; 20 its thread; 21 badged copy.
 */
#define HOARD_VA PROGRAM_OWN_BASE
#define HOARD_RAM_OFFSET (32UL << 20)   /* past ktest_pages' window */

static uint8_t hoard_stacks[3][8192] __attribute__((aligned(4096)));
static union {
	struct ipc_buffer b;
	uint8_t page[4096];
} hoard_ipc[3] __attribute__((aligned(4096)));

static void hoard_receiver(uint64_t unused)
{
	struct msg m;

	if (ipc_recv(10, 12, &m) == 0)          /* the caller's call, kept */
		sys_notify_wait(14, 0);
}

static void hoard_caller(uint64_t ep)
{
	struct msg m = msg_make(1, 0);

	ipc_call((cap_slot_t)ep, &m);
}

static void hoarder(uint64_t unused)
{
	static void (*const fns[3])(uint64_t) = { hoard_receiver, hoard_caller, hoard_caller };
	static const uint64_t args[3] = { 0, 10, 11 };   /* 11: nobody receives */
	struct msg m = msg_make(1, 0);

	for (cap_slot_t s = 10; s <= 11; s++)
		if (sys_obj_create(CAP_ENDPOINT, s, 0) < 0)
			return;
	if (sys_obj_create(CAP_REPLY, 12, 0) < 0 || sys_obj_create(CAP_NOTIFICATION, 13, 0) < 0 ||
	    sys_obj_create(CAP_NOTIFICATION, 14, 0) < 0 ||
	    sys_notify_timer(14, 0x1, (uint64_t)sys_clock() + 3600000000000UL) < 0)
		return;
	for (int i = 0; i < 3; i++) {
		cap_slot_t t = (cap_slot_t)(15 + i);
		struct thread_config cfg = {
			.fields = THREAD_CFG_PAGER | THREAD_CFG_IPC_BUFFER | THREAD_CFG_PRIORITY |
				  THREAD_CFG_NAME | (i == 0 ? THREAD_CFG_NOTIFY : 0),
			.pager = 1, .ipc_buffer = (uint64_t)&hoard_ipc[i].b, .priority = 150,
			.notification = 13, .name = "hoarder",
		};
		hoard_ipc[i].b.user[0] = (uint64_t)&hoard_ipc[i].b;
		uint64_t sp = thread_stack_prepare(hoard_stacks[i], sizeof(hoard_stacks[i]), fns[i]);
		if (sys_obj_create(CAP_THREAD, t, CAP_SLOT_SELF) < 0 ||
		    sys_thread_configure(t, (uint64_t)&cfg) < 0 ||
		    sys_thread_start(t, (uint64_t)thread_trampoline, sp, args[i]) < 0)
			return;
	}
	if (sys_irq_create(5, 10 | IRQ_FLAG_LEVEL, 18) < 0 || sys_irq_bind(18, 14, 0x2) < 0 ||
	    sys_ioport_map(4, 0x70, 2) < 0 ||
	    sys_mem_map(3, HOARD_RAM_OFFSET, HOARD_VA, 16, IPC_MAP_READ | IPC_MAP_WRITE) < 0 ||
	    sys_obj_create(CAP_TASK, 19, 128 * 1024) < 0 ||
	    sys_obj_create(CAP_THREAD, 20, 19) < 0 ||
	    sys_cap_copy(10, CAP_SLOT_SELF, 21, CAP_RIGHT_WRITE, 0x55) < 0)
		return;
	for (int i = 0; i < 16; i++)
		((volatile uint64_t *)HOARD_VA)[i * 512] = (uint64_t)i;
	ipc_call(2, &m);                        /* we keep it */
}

static cap_slot_t hoard_ep, hoard_reply;

/* One child: build, check it holds what it built, destroy. */
static bool hoard_round(void)
{
	struct child *c = child_create(1024 * 1024, CHILD_STOP, true);
	struct msg m;
	struct task_info info;

	if (!c)
		return false;
	bool ok = child_give_pager(c, 1) == 0 && child_give(c, hoard_ep, 2, CAP_RIGHT_WRITE) == 0 &&
		  child_give(c, ROOT_SLOT_FIRST_RAM, 3, CAP_RIGHTS_ALL) == 0 &&
		  child_give(c, ROOT_SLOT_IOPORTS, 4, CAP_RIGHTS_ALL) == 0 &&
		  child_give(c, ROOT_SLOT_IRQ_CONTROL, 5, CAP_RIGHTS_ALL) == 0 &&
		  child_run(c, hoarder, 0) == 0;
	/* Its call means it built everything; then let its threads block. */
	ok = ok && ipc_recv(hoard_ep, hoard_reply, &m) == 0;
	ktest_settle();
	ok = ok && sys_task_info(c->task, (uint64_t)&info) == 0 && info.threads == 4 &&
	     info.caps_used == 17 && info.quota_used > 128 * 1024 + 3 * 8192 + 8192;
	if (!ok)
		printf("    hoard_round: threads %lu, caps %lu, quota used %lu\n", info.threads,
		       info.caps_used, info.quota_used);
	child_destroy(c);
	/* Its caller is gone: the reply object is free again. */
	struct msg r = msg_make(0, 0);
	ok = ok && ipc_reply(hoard_reply, &r) == -ERR_INVALID_ARG;
	return ok;
}

KTEST(task_destroy_returns_all_kernel_memory)
{
	hoard_ep = ktest_create(CAP_ENDPOINT);
	hoard_reply = ktest_create(CAP_REPLY);
	/* A first round warms the kernel's size classes. */
	KCHECK(hoard_round());
	struct task_info before = ktest_info();
	for (int i = 0; i < 50; i++)
		KCHECK(hoard_round());
	struct task_info after = ktest_info();
	sys_cap_delete(hoard_ep);
	sys_cap_delete(hoard_reply);
	slot_free(hoard_ep);
	slot_free(hoard_reply);
	KEXPECT(after.quota_used, before.quota_used);
	KEXPECT(after.caps_used, before.caps_used);
	KEXPECT(after.free_frames, before.free_frames);
}

/* ---- how a task's threads ended ---- */

static void exits_with(uint64_t code)
{
	sys_thread_exit(code);
}

/* A supervisor tells a clean end from a failure by the exit count and the
 * last exit code task_info keeps after the thread is gone. */
KTEST(task_info_keeps_the_exit_code)
{
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	struct task_info info;

	KCHECK(c);
	KEXPECT(sys_task_info(c->task, (uint64_t)&info), 0);
	KEXPECT(info.exits, 0);
	KEXPECT(info.exit_code, 0);
	KEXPECT(child_run(c, exits_with, 3), 0);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(sys_task_info(c->task, (uint64_t)&info), 0);
	KEXPECT(info.exits, 1);
	KEXPECT(info.exit_code, 3);
	KEXPECT(info.threads, 0);
	child_destroy(c);
}

/* Found by the fuzzer: moving a thread not yet started to another task
 * unlinked it from the old task's list through the new list's links, so
 * the old task's list led into the new one's and its end never finished. */
KTEST(thread_moved_between_tasks_leaves_both_lists_whole)
{
	struct task_info me = ktest_info(), info;
	cap_slot_t task = ktest_slot(), t1 = ktest_slot(), t2 = ktest_slot();
	struct thread_config cfg = { .fields = THREAD_CFG_TASK, .task = task };

	KEXPECT(sys_obj_create(CAP_TASK, task, 128 * 1024), 0);
	KEXPECT(sys_obj_create(CAP_THREAD, t1, CAP_SLOT_SELF), 0);
	KEXPECT(sys_obj_create(CAP_THREAD, t2, task), 0);
	KEXPECT(sys_thread_configure(t1, (uint64_t)&cfg), 0);  /* ours -> the task's */
	KEXPECT(sys_task_info(task, (uint64_t)&info), 0);
	KEXPECT(info.threads, 2);
	KEXPECT(ktest_info().threads, me.threads);
	cfg.task = CAP_SLOT_SELF;
	KEXPECT(sys_thread_configure(t2, (uint64_t)&cfg), 0);  /* the task's -> ours */
	KEXPECT(sys_task_info(task, (uint64_t)&info), 0);
	KEXPECT(info.threads, 1);
	KEXPECT(ktest_info().threads, me.threads + 1);
	/* The task's end stops the one thread left in it, and returns. */
	KEXPECT(sys_obj_destroy(task), 0);
	KEXPECT(ktest_info().threads, me.threads + 1);
	KEXPECT(sys_obj_destroy(t2), 0);
	KEXPECT(ktest_info().threads, me.threads);
	sys_cap_delete(t1);
	sys_cap_delete(t2);
	sys_cap_delete(task);
	slot_free(t1);
	slot_free(t2);
	slot_free(task);
	KEXPECT(ktest_info().quota_used, me.quota_used);
}

/* ---- a call taken by a held receiver ---- */

static cap_slot_t held_ep, held_reply;

static void held_receiver(uint64_t unused)
{
	struct msg m;

	ipc_recv(held_ep, held_reply, &m);
}

static void held_caller(uint64_t unused)
{
	struct msg m = msg_make(1, 1);

	ipc_call(held_ep | IPC_NONBLOCK, &m);
}

/* A call delivered to a receiver held by thread_suspend waits for its
 * reply; destroying both threads then gives back all they used. */
KTEST(call_to_a_held_receiver_then_both_destroyed)
{
	struct task_info before = ktest_info();

	held_ep = ktest_create(CAP_ENDPOINT);
	held_reply = ktest_create(CAP_REPLY);
	cap_slot_t r = ktest_spawn(held_receiver, 0, KTEST_PRIORITY - 10);
	ktest_settle();
	KEXPECT(sys_thread_suspend(r), 1);     /* it was blocked (receiving) */
	cap_slot_t c = ktest_spawn(held_caller, 0, KTEST_PRIORITY - 10);
	ktest_settle();
	KEXPECT(sys_obj_destroy(c), 0);
	KEXPECT(sys_obj_destroy(r), 0);
	ktest_join(c);
	ktest_join(r);
	sys_obj_destroy(held_ep);
	sys_obj_destroy(held_reply);
	sys_cap_delete(held_ep);
	sys_cap_delete(held_reply);
	slot_free(held_ep);
	slot_free(held_reply);
	struct task_info after = ktest_info();
	KEXPECT(after.threads, before.threads);
	KEXPECT(after.quota_used, before.quota_used);
}
