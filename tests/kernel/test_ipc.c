/* Synchronous IPC: call/reply, badges, long messages, deferred replies,
 * ordering, non-blocking forms, deletion while blocked. */
#include "ktest.h"

static cap_slot_t server_ep, server_reply;
static volatile int server_served;

/* Echo server: answers each call with words + 1 and its badge in word 3. */
static void echo_server(uint64_t count)
{
	struct msg m;
	long err = ipc_recv(server_ep, server_reply, &m);

	for (uint64_t i = 0; err == 0; i++) {
		struct msg r = msg_make(ipc_tag_label(m.tag) + 1, 4);
		r.w[0] = m.w[0] + 1;
		r.w[1] = m.w[1] + 1;
		r.w[2] = ipc_tag_words(m.tag);
		r.w[3] = m.badge;
		server_served++;
		if (i + 1 == count) {
			ipc_reply(server_reply, &r);
			return;
		}
		m = r;
		err = ipc_reply_recv(server_ep, server_reply, &m);
	}
}

static void server_setup(void)
{
	server_ep = ktest_create(CAP_ENDPOINT);
	server_reply = ktest_create(CAP_REPLY);
	server_served = 0;
}

static void server_teardown(void)
{
	sys_cap_delete(server_ep);
	sys_cap_delete(server_reply);
	slot_free(server_ep);
	slot_free(server_reply);
}

KTEST(ipc_call_reply_roundtrip)
{
	server_setup();
	cap_slot_t t = ktest_spawn(echo_server, 3, 150);
	KCHECK(t != CAP_SLOT_NONE);
	for (int i = 0; i < 3; i++) {
		struct msg m = msg_make(10 + i, 2);
		m.w[0] = 100 * i;
		m.w[1] = 7;
		KEXPECT(ipc_call(server_ep, &m), 0);
		KEXPECT(ipc_tag_label(m.tag), 11 + i);
		KEXPECT(ipc_tag_words(m.tag), 4);
		KEXPECT(m.w[0], 100 * i + 1);
		KEXPECT(m.w[1], 8);
		KEXPECT(m.w[2], 2);
		KEXPECT(m.w[3], 0);        /* unbadged */
	}
	ktest_join(t);
	KEXPECT(server_served, 3);
	server_teardown();
}

KTEST(ipc_badges_identify_clients)
{
	server_setup();
	cap_slot_t a = ktest_slot(), b = ktest_slot();
	KEXPECT(sys_cap_copy(server_ep, CAP_SLOT_SELF, a, CAP_RIGHT_WRITE, 0xA), 0);
	KEXPECT(sys_cap_copy(server_ep, CAP_SLOT_SELF, b, CAP_RIGHT_WRITE, 0xB), 0);
	cap_slot_t t = ktest_spawn(echo_server, 2, 150);
	struct msg m = msg_make(1, 0);
	KEXPECT(ipc_call(a, &m), 0);
	KEXPECT(m.w[3], 0xA);
	m = msg_make(1, 0);
	KEXPECT(ipc_call(b, &m), 0);
	KEXPECT(m.w[3], 0xB);
	ktest_join(t);
	sys_cap_delete(a);
	sys_cap_delete(b);
	server_teardown();
}

static void long_server(uint64_t unused)
{
	struct msg m;
	struct ipc_buffer *b = ipc_buffer();

	if (ipc_recv(server_ep, server_reply, &m))
		return;
	/* Reply with the sum of all words in word 0, and words 4..63 reversed. */
	unsigned n = ipc_tag_words(m.tag);
	uint64_t sum = m.w[0] + m.w[1] + m.w[2] + m.w[3];
	for (unsigned i = 4; i < n; i++)
		sum += b->words[i];
	uint64_t tmp[IPC_MAX_WORDS];
	for (unsigned i = 4; i < n; i++)
		tmp[i] = b->words[n + 3 - i];
	for (unsigned i = 4; i < n; i++)
		b->words[i] = tmp[i];
	struct msg r = msg_make(0, n);
	r.w[0] = sum;
	ipc_reply(server_reply, &r);
}

