/* Boot modules: each mapped read-only into ROOT_MODULE_WINDOW on first use
 * and kept (modules never change, and programs restart from them). */
#include "init.h"

static bool module_mapped[BOOTINFO_MAX_MODULES];

const struct bootinfo_module *module_find(const char *name, const uint8_t **data)
{
	for (uint64_t k = 0; k < bootinfo->module_count; k++) {
		const struct bootinfo_module *m = &bootinfo->modules[k];
		if (strcmp(m->name, name))
			continue;
		uint64_t va = ROOT_MODULE_WINDOW + k * ROOT_MODULE_SPAN;
		uint64_t pages = (m->size + PAGE_SIZE - 1) / PAGE_SIZE;
		/* An empty module has nothing to map. */
		if (!module_mapped[k] && pages) {
			if (sys_mem_map(m->slot, 0, va, pages, IPC_MAP_READ) < 0)
				return NULL;
			module_mapped[k] = true;
		}
		*data = (const uint8_t *)va;
		return m;
	}
	return NULL;
}
