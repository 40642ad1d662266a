/*
 * The system-call fuzzer: a hostile child task calls every system call of
 * uapi/syscalls.h (and numbers past the table) with random and edge-case
 * arguments, deterministic from a seed: slots holding each kind of object,
 * empty, out of range, of the wrong type; 0, -1, huge and random numbers;
 * pointers valid, unaligned, crossing into an unmapped page, unmapped,
 * kernel, non-canonical, read-only. Calls that could block carry
 * IPC_NONBLOCK (a helper thread answers calls at once); thread_exit ends
 * each round. What the child does hurts only itself: when it dies or
 * stops, a new child goes on from the next call. The kernel must neither
 * panic nor hang, and every frame and byte of quota must come back.
 *
 * `fuzzcalls=N fuzzseed=S` on the kernel command line change the number of
 * calls (FUZZ_CALLS) and the seed (1); `make soak` makes 10^7;
 * `fuzztrace=N` prints every call from the Nth on, and what it returned.
 *
 * The child shares this program's image, so it is kept from writing
 * through it: memory it maps lands in FUZZ_WINDOW, the registers and IPC
 * buffers it gives threads point at its own pages or nowhere, and its
 * buffers are pages of its own (fuzz_area) followed by one never mapped.
 */
#include "child.h"

#define FUZZ_CALLS    100000
#define FUZZ_QUOTA    (1024 * 1024)
#define FUZZ_WINDOW   0x00003C0000000000UL  /* the helper's receive window */
#define FUZZ_UNMAPPED 0x00003E0000000000UL  /* never mapped */
#define KERNEL_ADDR   0xFFFFFFFF80000000UL
#define HANG_MS       10000
#define CALL_WAIT_MS  1000      /* see fuzz_round */

/* The child's table: 0 quiet pager, 1 the endpoint the helper serves, 2
 * and 7 notifications, 3 and 8 (the helper's) reply objects, 4 the helper,
 * 5 a task, 6 a thread not started, 9 the endpoint the caller thread (10)
 * calls; the rest empty for what it makes. */
enum { S_PAGER, S_EP, S_NOTIF, S_REPLY, S_HELPER, S_TASK, S_THREAD, S_NOTIF2, S_HREPLY,
       S_EP2, S_CALLER, S_FIRST_FREE };
#define S_MADE (S_FIRST_FREE + rnd() % 6)  /* where it makes objects */

enum want { W_ANY, W_EP, W_NOTIF, W_REPLY, W_THREAD, W_TASK };

static struct {
	uint64_t rng, done, target, trace, unanswered;
	uint64_t made[SYS_COUNT];       /* calls made of each system call */
	uint64_t nr, args[7];           /* the call being made, for a hang report */
} volatile fz;

static uint8_t fuzz_area[3][4096] __attribute__((aligned(4096)));  /* [2]: never mapped */
static const uint8_t fuzz_quiet[3][4096] __attribute__((aligned(4096)));  /* zeros */
static union {
	struct ipc_buffer b;
	uint8_t page[4096];
} helper_ipc, caller_ipc, spare_ipc __attribute__((aligned(4096)));
static uint8_t helper_stack[16384] __attribute__((aligned(4096)));
static uint8_t caller_stack[16384] __attribute__((aligned(4096)));

/* A thread started anywhere useful runs this: it exits at once. */
extern char fuzz_exit_stub[];
__asm__(".text\n.globl fuzz_exit_stub\nfuzz_exit_stub:\n"
	"\tmov $3, %eax\n\txor %edi, %edi\n\tsyscall\n\tud2\n");

static uint64_t rnd(void)
{
	uint64_t x = fz.rng;     /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fz.rng = x;
	return x * 0x2545F4914F6CDD1DUL;
}

static uint64_t pick(const uint64_t *v, unsigned n)
{
	return v[rnd() % n];
}
#define PICK(...) ({ const uint64_t v_[] = { __VA_ARGS__ }; pick(v_, sizeof(v_) / 8); })

