/* What the loader handed over, as the kernel keeps it after boot. */
#ifndef MICA_BOOT_H
#define MICA_BOOT_H

#include <stdint.h>

#include "boot_memmap.h"

#define BOOT_MAX_MODULES 32

struct boot_module {
	uint64_t start, end;    /* physical */
	char string[128];       /* as the loader gave it */
	char name[32];          /* see module_name() in main.c */
};

/* Create the root task from the module named root_name, give it every
 * resource the kernel does not keep, and make its thread ready. Reports
 * and stops the boot (panic) if the module is missing or malformed. */
void root_task_create(const char *root_name, const struct boot_module *mods, int nmods,
		      const char *cmdline, const struct mm_range *usable, int nusable,
		      uint64_t kmem_bytes);

#endif
