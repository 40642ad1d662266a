#include "child.h"

#include "lib/pager.h"
#include "lib/task.h"

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

uint8_t ktest_secret[4096] __attribute__((aligned(4096))) = "the secret";
cap_slot_t child_supervisor;

static struct child children[CHILD_MAX];
static cap_slot_t pager_ep, pager_reply;
static uint8_t child_stacks[CHILD_MAX][16384] __attribute__((aligned(4096)));
static union {
	struct ipc_buffer b;
	uint8_t page[4096];
} child_ipc[CHILD_MAX] __attribute__((aligned(4096)));
static uint8_t pager_stack[16384] __attribute__((aligned(16)));
static union {
	struct ipc_buffer b;
	uint8_t page[4096];
} pager_ipc __attribute__((aligned(4096)));

/* What every child may see: this program's own image, shared (text
 * executable, read-only data read-only, the rest writable), except the
 * secret page. It owns no pages, so it needs no operations. */
static struct aspace image;
static const struct as_ops image_ops;

static void image_share(uint64_t start, uint64_t end, unsigned rights)
{
	if (end > start && as_add(&image, start, end - start, rights, AS_SHARED, start, false) < 0)
		printf("ktest: cannot describe the image at %lx\n", start);
}

static void image_init(void)
{
	uint64_t text_end = ((uint64_t)__text_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t secret = (uint64_t)ktest_secret;

	as_init(&image, &image_ops, NULL, 0);
	image_share((uint64_t)__image_start, text_end, IPC_MAP_READ | IPC_MAP_EXEC);
	image_share(text_end, (uint64_t)__rodata_end, IPC_MAP_READ);
	image_share((uint64_t)__rodata_end, secret, IPC_MAP_READ | IPC_MAP_WRITE);
	image_share(secret + sizeof(ktest_secret), (uint64_t)__image_end,
		    IPC_MAP_READ | IPC_MAP_WRITE);
}

static void record(struct child *c, uint64_t label, uint64_t address, uint64_t error,
		   uint64_t vector, uint64_t rip)
{
	c->label = label;
	c->address = address;
	c->error = error;
	c->vector = vector;
	c->rip = rip;
	c->stopped = 1;
	sys_notify_signal(child_supervisor, 1UL << c->index);
}

/* Build the answer to m (a fault or exception message) in place. */
static void handle(struct msg *m)
{
	struct ipc_buffer *b = &pager_ipc.b;
	uint64_t badge = m->badge & ~CHILD_QUIET;
	struct child *c = badge >= 1 && badge <= CHILD_MAX ? &children[badge - 1] : NULL;
	uint64_t label = ipc_tag_label(m->tag);
	bool quiet = m->badge & CHILD_QUIET;

	if (!c) {
		*m = msg_make(IPC_REPLY_STOP, 0);
		return;
	}
	if (label == IPC_LABEL_PAGE_FAULT) {
		uint64_t addr = m->w[0], access = m->w[1], ip = m->w[2];
		/* A fault on a present page is a protection fault: refused,
		 * not re-mapped. */
		if (!(access & 1) && pager_answer(&image, m) == 0) {
			c->page_faults++;
			return;
		}
		if (!quiet)
			record(c, label, addr, access, 14, ip);
		*m = msg_make(IPC_REPLY_STOP, 0);
		return;
	}
	if (quiet) {
		*m = msg_make(IPC_REPLY_STOP, 0);
		return;
	}
	if (label == IPC_LABEL_EXCEPTION || label == IPC_LABEL_SYSCALL) {
		struct fault_regs fr;
		uint64_t *w = (uint64_t *)&fr;
		for (unsigned i = 0; i < FAULT_REGS_WORDS; i++)
			w[i] = i < IPC_REG_WORDS ? m->w[i] : b->words[i];
		bool resume = false;
		if (c->policy == CHILD_SKIP_UD2 && fr.vector == 6) {
			fr.regs.rip += 2;
			resume = true;
		} else if (c->policy == CHILD_SET_RAX && fr.vector == 3) {
			fr.regs.rax = 1234;
			resume = true;
		} else if (c->policy == CHILD_SYSCALL_ADD && label == IPC_LABEL_SYSCALL) {
			fr.regs.rax = fr.regs.rdi + fr.regs.rsi;
			resume = true;
		}
		if (resume) {
			c->exceptions++;
			*m = msg_make(IPC_REPLY_RESUME, USER_REGS_WORDS);
			for (unsigned i = 0; i < USER_REGS_WORDS; i++) {
				if (i < IPC_REG_WORDS)
					m->w[i] = w[i];
				else
					b->words[i] = w[i];
			}
			return;
		}
		record(c, label, fr.address, fr.error, fr.vector, fr.regs.rip);
		*m = msg_make(IPC_REPLY_STOP, 0);
		return;
	}
	*m = msg_make(IPC_REPLY_STOP, 0);
}

static void pager_loop(uint64_t unused)
{
	struct msg m;
	long err = ipc_recv(pager_ep, pager_reply, &m);

	for (;;) {
		if (err) {
			err = ipc_recv(pager_ep, pager_reply, &m);
			continue;
		}
		handle(&m);
		err = ipc_reply_recv(pager_ep, pager_reply, &m);
	}
}

void child_pager_start(void)
{
	pager_ep = ktest_create(CAP_ENDPOINT);
	pager_reply = ktest_create(CAP_REPLY);
	child_supervisor = ktest_create(CAP_NOTIFICATION);
	image_init();
	pager_ipc.b.user[0] = (uint64_t)&pager_ipc.b;
	long t = thread_spawn(pager_loop, 0, pager_stack, sizeof(pager_stack), &pager_ipc.b,
			      250, "ktest-pager", CAP_SLOT_NONE);
	if (t < 0)
		printf("ktest: cannot start the pager: %s\n", mica_strerror(t));
}

struct child *child_create(uint64_t quota, enum child_policy policy, bool with_handler)
{
	struct child *c = NULL;
	long err;

	for (int i = 0; i < CHILD_MAX && !c; i++)
		if (!children[i].task)
			c = &children[i];
	if (!c) {
		printf("    child_start: all %d children in use\n", CHILD_MAX);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->index = (int)(c - children);
	c->policy = policy;
	c->ipcbuf = &child_ipc[c->index].b;
	memset(c->ipcbuf, 0, sizeof(*c->ipcbuf));
	c->ipcbuf->user[0] = (uint64_t)c->ipcbuf;
	cap_slot_t badged = slot_alloc();
	struct task_spec spec = {
		.quota = quota, .priority = 150, .name = "ktest-child",
		.pager = badged, .exception = with_handler ? badged : CAP_SLOT_NONE,
		.ipc_buffer = (uint64_t)c->ipcbuf,
		.supervisor = child_supervisor, .supervisor_bits = 1UL << c->index,
	};
	struct task_handle t = { 0, 0 };
	if ((err = sys_cap_copy(pager_ep, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE,
				(uint64_t)c->index + 1)) >= 0)
		err = task_new(&spec, &t);
	sys_cap_delete(badged);         /* the thread holds the endpoint now */
	slot_free(badged);
	if (err < 0) {
		printf("    child_start: %s\n", mica_strerror(err));
		return NULL;
	}
	c->task = t.task;
	c->thread = t.thread;
	return c;
}

long child_run(struct child *c, void (*fn)(uint64_t), uint64_t arg)
{
	uint64_t sp = thread_stack_prepare(child_stacks[c->index], sizeof(child_stacks[0]), fn);

	return sys_thread_start(c->thread, (uint64_t)thread_trampoline, sp, arg);
}

long child_give(struct child *c, cap_slot_t ours, cap_slot_t theirs, unsigned rights)
{
	return sys_cap_copy(ours, c->task, theirs, rights, 0);
}

long child_give_pager(struct child *c, cap_slot_t theirs)
{
	return sys_cap_copy(pager_ep, c->task, theirs, CAP_RIGHT_WRITE, (uint64_t)c->index + 1);
}

long child_give_quiet_pager(struct child *c, cap_slot_t theirs)
{
	return sys_cap_copy(pager_ep, c->task, theirs, CAP_RIGHT_WRITE,
			    ((uint64_t)c->index + 1) | CHILD_QUIET);
}

struct child *child_start(void (*fn)(uint64_t), uint64_t arg, uint64_t quota,
			  enum child_policy policy, bool with_handler)
{
	struct child *c = child_create(quota, policy, with_handler);
	long err;

	if (c && (err = child_run(c, fn, arg)) < 0) {
		printf("    child_run: %s\n", mica_strerror(err));
		child_destroy(c);
		return NULL;
	}
	return c;
}

bool child_exited(struct child *c)
{
	uint64_t info[3];

	return sys_cap_info(c->thread, (uint64_t)info) == 0 && info[0] == CAP_NULL;
}

bool child_wait(struct child *c)
{
	static uint64_t events;

	/* The supervisor notification fires when a child exits or stops
	 * unhandled, and the pager signals it when it refuses a fault.
	 * Blocking on it lets the children (priority 150) run. */
	for (int i = 0; i < 100; i++) {
		if (events & (1UL << c->index)) {
			events &= ~(1UL << c->index);
			return true;
		}
		long bits = sys_notify_wait(child_supervisor, 0);
		if (bits < 0)
			return false;
		events |= (uint64_t)bits;
	}
	return false;
}

void child_destroy(struct child *c)
{
	struct task_handle t = { c->task, c->thread };

	task_delete(&t);
	c->task = c->thread = 0;
}