static uint64_t gen_word(void)
{
	return PICK(0, 1, 2, ~0UL, 1UL << 63, 0x7FFFFFFFFFFFFFFFUL, 0xFFFFFFFFUL, 1UL << 32,
		    rnd() % 256, rnd() & ~0xFFFUL, rnd(), rnd(), USER_SPACE_TOP, 4096);
}

/* One time in four an argument is an edge case rather than one the call
 * could take, so that calls get past their first check too. */
static bool bad(void)
{
	return rnd() % 4 == 0;
}

static uint64_t gen_slot(void)
{
	return PICK(rnd() % 16, rnd() % 16, rnd() % 16, rnd() % 16, rnd() % 12, CAP_SLOT_SELF,
		    CAP_SLOT_NONE, TASK_CAP_SLOTS, TASK_CAP_SLOTS - 1, 1UL << 32, rnd(),
		    (rnd() % 16) | IPC_NONBLOCK);
}

/* A slot holding what the call wants (mostly). */
static uint64_t gen_cap(enum want w)
{
	if (bad())
		return gen_slot();
	switch (w) {
	case W_EP: return PICK(S_EP, S_EP, S_EP2, S_PAGER, S_MADE);
	case W_NOTIF: return PICK(S_NOTIF, S_NOTIF2, S_MADE);
	case W_REPLY: return PICK(S_REPLY, S_HREPLY, S_MADE);
	case W_THREAD: return PICK(S_THREAD, S_HELPER, S_CALLER, S_MADE, S_MADE);
	case W_TASK: return PICK(CAP_SLOT_SELF, S_TASK, S_TASK, S_MADE);
	default: return rnd() % (S_FIRST_FREE + 6);
	}
}

/* Where a thread may run or keep its stack: never inside the image but
 * at the exit stub (or its stack). */
static uint64_t gen_code(void)
{
	return PICK((uint64_t)fuzz_exit_stub, (uint64_t)fuzz_exit_stub, 0,
		    FUZZ_UNMAPPED + (rnd() & 0xFFFFFF), USER_SPACE_TOP - 1, USER_SPACE_TOP,
		    KERNEL_ADDR + (rnd() & 0xFFFF), rnd() | USER_SPACE_TOP);
}

static uint64_t gen_stack(void)
{
	return PICK((uint64_t)(helper_stack + 8192), 0, FUZZ_UNMAPPED + (rnd() & 0xFFFFF8),
		    USER_SPACE_TOP - 8, KERNEL_ADDR, rnd() | USER_SPACE_TOP);
}

/* A buffer the kernel writes size bytes to (the child's own pages, or
 * nowhere it may write). */
static uint64_t gen_out(uint64_t size)
{
	uint64_t a = (uint64_t)fuzz_area;

	if (!bad())
		return PICK(a, a + rnd() % (4096 - size));
	return PICK(a, a + rnd() % 4096, a + 8192 - size / 2 - 1, a + 8192 - 1, 0,
		    FUZZ_UNMAPPED + (rnd() & 0xFFFFFF), KERNEL_ADDR + (rnd() & 0xFFFFFF),
		    USER_SPACE_TOP - 8, USER_SPACE_TOP + 4096, (uint64_t)fuzz_exit_stub,
		    (uint64_t)fuzz_quiet);
}

/* A structure the kernel reads: filled with fill at the chosen place when
 * that is one of the child's own pages. */
static uint64_t gen_in(void (*fill)(void *), uint64_t size)
{
	uint64_t a = gen_out(size);

	if (a >= (uint64_t)fuzz_area && a < (uint64_t)fuzz_area + 8192) {
		uint8_t tmp[sizeof(struct user_regs) + 64];
		fill(tmp);
		uint64_t room = (uint64_t)fuzz_area + 8192 - a;
		memcpy((void *)a, tmp, size < room ? size : room);
	}
	return a;
}

static uint64_t gen_len(void)
{
	return PICK(0, 1, 2, 255, 256, 257, 4095, 4096, 4097, ~0UL, rnd() % 64, rnd());
}

