/*
 * init's parts and what they share. init is one thread serving one
 * endpoint (main.c); each part answers its own requests:
 *
 *   ram.c         physical memory (sigma0): init's pages, one RAM region
 *   modules.c     boot modules (and those in the bundle), read-only in init
 *   program.c     a program's life: device, loading, start, release
 *   pager.c       page faults of programs (lib/aspace.h, lib/pager.h)
 *   supervisor.c  deaths, restarts with backoff, the heartbeat watchdog
 *   dma.c         DMA memory for drivers (DMA_ALLOC)
 *   pages.c       pages for programs that page their own clients (INIT_PAGES_*)
 *   control.c     the control protocol (list, kill, start, memory report)
 *   name_service.c names; pci.c PCI enumeration; manifest.c the manifest
 */
#ifndef MICA_INIT_INIT_H
#define MICA_INIT_INIT_H

#include "manifest.h"
#include "pci.h"

#include "lib/aspace.h"
#include "lib/mica.h"
#include "lib/task.h"
#include "proto/init.h"
#include "proto/nameservice.h"
#include "proto/program.h"

/* ---- ram.c: the first RAM region, page by page ---- */

/* Take the region into use; false if there is none. */
bool ram_init(void);
/* A zeroed page, mapped read/write/execute at its place in
 * ROOT_RAM_WINDOW; NULL when RAM is exhausted. The lowest free one, so a
 * restarted program gets the pages its last instance had. */
void *ram_page_alloc(void);
/* n pages (a power of two), physically contiguous, aligned to n pages
 * within the region (page aligned physically: the region's start need not
 * be aligned further), zeroed and mapped in ROOT_RAM_WINDOW with rights (IPC_MAP_*). Returns
 * the first page's index, or -1. */
int64_t ram_run_alloc(uint64_t n, unsigned rights);
/* Free a page: revoke it from everyone it went to, and from us; and the
 * same for the n pages from index first. */
void ram_page_free(void *page);
void ram_run_free(uint64_t first, uint64_t n);
/* A page index's address in ROOT_RAM_WINDOW, and its physical address. */
void *ram_page_at(uint64_t index);
uint64_t ram_phys(uint64_t index);
/* Pages in the region, and free ones now. */
uint64_t ram_pages_total(void);
uint64_t ram_pages_free(void);
/* Device memory: is [base, base + size) inside the device window; where
 * physical address phys of it is in ROOT_MMIO_WINDOW; make the page at
 * window_addr there present (uncached). */
bool mmio_contains(uint64_t base, uint64_t size);
uint64_t mmio_window_addr(uint64_t phys);
bool mmio_page_prepare(uint64_t window_addr);

/* ---- modules.c ---- */

extern const struct bootinfo *bootinfo;         /* from the kernel (main.c) */

/* The boot module whose modules init reads from inside it: a cpio "newc"
 * archive (tools/mkbundle.c writes it, each entry's data on a page), each
 * regular file in it a module named by its file name (docs/boot.md). */
#define MODULE_BUNDLE "bundle"

/* A boot module's bytes, read-only, where the loader put them. */
struct module {
	const char *name;
	const uint8_t *data;        /* in ROOT_MODULE_WINDOW; page aligned, except
				       a bundle's entry from an archive not made
				       by tools/mkbundle.c */
	uint64_t size;              /* bytes */
};

/* The module named name: a boot module of that name, else a file of that
 * name in the bundle; mapped read-only into ROOT_MODULE_WINDOW (once;
 * modules are reused on restart). false: no such module, or it cannot be
 * mapped. */
bool module_find(const char *name, struct module *out);
/* Say what the bundle holds ("init: bundle: 7 modules, 21.7 MiB"), and
 * where it is malformed if it is. */
void modules_report(void);

/* ---- program.c ---- */

/* Pages a program may own: its image and start-up pages, stack and heap
 * (the heap window's 64 MiB is the most of it). */
#define PROGRAM_MAX_PAGES ((PROGRAM_HEAP_SIZE + PROGRAM_STACK_SIZE) / PAGE_SIZE + 4096)
#define PROGRAM_MAX_DMA   8             /* DMA allocations */
#define PROGRAM_MAX_REFUSED_NAMES 4     /* private names told refused (name_service.c) */
#define PROGRAM_MAX_CHUNKS 64           /* INIT_PAGES_ALLOC allocations */
#define PROGRAM_MAX_PORT_RANGES 3       /* the manifest's, and the device's I/O BARs */

/* Memory init handed out in one piece: where the program has it, and
 * which of init's pages (an index into the RAM region). */
struct grant {
	uint64_t va, first, pages;      /* pages 0: unused */
};

