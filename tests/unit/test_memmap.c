#include <stdint.h>
#include <string.h>

#include "boot_memmap.h"
#include "unit.h"

#define MiB (1ULL << 20)

/* Append one Multiboot mmap entry (size-prefixed) to buf. */
static uint32_t put_entry(uint8_t *buf, uint32_t off, uint64_t base, uint64_t len,
			  uint32_t type)
{
	uint32_t size = 20;

	memcpy(buf + off, &size, 4);
	memcpy(buf + off + 4, &base, 8);
	memcpy(buf + off + 12, &len, 8);
	memcpy(buf + off + 20, &type, 4);
	return off + 24;
}

TEST(memmap_parse_reads_all_entries)
{
	uint8_t buf[256];
	uint32_t len = 0;
	struct mm_region r[8];

	len = put_entry(buf, len, 0, 0x9FC00, MM_AVAILABLE);
	len = put_entry(buf, len, 0x9FC00, 0x400, MM_RESERVED);
	len = put_entry(buf, len, 0x100000, 255 * MiB, MM_AVAILABLE);
	CHECK_EQ(memmap_parse_multiboot(buf, len, r, 8), 3);
	CHECK_EQ(r[1].base, 0x9FC00);
	CHECK_EQ(r[1].type, MM_RESERVED);
	CHECK_EQ(r[2].len, 255 * MiB);
}

TEST(memmap_parse_rejects_truncated_buffer)
{
	uint8_t buf[64];
	struct mm_region r[4];
	uint32_t len = put_entry(buf, 0, 0, 0x1000, MM_AVAILABLE);

	CHECK_EQ(memmap_parse_multiboot(buf, len - 1, r, 4), -1);
	uint32_t tiny = 8;
	memcpy(buf, &tiny, 4);   /* entry size below the 20-byte minimum */
	CHECK_EQ(memmap_parse_multiboot(buf, len, r, 4), -1);
}

TEST(memmap_parse_honours_larger_entry_size)
{
	uint8_t buf[64] = { 0 };
	struct mm_region r[4];
	uint32_t size = 28;      /* a loader may use bigger entries */
	uint64_t base = 0x200000, len = 0x1000;
	uint32_t type = MM_AVAILABLE;

	memcpy(buf, &size, 4);
	memcpy(buf + 4, &base, 8);
	memcpy(buf + 12, &len, 8);
	memcpy(buf + 20, &type, 4);
	memcpy(buf + 32, &size, 4);
	memcpy(buf + 36, &base, 8);
	CHECK_EQ(memmap_parse_multiboot(buf, 64, r, 4), 2);
	CHECK_EQ(r[1].base, 0x200000);
}

TEST(memmap_usable_aligns_to_pages)
{
	struct mm_region r[] = { { 0x1234, 0x10000, MM_AVAILABLE } };
	struct mm_range out[4];

	CHECK_EQ(memmap_usable(r, 1, NULL, 0, out, 4, NULL), 1);
	CHECK_EQ(out[0].start, 0x2000);
	CHECK_EQ(out[0].end, 0x11000);
}

TEST(memmap_usable_subtracts_reserved_and_splits)
{
	struct mm_region r[] = { { 0x100000, 16 * MiB, MM_AVAILABLE } };
	struct mm_range kernel[] = { { 0x200000, 0x200800 } };   /* partial page */
	struct mm_range out[4];

	CHECK_EQ(memmap_usable(r, 1, kernel, 1, out, 4, NULL), 2);
	CHECK_EQ(out[0].start, 0x100000);
	CHECK_EQ(out[0].end, 0x200000);
	CHECK_EQ(out[1].start, 0x201000);
	CHECK_EQ(out[1].end, 0x100000 + 16 * MiB);
}

TEST(memmap_usable_reserved_region_wins_overlap)
{
	struct mm_region r[] = {
		{ 0x100000, 8 * MiB, MM_AVAILABLE },
		{ 0x400000, 0x1000, MM_ACPI_NVS },   /* inside the available one */
	};
	struct mm_range out[4];

	CHECK_EQ(memmap_usable(r, 2, NULL, 0, out, 4, NULL), 2);
	CHECK_EQ(out[0].end, 0x400000);
	CHECK_EQ(out[1].start, 0x401000);
	CHECK_EQ(memmap_total(out, 2), 8 * MiB - 0x1000);
}

TEST(memmap_usable_sorts_and_merges)
{
	struct mm_region r[] = {
		{ 0x800000, 0x100000, MM_AVAILABLE },
		{ 0x100000, 0x700000, MM_AVAILABLE },   /* touches the first */
		{ 0x50000, 0x1000, MM_AVAILABLE },
	};
	struct mm_range out[4];

	CHECK_EQ(memmap_usable(r, 3, NULL, 0, out, 4, NULL), 2);
	CHECK_EQ(out[0].start, 0x50000);
	CHECK_EQ(out[1].start, 0x100000);
	CHECK_EQ(out[1].end, 0x900000);
}

TEST(memmap_usable_whole_region_reserved)
{
	struct mm_region r[] = { { 0x100000, 0x1000, MM_AVAILABLE } };
	struct mm_range res[] = { { 0, 0x200000 } };
	struct mm_range out[2];

	CHECK_EQ(memmap_usable(r, 1, res, 1, out, 2, NULL), 0);
}

TEST(memmap_usable_counts_dropped_ranges)
{
	struct mm_region r[] = {
		{ 0x100000, 0x1000, MM_AVAILABLE },
		{ 0x300000, 0x1000, MM_AVAILABLE },
		{ 0x500000, 0x1000, MM_AVAILABLE },
	};
	struct mm_range out[2];
	int dropped = 0;

	CHECK_EQ(memmap_usable(r, 3, NULL, 0, out, 2, &dropped), 2);
	CHECK_EQ(dropped, 1);
}

TEST(memmap_usable_clamps_wrapping_region)
{
	struct mm_region r[] = { { 0xFFFFFFFFFFFFF000ULL - 0x2000, 0x10000, MM_AVAILABLE } };
	struct mm_range out[2];

	CHECK_EQ(memmap_usable(r, 1, NULL, 0, out, 2, NULL), 1);
	CHECK(out[0].end > out[0].start);
}