static uint64_t gen_fpage(void)
{
	uint64_t base = PICK((uint64_t)fuzz_area, (uint64_t)fuzz_exit_stub & ~0xFFFUL,
			     (uint64_t)helper_stack, FUZZ_WINDOW, FUZZ_UNMAPPED, 0, KERNEL_ADDR,
			     rnd() & ~0xFFFUL, (uint64_t)&helper_ipc);
	return fpage(base, (unsigned)PICK(12, 12, 13, 16, 21, 30, 36, 47, 48, 63, rnd() % 64));
}

/* A list for mem_unmap_list: flexpages good and bad. */
static void fill_fpages(void *p)
{
	uint64_t *list = p;

	for (int i = 0; i < 8; i++)
		list[i] = gen_fpage();
}

static void fill_thread_config(void *p)
{
	struct thread_config *c = p;
	uint64_t area = (uint64_t)fuzz_area;

	c->fields = bad() ? rnd() : rnd() & 0xFF;
	c->task = gen_cap(W_TASK);
	c->pager = bad() ? gen_slot() : PICK(S_PAGER, CAP_SLOT_NONE);
	c->exception = bad() ? gen_slot() : PICK(S_PAGER, CAP_SLOT_NONE);
	c->notification = bad() ? gen_slot() : PICK(S_NOTIF, S_NOTIF2, CAP_SLOT_NONE);
	c->priority = bad() ? PICK(151, 255, rnd()) : PICK(0, 1, 100, 140, 150);
	c->timeslice_ms = bad() ? PICK(0, 9, 10001, rnd()) : PICK(10, 100, 10000);
	c->ipc_buffer = bad() ? PICK(0, area + 8, FUZZ_UNMAPPED, USER_SPACE_TOP - 4096,
				     USER_SPACE_TOP, KERNEL_ADDR)
			      : PICK((uint64_t)&helper_ipc, (uint64_t)&caller_ipc,
				     (uint64_t)&spare_ipc);
	for (unsigned i = 0; i < THREAD_NAME_LEN; i++)
		c->name[i] = (char)rnd();
}

static void fill_task_config(void *p)
{
	struct task_config *c = p;

	c->fields = bad() ? rnd() : rnd() & 7;
	c->supervisor = bad() ? gen_slot() : PICK(S_NOTIF, S_NOTIF2, CAP_SLOT_NONE);
	c->supervisor_bits = bad() ? gen_word() : 1UL << (rnd() % 63);
	c->redirect = rnd() % 4 ? 0 : PICK(1, 2, rnd());
	c->cap_slots = bad() ? gen_word() : PICK(1 + rnd() % 32, TASK_CAP_SLOTS,
						 1 + rnd() % TASK_CAP_SLOTS_MAX);
}

static void fill_regs(void *p)
{
	struct user_regs *r = p;
	uint64_t *w = p;

	for (unsigned i = 0; i < sizeof(*r) / 8; i++)
		w[i] = gen_word();
	r->rip = gen_code();
	r->rsp = gen_stack();
	r->fs_base = PICK(0, (uint64_t)&helper_ipc, FUZZ_UNMAPPED, KERNEL_ADDR);
}

/* Receive sides that never take memory outside FUZZ_WINDOW. */
static void sane_receive(struct ipc_buffer *b)
{
	b->recv_window = PICK(0, fpage(FUZZ_WINDOW, 36), fpage(FUZZ_WINDOW, 12),
			      fpage(FUZZ_WINDOW + (rnd() & 0xFFFFF000UL), 12));
	b->recv_cap_slot = gen_slot();
	b->recv_io = rnd() % 2;
}

