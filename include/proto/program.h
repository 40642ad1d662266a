/*
 * What init gives every program it starts (docs/manifest.md): a start-up
 * information page, fixed capability slots, and, with heartbeat=MS, a
 * heartbeat page. Their addresses are in uapi/address_map.h.
 */
#ifndef MICA_PROTO_PROGRAM_H
#define MICA_PROTO_PROGRAM_H

#include <stdint.h>

#include "proto/pci.h"
#include "uapi/address_map.h"

/* Capability slots init fills in a program's table. */
#define PROGRAM_INIT_SLOT       0   /* init's endpoint: names, DMA, control (proto/init.h) */
#define PROGRAM_THREAD_SLOT     1   /* its own thread (to bind a notification) */
#define PROGRAM_IRQ_SLOT        2   /* first IRQ capability, if any */
#define PROGRAM_PAGER_SLOT      7   /* init's endpoint as its pager and exception
				       handler, for threads it makes */
#define PROGRAM_FIRST_FREE_SLOT 8   /* slots below are init's to fill */

#define PROGRAM_INFO_MAGIC 0x50524F47494E464FULL   /* "PROGINFO" */
#define PROGRAM_MAX_FILES 4

/* A boot module the manifest hands the program as a file (`file NAME`):
 * mapped read-only on first touch at addr (PROGRAM_FILE_BASE + k *
 * PROGRAM_FILE_SPAN for the k-th `file` line); size bytes. What the last
 * page holds past size is unspecified (the boot loader's): read size
 * bytes, no more. */
struct program_file {
	char name[32];              /* the module's name, NUL padded */
	uint64_t addr;
	uint64_t size;
};

/* The read-only page at PROGRAM_INFO_ADDR. */
struct program_info {
	uint64_t magic;             /* PROGRAM_INFO_MAGIC */
	char name[32];
	char args[96];
	uint64_t restarts;          /* how often init restarted it */
	uint64_t priority;          /* its thread's priority (for threads it makes) */
	struct pci_device_info pci; /* the device it drives (manifest `pci`) */
	uint64_t heartbeat_ms;      /* manifest heartbeat=MS, or 0: no heartbeat page */
	uint64_t memory;            /* manifest memory=: bytes of pages it may ask for
	                               (INIT_PAGES_ALLOC) */
	uint64_t nfiles;            /* files[0..nfiles) are valid */
	struct program_file files[PROGRAM_MAX_FILES];
	uint64_t ioport_first;      /* manifest `ioports FIRST-LAST`: ports [first, */
	uint64_t ioport_count;      /* first + count) are its (0: none) */
};

/*
 * The heartbeat a watched program keeps (program_busy() in lib), in the
 * read-write page at PROGRAM_HEARTBEAT_ADDR: `busy` is 1 while it has
 * work in hand (set when it wakes up with something to do, cleared before
 * it sleeps), and `beats` grows with every round of work. init's watchdog
 * looks every heartbeat_ms: a program busy at two looks in a row without
 * a beat between them is hung, and is killed and restarted like a crashed
 * one. A program asleep is never hung.
 */
struct program_heartbeat {
	uint64_t beats;
	uint64_t busy;
};

#endif