KTEST(ipc_long_message_through_buffer)
{
	server_setup();
	cap_slot_t t = ktest_spawn(long_server, 0, 150);
	struct ipc_buffer *b = ipc_buffer();
	struct msg m = msg_make(5, IPC_MAX_WORDS);
	uint64_t expect = 0;
	for (unsigned i = 0; i < IPC_MAX_WORDS; i++) {
		uint64_t v = 1000 + i;
		if (i < 4)
			m.w[i] = v;
		else
			b->words[i] = v;
		expect += v;
	}
	KEXPECT(ipc_call(server_ep, &m), 0);
	KEXPECT(ipc_tag_words(m.tag), IPC_MAX_WORDS);
	KEXPECT(m.w[0], expect);
	KEXPECT(b->words[4], 1000 + IPC_MAX_WORDS - 1);
	KEXPECT(b->words[IPC_MAX_WORDS - 1], 1004);
	ktest_join(t);
	server_teardown();
}

/* Deferred replies: the server takes two calls with two reply objects
 * and answers the second first. */
static cap_slot_t deferred_ep, reply_a, reply_b;
static volatile int deferred_order[2], deferred_done;

static void deferred_server(uint64_t unused)
{
	struct msg m1, m2;

	if (ipc_recv(deferred_ep, reply_a, &m1) || ipc_recv(deferred_ep, reply_b, &m2))
		return;
	/* Reusing a reply object that still has a caller is refused. */
	struct msg m3;
	if (ipc_recv(deferred_ep | IPC_NONBLOCK, reply_a, &m3) != -ERR_BUSY)
		return;
	struct msg r = msg_make(2, 1);
	r.w[0] = m2.w[0];
	ipc_reply(reply_b, &r);
	r.w[0] = m1.w[0];
	ipc_reply(reply_a, &r);
}

static void deferred_client(uint64_t value)
{
	struct msg m = msg_make(1, 1);
	m.w[0] = value;
	if (ipc_call(deferred_ep, &m) == 0 && m.w[0] == value)
		deferred_order[deferred_done++] = (int)value;
}

KTEST(ipc_deferred_replies)
{
	deferred_ep = ktest_create(CAP_ENDPOINT);
	reply_a = ktest_create(CAP_REPLY);
	reply_b = ktest_create(CAP_REPLY);
	deferred_done = 0;
	cap_slot_t c1 = ktest_spawn(deferred_client, 1, 120);
	cap_slot_t c2 = ktest_spawn(deferred_client, 2, 120);
	/* Both clients are queued on the endpoint now (they outrank us). */
	cap_slot_t s = ktest_spawn(deferred_server, 0, 110);
	ktest_join(s);
	ktest_join(c1);
	ktest_join(c2);
	KEXPECT(deferred_done, 2);
	KEXPECT(deferred_order[0], 2);
	KEXPECT(deferred_order[1], 1);
	sys_cap_delete(deferred_ep);
	sys_cap_delete(reply_a);
	sys_cap_delete(reply_b);
}

KTEST(ipc_nonblocking_forms)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT);
	struct msg m = msg_make(1, 0);

	KEXPECT(ipc_send(ep | IPC_NONBLOCK, &m), -ERR_WOULD_BLOCK);
	KEXPECT(ipc_call(ep | IPC_NONBLOCK, &m), -ERR_WOULD_BLOCK);
	KEXPECT(ipc_recv(ep | IPC_NONBLOCK, CAP_SLOT_NONE, &m), -ERR_WOULD_BLOCK);
	cap_slot_t r = ktest_create(CAP_REPLY);
	KEXPECT(ipc_reply(r, &m), -ERR_INVALID_ARG);   /* nobody waits */
	KEXPECT(ipc_reply(ep, &m), -ERR_WRONG_TYPE);
	sys_cap_delete(ep);
	sys_cap_delete(r);
}

/* The kernel's labels (notification, faults) cannot be forged: a
 * receiver can trust them. */
