#include "boot_memmap.h"

#define PAGE 4096ULL

const char *memmap_type_name(uint32_t type)
{
	switch (type) {
	case MM_AVAILABLE: return "available";
	case MM_RESERVED: return "reserved";
	case MM_ACPI_RECLAIMABLE: return "ACPI reclaimable";
	case MM_ACPI_NVS: return "ACPI NVS";
	case MM_BAD: return "bad";
	default: return "unknown";
	}
}

int memmap_parse_multiboot(const void *buf, uint32_t len,
			   struct mm_region *out, int max)
{
	const uint8_t *p = buf, *end = p + len;
	int n = 0;

	while (p < end) {
		uint32_t size;
		if (end - p < 4)
			return -1;
		__builtin_memcpy(&size, p, 4);
		if (size < 20 || (uint64_t)(end - p) < 4 + (uint64_t)size)
			return -1;
		if (n < max) {
			__builtin_memcpy(&out[n].base, p + 4, 8);
			__builtin_memcpy(&out[n].len, p + 12, 8);
			__builtin_memcpy(&out[n].type, p + 20, 4);
		}
		n++;
		p += 4 + size;
	}
	return n < max ? n : max;
}

/* Remove [cut.start, cut.end) from the ranges in r[0..*n), splitting where
 * needed. Returns 0, or -1 if a split needed more room than max. */
static int subtract(struct mm_range *r, int *n, int max, struct mm_range cut,
		    int *dropped)
{
	for (int i = 0; i < *n; i++) {
		struct mm_range cur = r[i];
		if (cut.end <= cur.start || cut.start >= cur.end)
			continue;
		int has_low = cut.start > cur.start;
		int has_high = cut.end < cur.end;
		if (has_low && has_high) {
			r[i].end = cut.start;
			if (*n < max) {
				r[*n].start = cut.end;
				r[*n].end = cur.end;
				(*n)++;
			} else if (dropped) {
				(*dropped)++;
			}
		} else if (has_low) {
			r[i].end = cut.start;
		} else if (has_high) {
			r[i].start = cut.end;
		} else {
			r[i] = r[--(*n)];
			i--;
		}
	}
	return 0;
}

int memmap_usable(const struct mm_region *regions, int nregions,
		  const struct mm_range *reserved, int nreserved,
		  struct mm_range *out, int max, int *dropped)
{
	int n = 0;

	if (dropped)
		*dropped = 0;
	for (int i = 0; i < nregions; i++) {
		if (regions[i].type != MM_AVAILABLE || regions[i].len == 0)
			continue;
		uint64_t end = regions[i].base + regions[i].len;
		if (end < regions[i].base)      /* wraps: clamp to the top */
			end = ~0ULL;
		uint64_t s = (regions[i].base + PAGE - 1) & ~(PAGE - 1);
		uint64_t e = end & ~(PAGE - 1);
		if (s >= e)
			continue;
		if (n == max) {
			if (dropped)
				(*dropped)++;
			continue;
		}
		out[n].start = s;
		out[n].end = e;
		n++;
	}
	/* Anything not available wins over available where they overlap. */
	for (int i = 0; i < nregions; i++) {
		if (regions[i].type == MM_AVAILABLE || regions[i].len == 0)
			continue;
		uint64_t end = regions[i].base + regions[i].len;
		struct mm_range cut = {
			regions[i].base & ~(PAGE - 1),
			end < regions[i].base ? ~0ULL : (end + PAGE - 1) & ~(PAGE - 1),
		};
		subtract(out, &n, max, cut, dropped);
	}
	for (int i = 0; i < nreserved; i++) {
		struct mm_range cut = {
			reserved[i].start & ~(PAGE - 1),
			(reserved[i].end + PAGE - 1) & ~(PAGE - 1),
		};
		subtract(out, &n, max, cut, dropped);
	}
	/* Insertion sort (the list is short), then merge neighbours. */
	for (int i = 1; i < n; i++) {
		struct mm_range key = out[i];
		int j = i - 1;
		for (; j >= 0 && out[j].start > key.start; j--)
			out[j + 1] = out[j];
		out[j + 1] = key;
	}
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (m > 0 && out[i].start <= out[m - 1].end) {
			if (out[i].end > out[m - 1].end)
				out[m - 1].end = out[i].end;
		} else {
			out[m++] = out[i];
		}
	}
	return m;
}

uint64_t memmap_total(const struct mm_range *ranges, int n)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		total += ranges[i].end - ranges[i].start;
	return total;
}
