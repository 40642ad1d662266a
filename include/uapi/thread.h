/* Thread configuration and register layout, shared by kernel and user. */
#ifndef MICA_UAPI_THREAD_H
#define MICA_UAPI_THREAD_H

#include <stdint.h>

/* User registers, as read and written by thread_read_regs/write_regs and
 * carried by exception and syscall messages (one word each, this order). */
struct user_regs {
	uint64_t rip, rsp, rflags;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t fs_base;
};
#define USER_REGS_WORDS (sizeof(struct user_regs) / 8)

/* An exception message: the registers, then vector, error code, CR2. */
struct fault_regs {
	struct user_regs regs;
	uint64_t vector, error, address;
};
#define FAULT_REGS_WORDS (sizeof(struct fault_regs) / 8)
#define FAULT_VECTOR_SYSCALL 0x100   /* a redirected `syscall` */

/* A redirected `syscall` of a task with TASK_REDIRECT_ARGS: the number
 * and the six argument registers, in Linux's order (rdi, rsi, rdx, r10,
 * r8, r9); label IPC_LABEL_SYSCALL_ARGS. Words 0..3 arrive in registers,
 * 4..6 in the receiver's IPC buffer. The rest of the caller's registers
 * are read with thread_read_regs while it waits for the answer. */
struct syscall_args {
	uint64_t nr;
	uint64_t arg[6];
};
#define SYSCALL_ARGS_WORDS (sizeof(struct syscall_args) / 8)

/* thread_read_regs/thread_write_regs with this bit in the slot argument
 * read or write the thread's FPU state instead: FPU_STATE_SIZE bytes in
 * the standard format of the xsave64 instruction (Intel SDM vol. 1,
 * 13.4). Its first 512 bytes are the fxsave64 area (10.5.1): MXCSR at
 * FPU_MXCSR_OFFSET, the CPU's MXCSR_MASK at FPU_MXCSR_MASK_OFFSET. Where
 * the CPU has XSAVE the kernel enables x87, SSE and AVX of what it has
 * (XCR0, which xgetbv reads in user mode): the XSAVE header follows at
 * FPU_XSTATE_HEADER_OFFSET (XSTATE_BV, the components not in their
 * initial state, then XCOMP_BV and reserved words, 0) and AVX's upper
 * halves of ymm0..15 at FPU_YMM_HI_OFFSET; a write loads what XSTATE_BV
 * names and initializes the rest, as xrstor does. Without XSAVE only
 * the fxsave area is used (the rest reads as 0). A write whose MXCSR has
 * bits outside MXCSR_MASK, whose XSTATE_BV has bits outside XCR0 or
 * whose header's other words are not 0 is ERR_INVALID_ARG. */
#define THREAD_REGS_FPU        (1ULL << 32)
#define FPU_STATE_SIZE         832
#define FPU_XSTATE_HEADER_OFFSET 512
#define FPU_YMM_HI_OFFSET      576
#define FPU_MXCSR_OFFSET       24
#define FPU_MXCSR_MASK_OFFSET  28

/* thread_read_regs with this bit in the slot argument reads the thread's
 * CPU time instead: one uint64_t, the nanoseconds it has run on the CPU
 * (user and kernel mode) since it was created. Any thread the caller
 * holds with READ, itself included. */
#define THREAD_REGS_CPUTIME    (1ULL << 33)
/* With this bit instead: a struct thread_cputimes, the CPU time and the
 * timer's samples that split it into user and system time (the caller
 * scales: user = ns * user_ticks / (user_ticks + system_ticks), as
 * Linux's tick-based accounting does). */
#define THREAD_REGS_CPUTIMES   (1ULL << 34)

struct thread_cputimes {
	uint64_t ns;            /* as THREAD_REGS_CPUTIME */
	uint64_t user_ticks;    /* timer ticks that found it in user mode */
	uint64_t system_ticks;  /* ticks that found its call or fault being
				 * handled: by the kernel, or by the thread
				 * that received it (a server: the reply
				 * object it holds names this thread) */
};

#define THREAD_PRIORITY_MAX 255
#define THREAD_NAME_LEN 16

/* Which fields of struct thread_config to apply. */
#define THREAD_CFG_TASK       0x01
#define THREAD_CFG_PAGER      0x02
#define THREAD_CFG_EXCEPTION  0x04
#define THREAD_CFG_PRIORITY   0x08
#define THREAD_CFG_IPC_BUFFER 0x10
#define THREAD_CFG_NAME       0x20
#define THREAD_CFG_NOTIFY     0x40
#define THREAD_CFG_TIMESLICE  0x80

struct thread_config {
	uint64_t fields;            /* THREAD_CFG_* */
	uint64_t task;              /* task slot: the address space and cap table it runs in */
	uint64_t pager;             /* endpoint slot for page faults (CAP_SLOT_NONE: none) */
	uint64_t exception;         /* endpoint slot for other exceptions */
	uint64_t priority;          /* 0..THREAD_PRIORITY_MAX, at most the caller's */
	uint64_t timeslice_ms;      /* round-robin quantum */
	uint64_t ipc_buffer;        /* user address of its struct ipc_buffer (page aligned) */
	uint64_t notification;      /* bound notification slot (recv also wakes on it) */
	char name[THREAD_NAME_LEN];
};

/* task_configure fields. */
#define TASK_CFG_SUPERVISOR   0x01  /* notification signalled when a thread stops on a fault */
#define TASK_CFG_REDIRECT     0x02  /* `syscall` becomes an exception message */
#define TASK_CFG_CAP_SLOTS    0x04  /* the capability table's size */

struct task_config {
	uint64_t fields;
	uint64_t supervisor;        /* notification slot */
	uint64_t supervisor_bits;   /* bits to signal */
	uint64_t redirect;          /* TASK_REDIRECT_*: how `syscall` travels */
	uint64_t cap_slots;         /* slots, 1..TASK_CAP_SLOTS_MAX (TASK_CFG_CAP_SLOTS) */
};

/* task_config.redirect: a thread's `syscall` goes to its exception
 * handler as a call on its behalf, with all registers (struct fault_regs,
 * IPC_LABEL_SYSCALL) or with the number and arguments only (struct
 * syscall_args, IPC_LABEL_SYSCALL_ARGS: short enough for the kernel's
 * fast path). */
#define TASK_REDIRECT_OFF  0
#define TASK_REDIRECT_REGS 1
#define TASK_REDIRECT_ARGS 2

/* task_info result. */
struct task_info {
	uint64_t quota_limit;       /* bytes of kernel memory it may use */
	uint64_t quota_used;
	uint64_t threads;
	uint64_t free_frames;       /* kernel-wide, for leak checks */
	uint64_t cap_slots;
	uint64_t caps_used;
	uint64_t small_block_frames;/* kernel-wide: frames the kernel keeps for small
				       objects, in use or not (never freed) */
	uint64_t exits;             /* its threads that ended by thread_exit */
	uint64_t exit_code;         /* the code the last of them passed (0 if none) */
};

#endif
