/* Redirected system calls as arguments (TASK_REDIRECT_ARGS): the number
 * and six arguments reach the handler, a one-word answer sets rax alone,
 * a full answer is sanitized, and a handler that is gone or never answers
 * stops the thread without harm to the kernel. The same checks hold on
 * the fast path (kernel/fastpath.c) and, booted `nofastpath`, on the
 * general path (kernel/fault.c). */
#include "child.h"

#define BADGE 0x77
#define RFLAGS_IF    0x200UL
#define RFLAGS_IOPL  0x3000UL
#define RFLAGS_TF    0x100UL
#define RFLAGS_DF    0x400UL

static volatile uint64_t sys_result[3], sys_kept, sys_flags;

/* A Linux-style `syscall` with six arguments; *kept: the argument
 * registers came back as they went (Linux changes only rax, rcx, r11). */
static inline uint64_t raw_syscall6(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
				    uint64_t a4, uint64_t a5, uint64_t a6, bool *kept)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	register uint64_t r9 __asm__("r9") = a6;
	uint64_t rax = nr, rdi = a1, rsi = a2, rdx = a3;

	__asm__ volatile("syscall"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
			 :
			 : "rcx", "r11", "memory");
	*kept = rdi == a1 && rsi == a2 && rdx == a3 && r10 == a4 && r8 == a5 && r9 == a6;
	return rax;
}

static void child_three_calls(uint64_t unused)
{
	bool kept;
	uint64_t flags;

	sys_result[0] = raw_syscall6(39, 1, 2, 3, 4, 5, 6, &kept);
	sys_kept = kept;
	sys_result[1] = raw_syscall6(1000, 11, 12, 13, 14, 15, 16, &kept);
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	sys_flags = flags;
	raw_syscall6(1001, 0, 0, 0, 0, 0, 0, &kept);
	sys_result[2] = 1;              /* never: the answer sends it elsewhere */
}

/* A child whose calls come to ep (badged BADGE) as struct syscall_args. */
static struct child *redirected_child(cap_slot_t ep)
{
	cap_slot_t badged = ktest_slot();
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);

	if (!c)
		return NULL;
	struct thread_config tc = { .fields = THREAD_CFG_EXCEPTION, .exception = badged };
	struct task_config cfg = { .fields = TASK_CFG_REDIRECT, .redirect = TASK_REDIRECT_ARGS };
	long err;
	if ((err = sys_cap_copy(ep, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE, BADGE)) < 0 ||
	    (err = sys_thread_configure(c->thread, (uint64_t)&tc)) < 0 ||
	    (err = sys_task_configure(c->task, (uint64_t)&cfg)) < 0) {
		printf("    redirected_child: %s\n", mica_strerror(err));
		child_destroy(c);
		c = NULL;
	}
	sys_cap_delete(badged);         /* the thread holds the endpoint now */
	slot_free(badged);
	return c;
}

static void destroy(cap_slot_t s)
{
	sys_obj_destroy(s);
	sys_cap_delete(s);
	slot_free(s);
}

KTEST(redirect_args_round_trip)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), r = ktest_create(CAP_REPLY);
	struct ipc_buffer *b = ipc_buffer();
	struct user_regs regs;
	struct msg m;

	sys_result[0] = sys_result[1] = sys_result[2] = sys_kept = sys_flags = 0;
	struct child *c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_three_calls, 0), 0);
	/* Call 1: the number and arguments, badged; the rest of its
	 * registers read while it waits. */
	KEXPECT(ipc_recv(ep, r, &m), 0);
	KEXPECT(m.tag, ipc_tag(IPC_LABEL_SYSCALL_ARGS, SYSCALL_ARGS_WORDS, 0));
	KEXPECT(m.badge, BADGE);
	KEXPECT(m.w[0], 39);
	KEXPECT(m.w[1], 1);
	KEXPECT(m.w[2], 2);
	KEXPECT(m.w[3], 3);
	KEXPECT(b->words[4], 4);
	KEXPECT(b->words[5], 5);
	KEXPECT(b->words[6], 6);
	KEXPECT(sys_thread_read_regs(c->thread, (uint64_t)&regs), 0);
	KEXPECT(regs.rax, 39);
	KEXPECT(regs.r9, 6);
	KCHECK(regs.rip > (uint64_t)child_three_calls && regs.rip < USER_SPACE_TOP);
	/* The result alone: rax changes, the arguments stay. */
	m = msg_make(IPC_REPLY_RESUME, 1);
	m.w[0] = 1234;
	KEXPECT(ipc_reply_recv(ep, r, &m), 0);
	KEXPECT(sys_result[0], 1234);
	KEXPECT(sys_kept, 1);
	/* Call 2: answered with all registers, the flags hostile (IOPL 3,
	 * interrupts off): the kernel keeps only what user mode may set. */
	KEXPECT(m.w[0], 1000);
	KEXPECT(m.w[1], 11);
	KEXPECT(b->words[6], 16);
	KEXPECT(sys_thread_read_regs(c->thread, (uint64_t)&regs), 0);
	regs.rax = 77;
	regs.rflags = ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_DF);
	m = msg_from_words(IPC_REPLY_RESUME, (const uint64_t *)&regs, USER_REGS_WORDS);
	KEXPECT(ipc_reply_recv(ep, r, &m), 0);
	KEXPECT(sys_result[1], 77);
	KEXPECT(sys_flags & RFLAGS_IOPL, 0);
	KEXPECT(sys_flags & RFLAGS_IF, RFLAGS_IF);
	/* Call 3: answered with a kernel-half instruction pointer and a
	 * non-canonical stack: it resumes at 0 in user mode and faults
	 * there (its pager refuses), never in the kernel. */
	KEXPECT(m.w[0], 1001);
	KEXPECT(sys_thread_read_regs(c->thread, (uint64_t)&regs), 0);
	regs.rip = 0xFFFFFFFF80100000UL;
	regs.rsp = 0x0000800000000000UL;
	m = msg_from_words(IPC_REPLY_RESUME, (const uint64_t *)&regs, USER_REGS_WORDS);
	KEXPECT(ipc_reply(r, &m), 0);
	KCHECK(child_wait(c));
	KEXPECT(c->stopped, 1);
	KEXPECT(c->label, IPC_LABEL_PAGE_FAULT);
	KEXPECT(c->rip, 0);
	KEXPECT(sys_result[2], 0);
	child_destroy(c);
	destroy(r);
	destroy(ep);
}

