/*
 * The boot manifest: which programs init starts, with which resources and
 * restart policy. A text file of lines; `#` starts a comment.
 *
 *   program NAME [priority=N] [quota=KIB] [dma=KIB] [memory=KIB]
 *                [restart=never|on-crash|always] [retries=N] [heartbeat=MS] [control=yes|no]
 *       module NAME        boot module holding its executable (default: NAME)
 *       file NAME          a boot module it reads as a file (read-only, up to 4)
 *       pci VVVV:DDDD      the PCI device it drives, by vendor:device (the first
 *       pci BB:DD.F        one not taken by an earlier program) or by slot
 *       ioports FIRST-LAST I/O ports to delegate (hex, inclusive)
 *       irq N              an IRQ capability for IOAPIC input N
 *       mmio BASE SIZE     device memory (hex) mapped for it on demand
 *       args WORDS...      passed to it (up to 95 characters)
 *
 * docs/manifest.md explains each setting and its default.
 * Indented lines belong to the program above. Pure logic: no system calls,
 * unit-tested on the host.
 */
#ifndef MICA_INIT_MANIFEST_H
#define MICA_INIT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAX_PROGRAMS 16
#define MANIFEST_MAX_IRQS 4
#define MANIFEST_MAX_MMIO 4
#define MANIFEST_NAME_LEN 32
#define MANIFEST_ARGS_LEN 96
#define MANIFEST_DMA_MAX_KIB 65536
#define MANIFEST_MEMORY_MAX_KIB (4U << 20)      /* 4 GiB */
#define MANIFEST_MAX_FILES 4
#define MANIFEST_MAX_LOOKUPS 4   /* private names a program may look up (`lookup NAME`):
                                    a netstack's drivers (NETSTACK_MAX_NICS) */
#define MANIFEST_LOOKUP_LEN 24   /* NS_NAME_MAX */

/* A program that exits with status 0 is done; one that crashes, hangs,
 * exits with a nonzero status or is killed is restarted under on-crash:
 * a kill at once, the others after a backoff, at most `retries` times in
 * a row. Under always, an exit with status 0 is restarted like a crash. */
enum restart_policy { RESTART_NEVER, RESTART_ON_CRASH, RESTART_ALWAYS };

/* How a `pci` line names its device. */
enum pci_match { PCI_MATCH_NONE, PCI_MATCH_ID, PCI_MATCH_SLOT };

struct manifest_program {
	char name[MANIFEST_NAME_LEN];
	char module[MANIFEST_NAME_LEN];
	unsigned priority;              /* default 100, at most 199 */
	uint64_t quota;                 /* bytes of kernel memory, default 1 MiB */
	uint64_t dma;                   /* bytes of DMA memory it may ask for (default 0) */
	uint64_t memory;                /* bytes of pages it may ask for (INIT_PAGES_ALLOC) */
	enum restart_policy restart;
	unsigned retries;               /* crashes in a row before giving up (default 3) */
	unsigned heartbeat_ms;          /* watchdog period, 0: none */
	bool control;                   /* may list, kill and start programs */
	uint32_t ioport_first, ioport_count;
	unsigned nirqs;
	unsigned irqs[MANIFEST_MAX_IRQS];
	unsigned nmmio;
	uint64_t mmio_base[MANIFEST_MAX_MMIO], mmio_size[MANIFEST_MAX_MMIO];
	enum pci_match pci;             /* a device it drives, if any: */
	uint16_t pci_a, pci_b;          /* vendor, device; or bus, devfn */
	char args[MANIFEST_ARGS_LEN];
	unsigned nfiles;
	char files[MANIFEST_MAX_FILES][MANIFEST_NAME_LEN];     /* boot module names */
	unsigned nlookups;
	char lookups[MANIFEST_MAX_LOOKUPS][MANIFEST_LOOKUP_LEN + 1]; /* private names it may
							 look up (NS_REGISTER_PRIVATE) */
	unsigned line;                  /* where it was declared */
};

struct manifest {
	unsigned nprograms;
	struct manifest_program programs[MANIFEST_MAX_PROGRAMS];
};

/*
 * Parse text[0..len). Returns 0, or the 1-based number of the first bad
 * line with a message in err (e.g. "unknown keyword 'strat'"); the
 * manifest is then incomplete and must not be used.
 */
unsigned manifest_parse(const char *text, size_t len, struct manifest *m,
			char *err, size_t err_size);

/*
 * Whether every `lookup NAME` of a parsed manifest names a private name
 * some program of it will register: a driver's (a program with a `pci`
 * line registers its `args name=`, else its program name) or one of the
 * netstack's (net-lend, netmgmt). Returns 0, or the line of the first
 * program with one that does not, with a message in err. For the host
 * checker (tools/manifest-check.c): a typo (`lookup eht0`) would leave
 * the program without the name it needs; init itself does not refuse
 * (test manifests name fakes of their own).
 */
unsigned manifest_check_lookups(const struct manifest *m, char *err, size_t err_size);

#endif