/* A message in the caller's IPC buffer; its tag. */
static uint64_t gen_message(void)
{
	struct ipc_buffer *b = ipc_buffer();

	for (unsigned i = 0; i < IPC_MAX_WORDS; i++)
		b->words[i] = gen_word();
	for (unsigned i = 0; i < IPC_MAX_ITEMS; i++) {
		unsigned kind = (unsigned)PICK(IPC_ITEM_MAP, IPC_ITEM_GRANT, IPC_ITEM_CAP,
					      IPC_ITEM_IOPORT, 0, rnd() % 16);
		uint64_t dest = bad() ? rnd() : FUZZ_WINDOW + (rnd() & 0xFFFF000UL);
		uint64_t area = fpage((uint64_t)fuzz_area, 12);
		b->items[i][0] = ipc_item_word0(kind, bad() ? (unsigned)rnd() : 3, dest);
		b->items[i][1] = kind == IPC_ITEM_CAP ? gen_cap(W_ANY)
						       : (bad() ? gen_fpage() : area);
	}
	sane_receive(b);
	sane_receive(&helper_ipc.b);
	sane_receive(&caller_ipc.b);
	sane_receive(&spare_ipc.b);
	if (bad())
		return ipc_tag(PICK(rnd() % 64, IPC_LABEL_NOTIFY, IPC_LABEL_PAGE_FAULT, rnd()),
			       (unsigned)PICK(0, 4, 5, 64, 65, 127, rnd() % 128), (unsigned)rnd() % 8);
	return ipc_tag(rnd() % 64, (unsigned)(rnd() % 9), (unsigned)PICK(0, 0, 1, 2, 4));
}

/* The endpoint or notification argument of a call that could block. */
static uint64_t gen_nonblocking(enum want w)
{
	return (gen_cap(w) & IPC_SLOT_MASK) | IPC_NONBLOCK |
	       (rnd() % 8 ? 0 : rnd() & ~((1UL << 33) - 1));
}

