/*
 * The boot memory map: from the loader's description to the list of page
 * frames the kernel may hand out. Pure logic, unit-tested on the host.
 */
#ifndef MICA_BOOT_MEMMAP_H
#define MICA_BOOT_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

/* Region types as Multiboot reports them. */
enum mm_type {
	MM_AVAILABLE = 1,
	MM_RESERVED = 2,
	MM_ACPI_RECLAIMABLE = 3,
	MM_ACPI_NVS = 4,
	MM_BAD = 5,
};

struct mm_region {
	uint64_t base;
	uint64_t len;
	uint32_t type;
};

/* A half-open physical range [start, end). */
struct mm_range {
	uint64_t start;
	uint64_t end;
};

/* Name of a region type for display ("available", "reserved", ...). */
const char *memmap_type_name(uint32_t type);

/*
 * Parse a Multiboot v1 memory map buffer (entries prefixed by their size).
 * Stores up to max regions; returns the number found, or -1 if the buffer
 * is malformed (an entry running past its end or with a size under 20).
 */
int memmap_parse_multiboot(const void *buf, uint32_t len,
			   struct mm_region *out, int max);

/*
 * The usable page frames: every available region, shrunk to whole pages,
 * minus every non-available region (loaders may report overlaps) and minus
 * the reserved ranges (kernel image, modules, boot data). The result is
 * sorted, non-overlapping and merged. Returns the number of ranges stored
 * in out (at most max; extra ranges are dropped and counted in *dropped
 * when dropped is not NULL).
 */
int memmap_usable(const struct mm_region *regions, int nregions,
		  const struct mm_range *reserved, int nreserved,
		  struct mm_range *out, int max, int *dropped);

/* Sum of the lengths of ranges. */
uint64_t memmap_total(const struct mm_range *ranges, int n);

#endif
