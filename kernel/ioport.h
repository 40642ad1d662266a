/*
 * I/O-port capabilities: a range of x86 I/O ports that its holders may
 * open in their task's I/O permission bitmap (ioport_map). The root task
 * starts with one for all 65536 ports; the kernel's own stay closed.
 */
#ifndef MICA_IOPORT_H
#define MICA_IOPORT_H

#include <stdint.h>

#include "object.h"

struct ioport_range {
	struct kobject obj;
	uint16_t base;
	uint32_t count;
};

struct task;

/* A kernel-owned (uncharged) range object, or NULL when memory is short. */
struct ioport_range *ioport_range_create(uint16_t base, uint32_t count);

/* Allow task the ports [base, base+count); 0 or -ERR_NO_MEMORY. */
int task_allow_ioports(struct task *t, uint64_t base, uint64_t count);

/* Free t's I/O bitmap, if any (every port closed), refunding its quota. */
void task_free_io_bitmap(struct task *t);

/* Ports the kernel keeps (PIC, PIT, COM1, the test exit port). */
bool ioport_reserved(uint64_t port);

#endif