KTEST(redirect_args_handler_gone)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT);
	struct child *c = redirected_child(ep);

	/* Destroyed before the call: the thread stops, its supervisor hears. */
	sys_result[0] = 0;
	KCHECK(c);
	destroy(ep);
	KEXPECT(child_run(c, child_three_calls, 0), 0);
	KCHECK(child_wait(c));
	KEXPECT(c->stopped, 0);         /* no handler saw it */
	KCHECK(!child_exited(c));
	KEXPECT(sys_result[0], 0);
	child_destroy(c);

	/* Destroyed while the call waits for a receiver: the same. */
	ep = ktest_create(CAP_ENDPOINT);
	c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_three_calls, 0), 0);
	ktest_settle();                 /* it called; nobody received */
	destroy(ep);
	KCHECK(child_wait(c));
	KCHECK(!child_exited(c));
	KEXPECT(sys_result[0], 0);
	child_destroy(c);
}

KTEST(redirect_args_never_answered)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), r = ktest_create(CAP_REPLY);
	struct msg m;

	/* The handler drops the reply object: the thread stops. */
	sys_result[0] = 0;
	struct child *c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_three_calls, 0), 0);
	KEXPECT(ipc_recv(ep, r, &m), 0);
	KEXPECT(m.w[0], 39);
	destroy(r);
	KCHECK(child_wait(c));
	KCHECK(!child_exited(c));
	KEXPECT(sys_result[0], 0);
	child_destroy(c);

	/* The handler keeps it, and the caller is destroyed meanwhile: the
	 * late answer finds nobody; the reply object takes the next call. */
	r = ktest_create(CAP_REPLY);
	c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_three_calls, 0), 0);
	KEXPECT(ipc_recv(ep, r, &m), 0);
	child_destroy(c);
	m = msg_make(IPC_REPLY_RESUME, 1);
	KEXPECT(ipc_reply(r, &m), -ERR_INVALID_ARG);
	c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_three_calls, 0), 0);
	KEXPECT(ipc_recv(ep, r, &m), 0);
	KEXPECT(m.w[0], 39);
	/* A stop answer leaves it stopped (the handler knows: no
	 * supervisor signal); it never returns from its call. */
	m = msg_make(IPC_REPLY_STOP, 0);
	KEXPECT(ipc_reply(r, &m), 0);
	ktest_settle();
	KCHECK(!child_exited(c));
	KEXPECT(sys_result[0], 0);
	child_destroy(c);
	destroy(r);
	destroy(ep);
}

static void child_four_calls(uint64_t unused)
{
	bool kept;

	sys_result[0] = raw_syscall6(39, 1, 2, 3, 4, 5, 6, &kept);
	sys_result[1] = raw_syscall6(40, 1, 2, 3, 4, 5, 6, &kept);
	sys_result[2] = raw_syscall6(41, 1, 2, 3, 4, 5, 6, &kept);
	raw_syscall6(42, 0, 0, 0, 0, 0, 0, &kept);  /* stopped there */
}

/* The fast path keeps the endpoint and reply object the slots of its
 * last ipc_reply_recv named (kernel/fastpath.c): a slot emptied since
 * (moved away, deleted) and filled with something else must be decoded
 * again, and the answer refused. */
