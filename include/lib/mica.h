/*
 * The user-level runtime for servers and tests: system calls, IPC,
 * console output, capability-slot allocation and thread start-up.
 */
#ifndef MICA_LIB_MICA_H
#define MICA_LIB_MICA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/ipc.h"
#include "lib/ratelimit.h"
#include "lib/string.h"
#include "lib/syscall.h"
#include "uapi/bootinfo.h"
#include "uapi/cap.h"
#include "uapi/clock.h"
#include "uapi/errors.h"
#include "uapi/irq.h"
#include "uapi/memory.h"
#include "uapi/thread.h"

#define PAGE_SIZE 4096UL

/* The smallest l with 2^l >= n (flexpage and allocation sizes). */
static inline unsigned log2_ceil(uint64_t n)
{
	unsigned l = 0;

	while (l < 63 && (1UL << l) < n)
		l++;
	return l;
}

/* Console output through the kernel's debug channel. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
void puts_raw(const char *s);

/* A line that can repeat (an error in a loop, one per packet or request):
 * printed through the limiter rl (lib/ratelimit.h: a burst, then one a
 * second, with a "(last message repeated N times)" summary); lines longer
 * than 255 characters are cut. printf_limited(...) gives each call site a
 * limiter of its own. */
void printf_limit(struct ratelimit *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line that ends such a series (a program left down): printed in any
 * case, after the summary of what rl held back. */
void printf_limit_always(struct ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define printf_limited(...)                          \
	do {                                         \
		static struct ratelimit limit_;      \
		printf_limit(&limit_, __VA_ARGS__);  \
	} while (0)

/* The text of an error code ("capability slot out of range or empty"). */
const char *mica_strerror(long err);

/* Stop the calling thread (the whole program, for the root task). */
void exit(int code) __attribute__((noreturn));

/* Capability slots: a simple allocator over [first, limit), at most
 * SLOT_ALLOC_MAX of them; slot_grow moves limit up after the task's
 * table grew (task_configure's TASK_CFG_CAP_SLOTS). */
#define SLOT_ALLOC_MAX 1024
void slot_init(cap_slot_t first, cap_slot_t limit);
void slot_grow(cap_slot_t limit);
cap_slot_t slot_alloc(void);            /* CAP_SLOT_NONE when full */
void slot_free(cap_slot_t slot);

/*
 * Threads in the calling task: create, give it a stack and an IPC
 * buffer from the caller-provided memory, and start fn(arg); pager (or
 * CAP_SLOT_NONE) handles its page faults and exceptions. Returns the
 * thread's slot or a negative error.
 */
long thread_spawn(void (*fn)(uint64_t), uint64_t arg, void *stack, size_t stack_size,
		  struct ipc_buffer *ipcbuf, unsigned priority, const char *name, cap_slot_t pager);

/* Put fn where thread_trampoline expects it on a new stack; returns the
 * stack pointer to start the thread with at thread_trampoline. */
uint64_t thread_stack_prepare(void *stack, size_t size, void (*fn)(uint64_t));
extern char thread_trampoline[];

/* size bytes of zeroed memory from the heap window that init's pager
 * backs on demand (programs started by init only); NULL when exhausted. */
void *mem_heap(size_t size);


/* A thread of a program started by init: stack and IPC buffer from the
 * heap, init as its pager, the program's priority. Returns its slot or a
 * negative error. */
long program_thread(void (*fn)(uint64_t), uint64_t arg, size_t stack_size, const char *name);

/* size bytes (rounded up to a power of two) of physically contiguous,
 * zeroed DMA memory from init, charged to the manifest's dma= allowance;
 * its physical address in *phys. NULL when refused. */
void *dma_alloc(size_t size, uint64_t *phys);

/* Whether the physical run [phys, phys + size) lies inside one DMA run
 * init gave a running program (DMA_CHECK, proto/dma.h): 0, or a negative
 * ERR_RANGE (it does not), ERR_INVALID_ARG, ERR_NO_RIGHTS (the caller
 * drives no PCI device). */
long dma_check(uint64_t phys, uint64_t size);

/* The file the manifest hands this program under name (`file NAME`): its
 * bytes, read-only, and their count in *size. NULL: no such file. */
const void *program_file(const char *name, size_t *size);

/* size bytes (rounded up to a power of two, at most 4 MiB) of zeroed
 * pages from init, charged to the manifest's memory= allowance, for a
 * program that pages clients of its own (INIT_PAGES_ALLOC, proto/init.h).
 * NULL when refused; *err (if not NULL) gets the negative error. */
void *pages_alloc(size_t size, long *err);
/* Give back what pages_alloc returned (revoked from everyone it was
 * mapped to). 0 or a negative error. */
long pages_free(void *pages);

/* The heartbeat init watches when the manifest says heartbeat=MS
 * (proto/program.h): call program_busy(true) on waking up with work
 * and at every round of it, program_busy(false) before sleeping. A
 * program found busy, without a beat since the look before, at two of
 * init's looks in a row (so 2 to 3 periods after its last beat) is
 * restarted as hung. Does nothing without heartbeat=. */
void program_busy(bool busy);

/* A request of init's control protocol (proto/init.h; the manifest must
 * say control=yes): label, and a program's name or (name NULL) one word.
 * Returns 0 or a negative error; the reply in *m. */
long init_control(uint64_t label, const char *name, uint64_t word, struct msg *m);

/* The program's entry: the runtime calls main(arg), then exit(result).
 * arg is the boot-information address for the root task. */
int main(uint64_t arg);

#endif
