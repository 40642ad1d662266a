/*
 * What the kernel hands the root task: fixed capability slots, and a
 * read-only boot-information page describing the rest.
 *
 * Root task address space (set up by the kernel; uapi/address_map.h):
 * the boot information page at BOOTINFO_ADDR (read-only), the first
 * thread's IPC buffer at ROOT_IPC_BUFFER, its stack below ROOT_STACK_TOP
 * (ROOT_STACK_SIZE bytes), and the root module's ELF segments as linked.
 */
#ifndef MICA_UAPI_BOOTINFO_H
#define MICA_UAPI_BOOTINFO_H

#include <stdint.h>

#include "uapi/address_map.h"

/* Fixed slots in the root task's capability table. */
#define ROOT_SLOT_TASK        0   /* itself */
#define ROOT_SLOT_THREAD      1   /* its first thread */
#define ROOT_SLOT_IRQ_CONTROL 2
#define ROOT_SLOT_IOPORTS     3   /* all I/O ports the kernel does not use */
#define ROOT_SLOT_MMIO        4   /* the 32-bit device memory window */
#define ROOT_SLOT_FIRST_RAM   5   /* then bootinfo.ram_count RAM regions,
				     then one read-only region per module */

#define BOOTINFO_MAGIC 0x4D4943414249ULL   /* "MICABI" */
#define BOOTINFO_MAX_MODULES 32

struct bootinfo_module {
	char name[32];
	uint64_t size;          /* bytes */
	uint64_t slot;          /* memory capability covering it (read-only) */
};

struct bootinfo {
	uint64_t magic;
	uint64_t ram_count;     /* RAM region caps at ROOT_SLOT_FIRST_RAM.. */
	uint64_t ram_bytes;     /* their total size */
	uint64_t module_count;
	uint64_t first_free_slot;
	uint64_t kernel_quota;  /* the root task's kernel-memory quota */
	struct bootinfo_module modules[BOOTINFO_MAX_MODULES];
	char cmdline[512];      /* the kernel command line */
};

#endif