KTEST(ipc_kernel_labels_refused)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT);
	cap_slot_t r = ktest_create(CAP_REPLY);

	for (uint64_t label = IPC_LABEL_NOTIFY; label <= IPC_LABEL_SYSCALL_ARGS; label++) {
		struct msg m = msg_make(label, 0);
		KEXPECT(ipc_send(ep | IPC_NONBLOCK, &m), -ERR_INVALID_ARG);
		m = msg_make(label, 0);
		KEXPECT(ipc_call(ep | IPC_NONBLOCK, &m), -ERR_INVALID_ARG);
		m = msg_make(label, 0);
		KEXPECT(ipc_reply(r, &m), -ERR_INVALID_ARG);
	}
	struct msg m = msg_make((1UL << 52) - 1, 0);   /* the largest label */
	KEXPECT(ipc_send(ep | IPC_NONBLOCK, &m), -ERR_INVALID_ARG);
	m = msg_make(IPC_LABEL_NOTIFY - 1, 0);          /* the largest one for us */
	KEXPECT(ipc_send(ep | IPC_NONBLOCK, &m), -ERR_WOULD_BLOCK);
	sys_cap_delete(ep);
	sys_cap_delete(r);
}

/* Senders of equal priority are served in the order they queued. */
static cap_slot_t order_ep;
static void order_sender(uint64_t v)
{
	struct msg m = msg_make(v, 0);
	ipc_send(order_ep, &m);
}

KTEST(ipc_fifo_order)
{
	order_ep = ktest_create(CAP_ENDPOINT);
	cap_slot_t t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = ktest_spawn(order_sender, 100 + i, KTEST_PRIORITY);
		KCHECK(t[i] != CAP_SLOT_NONE);
	}
	sys_yield();                    /* all four run and queue, in order */
	for (int i = 0; i < 4; i++) {
		struct msg m;
		KEXPECT(ipc_recv(order_ep, CAP_SLOT_NONE, &m), 0);
		KEXPECT(ipc_tag_label(m.tag), 100 + i);
	}
	for (int i = 0; i < 4; i++)
		ktest_join(t[i]);
	sys_cap_delete(order_ep);
}

static cap_slot_t doomed_ep;
static volatile long doomed_result;

static void doomed_receiver(uint64_t unused)
{
	struct msg m;
	doomed_result = ipc_recv(doomed_ep, CAP_SLOT_NONE, &m);
}

KTEST(ipc_endpoint_deleted_while_blocked)
{
	doomed_ep = ktest_create(CAP_ENDPOINT);
	doomed_result = 1;
	cap_slot_t t = ktest_spawn(doomed_receiver, 0, KTEST_PRIORITY);
	sys_yield();                                            /* it blocks */
	KEXPECT(sys_obj_destroy(doomed_ep), 0);
	ktest_join(t);
	KEXPECT(doomed_result, -ERR_DELETED);
	/* Using the dead endpoint is an error, not a crash. */
	struct msg m = msg_make(1, 0);
	KEXPECT(ipc_send(doomed_ep, &m), -ERR_INVALID_CAP);
	sys_cap_delete(doomed_ep);
}

static volatile long doomed_call_results[2];

static void doomed_caller(uint64_t i)
{
	struct msg m = msg_make(1, i == 0 ? 1 : 10);    /* short and long */

	doomed_call_results[i] = ipc_call(doomed_ep, &m);
}

KTEST(ipc_endpoint_deleted_with_callers_queued)
{
	doomed_ep = ktest_create(CAP_ENDPOINT);
	cap_slot_t t[2];
	for (int i = 0; i < 2; i++) {
		doomed_call_results[i] = 1;
		t[i] = ktest_spawn(doomed_caller, (uint64_t)i, KTEST_PRIORITY);
	}
	sys_yield();                                            /* both queue */
	KEXPECT(doomed_call_results[0], 1);
	KEXPECT(doomed_call_results[1], 1);
	KEXPECT(sys_obj_destroy(doomed_ep), 0);
	for (int i = 0; i < 2; i++)
		ktest_join(t[i]);
	KEXPECT(doomed_call_results[0], -ERR_DELETED);
	KEXPECT(doomed_call_results[1], -ERR_DELETED);
	sys_cap_delete(doomed_ep);
}

static volatile long waiter_result;
static cap_slot_t waiter_ep;

static void blocked_caller(uint64_t unused)
{
	struct msg m = msg_make(1, 0);
	waiter_result = ipc_call(waiter_ep, &m);
}