struct program {
	const struct manifest_program *m;
	int index;
	enum program_state state;
	unsigned restarts, crashes;     /* restarts in all; crashes in a row */
	uint64_t started_at, restart_at;        /* ms of uptime */
	struct task_handle task;
	struct aspace as;
	/* Supervision (supervisor.c). */
	struct program_heartbeat *heartbeat;    /* ours, when it has heartbeat= */
	uint64_t heartbeat_beats, heartbeat_next;       /* at the last look; when to look next */
	unsigned heartbeat_missed;
	struct ratelimit log_limit;     /* its deaths' and restarts' lines */
	/* Private names a lookup of its was refused, told once each
	 * (name_service.c); past the table's room, rate-limited lines. */
	uint64_t refused_names[PROGRAM_MAX_REFUSED_NAMES][NS_NAME_WORDS];
	unsigned nrefused_names;
	/* Its device and what comes with it (program.c). */
	cap_slot_t irqs[MANIFEST_MAX_IRQS], dev_irq;    /* ours, kept across restarts */
	cap_slot_t msix[PCI_MSIX_MAX];  /* ours, its MSI-X vectors' (msix.c) */
	unsigned nmsix;
	struct pci_found *dev;
	void *blank;    /* a driver's stand-in for its dead client's area (pager.c) */
	bool ports_given;
	unsigned nports;
	uint32_t port_first[PROGRAM_MAX_PORT_RANGES], port_count[PROGRAM_MAX_PORT_RANGES];
	/* Memory it asked for (dma.c, pages.c). */
	struct grant dma[PROGRAM_MAX_DMA];
	struct grant dma_kept[PROGRAM_MAX_DMA]; /* a dead instance's, for the next */
	uint64_t dma_used;
	struct grant chunks[PROGRAM_MAX_CHUNKS];
	uint64_t chunks_used;
};

extern struct manifest manifest;
extern struct program programs[MANIFEST_MAX_PROGRAMS];
/* init's endpoint, the reply object its loop receives with, and the
 * notification bound to its thread (program deaths and the supervisor's
 * timer, SUPERVISOR_BIT_TIMER). */
extern cap_slot_t service_ep, service_reply, supervisor_notif;

/* Badges on init's endpoint: a program's fault messages, and its requests. */
#define BADGE_PROGRAM   0x100   /* + index */
#define BADGE_CLIENT    0x200   /* + index */

/* The program with badge - base, or NULL. */
struct program *program_of(uint64_t badge, uint64_t base);
/* The program whose name is in words 0..INIT_NAME_WORDS-1, or NULL. */
struct program *program_named(const struct msg *m);
/* Give the program its `pci` device; false (and a message) when the
 * manifest names one that is missing or taken: it is not started. */
bool program_claim_device(struct program *p);
/* Load and start it; 0 or a negative error (said on the console; the
 * program is then PROGRAM_NOT_STARTED and holds nothing). */
long program_start(struct program *p);
/* Everything it holds goes: device quiet, task, pages, names. DMA memory
 * is kept for its next instance (dma.c). */
void program_release(struct program *p);

/* ---- pager.c ---- */

/* Page fault message m of program p: true and the reply in m, or false
 * (the fault is refused). */
bool pager_fault(struct program *p, struct msg *m);
/* The address-space operations init's programs use (ram.c's pages). */
extern const struct as_ops program_as_ops;

/* ---- dma.c, pages.c ---- */

/* DMA_ALLOC, INIT_PAGES_ALLOC, INIT_PAGES_FREE of p: 0 and the reply in
 * m, or an error for the reply's label. */
long dma_request(struct program *p, struct msg *m);
/* DMA_CHECK of p (proto/dma.h): 0 and the reply in m when the run lies in
 * one DMA run a program holds now (a dead program's kept runs are not
 * looked at), or ERR_RANGE, ERR_INVALID_ARG, ERR_NO_RIGHTS. */
long dma_check_request(struct program *p, struct msg *m);
long pages_request(struct program *p, struct msg *m);
long pages_free_request(struct program *p, struct msg *m);
/* At the program's end: its DMA memory is revoked and kept for its next
 * instance (what the last one did not take back is freed); its pages go
 * back to init. */
void dma_release(struct program *p);
/* MSI-X (msix.c): PCI_MSIX; and everything it gave freed, MSI-X off. */
long msix_request(struct program *p, struct msg *m);
void msix_release(struct program *p);
void pages_release(struct program *p);
/* A run of n = 2^k pages placed in the program's window [base, base +
 * size) at the lowest free address aligned to its size, zeroed, added to
 * its address space as shared memory, and the reply item that maps it
 * (words: [0] va, and for DMA the physical address). first: pages of
 * init's to use (a kept DMA run), or -1 for new ones. 0 or an error. */
long grant_run(struct program *p, struct grant *g, uint64_t base, uint64_t size, uint64_t n,
	       int64_t first, unsigned rights);

/* ---- supervisor.c ---- */

#define SUPERVISOR_BIT_TIMER (1UL << 62)

/* How a program ended. */
enum death { DIED_EXIT, DIED_CRASH, DIED_KILL };

uint64_t now_ms(void);
/* Its crashes in a row as of now: 0 once it has run STABLE_MS (5 s)
 * since its last start, else the crashes counted so far (what `ps`
 * shows and the restart policy counts). */
unsigned program_crashes_in_a_row(const struct program *p, uint64_t now);
/* A program ended: free everything, then restart it as its policy says. */
void program_died(struct program *p, const char *how, enum death cause);
/* Death notice bits from the supervisor notification: programs whose
 * thread is gone ended by themselves. */
void supervisor_notified(uint64_t bits);
/* The supervisor's clock: due restarts, heartbeat looks; arms the timer. */
void supervise(void);
/* A program starts: its heartbeat page (NULL: none) is watched from now. */
void heartbeat_start(struct program *p, struct program_heartbeat *page);

/* ---- control.c ---- */

/* A control-protocol request (INIT_PROGRAM .. INIT_MEMORY) of program
 * from; the answer in m. */
void control_request(struct program *from, struct msg *m);

#endif
