/*
 * Memory and I/O-port capabilities: the roots of all user mappings. The
 * root task starts with memory capabilities for all RAM the kernel does not
 * keep for itself and for the device MMIO window, and one for all I/O
 * ports the kernel does not use; everything else is passed on by IPC.
 */
#ifndef MICA_MEMORY_H
#define MICA_MEMORY_H

#include <stdint.h>

#include "object.h"

struct memory_region {
	struct kobject obj;
	uint64_t base, size;
	bool mmio;              /* device memory: mapped uncached */
};

struct ioport_range {
	struct kobject obj;
	uint16_t base;
	uint32_t count;
};

struct task;

struct memory_region *memory_region_create(uint64_t base, uint64_t size, bool mmio);
struct ioport_range *ioport_range_create(uint16_t base, uint32_t count);

/* Allow task the ports [base, base+count); 0 or -ERR_NO_MEMORY. */
int task_allow_ioports(struct task *t, uint64_t base, uint64_t count);

/* Ports the kernel keeps (PIC, PIT, COM1, the test exit port). */
bool ioport_reserved(uint64_t port);

#endif
