/*
 * init's protocol: everything init serves on the endpoint every program
 * finds in PROGRAM_INIT_SLOT (proto/program.h), told apart by label. The
 * labels of all its parts are numbered here, in one enum:
 *
 *   names          NS_REGISTER, NS_LOOKUP, NS_WATCH   proto/nameservice.h
 *   DMA memory     DMA_ALLOC, DMA_CHECK               proto/dma.h
 *   pages          INIT_PAGES_ALLOC, INIT_PAGES_FREE  below
 *   MSI-X          PCI_MSIX                           proto/pci.h
 *   control        INIT_PROGRAM .. INIT_MEMORY        below
 *
 * Pages, for a program that pages clients of its own (the POSIX server):
 * ordinary memory, charged to the manifest's memory=KIB allowance, placed
 * in the window PROGRAM_PAGES_BASE..+PROGRAM_PAGES_SIZE (address_map.h).
 *
 *   INIT_PAGES_ALLOC  words: [0] size in bytes (rounded up to a power of
 *                 two, 4 KiB .. INIT_PAGES_MAX). Before calling, set the
 *                 IPC buffer's recv_window to cover the pages window.
 *                 reply: label 0; words: [0] address (aligned to the
 *                 size), [1] size; item: the pages, zeroed, mapped
 *                 read/write (and executable: a POSIX process runs code
 *                 from them) at that address. The pages are the caller's
 *                 to map on (grant or map to its clients).
 *                 ERR_NO_MEMORY: the allowance or init's RAM is used up,
 *                 64 allocations are held, or the window is full;
 *                 ERR_INVALID_ARG: size 0 or above INIT_PAGES_MAX.
 *   INIT_PAGES_FREE   words: [0] an address INIT_PAGES_ALLOC returned.
 *                 The whole allocation goes back to init: revoked from the
 *                 caller and from everyone it mapped it to, and no longer
 *                 charged. ERR_INVALID_ARG: no allocation starts there.
 *
 * Everything a program was given goes back when it ends.
 *
 * The supervisor's control protocol: what the console asks init. Only a program
 * whose manifest entry says control=yes may use it; others get
 * ERR_NO_RIGHTS. Program names travel NUL-padded in words 0..3.
 *
 *   INIT_PROGRAM  words: [0] index (0, 1, ... in manifest order).
 *                 reply: words 0..3 the name, [4] enum program_state,
 *                 [5] restarts so far, [6] crashes in a row as of now
 *                 (what the backoff and the retries= limit count; 0 once
 *                 it has been up 5 s), [7] milliseconds
 *                 until a waiting restart. ERR_RANGE past the last one.
 *   INIT_KILL     words: name. The program is killed (its task destroyed,
 *                 everything it held freed) and, if its restart policy
 *                 says so, started again at once: a kill by the operator
 *                 is not a crash and does not count towards retries=.
 *                 ERR_INVALID_ARG: no such program; ERR_BUSY: not running.
 *   INIT_START    words: name. Start a program that is down (it exited,
 *                 crashed too often, or was never restarted); its crash
 *                 count starts again from 0. ERR_BUSY: it is running or
 *                 waiting for a restart; ERR_RANGE: it cannot start (its
 *                 device is missing, its module does not load).
 *   INIT_MEMORY   reply: struct init_memory in words.
 */
#ifndef MICA_PROTO_INIT_H
#define MICA_PROTO_INIT_H

#include <stdint.h>

#define INIT_NAME_WORDS 4
#define INIT_PAGES_MAX  (4UL << 20)     /* the largest single allocation, bytes */

enum init_label {
	NS_REGISTER = 1,
	NS_LOOKUP = 2,
	DMA_ALLOC = 3,
	NS_WATCH = 4,
	INIT_PAGES_ALLOC = 5,
	INIT_PAGES_FREE = 6,
	PCI_MSIX = 7,
	INIT_PROGRAM = 8,
	INIT_KILL = 9,
	INIT_START = 10,
	INIT_MEMORY = 11,
	DMA_CHECK = 12,
};

enum program_state {
	PROGRAM_RUNNING = 0,
	PROGRAM_WAITING = 1,    /* crashed; restarts after its backoff */
	PROGRAM_DOWN = 2,       /* crashed and left down (restart=never, or retries used up) */
	PROGRAM_EXITED = 3,     /* ended by itself */
	PROGRAM_NOT_STARTED = 4,/* it could not start: its module or a file would not load */
	PROGRAM_NO_DEVICE = 5,  /* the PCI device its manifest names is missing or taken */
};

struct init_memory {
	uint64_t ram_pages_free, ram_pages;     /* init's user RAM (4 KiB pages) */
	uint64_t kernel_frames_free;            /* the kernel's free frames */
	uint64_t quota_used, quota_limit;       /* init's kernel memory quota, bytes (programs' carved from it) */
	uint64_t kernel_small_frames;           /* frames the kernel carved into small objects:
						   in use or not, never returned (a leak check
						   adds them to kernel_frames_free) */
};
#define INIT_MEMORY_WORDS (sizeof(struct init_memory) / 8)

#endif
