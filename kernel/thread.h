/*
 * Threads: the unit of execution and of IPC. A thread runs in a task, has
 * its user registers saved on its kernel stack while in the kernel, and
 * waits on at most one object at a time.
 */
#ifndef MICA_THREAD_H
#define MICA_THREAD_H

#include <stdint.h>

#include "object.h"
#include "trap.h"
#include "uapi/thread.h"

#define THREAD_KSTACK_SIZE 8192

enum thread_state {
	THREAD_INACTIVE,        /* created, not started, or suspended */
	THREAD_READY,           /* runnable (or running) */
	THREAD_BLOCKED_SEND,    /* queued on an endpoint to send or call */
	THREAD_BLOCKED_RECV,    /* queued on an endpoint to receive */
	THREAD_BLOCKED_REPLY,   /* called; waits for the reply */
	THREAD_BLOCKED_NOTIFY,  /* waits on a notification */
	THREAD_STOPPED,         /* faulted with no handler */
	THREAD_DEAD,
};

struct endpoint;
struct notification;
struct reply;
struct task;

struct thread {
	struct kobject obj;
	enum thread_state state;
	bool suspended;             /* held inactive by thread_suspend */
	struct task *task;
	struct thread *task_next, *task_prev;   /* on task->threads */
	uint64_t ksp;               /* saved kernel stack pointer when switched out */
	uint8_t *kstack;            /* THREAD_KSTACK_SIZE bytes */
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(64)));   /* fpu.h */
	uint64_t fs_base;
	uint8_t priority;
	uint32_t timeslice_ticks, ticks_left;
	uint64_t cpu_cycles;        /* TSC cycles it has run; while it runs, that
				       minus the TSC at its start (sched.c) */
	uint64_t ipc_buffer;        /* user address, 0 = none */
	struct {                    /* ipc_buffer_of's: the kernel pointer to */
		struct ipc_buffer *k;   /* ipc_buffer in task, found while */
		uint64_t gen;           /* pt_generation was gen (0: none) */
	} ipc_buffer_cache;

	struct {                    /* fastpath_reply_recv's: what the slots */
		uint64_t ep_slot;       /* of its task named (an endpoint to */
		uint64_t reply_slot;    /* read, a reply object to write) while */
		struct endpoint *ep;    /* cap_generation was gen (0: nothing) */
		struct reply *reply;
		uint64_t gen;
	} recv_caps;

	/* IPC */
	struct thread *queue_next, *queue_prev; /* ready queue or wait queue */
	void *waiting_on;           /* endpoint / notification / reply object */
	uint64_t ipc_tag;           /* pending send: tag; pending call: flags */
	bool ipc_is_call;
	bool ipc_can_grant;         /* the capability it sends through has GRANT */
	uint64_t ipc_badge;         /* badge of the capability it sends through */
	struct reply *reply;        /* receive: where a caller's reply is bound */
	struct reply *caller_of;    /* blocked on reply: the reply object naming it */
	struct endpoint *pager, *exc_handler;
	uint64_t pager_badge, exc_badge;
	struct notification *bound;
	bool fault_pending;         /* its message is the kernel-made fault below */
	uint64_t fault_tag;
	uint64_t fault_words[FAULT_REGS_WORDS];

	char name[THREAD_NAME_LEN];

	/* The timer's samples (sched_tick): ticks that found it running in
	 * user mode; ticks that found its call or fault being handled, by
	 * the kernel or by the thread that received it (holding the reply
	 * object it waits on). thread_read_regs THREAD_REGS_CPUTIMES. */
	uint64_t user_ticks, system_ticks;
};

/* The user-register frame at the top of the thread's kernel stack. */
static inline struct trap_frame *thread_frame(struct thread *t)
{
	return (struct trap_frame *)(t->kstack + THREAD_KSTACK_SIZE) - 1;
}

/* A new inactive thread in runs_in, charged to charged, at the current
 * thread's priority (the root thread's is set by its creator). NULL when
 * memory is short. */
struct thread *thread_create(struct task *charged, struct task *runs_in);
void thread_destroy(struct thread *t);
void thread_free(struct thread *t);

/* Start running at ip with stack sp and rdi = arg. */
void thread_start(struct thread *t, uint64_t ip, uint64_t sp, uint64_t arg);

/* Make t inactive wherever it waits (IPC in progress fails with
 * ERR_DELETED for its partners). */
void thread_cancel_wait(struct thread *t);

/* t's wait is over (its result is stored): it becomes ready, or inactive
 * if suspended (thread_resume makes it ready later). Returns true if it is
 * ready; the caller then queues it (sched_wake) or switches to it. */
bool thread_unblock(struct thread *t);

/* Set t's syscall result (rax) and unblock it; queue it if it is ready. */
void thread_wake(struct thread *t, long result);

/* The current thread stops on a fault it cannot deliver: state STOPPED,
 * supervisor notified. */
void thread_stop_faulted(struct thread *t, const char *why);

/* Move t to run in task (NULL: in none), keeping task->threads right. */
void thread_set_task(struct thread *t, struct task *task);

void thread_get_regs(struct thread *t, struct user_regs *r);
void thread_set_regs(struct thread *t, const struct user_regs *r);

#endif