/* The arguments of call nr, a0..a6. */
static void gen_args(uint64_t nr, uint64_t *a)
{
	for (unsigned i = 0; i < 7; i++)
		a[i] = gen_word();
	switch (nr) {
	case SYS_debug_write:
		a[0] = PICK((uint64_t)fuzz_quiet + rnd() % 8192, (uint64_t)fuzz_quiet, 0,
			    FUZZ_UNMAPPED, KERNEL_ADDR, USER_SPACE_TOP - 1);
		a[1] = gen_len();
		break;
	case SYS_obj_create:
		a[0] = bad() ? PICK(CAP_NULL, CAP_MEMORY, rnd())
			     : PICK(CAP_ENDPOINT, CAP_NOTIFICATION, CAP_REPLY, CAP_TASK, CAP_THREAD);
		a[1] = bad() ? gen_slot() : S_MADE;
		if (a[0] == CAP_TASK)
			a[2] = bad() ? PICK(0, 65535, FUZZ_QUOTA, ~0UL, 1UL << 63, rnd())
				     : 65536 + rnd() % (128 * 1024);
		else
			a[2] = gen_cap(W_TASK);
		break;
	case SYS_obj_destroy: case SYS_cap_delete: case SYS_cap_revoke:
		a[0] = rnd() % 4 ? S_MADE : gen_cap(W_ANY);
		break;
	case SYS_thread_suspend: case SYS_thread_resume:
		a[0] = gen_cap(W_THREAD);
		break;
	case SYS_cap_copy:
		a[0] = gen_cap(W_ANY), a[1] = gen_cap(W_TASK), a[2] = bad() ? gen_slot() : S_MADE;
		a[3] = PICK(0, 1, 0xF, ~0UL, rnd()), a[4] = PICK(0, 0, 1, 1UL << 63, rnd());
		break;
	case SYS_cap_move:
		a[0] = gen_cap(W_ANY), a[1] = gen_cap(W_TASK), a[2] = bad() ? gen_slot() : S_MADE;
		break;
	case SYS_cap_info:
		a[0] = gen_cap(W_ANY), a[1] = gen_out(24);
		break;
	case SYS_thread_configure:
		a[0] = gen_cap(W_THREAD);
		a[1] = gen_in(fill_thread_config, sizeof(struct thread_config));
		break;
	case SYS_thread_start:
		a[0] = gen_cap(W_THREAD), a[1] = gen_code(), a[2] = gen_stack();
		break;
	case SYS_thread_read_regs:
		a[0] = gen_cap(W_THREAD), a[1] = gen_out(sizeof(struct user_regs));
		break;
	case SYS_thread_write_regs:
		a[0] = gen_cap(W_THREAD), a[1] = gen_in(fill_regs, sizeof(struct user_regs));
		break;
	case SYS_task_configure:
		/* Redirecting its own calls would only end the child. */
		a[0] = gen_cap(W_TASK);
		a[1] = gen_in(fill_task_config, sizeof(struct task_config));
		if (a[0] == CAP_SLOT_SELF && a[1] >= (uint64_t)fuzz_area &&
		    a[1] + sizeof(struct task_config) <= (uint64_t)fuzz_area + 8192)
			((struct task_config *)a[1])->redirect = 0;
		break;
	case SYS_task_info:
		a[0] = gen_cap(W_TASK), a[1] = gen_out(sizeof(struct task_info));
		break;
	case SYS_ipc_send: case SYS_ipc_call:
		a[0] = gen_nonblocking(W_EP), a[1] = gen_message();
		break;
	case SYS_ipc_reply:
		a[0] = gen_cap(W_REPLY), a[1] = gen_message();
		break;
	case SYS_ipc_reply_recv:
		a[0] = gen_nonblocking(W_EP), a[1] = gen_message(), a[6] = gen_cap(W_REPLY);
		break;
	case SYS_ipc_recv:
		gen_message();          /* its receive side */
		a[0] = gen_nonblocking(W_EP), a[1] = gen_cap(W_REPLY);
		break;
	case SYS_notify_signal:
		a[0] = gen_cap(W_NOTIF);
		break;
	case SYS_notify_wait:
		a[0] = gen_nonblocking(W_NOTIF);
		break;
	case SYS_mem_map:
		a[0] = gen_slot();
		a[2] = PICK(FUZZ_WINDOW, FUZZ_WINDOW + 1, 0, KERNEL_ADDR, USER_SPACE_TOP - 4096);
		break;
	case SYS_mem_unmap:
		a[0] = gen_fpage(), a[1] = PICK(0, 1, 2, 3, rnd());
		break;
	case SYS_mem_unmap_list:
		a[0] = gen_in(fill_fpages, 8 * sizeof(uint64_t));
		a[1] = PICK(1, 2, 8, 8, 0, MEM_UNMAP_LIST_MAX + 1, rnd());
		a[2] = PICK(0, 1, 2, 3, rnd());
		break;
	case SYS_mem_info:
		a[0] = gen_slot(), a[1] = gen_out(sizeof(struct mem_info));
		break;
	case SYS_irq_create:
		a[0] = gen_slot(), a[1] = PICK(0, 4, 23, 24, rnd()), a[2] = gen_slot();
		break;
	case SYS_irq_bind:
		a[0] = gen_slot(), a[1] = gen_cap(W_NOTIF);
		break;
	case SYS_irq_ack:
		a[0] = gen_slot();
		break;
	case SYS_ioport_map:
		a[0] = gen_slot();
		a[1] = PICK(0, 0x3F8, 0xFFFF, 0x10000, rnd()), a[2] = gen_len();
		break;
	case SYS_notify_timer:
		a[0] = gen_cap(W_NOTIF);
		a[2] = PICK(0, 1, ~0UL, (uint64_t)sys_clock() + rnd() % 50000000, rnd());
		break;
	case SYS_serial_read:
		a[0] = gen_slot(), a[1] = gen_out(64), a[2] = gen_len();
		break;
	case SYS_serial_line:
		a[0] = gen_slot(), a[1] = (uint64_t)fuzz_quiet + rnd() % 4096, a[2] = gen_len();
		break;
	case SYS_clock_params:
		a[0] = gen_out(sizeof(struct clock_params));
		break;
	}
}

/* One system call with every argument register in and out. */
static long fuzz_syscall(uint64_t nr, const uint64_t *a)
{
	register uint64_t rdi __asm__("rdi") = a[0];
	register uint64_t rsi __asm__("rsi") = a[1];
	register uint64_t rdx __asm__("rdx") = a[2];
	register uint64_t r10 __asm__("r10") = a[3];
	register uint64_t r8 __asm__("r8") = a[4];
	register uint64_t r9 __asm__("r9") = a[5];
	register uint64_t r12 __asm__("r12") = a[6];
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8),
			   "+r"(r9), "+r"(r12)
			 : "a"(nr)
			 : "rcx", "r11", "r13", "memory");
	return ret;
}

