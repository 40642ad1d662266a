/* Boot modules: each mapped read-only into ROOT_MODULE_WINDOW on first use
 * and kept (modules never change, and programs restart from them); the
 * modules in a bundle are read where the bundle lies (docs/boot.md). */
#include "init.h"

#include "lib/cpio.h"

static bool module_mapped[BOOTINFO_MAX_MODULES];

static bool is_bundle(const struct bootinfo_module *m)
{
	return !strcmp(m->name, MODULE_BUNDLE);
}

/* Boot module k mapped (once) in the module window: its address, or NULL. */
static const uint8_t *module_map(uint64_t k)
{
	const struct bootinfo_module *m = &bootinfo->modules[k];
	uint64_t va = ROOT_MODULE_WINDOW + k * ROOT_MODULE_SPAN;
	uint64_t pages = (m->size + PAGE_SIZE - 1) / PAGE_SIZE;

	/* An empty module has nothing to map. */
	if (!module_mapped[k] && pages) {
		if (sys_mem_map(m->slot, 0, va, pages, IPC_MAP_READ) < 0)
			return NULL;
		module_mapped[k] = true;
	}
	return (const uint8_t *)va;
}

bool module_find(const char *name, struct module *out)
{
	const uint8_t *data;

	for (uint64_t k = 0; k < bootinfo->module_count; k++) {
		const struct bootinfo_module *m = &bootinfo->modules[k];
		if (is_bundle(m) || strcmp(m->name, name) || !(data = module_map(k)))
			continue;
		*out = (struct module){ .name = m->name, .data = data, .size = m->size };
		return true;
	}
	for (uint64_t k = 0; k < bootinfo->module_count; k++) {
		const struct bootinfo_module *m = &bootinfo->modules[k];
		struct cpio_entry e;
		if (!is_bundle(m) || !(data = module_map(k)) ||
		    !cpio_find(data, m->size, name, &e) || (e.mode & 0170000) != 0100000)
			continue;
		*out = (struct module){ .name = e.name, .data = e.data, .size = e.size };
		return true;
	}
	return false;
}

void modules_report(void)
{
	for (uint64_t k = 0; k < bootinfo->module_count; k++) {
		const struct bootinfo_module *m = &bootinfo->modules[k];
		const uint8_t *data;
		if (!is_bundle(m))
			continue;
		if (!(data = module_map(k))) {
			printf("init: bundle: cannot map it\n");
			continue;
		}
		struct cpio_entry e;
		size_t offset = 0, at = 0;
		unsigned n = 0;
		int r;
		while ((r = cpio_next(data, m->size, &offset, &e)) == 1) {
			n++;
			at = offset;
		}
		char count[32], size[32];
		printf("init: bundle: %s, %s\n", fmt_count(count, sizeof(count), n, "module", "modules"),
		       fmt_bytes(size, sizeof(size), m->size));
		if (r < 0)
			printf("init: bundle: malformed at byte %lu: the modules from there on are "
			       "missing\n", (unsigned long)at);
	}
}