KTEST(ipc_thread_deleted_while_blocked)
{
	waiter_ep = ktest_create(CAP_ENDPOINT);
	waiter_result = 1;
	cap_slot_t t = ktest_spawn(blocked_caller, 0, KTEST_PRIORITY);
	sys_yield();                                            /* it queues as a sender */
	KEXPECT(sys_obj_destroy(t), 0);
	/* The endpoint has no sender left: a receive finds nothing. */
	struct msg m;
	KEXPECT(ipc_recv(waiter_ep | IPC_NONBLOCK, CAP_SLOT_NONE, &m), -ERR_WOULD_BLOCK);
	KEXPECT(waiter_result, 1);       /* it never returned */
	ktest_join(t);
	sys_cap_delete(waiter_ep);
}

KTEST(ipc_bound_notification_wakes_receive)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), n = ktest_create(CAP_NOTIFICATION);
	struct thread_config cfg = { .fields = THREAD_CFG_NOTIFY, .notification = n };

	KEXPECT(sys_thread_configure(ROOT_SLOT_THREAD, (uint64_t)&cfg), 0);
	KEXPECT(sys_notify_signal(n, 0x21), 0);
	struct msg m;
	KEXPECT(ipc_recv(ep, CAP_SLOT_NONE, &m), 0);
	KEXPECT(ipc_tag_label(m.tag), IPC_LABEL_NOTIFY);
	KEXPECT(m.badge, 0x21);
	cfg.notification = CAP_SLOT_NONE;
	KEXPECT(sys_thread_configure(ROOT_SLOT_THREAD, (uint64_t)&cfg), 0);
	sys_cap_delete(ep);
	sys_cap_delete(n);
}

/* Many clients, one server: every call is answered, each with its own
 * badge. Clients run at different priorities: the server receives the
 * queued calls in arrival order. */
#define CLIENTS 6
static cap_slot_t many_ep, many_reply, many_badged[CLIENTS];
static volatile int many_ok[CLIENTS];

static void many_client(uint64_t i)
{
	for (int k = 0; k < 50; k++) {
		struct msg m = msg_make(1, 1);
		m.w[0] = i * 1000 + (uint64_t)k;
		if (ipc_call(many_badged[i], &m) || m.w[0] != i * 1000 + (uint64_t)k + 1 ||
		    m.w[3] != 0x100 + i)
			return;
	}
	many_ok[i] = 1;
}

static void many_server(uint64_t total)
{
	struct msg m;
	long err = ipc_recv(many_ep, many_reply, &m);

	for (uint64_t n = 0; err == 0; n++) {
		struct msg r = msg_make(0, 4);
		r.w[0] = m.w[0] + 1;
		r.w[3] = m.badge;
		if (n + 1 == total) {
			ipc_reply(many_reply, &r);
			return;
		}
		m = r;
		err = ipc_reply_recv(many_ep, many_reply, &m);
	}
}

KTEST(ipc_many_clients_one_server)
{
	many_ep = ktest_create(CAP_ENDPOINT);
	many_reply = ktest_create(CAP_REPLY);
	for (int i = 0; i < CLIENTS; i++) {
		many_ok[i] = 0;
		many_badged[i] = ktest_slot();
		KEXPECT(sys_cap_copy(many_ep, CAP_SLOT_SELF, many_badged[i], CAP_RIGHT_WRITE,
				     0x100 + (uint64_t)i), 0);
	}
	cap_slot_t s = ktest_spawn(many_server, CLIENTS * 50, 190);
	/* The pool has 8 threads: 1 server + 6 clients. */
	cap_slot_t c[CLIENTS];
	for (int i = 0; i < CLIENTS; i++)
		c[i] = ktest_spawn(many_client, (uint64_t)i, 100 + 10 * (uint64_t)i);
	ktest_join(s);
	for (int i = 0; i < CLIENTS; i++) {
		ktest_join(c[i]);
		KEXPECT(many_ok[i], 1);
		sys_cap_delete(many_badged[i]);
		slot_free(many_badged[i]);
	}
	sys_cap_delete(many_ep);
	sys_cap_delete(many_reply);
}

/* Of two ready threads, the one with the higher priority runs first. */
static volatile int prio_order[2], prio_n;
static void prio_worker(uint64_t id)
{
	prio_order[prio_n++] = (int)id;
}

