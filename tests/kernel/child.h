/*
 * Child tasks for kernel tests: a new task whose one thread runs a
 * function of this program. The test program's pager thread maps this
 * program's pages into it on demand (text executable, read-only data
 * read-only, data and stacks shared read-write) except the secret page,
 * and records every fault and exception it does not resolve.
 */
#ifndef MICA_KTEST_CHILD_H
#define MICA_KTEST_CHILD_H

#include "ktest.h"

#define CHILD_MAX 6

/* Exception policies of the handler for one child. */
enum child_policy {
	CHILD_STOP,             /* record and leave stopped */
	CHILD_SKIP_UD2,         /* invalid opcode: step over the 2-byte ud2 and resume */
	CHILD_SET_RAX,          /* breakpoint: resume with rax = 1234 */
	CHILD_SYSCALL_ADD,      /* redirected syscall: rax = rdi + rsi, resume */
};

struct child {
	int index;
	cap_slot_t task, thread;
	/* Filled in by the pager thread. */
	volatile int stopped;           /* fault or exception left unresolved */
	volatile uint64_t label;        /* IPC_LABEL_PAGE_FAULT or _EXCEPTION */
	volatile uint64_t address, error, vector, rip;
	volatile int page_faults;       /* resolved ones */
	volatile int exceptions;        /* resolved ones */
	enum child_policy policy;
	struct ipc_buffer *ipcbuf;      /* its IPC buffer (shared page) */
};

/* A page this program never maps into children. */
extern uint8_t ktest_secret[4096];

/* Start the pager thread (once, before the runner lowers its priority). */
void child_pager_start(void);

/* Create the child (task, thread, configuration) without starting it, so
 * the test can give it capabilities first; then run it. */
struct child *child_create(uint64_t quota, enum child_policy policy, bool with_handler);
long child_run(struct child *c, void (*fn)(uint64_t), uint64_t arg);

/* Copy a capability of ours into the child's table at slot. */
long child_give(struct child *c, cap_slot_t ours, cap_slot_t theirs, unsigned rights);

/* Put the child's pager endpoint (badged as its first thread's) in its
 * table at slot, for threads it makes itself. */
long child_give_pager(struct child *c, cap_slot_t theirs);

/* The same with a quiet badge: pages are mapped as for the first thread,
 * but a refused fault or any exception stops the thread unrecorded (the
 * child's own threads dying do not end the test's wait). */
#define CHILD_QUIET 0x100
long child_give_quiet_pager(struct child *c, cap_slot_t theirs);

/*
 * Start fn(arg) in a new task with a kernel-memory quota of quota bytes;
 * with_handler: faults go to the pager (else the thread just stops and the
 * supervisor notification fires). NULL if anything failed (reported).
 */
struct child *child_start(void (*fn)(uint64_t), uint64_t arg, uint64_t quota,
			  enum child_policy policy, bool with_handler);

/* Wait until the child's thread exited or stopped. */
bool child_wait(struct child *c);

/* Destroy the child's task and thread and free everything. */
void child_destroy(struct child *c);

/* Exited (thread object gone) rather than stopped. */
bool child_exited(struct child *c);

/* The supervisor notification children without handlers signal. */
extern cap_slot_t child_supervisor;

/* Is the page at va mapped writable in the calling task? A probe that
 * never faults: the kernel checks the address and writes a struct
 * task_info into the last bytes of the page, if it can. */
static inline bool probe_writable(void *va)
{
	uint64_t end = ((uint64_t)va | (PAGE_SIZE - 1)) + 1;

	return sys_task_info(CAP_SLOT_SELF, end - sizeof(struct task_info)) == 0;
}

#endif
