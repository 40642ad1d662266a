/*
 * Kernel tests: user programs run as the root task on the real kernel.
 * Each KTEST prints one line, "ktest NAME: OK" or "ktest NAME: FAIL", after
 * any failed checks; the run ends with "ktest: N passed, N failed" and the
 * program's exit status becomes QEMU's (test kernels).
 */
#ifndef MICA_KTEST_H
#define MICA_KTEST_H

#include "lib/mica.h"

struct ktest {
	const char *name;
	void (*fn)(void);
};

#define KTEST(id)                                                      \
	static void ktest_##id(void);                                  \
	static const struct ktest ktest_entry_##id                     \
		__attribute__((section("ktests"), used, aligned(8))) = \
		{ #id, ktest_##id };                                   \
	static void ktest_##id(void)

extern int ktest_failed_now;
void ktest_fail(const char *file, int line, const char *what, long a, long b);

#define KCHECK(cond)                                                          \
	do {                                                                  \
		if (!(cond)) {                                                \
			ktest_fail(__FILE__, __LINE__, #cond, 0, 0);          \
			return;                                               \
		}                                                             \
	} while (0)

#define KEXPECT(a, b)                                                         \
	do {                                                                  \
		long a_ = (long)(a), b_ = (long)(b);                          \
		if (a_ != b_) {                                               \
			ktest_fail(__FILE__, __LINE__, #a " == " #b, a_, b_); \
			return;                                               \
		}                                                             \
	} while (0)

/* Boot information of this root task. */
extern const struct bootinfo *bootinfo;

/* A fresh capability slot (the test frees what it takes, or the leak check
 * notices). */
cap_slot_t ktest_slot(void);

/* Create an object of type in a new slot; returns the slot. */
cap_slot_t ktest_create(unsigned type);

#define KTEST_PRIORITY 200

/* Threads in this task on stacks and IPC buffers from a small pool:
 * spawn fn(arg) at priority; wait until it exited and free its slot. */
cap_slot_t ktest_spawn(void (*fn)(uint64_t), uint64_t arg, unsigned priority);
void ktest_join(cap_slot_t thread);

/* Return once every thread above the lowest priority is blocked (a
 * lowest-priority helper runs only then). */
void ktest_settle(void);

/* Scratch memory: pages mapped from the first RAM region at a fixed
 * window; ktest_pages(n) maps n fresh pages and returns their address. */
void *ktest_pages(unsigned n);
void ktest_pages_free(void *p, unsigned n);

/* Kernel-memory accounting of this task, and free frames kernel-wide. */
struct task_info ktest_info(void);

/* Wait on notification n for at most ms milliseconds (its timer is used):
 * the bits, or KTEST_TIMED_OUT. */
#define KTEST_TIMED_OUT (1L << 62)
long ktest_wait(cap_slot_t n, uint64_t ms);

#endif
