/*
 * Capabilities as user space sees them: object types and rights.
 * Shared by the kernel and user code.
 */
#ifndef MICA_UAPI_CAP_H
#define MICA_UAPI_CAP_H

/* A task names kernel objects by slot numbers in its capability table. */
typedef unsigned long cap_slot_t;

/* Slots in a new task's capability table; task_configure's
 * TASK_CFG_CAP_SLOTS gives a task 1 to TASK_CAP_SLOTS_MAX instead, its
 * kernel memory (64 bytes a slot) charged to the task's quota. */
#define TASK_CAP_SLOTS 256
#define TASK_CAP_SLOTS_MAX 4096

/* The null slot, and "the calling task itself" where a task is expected. */
#define CAP_SLOT_NONE  (~0UL)
#define CAP_SLOT_SELF  (~1UL)

enum cap_type {
	CAP_NULL = 0,
	CAP_ENDPOINT = 1,       /* synchronous IPC */
	CAP_NOTIFICATION = 2,   /* asynchronous signal word */
	CAP_REPLY = 3,          /* one pending call's reply (deferred replies) */
	CAP_IRQ = 4,            /* one IOAPIC input */
	CAP_TASK = 5,           /* address space + capability table */
	CAP_THREAD = 6,
	CAP_MEMORY = 7,         /* a range of physical memory (RAM or MMIO) */
	CAP_IOPORT = 8,         /* a range of I/O ports */
	CAP_IRQ_CONTROL = 9,    /* authority to create IRQ capabilities */
	CAP_TYPE_COUNT
};

/* Rights. Which ones an operation needs is listed in docs/abi.md. */
#define CAP_RIGHT_READ    0x1   /* receive, wait, read registers */
#define CAP_RIGHT_WRITE   0x2   /* send, signal, write registers, map writable */
#define CAP_RIGHT_GRANT   0x4   /* transfer capabilities through an endpoint */
#define CAP_RIGHT_CONTROL 0x8   /* configure, start, stop, delete objects */
#define CAP_RIGHTS_ALL    0xF

#endif