/* The helper: answers every call on S_EP at once (in registers only, so
 * that an IPC buffer the child moved cannot stop the answer), until it
 * cannot receive. */
static void fuzz_helper(uint64_t unused)
{
	struct msg m;

	while (ipc_recv(S_EP, S_HREPLY, &m) == 0) {
		m.tag = ipc_tag(ipc_tag_label(m.tag), ipc_tag_words(m.tag) % (IPC_REG_WORDS + 1), 0);
		ipc_reply(S_HREPLY, &m);
	}
}

/* The caller: calls S_EP2 again and again, for the child to receive
 * and answer. */
static void fuzz_caller(uint64_t unused)
{
	struct msg m = msg_make(7, 2);

	while (ipc_call(S_EP2, &m) == 0)
		m = msg_make(7, 2);
}

static void thread_make(cap_slot_t slot, const char *name, struct ipc_buffer *b, uint8_t *stack,
			size_t size, void (*fn)(uint64_t))
{
	struct thread_config cfg = {
		.fields = THREAD_CFG_TASK | THREAD_CFG_PAGER | THREAD_CFG_EXCEPTION |
			  THREAD_CFG_PRIORITY | THREAD_CFG_IPC_BUFFER | THREAD_CFG_NAME,
		.task = CAP_SLOT_SELF, .pager = S_PAGER, .exception = S_PAGER, .priority = 140,
		.ipc_buffer = (uint64_t)b,
	};

	memcpy(cfg.name, name, strlen(name) + 1);
	memset(b, 0, sizeof(*b));
	b->user[0] = (uint64_t)b;
	b->recv_cap_slot = CAP_SLOT_NONE;
	sys_obj_create(CAP_THREAD, slot, CAP_SLOT_SELF);
	sys_thread_configure(slot, (uint64_t)&cfg);
	sys_thread_start(slot, (uint64_t)thread_trampoline, thread_stack_prepare(stack, size, fn), 0);
}

static void fuzz_setup(void)
{
	sys_obj_create(CAP_ENDPOINT, S_EP, 0);
	sys_obj_create(CAP_NOTIFICATION, S_NOTIF, 0);
	sys_obj_create(CAP_REPLY, S_REPLY, 0);
	sys_obj_create(CAP_TASK, S_TASK, 128 * 1024);
	sys_obj_create(CAP_THREAD, S_THREAD, CAP_SLOT_SELF);
	sys_obj_create(CAP_NOTIFICATION, S_NOTIF2, 0);
	sys_obj_create(CAP_REPLY, S_HREPLY, 0);
	sys_obj_create(CAP_ENDPOINT, S_EP2, 0);
	thread_make(S_HELPER, "fuzz-helper", &helper_ipc.b, helper_stack, sizeof(helper_stack),
		    fuzz_helper);
	thread_make(S_CALLER, "fuzz-caller", &caller_ipc.b, caller_stack, sizeof(caller_stack),
		    fuzz_caller);
}

static void fuzz_child(uint64_t unused)
{
	uint64_t a[7];

	fuzz_setup();
	while (fz.done < fz.target) {
		uint64_t nr = rnd() % 64 ? rnd() % SYS_COUNT : PICK(SYS_COUNT, 63, ~0UL, rnd());
		if (nr == SYS_thread_exit)
			continue;               /* the round's last call */
		gen_args(nr, a);
		fz.nr = nr;
		for (unsigned i = 0; i < 7; i++)
			fz.args[i] = a[i];
		if (fz.done >= fz.trace)
			printf("fuzz %lu: %lu(%lx, %lx, %lx, %lx, %lx, %lx, %lx)\n", fz.done, nr, a[0],
			       a[1], a[2], a[3], a[4], a[5], a[6]);
		long r = fuzz_syscall(nr, a);
		if (nr < SYS_COUNT)
			fz.made[nr]++;
		if (fz.done >= fz.trace)
			printf("fuzz %lu: = %ld\n", fz.done, r);
		fz.done++;
	}
	fz.made[SYS_thread_exit]++;
	sys_thread_exit(rnd());
}

