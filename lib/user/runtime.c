/* The user runtime: start-up, console output, slots, threads. */
#include "lib/mica.h"
#include "proto/program.h"

/* printf's line: written whole by one debug_write (which no other
 * program's output can split) when it ends or fills. */
struct console_line {
	size_t len;
	char text[256];
};

static void console_putc(void *ctx, char c)
{
	struct console_line *l = ctx;

	l->text[l->len++] = c;
	if (l->len == sizeof(l->text) || c == '\n') {
		sys_debug_write((uint64_t)l->text, l->len);
		l->len = 0;
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct console_line l = { .len = 0 };

	int n = fmt_vformat(console_putc, &l, fmt, ap);
	if (l.len)
		sys_debug_write((uint64_t)l.text, l.len);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* The line, after a summary of held lines if there were any. */
static void print_held(uint32_t held, const char *fmt, va_list ap)
{
	char line[256], summary[96];

	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	if (held)
		puts_raw(ratelimit_summary(summary, sizeof(summary), line, held));
	puts_raw(line);
}

void printf_limit(struct ratelimit *rl, const char *fmt, ...)
{
	uint32_t held;
	va_list ap;

	if (!ratelimit_pass(rl, (uint64_t)sys_clock(), &held))
		return;
	va_start(ap, fmt);
	print_held(held, fmt, ap);
	va_end(ap);
}

void printf_limit_always(struct ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_held(ratelimit_force(rl, (uint64_t)sys_clock()), fmt, ap);
	va_end(ap);
}

void puts_raw(const char *s)
{
	sys_debug_write((uint64_t)s, strlen(s));
}

const char *mica_strerror(long err)
{
	switch (-err) {
	case 0: return "success";
#define MICA_ERROR_TEXT(name, value, text) case value: return text;
	MICA_ERRORS(MICA_ERROR_TEXT)
#undef MICA_ERROR_TEXT
	default: return "unknown error";
	}
}

void thread_exit_self(int code) __attribute__((noreturn));
void thread_exit_self(int code)
{
	for (;;)
		sys_thread_exit((uint64_t)code);
}

void exit(int code)
{
	thread_exit_self(code);
}

/* Slots: a bitmap over at most 1024 of them. */
static uint64_t slot_bits[SLOT_ALLOC_MAX / 64];
static cap_slot_t slot_first, slot_limit;

void slot_init(cap_slot_t first, cap_slot_t limit)
{
	slot_first = first;
	slot_limit = limit - first > SLOT_ALLOC_MAX ? first + SLOT_ALLOC_MAX : limit;
	memset(slot_bits, 0, sizeof(slot_bits));
}

void slot_grow(cap_slot_t limit)
{
	if (limit > slot_limit)
		slot_limit = limit - slot_first > SLOT_ALLOC_MAX ? slot_first + SLOT_ALLOC_MAX : limit;
}

cap_slot_t slot_alloc(void)
{
	for (cap_slot_t i = 0; i < slot_limit - slot_first; i++) {
		if (!(slot_bits[i / 64] & (1UL << (i % 64)))) {
			slot_bits[i / 64] |= 1UL << (i % 64);
			return slot_first + i;
		}
	}
	return CAP_SLOT_NONE;
}

void slot_free(cap_slot_t slot)
{
	if (slot >= slot_first && slot < slot_limit) {
		cap_slot_t i = slot - slot_first;
		slot_bits[i / 64] &= ~(1UL << (i % 64));
	}
}

uint64_t thread_stack_prepare(void *stack, size_t size, void (*fn)(uint64_t))
{
	uint64_t *sp = (uint64_t *)(((uint64_t)stack + size) & ~15UL);

	*--sp = 0;
	*--sp = (uint64_t)fn;          /* popped by thread_trampoline */
	return (uint64_t)sp;
}

long thread_spawn(void (*fn)(uint64_t), uint64_t arg, void *stack, size_t stack_size,
		  struct ipc_buffer *ipcbuf, unsigned priority, const char *name, cap_slot_t pager)
{
	cap_slot_t slot = slot_alloc();
	long err;

	if (slot == CAP_SLOT_NONE)
		return -ERR_NO_MEMORY;
	if ((err = sys_obj_create(CAP_THREAD, slot, CAP_SLOT_SELF)) < 0)
		goto fail;
	struct thread_config cfg = {
		.fields = THREAD_CFG_IPC_BUFFER | THREAD_CFG_PRIORITY | THREAD_CFG_NAME,
		.ipc_buffer = (uint64_t)ipcbuf,
		.priority = priority,
		.pager = pager,
		.exception = pager,
	};
	if (pager != CAP_SLOT_NONE)
		cfg.fields |= THREAD_CFG_PAGER | THREAD_CFG_EXCEPTION;
	for (size_t i = 0; name && name[i] && i < sizeof(cfg.name) - 1; i++)
		cfg.name[i] = name[i];
	if ((err = sys_thread_configure(slot, (uint64_t)&cfg)) < 0)
		goto fail_thread;
	/* The new thread finds its IPC buffer through FS: the buffer's
	 * user[0] word holds its own address. */
	ipcbuf->user[0] = (uint64_t)ipcbuf;
	uint64_t sp = thread_stack_prepare(stack, stack_size, fn);
	if ((err = sys_thread_start(slot, (uint64_t)thread_trampoline, sp, arg)) < 0)
		goto fail_thread;
	return (long)slot;
fail_thread:
	sys_cap_delete(slot);
fail:
	slot_free(slot);
	return err;
}

void mica_start(uint64_t arg) __attribute__((noreturn));
void mica_start(uint64_t arg)
{
	/* The root task's first thread: the kernel's fixed layout. Other
	 * programs are started by init, which prepares user[0] for them. */
	if (arg == BOOTINFO_ADDR && ((const struct bootinfo *)arg)->magic == BOOTINFO_MAGIC) {
		struct ipc_buffer *b = (struct ipc_buffer *)ROOT_IPC_BUFFER;
		b->user[0] = ROOT_IPC_BUFFER;
		slot_init(((const struct bootinfo *)arg)->first_free_slot, TASK_CAP_SLOTS);
	} else if (arg == PROGRAM_INFO_ADDR &&
		   ((const struct program_info *)arg)->magic == PROGRAM_INFO_MAGIC) {
		/* Started by init: it set up our IPC buffer's user[0]. The
		 * kernel writes message words beyond the registers only into
		 * a buffer page that is present and writable, so make it so
		 * now (init's pager maps it on this first write). */
		slot_init(PROGRAM_FIRST_FREE_SLOT, TASK_CAP_SLOTS);
		volatile uint64_t *touch = &ipc_buffer()->user[1];
		*touch = *touch;
	}
	exit(main(arg));
}

/* Heap memory for programs init started: its pager backs the heap window
 * with zero pages on first touch. A bump allocator: memory is not given
 * back before the program ends. */
void *mem_heap(size_t size)
{
	static uint64_t next = PROGRAM_HEAP_BASE;
	uint64_t start = (next + 15) & ~15UL;

	if (size > PROGRAM_HEAP_BASE + PROGRAM_HEAP_SIZE - start)
		return NULL;
	next = start + size;
	return (void *)start;
}