KTEST(scheduler_runs_higher_priority_first)
{
	prio_n = 0;
	cap_slot_t lo = ktest_spawn(prio_worker, 1, 120);
	cap_slot_t hi = ktest_spawn(prio_worker, 2, 180);
	ktest_join(lo);                 /* blocks us: both are ready now */
	ktest_join(hi);
	KEXPECT(prio_n, 2);
	KEXPECT(prio_order[0], 2);
	KEXPECT(prio_order[1], 1);
}

/* A capability sent through an endpoint without the GRANT right is
 * dropped; with it, the receiver gets a copy. */
static cap_slot_t xfer_ep, xfer_into;
static volatile long xfer_count;

static void cap_receiver(uint64_t unused)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m;

	b->recv_cap_slot = xfer_into;
	if (ipc_recv(xfer_ep, CAP_SLOT_NONE, &m) == 0)
		xfer_count = (long)ipc_tag_items(m.tag) * 10 + (long)b->recv_cap_count;
}

KTEST(ipc_capability_transfer_needs_grant)
{
	cap_slot_t n = ktest_create(CAP_NOTIFICATION), weak = ktest_slot();
	struct ipc_buffer *b = ipc_buffer();
	uint64_t info[3];

	xfer_ep = ktest_create(CAP_ENDPOINT);
	KEXPECT(sys_cap_copy(xfer_ep, CAP_SLOT_SELF, weak, CAP_RIGHT_WRITE, 0), 0);
	for (int with_grant = 0; with_grant < 2; with_grant++) {
		xfer_into = ktest_slot();
		xfer_count = -1;
		cap_slot_t t = ktest_spawn(cap_receiver, 0, KTEST_PRIORITY);
		sys_yield();            /* it waits */
		struct msg m = { .tag = ipc_tag(1, 0, 1) };
		b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		b->items[0][1] = n;
		KEXPECT(ipc_send(with_grant ? xfer_ep : weak, &m), 0);
		ktest_join(t);
		KEXPECT(xfer_count, with_grant ? 11 : 0);
		KEXPECT(sys_cap_info(xfer_into, (uint64_t)info), 0);
		KEXPECT(info[0], with_grant ? CAP_NOTIFICATION : CAP_NULL);
		sys_cap_delete(xfer_into);
	}
	sys_cap_delete(weak);
	sys_cap_delete(n);
	sys_cap_delete(xfer_ep);
}

/* A suspended receiver stays held when a call or a fault message reaches
 * it, and gets the message once resumed: a short call (fast path), a long
 * one (general path) and an exception message. */
static cap_slot_t held_ep, held_reply;
static volatile uint64_t held_label;

static void held_receiver(uint64_t unused)
{
	struct msg m;

	if (ipc_recv(held_ep, held_reply, &m) == 0) {
		held_label = ipc_tag_label(m.tag);
		struct msg r = msg_make(IPC_REPLY_STOP, 0);
		ipc_reply(held_reply, &r);
	}
}

static void held_caller(uint64_t words)
{
	struct msg m = msg_make(7, (unsigned)words);
	ipc_call(held_ep, &m);
}

static void held_faulter(uint64_t unused)
{
	__asm__ volatile("ud2");
}

KTEST(ipc_suspended_receiver_stays_held)
{
	held_ep = ktest_create(CAP_ENDPOINT);
	held_reply = ktest_create(CAP_REPLY);
	for (int round = 0; round < 3; round++) {
		held_label = 0;
		cap_slot_t r = ktest_spawn(held_receiver, 0, 150);
		ktest_settle();                         /* it waits */
		KEXPECT(sys_thread_suspend(r), 1);     /* it was blocked (receiving) */
		cap_slot_t s;
		if (round < 2) {
			s = ktest_spawn(held_caller, round ? 8 : 1, 150);
		} else {
			s = ktest_spawn(held_faulter, 0, 150);
			struct thread_config cfg = { .fields = THREAD_CFG_EXCEPTION,
						     .exception = held_ep };
			sys_thread_configure(s, (uint64_t)&cfg);
		}
		ktest_settle();                         /* the message reached r */
		uint64_t while_held = held_label;
		sys_thread_resume(r);
		ktest_settle();
		uint64_t after = held_label;
		ktest_join(r);
		if (round == 2)
			sys_obj_destroy(s);             /* stopped by the reply */
		ktest_join(s);
		KEXPECT(while_held, 0);
		KEXPECT(after, round < 2 ? 7 : IPC_LABEL_EXCEPTION);
	}
	sys_cap_delete(held_ep);
	sys_cap_delete(held_reply);
}

