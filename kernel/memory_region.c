#include "memory_region.h"

struct memory_region *memory_region_create(uint64_t base, uint64_t size, bool mmio)
{
	struct memory_region *r = kobject_alloc(NULL, CAP_MEMORY, sizeof(*r));

	if (r) {
		r->base = base;
		r->size = size;
		r->mmio = mmio;
	}
	return r;
}