/* A number from the kernel command line (key=N), or def. */
static uint64_t cmdline_number(const char *key, uint64_t def)
{
	char value[24];
	uint64_t n = 0;

	if (!program_arg(bootinfo->cmdline, key, value, sizeof(value)))
		return def;
	for (const char *p = value; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	return n;
}

/* One child, until it has made every call, died or stopped; false if a
 * call did not return for HANG_MS. An ipc_call waits for its reply for
 * ever (abi.md), and the child may have held or stopped the thread that
 * took its call: after CALL_WAIT_MS the round ends there. */
static bool fuzz_round(void)
{
	uint64_t quota = ktest_info().quota_used, first = fz.done;
	struct child *c = child_create(FUZZ_QUOTA, CHILD_STOP, true);
	uint64_t last = fz.done, since = (uint64_t)sys_clock();
	bool ok = true;

	if (!c || child_give_quiet_pager(c, S_PAGER) < 0 || child_run(c, fuzz_child, 0) < 0)
		return false;
	while (ok && !child_exited(c) && !c->stopped) {
		ktest_wait(child_supervisor, 500);
		uint64_t now = (uint64_t)sys_clock();
		if (fz.done != last) {
			last = fz.done, since = now;
		} else if (fz.nr == SYS_ipc_call && now - since > CALL_WAIT_MS * 1000000UL) {
			fz.unanswered++;
			fz.done++;
			break;
		} else if (now - since > HANG_MS * 1000000UL) {
			ok = false;
		}
	}
	if (!ok) {
		printf("    fuzz: call %lu (syscall %lu: %lx %lx %lx %lx %lx %lx %lx) did not return "
		       "in %u ms\n", fz.done, fz.nr, fz.args[0], fz.args[1], fz.args[2], fz.args[3],
		       fz.args[4], fz.args[5], fz.args[6], HANG_MS);
	}
	if (fz.trace != ~0UL)
		printf("    fuzz: round ends at %lu: %s, label %lx vector %lu address %lx rip %lx\n",
		       fz.done, c->stopped ? "stopped" : "exited", c->label, c->vector, c->address,
		       c->rip);
	child_destroy(c);
	sys_notify_wait(child_supervisor | IPC_NONBLOCK, 0);    /* nothing left for the next */
	if (ktest_info().quota_used != quota) {
		printf("    fuzz: calls %lu..%lu kept %lu bytes of quota after their child's end\n",
		       first, fz.done, ktest_info().quota_used - quota);
		return false;
	}
	return ok;
}

KTEST(syscall_fuzzer)
{
	struct task_info before = ktest_info();
	uint64_t seed = cmdline_number("fuzzseed", 1), start = (uint64_t)sys_clock();
	unsigned rounds = 0;

	fz.rng = seed * 0x9E3779B97F4A7C15UL | 1;
	fz.done = fz.unanswered = 0;
	for (unsigned i = 0; i < SYS_COUNT; i++)
		fz.made[i] = 0;
	fz.target = cmdline_number("fuzzcalls", FUZZ_CALLS);
	fz.trace = cmdline_number("fuzztrace", ~0UL);
	while (fz.done < fz.target) {
		rounds++;
		KCHECK(fuzz_round());
	}
	printf("    fuzz: seed %lu: %lu calls in %u rounds (%lu calls left unanswered), %lu ms\n",
	       seed, fz.done, rounds, fz.unanswered, ((uint64_t)sys_clock() - start) / 1000000);
	for (unsigned i = 0; i < SYS_COUNT; i++)
		if (!fz.made[i])
			printf("    fuzz: system call %u never made\n", i);
	for (unsigned i = 0; i < SYS_COUNT; i++)
		KCHECK(fz.made[i] > 0);
	struct task_info after = ktest_info();
	KEXPECT(after.quota_used, before.quota_used);
	/* Frames carved into small blocks stay the kernel's (docs/kernel.md,
	 * "Known limits"): nothing else may be missing. */
	KEXPECT(after.free_frames + after.small_block_frames,
		before.free_frames + before.small_block_frames);
}