/* A reply object destroyed while its receiver waits cannot take the next
 * caller: the receiver gets the message, the caller ERR_DELETED. */
static cap_slot_t lost_ep, lost_reply;
static volatile long lost_call_result, lost_recv_label;

static void lost_server(uint64_t unused)
{
	struct msg m;

	if (ipc_recv(lost_ep, lost_reply, &m) == 0)
		lost_recv_label = (long)ipc_tag_label(m.tag);
}

static void lost_caller(uint64_t unused)
{
	struct msg m = msg_make(3, 1);
	lost_call_result = ipc_call(lost_ep, &m);
}

KTEST(ipc_reply_object_destroyed_while_receiving)
{
	lost_ep = ktest_create(CAP_ENDPOINT);
	lost_reply = ktest_create(CAP_REPLY);
	lost_call_result = 1;
	lost_recv_label = 0;
	cap_slot_t s = ktest_spawn(lost_server, 0, 150);
	ktest_settle();                                 /* it waits with lost_reply */
	KEXPECT(sys_obj_destroy(lost_reply), 0);
	cap_slot_t c = ktest_spawn(lost_caller, 0, 150);
	ktest_settle();
	long result = lost_call_result;
	sys_obj_destroy(c);                             /* if it still waits */
	ktest_join(c);
	ktest_join(s);
	KEXPECT(lost_recv_label, 3);
	KEXPECT(result, -ERR_DELETED);
	sys_cap_delete(lost_ep);
	sys_cap_delete(lost_reply);
}

/* Words beyond the tag's count arrive as 0 whatever the sender left in
 * those registers, the tag's unused bits are cleared, and every message
 * resets the receive counts: on the fast path as on the general one. */
static cap_slot_t stale_ep, stale_reply;
static volatile uint64_t stale_words, stale_counts, stale_tag;

static void stale_server(uint64_t unused)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m;

	b->recv_cap_count = b->recv_pages = 77;
	if (ipc_recv(stale_ep, stale_reply, &m))
		return;
	stale_words = m.w[1] | m.w[2] | m.w[3];
	stale_counts = b->recv_cap_count + b->recv_pages;
	stale_tag = m.tag;
	struct msg r = msg_make(5, 2);
	r.w[0] = 1;
	r.w[1] = 2;
	r.w[2] = r.w[3] = 0xBAD;
	ipc_reply_recv(stale_ep, stale_reply, &r);     /* until the endpoint goes */
}

KTEST(ipc_words_beyond_count_arrive_as_zero)
{
	struct ipc_buffer *b = ipc_buffer();

	stale_ep = ktest_create(CAP_ENDPOINT);
	stale_reply = ktest_create(CAP_REPLY);
	stale_words = stale_counts = stale_tag = ~0UL;
	cap_slot_t t = ktest_spawn(stale_server, 0, KTEST_PRIORITY);
	sys_yield();                                    /* it waits */
	struct msg m = { .tag = ipc_tag(4, 1, 0) | 1UL << 10 };
	m.w[0] = 10;
	m.w[1] = m.w[2] = m.w[3] = 0xBAD;
	b->recv_cap_count = b->recv_pages = 77;
	long err = ipc_call(stale_ep, &m);
	sys_obj_destroy(stale_ep);
	ktest_join(t);
	KEXPECT(err, 0);
	KEXPECT(stale_tag, ipc_tag(4, 1, 0));
	KEXPECT(stale_words, 0);
	KEXPECT(stale_counts, 0);
	KEXPECT(m.tag, ipc_tag(5, 2, 0));
	KEXPECT(m.w[0], 1);
	KEXPECT(m.w[1], 2);
	KEXPECT(m.w[2], 0);
	KEXPECT(m.w[3], 0);
	KEXPECT(b->recv_cap_count + b->recv_pages, 0);
	sys_cap_delete(stale_ep);
	sys_cap_delete(stale_reply);
}
