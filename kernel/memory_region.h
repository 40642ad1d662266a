/*
 * Memory capabilities: a physical region (RAM, device memory or a boot
 * module) that its holders map into their address spaces (mem_map), the
 * roots of all user mappings. The root task starts with one for every RAM
 * range the kernel does not keep, one for the device MMIO window and a
 * read-only one per boot module; everything else is passed on by IPC.
 */
#ifndef MICA_MEMORY_REGION_H
#define MICA_MEMORY_REGION_H

#include <stdint.h>

#include "object.h"

struct memory_region {
	struct kobject obj;
	uint64_t base, size;
	bool mmio;              /* device memory: mapped uncached */
};

/* A kernel-owned (uncharged) region object, or NULL when memory is short. */
struct memory_region *memory_region_create(uint64_t base, uint64_t size, bool mmio);

#endif