KTEST(redirect_args_reply_slot_reused)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), r = ktest_create(CAP_REPLY);
	cap_slot_t r2 = ktest_slot();
	struct msg m;

	sys_result[0] = sys_result[1] = sys_result[2] = 0;
	struct child *c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_four_calls, 0), 0);
	KEXPECT(ipc_recv(ep, r, &m), 0);
	KEXPECT(m.w[0], 39);
	m = msg_make(IPC_REPLY_RESUME, 1);
	m.w[0] = 100;
	KEXPECT(ipc_reply_recv(ep, r, &m), 0);      /* slots ep, r decoded */
	KEXPECT(m.w[0], 40);
	/* The reply object moves to r2; r becomes an endpoint. */
	KEXPECT(sys_cap_move(r, CAP_SLOT_SELF, r2), 0);
	KEXPECT(sys_obj_create(CAP_ENDPOINT, r, 0), 0);
	m = msg_make(IPC_REPLY_RESUME, 1);
	m.w[0] = 101;
	KCHECK(ipc_reply_recv(ep, r, &m) < 0);     /* not a reply object */
	ktest_settle();
	KEXPECT(sys_result[1], 0);                  /* nobody answered it */
	/* Through r2 it is answered, and the next call comes. */
	m = msg_make(IPC_REPLY_RESUME, 1);
	m.w[0] = 102;
	KEXPECT(ipc_reply_recv(ep, r2, &m), 0);
	KEXPECT(m.w[0], 41);
	KEXPECT(sys_result[1], 102);
	/* Copied to r3, r2 deleted and made an endpoint: the same. */
	cap_slot_t r3 = ktest_slot();
	KEXPECT(sys_cap_copy(r2, CAP_SLOT_SELF, r3, CAP_RIGHTS_ALL, 0), 0);
	KEXPECT(sys_cap_delete(r2), 0);
	KEXPECT(sys_obj_create(CAP_ENDPOINT, r2, 0), 0);
	m = msg_make(IPC_REPLY_RESUME, 1);
	m.w[0] = 103;
	KCHECK(ipc_reply_recv(ep, r2, &m) < 0);
	ktest_settle();
	KEXPECT(sys_result[2], 0);
	m = msg_make(IPC_REPLY_RESUME, 1);
	m.w[0] = 104;
	KEXPECT(ipc_reply_recv(ep, r3, &m), 0);
	KEXPECT(m.w[0], 42);
	KEXPECT(sys_result[2], 104);
	m = msg_make(IPC_REPLY_STOP, 0);
	KEXPECT(ipc_reply(r3, &m), 0);
	child_destroy(c);
	destroy(r);
	destroy(r2);
	destroy(r3);
	destroy(ep);
}

static volatile uint64_t sse_kept;

/* xmm0 and xmm15 hold a pattern across a redirected call whose handler
 * changes its own. */
static void child_sse_call(uint64_t unused)
{
	uint64_t a = 0x1122334455667788UL, b = 0x99AABBCCDDEEFF00UL, a2, b2;
	bool kept;

	__asm__ volatile("movq %0, %%xmm0; movq %1, %%xmm15" : : "r"(a), "r"(b) : "xmm0", "xmm15");
	raw_syscall6(39, 1, 2, 3, 4, 5, 6, &kept);
	__asm__ volatile("movq %%xmm0, %0; movq %%xmm15, %1" : "=r"(a2), "=r"(b2));
	sse_kept = a2 == a && b2 == b;
	raw_syscall6(39, 1, 2, 3, 4, 5, 6, &kept);
}

/* The FPU/SSE state is each thread's: a redirected call and its answer
 * (a direct switch each way, on the fast path) keep the caller's
 * registers whatever the handler did with its own. */
KTEST(redirect_args_fpu_state_kept)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), r = ktest_create(CAP_REPLY);
	uint64_t mine = 0x0123456789ABCDEFUL, back;
	struct msg m;

	sse_kept = 0;
	struct child *c = redirected_child(ep);
	KCHECK(c);
	KEXPECT(child_run(c, child_sse_call, 0), 0);
	KEXPECT(ipc_recv(ep, r, &m), 0);
	__asm__ volatile("movq %0, %%xmm0; movq %0, %%xmm15" : : "r"(mine) : "xmm0", "xmm15");
	m = msg_make(IPC_REPLY_RESUME, 1);
	KEXPECT(ipc_reply_recv(ep, r, &m), 0);
	__asm__ volatile("movq %%xmm15, %0" : "=r"(back));
	KEXPECT(back, mine);                        /* and the handler's kept */
	KEXPECT(sse_kept, 1);
	m = msg_make(IPC_REPLY_STOP, 0);
	KEXPECT(ipc_reply(r, &m), 0);
	child_destroy(c);
	destroy(r);
	destroy(ep);
}

KTEST(redirect_mode_checked)
{
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	struct task_config cfg = { .fields = TASK_CFG_REDIRECT, .redirect = TASK_REDIRECT_ARGS + 1 };

	KCHECK(c);
	KEXPECT(sys_task_configure(c->task, (uint64_t)&cfg), -ERR_INVALID_ARG);
	cfg.redirect = TASK_REDIRECT_ARGS;
	KEXPECT(sys_task_configure(c->task, (uint64_t)&cfg), 0);
	cfg.redirect = TASK_REDIRECT_OFF;
	KEXPECT(sys_task_configure(c->task, (uint64_t)&cfg), 0);
	child_destroy(c);
}
