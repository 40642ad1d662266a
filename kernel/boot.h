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

#endif
