/*
 * Tasks: an address space (page tables, mapping-database entries), a
 * capability table, a kernel-memory quota and the objects charged to it.
 */
#ifndef MICA_TASK_H
#define MICA_TASK_H

#include <stdint.h>

#include "cap.h"
#include "object.h"

struct mapping;
struct notification;

struct task {
	struct kobject obj;
	uint64_t pt_root;           /* physical address of the PML4 */
	struct mapping *mappings;   /* every user mapping it holds (mapdb) */
	struct cap_table caps;
	uint64_t quota_limit;       /* bytes of kernel memory */
	uint64_t quota_used;
	struct task *quota_parent;  /* whose quota the limit was carved from */
	struct kobject objects;     /* list head: objects charged here */
	uint32_t nthreads;
	struct thread *threads;     /* every thread running in it (thread.task_next) */
	uint8_t redirect_syscalls;  /* TASK_REDIRECT_*: 0 = its syscalls are the kernel's */
	struct notification *supervisor;
	uint64_t supervisor_bits;
	uint8_t *io_bitmap;         /* 8 KiB, 1 = denied; NULL = all denied */
	uint64_t exits;             /* threads that ended by thread_exit */
	uint64_t exit_code;         /* the code the last of them passed */
	uint64_t pt_tables;         /* page tables below the PML4, charged here
				     * (made by mapdb, freed when empty) */
	bool dying;                 /* task_destroy is taking its mappings */
	uint16_t io_lo, io_hi;      /* io_bitmap's bytes [io_lo, io_hi) may
				     * allow a port; the rest are 0xFF */
	char name[16];
};

/* A new task charged to parent (NULL for the root task) with a quota of
 * quota bytes carved from parent's. NULL when memory is short. */
struct task *task_create(struct task *parent, uint64_t quota);

/* Charge or refund bytes of kernel memory; charge fails if over quota. */
bool task_charge(struct task *t, uint64_t bytes);
void task_refund(struct task *t, uint64_t bytes);

void task_destroy(struct task *t);
void task_free(struct task *t);

#endif
