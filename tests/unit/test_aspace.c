/* A pager's address-space record (lib/aspace*.c) and the ELF loader
 * (lib/loader.c), with pages from the host's heap. */
#include <stdlib.h>
#include <string.h>

#include "lib/aspace.h"
#include "lib/loader.h"
#include "uapi/errors.h"
#include "uapi/ipc.h"
#include "unit.h"

#define RW (IPC_MAP_READ | IPC_MAP_WRITE)
#define RX (IPC_MAP_READ | IPC_MAP_EXEC)
#define WRITE_ACCESS 2
#define FETCH_ACCESS 16

static int pages_live, prepared;
static int out_of_pages;

static void *page_alloc(void *ctx)
{
	if (out_of_pages)
		return NULL;
	void *p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	pages_live++;
	return p;
}

static void page_free(void *ctx, void *page)
{
	free(page);
	pages_live--;
}

static bool prepare(void *ctx, uint64_t source)
{
	prepared++;
	return true;
}

static int tables_live, out_of_tables;

static void *table_alloc(void *ctx, size_t bytes)
{
	if (out_of_tables)
		return NULL;
	tables_live++;
	return malloc(bytes);
}

static void table_free(void *ctx, void *table, size_t bytes)
{
	tables_live--;
	free(table);
}

static const struct as_ops ops = { page_alloc, page_free, prepare, table_alloc, table_free, NULL,
				   NULL, NULL, NULL, NULL, NULL };
static struct aspace as;

static void fresh(void)
{
	pages_live = prepared = out_of_pages = out_of_tables = 0;
	as_init(&as, &ops, NULL, 400);
}

TEST(aspace_regions_are_checked)
{
	fresh();
	CHECK_EQ(as_add(&as, 0x1001, 4096, RW, AS_ANON, 0, false), -ERR_INVALID_ARG);
	CHECK_EQ(as_add(&as, 0x1000, 100, RW, AS_ANON, 0, false), -ERR_INVALID_ARG);
	CHECK_EQ(as_add(&as, 0x1000, 0, RW, AS_ANON, 0, false), -ERR_INVALID_ARG);
	CHECK_EQ(as_add(&as, 0x1000, 4096, 0, AS_ANON, 0, false), -ERR_INVALID_ARG);
	CHECK_EQ(as_add(&as, 0xFFFFFFFFFFFFF000ULL, 8192, RW, AS_ANON, 0, false), -ERR_INVALID_ARG);
	CHECK_EQ(as_add(&as, 0x10000, 0x4000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0xF000, 0x2000, RW, AS_ANON, 0, false), -ERR_RANGE);
	CHECK_EQ(as_add(&as, 0x13000, 0x1000, RW, AS_ANON, 0, false), -ERR_RANGE);
	CHECK_EQ(as_add(&as, 0x14000, 0x1000, RX, AS_ANON, 0, false), 0);
	CHECK(as_region_at(&as, 0x13FFF) && as_region_at(&as, 0x13FFF)->rights == RW);
	CHECK(as_region_at(&as, 0x14000) && as_region_at(&as, 0x14000)->rights == RX);
	CHECK(!as_region_at(&as, 0x15000));
	for (unsigned i = 2; i < AS_MAX_REGIONS; i++)
		CHECK_EQ(as_add(&as, 0x100000 + i * 0x1000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x900000, 0x1000, RW, AS_ANON, 0, false), -ERR_NO_MEMORY);
	as_release(&as);
	CHECK_EQ(as.nregions, 0);
}

/* The first AS_FIRST_REGIONS regions live in the record; more go to a
 * table from table_alloc that grows (4 KiB, 8, 16) up to AS_MAX_REGIONS
 * and is given back by as_release; no table, no more regions; as_move
 * carries both kinds. */
TEST(aspace_regions_past_the_first_take_a_table)
{
	static const struct as_ops shared_only;
	static struct aspace moved;
	uint8_t b = 7;

	fresh();
	tables_live = 0;
	for (unsigned i = 0; i < AS_FIRST_REGIONS; i++)
		CHECK_EQ(as_add(&as, 0x100000 + i * 0x2000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(tables_live, 0);
	CHECK(as.regions == as.first_regions);
	/* No table to be had: the next region is refused, nothing changed. */
	out_of_tables = 1;
	CHECK_EQ(as_add(&as, 0x900000, 0x1000, RW, AS_ANON, 0, false), -ERR_NO_MEMORY);
	CHECK_EQ(as_remove(&as, 0x106000, 0x1000), 0);         /* no split: no table */
	CHECK_EQ(as_add(&as, 0x106000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as.nregions, AS_FIRST_REGIONS);
	out_of_tables = 0;
	CHECK_EQ(as_copy_out(&as, 0x100000, &b, 1), 0);
	CHECK_EQ(as_add(&as, 0x900000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK(as.regions != as.first_regions);
	CHECK_EQ(as.region_capacity, 4096 / sizeof(struct as_region));
	CHECK_EQ(tables_live, 2);       /* the owned pages' and the regions' */
	b = 0;
	CHECK_EQ(as_copy_in(&as, &b, 0x100000, 1), 0);
	CHECK_EQ(b, 7);
	CHECK(as_region_at(&as, 0x100000 + (AS_FIRST_REGIONS - 1) * 0x2000));
	/* A split past the table's capacity grows it too (as_protect). */
	for (unsigned i = as.nregions; i < as.region_capacity - 1; i++)
		CHECK_EQ(as_add(&as, 0xA00000 + i * 0x2000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x2000000, 0x3000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as.nregions, as.region_capacity);
	CHECK_EQ(as_protect(&as, 0x2001000, 0x1000, IPC_MAP_READ), 0);
	CHECK_EQ(as.region_capacity, 8192 / sizeof(struct as_region));
	CHECK_EQ(as.nregions, 4096 / sizeof(struct as_region) + 2);
	CHECK_EQ(tables_live, 2);       /* the old one given back */
	/* Moved: the record and its table go with it. */
	as_move(&moved, &as);
	CHECK_EQ(as.nregions, 0);
	CHECK(as.regions == as.first_regions);
	CHECK(as_region_at(&moved, 0x2001000) && as_region_at(&moved, 0x2001000)->rights == IPC_MAP_READ);
	b = 0;
	CHECK_EQ(as_copy_in(&moved, &b, 0x100000, 1), 0);
	CHECK_EQ(b, 7);
	as_release(&moved);
	CHECK_EQ(tables_live, 0);
	CHECK(moved.regions == moved.first_regions);
	/* A small one moved keeps pointing into its own record. */
	as_init(&as, &ops, NULL, 400);
	CHECK_EQ(as_add(&as, 0x5000, 0x1000, RW, AS_ANON, 0, false), 0);
	as_move(&moved, &as);
	CHECK(moved.regions == moved.first_regions);
	CHECK(as_region_at(&moved, 0x5000));
	CHECK(!as_region_at(&as, 0x5000));
	as_release(&moved);
	/* Without table operations: AS_FIRST_REGIONS at most. */
	as_init(&as, &shared_only, NULL, 0);
	for (unsigned i = 0; i < AS_FIRST_REGIONS; i++)
		CHECK_EQ(as_add(&as, 0x100000 + i * 0x2000, 0x1000, RW, AS_SHARED, 0x1000, false), 0);
	CHECK_EQ(as_add(&as, 0x900000, 0x1000, RW, AS_SHARED, 0x1000, false), -ERR_NO_MEMORY);
	as_release(&as);
}

TEST(aspace_faults_give_zero_pages_with_the_regions_rights)
{
	uint64_t src, src2;
	unsigned rights;

	fresh();
	CHECK_EQ(as_add(&as, 0x400000, 0x2000, RX, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x600000, 0x2000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_fault(&as, 0x500000, 0, &src, &rights), -ERR_BAD_ADDRESS);
	CHECK_EQ(as_fault(&as, 0x400010, WRITE_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	CHECK_EQ(as_fault(&as, 0x600010, FETCH_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	CHECK_EQ(pages_live, 0);
	CHECK_EQ(as_fault(&as, 0x601234, WRITE_ACCESS, &src, &rights), 0);
	CHECK_EQ(rights, RW);
	CHECK_EQ(src % 4096, 0);
	CHECK_EQ(((uint8_t *)src)[0x234], 0);
	((uint8_t *)src)[0x234] = 7;
	CHECK_EQ(as_fault(&as, 0x601000, 0, &src2, &rights), 0);
	CHECK_EQ(src2, src);
	CHECK_EQ(pages_live, 1);
	CHECK_EQ(as_fault(&as, 0x400000, FETCH_ACCESS, &src2, &rights), 0);
	CHECK_EQ(rights, RX);
	CHECK_EQ(pages_live, 2);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_shared_regions_map_the_pagers_memory)
{
	static uint8_t mem[3 * 4096] __attribute__((aligned(4096)));
	uint64_t src;
	unsigned rights;

	fresh();
	CHECK_EQ(as_add(&as, 0x700000, sizeof(mem), IPC_MAP_READ, AS_SHARED, (uint64_t)mem, true), 0);
	CHECK_EQ(as_fault(&as, 0x702FFF, 0, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)mem + 0x2000);
	CHECK_EQ(rights, IPC_MAP_READ);
	CHECK_EQ(prepared, 1);
	CHECK_EQ(pages_live, 0);
	CHECK_EQ(as_fault(&as, 0x700000, WRITE_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	/* Not owned: released without being freed. */
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_preset_pages_and_running_out)
{
	uint64_t src;
	unsigned rights;

	fresh();
	uint8_t *info = as_preset(&as, 0x7000, IPC_MAP_READ);
	CHECK(info != NULL);
	info[5] = 42;
	CHECK_EQ(as_fault(&as, 0x7005, 0, &src, &rights), 0);
	CHECK_EQ(((uint8_t *)src)[5], 42);
	CHECK(as_preset(&as, 0x7000, RW) == NULL);              /* taken */
	out_of_pages = 1;
	CHECK(as_preset(&as, 0x9000, RW) == NULL);
	CHECK(!as_region_at(&as, 0x9000));                      /* nothing left behind */
	out_of_pages = 0;
	/* Up to max_pages (400) owned pages; the table grows on the way,
	 * and every page stays found. */
	CHECK_EQ(as_add(&as, 0x1000000, 0x1000000, RW, AS_ANON, 0, false), 0);
	for (unsigned i = 1; i < 400; i++) {
		CHECK_EQ(as_fault(&as, 0x1000000 + i * 4096, WRITE_ACCESS, &src, &rights), 0);
		*(uint32_t *)src = i;
	}
	CHECK_EQ(as.capacity, 1024);
	CHECK_EQ(tables_live, 1);
	CHECK_EQ(as_fault(&as, 0x1800000, WRITE_ACCESS, &src, &rights), -ERR_NO_MEMORY);
	for (unsigned i = 1; i < 400; i++) {
		CHECK_EQ(as_fault(&as, 0x1000000 + i * 4096, 0, &src, &rights), 0);
		CHECK_EQ(*(uint32_t *)src, i);
	}
	CHECK_EQ(pages_live, 400);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
	CHECK_EQ(tables_live, 0);
	/* No memory for a larger table: no more pages, nothing lost. */
	fresh();
	CHECK_EQ(as_add(&as, 0x1000000, 0x1000000, RW, AS_ANON, 0, false), 0);
	for (unsigned i = 0; i < AS_TABLE_FIRST / 2; i++)
		CHECK_EQ(as_fault(&as, 0x1000000 + i * 4096, WRITE_ACCESS, &src, &rights), 0);
	out_of_tables = 1;
	CHECK_EQ(as_fault(&as, 0x1800000, WRITE_ACCESS, &src, &rights), -ERR_NO_MEMORY);
	CHECK_EQ(as_fault(&as, 0x1000000, 0, &src, &rights), 0);
	CHECK_EQ(pages_live, AS_TABLE_FIRST / 2);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
	CHECK_EQ(tables_live, 0);
}

TEST(aspace_without_table_operations_owns_nothing)
{
	static const struct as_ops shared_only;
	static uint8_t mem[4096] __attribute__((aligned(4096)));
	uint64_t src;
	unsigned rights;

	as_init(&as, &shared_only, NULL, 0);
	CHECK_EQ(as_add(&as, 0x5000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x6000, 0x1000, RW, AS_SHARED, (uint64_t)mem, false), 0);
	CHECK_EQ(as_fault(&as, 0x5000, 0, &src, &rights), -ERR_NO_MEMORY);
	CHECK_EQ(as_fault(&as, 0x6000, WRITE_ACCESS, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)mem);
	CHECK(as_preset(&as, 0x7000, RW) == NULL);
	as_release(&as);
}

TEST(aspace_copies_check_every_byte)
{
	char buf[6000], back[6000];
	unsigned rights;
	uint64_t src;

	fresh();
	CHECK_EQ(as_add(&as, 0x10000, 0x3000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x13000, 0x1000, IPC_MAP_READ, AS_ANON, 0, false), 0);
	/* Untouched memory reads as zeros and stays unallocated. */
	memset(back, 1, sizeof(back));
	CHECK_EQ(as_copy_in(&as, back, 0x10800, sizeof(back)), 0);
	CHECK_EQ(pages_live, 0);
	for (size_t i = 0; i < sizeof(back); i++)
		CHECK_EQ(back[i], 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	CHECK_EQ(as_copy_out(&as, 0x10800, buf, sizeof(buf)), 0);     /* spans three pages */
	CHECK_EQ(pages_live, 2);
	CHECK_EQ(as_copy_in(&as, back, 0x10800, sizeof(back)), 0);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	CHECK_EQ(as_fault(&as, 0x11000, 0, &src, &rights), 0);
	CHECK_EQ(((char *)src)[0x10], buf[0x810]);
	/* Into the read-only region, past every region, wrapping around. */
	CHECK_EQ(as_copy_out(&as, 0x12FF0, buf, 32), -ERR_BAD_ADDRESS);
	CHECK_EQ(as_copy_in(&as, back, 0x13FF0, 32), -ERR_BAD_ADDRESS);
	CHECK_EQ(as_copy_in(&as, back, 0xFFFFFFFFFFFFFFF0ULL, 32), -ERR_BAD_ADDRESS);
	CHECK_EQ(as_copy_in(&as, back, 0x13FF0, 16), 0);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_remove_splits_regions_and_frees_their_pages)
{
	uint64_t src;
	unsigned rights;

	fresh();
	CHECK_EQ(as_add(&as, 0x100000, 0x20000, RW, AS_ANON, 0, false), 0);
	for (unsigned i = 0; i < 0x20; i++) {
		CHECK_EQ(as_fault(&as, 0x100000 + i * 4096, WRITE_ACCESS, &src, &rights), 0);
		*(uint32_t *)src = i;
	}
	CHECK_EQ(pages_live, 32);
	CHECK_EQ(as_remove(&as, 0x100800, 0x1000), -ERR_INVALID_ARG);
	CHECK_EQ(as_remove(&as, 0x108000, 0), -ERR_INVALID_ARG);
	CHECK_EQ(as_remove(&as, 0x108000, 0x4000), 0);          /* a hole in the middle */
	CHECK_EQ(pages_live, 28);
	CHECK_EQ(as.nregions, 2);
	CHECK(!as_region_at(&as, 0x108000) && !as_region_at(&as, 0x10B000));
	CHECK(as_region_at(&as, 0x107000) && as_region_at(&as, 0x10C000));
	CHECK_EQ(as_remove(&as, 0x100000, 0x2000), 0);          /* the front */
	CHECK_EQ(as_remove(&as, 0x11E000, 0x4000), 0);          /* the back, and beyond */
	CHECK_EQ(pages_live, 24);
	/* Every page left is still found, with its contents. */
	for (unsigned i = 0; i < 0x20; i++) {
		long err = as_fault(&as, 0x100000 + i * 4096, 0, &src, &rights);
		bool kept = (i >= 2 && i < 8) || (i >= 12 && i < 30);
		CHECK_EQ(err, kept ? 0 : -ERR_BAD_ADDRESS);
		if (kept)
			CHECK_EQ(*(uint32_t *)src, i);
	}
	CHECK_EQ(pages_live, 24);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_finds_free_aligned_room)
{
	uint64_t va;

	fresh();
	CHECK(as_find_free(&as, 0x100000, 0x200000, 0x4000, 0x4000, &va));
	CHECK_EQ(va, 0x100000);
	CHECK_EQ(as_add(&as, 0x100000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x108000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK(as_find_free(&as, 0x100000, 0x200000, 0x4000, 0x4000, &va));
	CHECK_EQ(va, 0x104000);
	CHECK(as_find_free(&as, 0x100000, 0x200000, 0x8000, 0x8000, &va));
	CHECK_EQ(va, 0x110000);
	CHECK(!as_find_free(&as, 0x100000, 0x110000, 0x8000, 0x8000, &va));
	CHECK(!as_find_free(&as, 0x100000, 0x200000, 0x200000, 0x200000, &va));
	/* Rounding up past 2^64 ends the search. */
	CHECK_EQ(as_add(&as, 0x200000, 0xFFFFFFFFFFFFF000ULL - 0x200000, RW, AS_ANON, 0, false), 0);
	CHECK(!as_find_free(&as, 0x200000, ~0ULL, 0x1000, 0x2000, &va));
	CHECK(!as_find_free(&as, ~0ULL - 5, ~0ULL, 0x1000, 0x2000, &va));
	as_release(&as);
}

/* ---- the loader ---- */

/* The start of the test files: an ELF-64 header and two program headers
 * (elf(5)). */
struct test_elf_head {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
	struct test_elf_ph {
		uint32_t type, flags;
		uint64_t offset, vaddr, paddr, filesz, memsz, align;
	} ph[2];
};

/* h (zeroed) made an x86-64 executable's header entering at entry, its
 * two program headers right after it. */
static void elf_head(struct test_elf_head *h, uint64_t entry)
{
	memcpy(h->ident, "\x7F" "ELF\x02\x01\x01", 7);
	h->type = 2;                            /* ET_EXEC */
	h->machine = 62;                        /* EM_X86_64 */
	h->version = 1;
	h->entry = entry;
	h->phoff = offsetof(struct test_elf_head, ph);
	h->ehsize = 64;
	h->phentsize = sizeof(h->ph[0]);
	h->phnum = 2;
}

/* ph made a PT_LOAD of flags (4 R, 2 W, 1 X): filesz bytes of the file
 * from offset at vaddr, memsz in memory. */
static void elf_load(struct test_elf_ph *ph, uint32_t flags, uint64_t offset, uint64_t vaddr,
		     uint64_t filesz, uint64_t memsz)
{
	ph->type = 1;
	ph->flags = flags;
	ph->offset = offset;
	ph->vaddr = vaddr;
	ph->filesz = filesz;
	ph->memsz = memsz;
}

struct test_elf {
	struct test_elf_head h;
	uint8_t text[64];
	uint8_t data[16];
};

static void make_elf(struct test_elf *e)
{
	memset(e, 0, sizeof(*e));
	elf_head(&e->h, 0x400010);
	elf_load(&e->h.ph[0], 5, offsetof(struct test_elf, text), 0x400000, sizeof(e->text),
		 sizeof(e->text));
	/* (The data straddles a page.) */
	elf_load(&e->h.ph[1], 6, offsetof(struct test_elf, data), 0x401ff8, sizeof(e->data), 0x3000);
	for (unsigned i = 0; i < sizeof(e->text); i++)
		e->text[i] = (uint8_t)(0x90 + i);
	for (unsigned i = 0; i < sizeof(e->data); i++)
		e->data[i] = (uint8_t)(i + 1);
}

TEST(loader_maps_segments_with_their_rights_and_zero_fill)
{
	static struct test_elf e;
	uint64_t entry = 0, src;
	unsigned rights;
	uint8_t b[32];

	make_elf(&e);
	fresh();
	CHECK(loader_load_elf(&as, &e, sizeof(e), 0x400000, 0x1000000, &entry) == NULL);
	CHECK_EQ(entry, 0x400010);
	CHECK_EQ(as_region_at(&as, 0x400000)->rights, RX);
	CHECK_EQ(as_region_at(&as, 0x401000)->rights, RW);
	CHECK_EQ(as_region_at(&as, 0x404000)->rights, RW);     /* 0x401ff8 + 0x3000 */
	CHECK(!as_region_at(&as, 0x405000));
	CHECK_EQ(pages_live, 1 + 4);                            /* loaded now, not on touch */
	CHECK_EQ(as_copy_in(&as, b, 0x400000, 4), 0);
	CHECK_EQ(b[0], 0x90);
	CHECK_EQ(b[3], 0x93);
	CHECK_EQ(as_copy_in(&as, b, 0x401ff0, 32), 0);
	for (unsigned i = 0; i < 8; i++)
		CHECK_EQ(b[i], 0);
	for (unsigned i = 0; i < 16; i++)
		CHECK_EQ(b[8 + i], i + 1);
	for (unsigned i = 24; i < 32; i++)
		CHECK_EQ(b[i], 0);
	CHECK_EQ(as_fault(&as, 0x400000, WRITE_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(loader_refuses_what_does_not_fit)
{
	static struct test_elf e;
	uint64_t entry = 0;

	make_elf(&e);
	fresh();
	CHECK(loader_load_elf(&as, &e, sizeof(e), 0x401000, 0x1000000, &entry) != NULL);
	CHECK_EQ(as.nregions, 0);
	CHECK(loader_load_elf(&as, &e, sizeof(e), 0x400000, 0x402000, &entry) != NULL);
	CHECK(loader_load_elf(&as, &e, 40, 0x400000, 0x1000000, &entry) != NULL);
	e.h.ident[1] = 'X';
	CHECK(!strcmp(loader_load_elf(&as, &e, sizeof(e), 0x400000, 0x1000000, &entry),
		      "not an ELF file"));
	make_elf(&e);
	out_of_pages = 1;
	CHECK(!strcmp(loader_load_elf(&as, &e, sizeof(e), 0x400000, 0x1000000, &entry),
		      "out of memory"));
	out_of_pages = 0;
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_resize_grows_into_free_space_and_shrinks_freeing_pages)
{
	uint8_t b = 7;

	fresh();
	CHECK_EQ(as_add(&as, 0x10000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x20000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_resize(&as, 0x11000, 0x12000), -ERR_INVALID_ARG);   /* no region starts there */
	CHECK_EQ(as_resize(&as, 0x10000, 0x10000), -ERR_INVALID_ARG);
	CHECK_EQ(as_resize(&as, 0x10000, 0x12001), -ERR_INVALID_ARG);
	CHECK_EQ(as_resize(&as, 0x10000, 0x21000), -ERR_RANGE);
	CHECK_EQ(as_resize(&as, 0x10000, 0x20000), 0);
	CHECK_EQ(as_copy_out(&as, 0x1F000, &b, 1), 0);
	CHECK_EQ(as_copy_out(&as, 0x10000, &b, 1), 0);
	CHECK_EQ(pages_live, 2);
	CHECK_EQ(as_resize(&as, 0x10000, 0x11000), 0);
	CHECK_EQ(pages_live, 1);
	CHECK(!as_region_at(&as, 0x11000));
	CHECK_EQ(as_copy_out(&as, 0x1F000, &b, 1), -ERR_BAD_ADDRESS);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

/* as_move_pages: the owned pages of a range at the new addresses, the
 * same pages (their bytes kept, none allocated or freed), the old range
 * owning none; a range short (page by page) and one longer than the
 * table (walked) alike. */
TEST(aspace_move_pages_keeps_the_pages_at_their_new_addresses)
{
	uint8_t b;

	fresh();
	CHECK_EQ(as_add(&as, 0x100000, 0x40000000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x80000000, 0x40000000, RW, AS_ANON, 0, false), 0);
	for (unsigned i = 0; i < 300; i++) {
		b = (uint8_t)(i | 1);
		CHECK_EQ(as_copy_out(&as, 0x100000 + i * 0x3000ULL, &b, 1), 0);
	}
	void *first = as_page(&as, 0x100000);
	int live = pages_live;
	/* Short: 16 pages (6 owned) to 0x80000000. */
	as_move_pages(&as, 0x100000, 0x10000, 0x80000000);
	CHECK_EQ(pages_live, live);
	CHECK(as_page(&as, 0x80000000) == first);
	CHECK_EQ(pages_live, live);
	b = 0;
	CHECK_EQ(as_copy_in(&as, &b, 0x100000, 1), 0);
	CHECK_EQ(b, 0);                                 /* old: untouched, reads zero */
	CHECK_EQ(as_copy_in(&as, &b, 0x80003000, 1), 0);
	CHECK_EQ(b, 1);                                 /* page 1 of the loop */
	/* Long: the rest, a range of more pages than the table has slots. */
	as_move_pages(&as, 0x110000, 0x3FFF0000, 0x80010000);
	CHECK_EQ(pages_live, live);
	unsigned right = 0;
	for (unsigned i = 0; i < 300; i++) {
		b = 0;
		CHECK_EQ(as_copy_in(&as, &b, 0x80000000 + i * 0x3000ULL, 1), 0);
		right += b == (uint8_t)(i | 1);
		CHECK_EQ(as_copy_in(&as, &b, 0x100000 + i * 0x3000ULL, 1), 0);
		right += b == 0;
	}
	CHECK_EQ(right, 600);
	CHECK_EQ(pages_live, live);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(loader_reports_program_headers_and_image_end)
{
	static struct test_elf e;
	struct loader_image img;

	make_elf(&e);
	/* The first segment loads the file from offset 0: the headers come with it. */
	e.h.ph[0].offset = 0;
	e.h.ph[0].filesz = e.h.ph[0].memsz = sizeof(e);
	e.h.ph[1].vaddr = 0x402ff8;
	fresh();
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x1000000, 0, &img) == NULL);
	CHECK_EQ(img.entry, 0x400010);
	CHECK_EQ(img.phdr, 0x400000 + offsetof(struct test_elf, h.ph));
	CHECK_EQ(img.phnum, 2);
	CHECK_EQ(img.end, 0x406000);            /* 0x402ff8 + 0x3000, rounded up */
	as_release(&as);
	/* Headers in no loaded byte: no address for them. */
	make_elf(&e);
	fresh();
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x1000000, 0, &img) == NULL);
	CHECK_EQ(img.phdr, 0);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(loader_moves_a_static_pie_and_names_an_interpreter)
{
	static struct test_elf e;
	struct loader_image img;
	uint64_t entry;
	uint8_t b;

	make_elf(&e);
	e.h.type = 3;                           /* ET_DYN */
	fresh();
	/* init's loader takes ET_EXEC only. */
	CHECK(!strcmp(loader_load_elf(&as, &e, sizeof(e), 0x400000, 0x1000000, &entry),
		      "not a 64-bit little-endian x86-64 executable"));
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x20000000, 0x10000000, &img) == NULL);
	CHECK_EQ(img.entry, 0x10400010);
	CHECK_EQ(img.end, 0x10405000);
	CHECK_EQ(as_region_at(&as, 0x10400000)->rights, RX);
	CHECK(!as_region_at(&as, 0x400000));
	CHECK_EQ(as_copy_in(&as, &b, 0x10400001, 1), 0);
	CHECK_EQ(b, 0x91);
	as_release(&as);
	/* Moved past the window's top, or wrapping: refused. */
	fresh();
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x20000000, 0x1FF00000, &img) != NULL);
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x20000000, 0xFFFFFFFFFFC00000ULL, &img) != NULL);
	as_release(&as);
	/* PT_INTERP: a dynamically linked program names its interpreter;
	 * init's loader refuses it. */
	make_elf(&e);
	e.h.ph[1].type = 3;
	e.data[sizeof(e.data) - 1] = 0;
	fresh();
	CHECK(!strcmp(loader_load_elf(&as, &e, sizeof(e), 0x400000, 0x1000000, &entry),
		      "a dynamically linked program (PT_INTERP): not supported"));
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x1000000, 0, &img) == NULL);
	CHECK(img.interp == (const char *)&e + e.h.ph[1].offset);
	as_release(&as);
	/* A path without its NUL in the file: refused. */
	e.h.ph[1].offset = sizeof(e) - 1;
	e.h.ph[1].filesz = 1;
	((uint8_t *)&e)[sizeof(e) - 1] = 'x';
	fresh();
	CHECK(loader_load(&as, &e, sizeof(e), 0x400000, 0x1000000, 0, &img) != NULL);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_protect_splits_regions_and_keeps_pages)
{
	uint64_t src;
	unsigned rights;
	uint8_t b = 5;

	fresh();
	CHECK_EQ(as_add(&as, 0x10000, 0x4000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x14000, 0x2000, RX, AS_ANON, 0, false), 0);
	CHECK_EQ(as_copy_out(&as, 0x11000, &b, 1), 0);
	CHECK_EQ(pages_live, 1);
	CHECK_EQ(as_protect(&as, 0x11001, 0x1000, 0), -ERR_INVALID_ARG);
	CHECK_EQ(as_protect(&as, 0x11000, 0, 0), -ERR_INVALID_ARG);
	CHECK_EQ(as_protect(&as, 0x15000, 0x2000, 0), -ERR_BAD_ADDRESS);   /* past the end */
	CHECK_EQ(as.nregions, 2);
	/* The middle of the first and the start of the second, read-only. */
	CHECK_EQ(as_protect(&as, 0x11000, 0x4000, IPC_MAP_READ), 0);
	CHECK_EQ(as.nregions, 4);
	CHECK_EQ(as_region_at(&as, 0x10000)->rights, RW);
	CHECK_EQ(as_region_at(&as, 0x11000)->rights, IPC_MAP_READ);
	CHECK_EQ(as_region_at(&as, 0x14FFF)->rights, IPC_MAP_READ);
	CHECK_EQ(as_region_at(&as, 0x15000)->rights, RX);
	CHECK_EQ(pages_live, 1);                               /* the page stays */
	CHECK_EQ(as_copy_in(&as, &b, 0x11000, 1), 0);
	CHECK_EQ(b, 5);
	CHECK_EQ(as_copy_out(&as, 0x11000, &b, 1), -ERR_BAD_ADDRESS);
	CHECK_EQ(as_fault(&as, 0x11000, WRITE_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	CHECK_EQ(as_fault(&as, 0x11000, 0, &src, &rights), 0);
	/* No access at all. */
	CHECK_EQ(as_protect(&as, 0x11000, 0x1000, 0), 0);
	CHECK_EQ(as_fault(&as, 0x11000, 0, &src, &rights), -ERR_NO_RIGHTS);
	CHECK_EQ(as_copy_in(&as, &b, 0x11000, 1), -ERR_BAD_ADDRESS);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

TEST(aspace_label_limits_protect_and_splits_keep_offset_and_tag)
{
	fresh();
	CHECK_EQ(as_add(&as, 0x10000, 0x4000, IPC_MAP_READ, AS_ANON, 0x3000, false), 0);
	CHECK_EQ(as_add(&as, 0x14000, 0x1000, IPC_MAP_READ, AS_ANON, 0, false), 0);
	CHECK_EQ(as_region_at(&as, 0x10000)->max_rights, ~0u);
	CHECK_EQ(as_region_at(&as, 0x10000)->tag, 0);
	as_label(&as, 0x10000, 0x4000, RX, 77, 0x3000);
	CHECK_EQ(as_region_at(&as, 0x14000)->tag, 0);           /* outside: untouched */
	/* Beyond its max_rights anywhere in the range: refused, nothing changes. */
	CHECK_EQ(as_protect(&as, 0x11000, 0x4000, RW), -ERR_NO_RIGHTS);
	CHECK_EQ(as.nregions, 2);
	CHECK_EQ(as_protect(&as, 0x14000, 0x1000, RW), 0);
	/* Within: split, each part keeps the tag and its offset. */
	CHECK_EQ(as_protect(&as, 0x11000, 0x1000, RX), 0);
	CHECK_EQ(as_region_at(&as, 0x11000)->tag, 77);
	CHECK_EQ(as_region_at(&as, 0x11000)->source, 0x4000);
	CHECK_EQ(as_region_at(&as, 0x12000)->source, 0x5000);
	CHECK_EQ(as_region_at(&as, 0x12000)->max_rights, RX);
	CHECK_EQ(as_remove(&as, 0x12000, 0x1000), 0);
	CHECK_EQ(as_region_at(&as, 0x13000)->source, 0x6000);
	CHECK_EQ(as_region_at(&as, 0x13000)->tag, 77);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

static void count_owned(void *ctx, uint64_t va, void *page)
{
	*(uint64_t *)ctx += va;
}

TEST(aspace_each_owned_visits_the_pages_of_a_range_small_or_huge)
{
	uint8_t b = 1;
	uint64_t sum = 0;

	fresh();
	CHECK_EQ(as_add(&as, 0x10000, 1UL << 40, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_copy_out(&as, 0x11000, &b, 1), 0);
	CHECK_EQ(as_copy_out(&as, 0x13000, &b, 1), 0);
	CHECK_EQ(as_copy_out(&as, 0x10000 + (1UL << 39), &b, 1), 0);
	as_each_owned(&as, 0x11000, 0x13000, count_owned, &sum);
	CHECK_EQ(sum, 0x11000);
	sum = 0;
	as_each_owned(&as, 0x10000, 0x10000 + (1UL << 40), count_owned, &sum);   /* by the table */
	CHECK_EQ(sum, 0x11000 + 0x13000 + 0x10000 + (1UL << 39));
	sum = 0;
	as_each_owned(&as, 0x14000, 0x10000 + (1UL << 39), count_owned, &sum);
	CHECK_EQ(sum, 0);
	as_release(&as);
	CHECK_EQ(pages_live, 0);
}

/* Copy-on-write: pages with a count of their owners (as the POSIX
 * server's memory.c keeps them). */
#define COW_PAGES 16
static void *cow_page[COW_PAGES];
static unsigned cow_owners[COW_PAGES], cow_write_revoked, cow_unmapped;

static unsigned *owners_of(void *page)
{
	for (unsigned i = 0; i < COW_PAGES; i++)
		if (cow_page[i] == page)
			return &cow_owners[i];
	for (unsigned i = 0; i < COW_PAGES; i++)
		if (!cow_page[i]) {
			cow_page[i] = page;
			cow_owners[i] = 1;
			return &cow_owners[i];
		}
	abort();
}

static void cow_page_free(void *ctx, void *page)
{
	unsigned *n = owners_of(page);

	cow_unmapped++;
	if (--*n)
		return;
	for (unsigned i = 0; i < COW_PAGES; i++)
		if (cow_page[i] == page)
			cow_page[i] = NULL;
	page_free(ctx, page);
}

static void cow_page_share(void *ctx, void *page)
{
	++*owners_of(page);
	cow_write_revoked++;
}

static unsigned cow_page_owners(void *ctx, void *page)
{
	return *owners_of(page);
}

/* as_share and as_adopt end with share_flush (the pager may batch its
 * revocations until then). */
static int cow_flushes;

static void cow_share_flush(void *ctx)
{
	cow_flushes++;
}

static const struct as_ops cow_ops = { page_alloc, cow_page_free, NULL, table_alloc, table_free,
				       cow_page_share, cow_page_owners, NULL, NULL, NULL,
				       cow_share_flush };

TEST(aspace_share_is_copy_on_write)
{
	static struct aspace parent, child, other;
	uint64_t src, src2, src3;
	unsigned rights;
	uint8_t b;

	fresh();
	as_init(&parent, &cow_ops, NULL, 400);
	as_init(&child, &cow_ops, NULL, 400);
	CHECK_EQ(as_add(&parent, 0x10000, 0x4000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&parent, 0x20000, 0x1000, RX, AS_ANON, 0, false), 0);
	b = 1;
	CHECK_EQ(as_copy_out(&parent, 0x10000, &b, 1), 0);
	CHECK_EQ(as_copy_out(&parent, 0x11000, &b, 1), 0);
	CHECK_EQ(as_copy_out(&parent, 0x13000, &b, 1), 0);
	CHECK_EQ(as_fault(&parent, 0x20000, FETCH_ACCESS, &src, &rights), 0);
	CHECK_EQ(pages_live, 4);
	cow_flushes = 0;
	CHECK_EQ(as_share(&child, &parent), 0);
	CHECK_EQ(cow_flushes, 1);
	CHECK_EQ(as_share(&child, &parent), -ERR_INVALID_ARG);   /* not empty */
	CHECK_EQ(pages_live, 4);        /* no page copied; a table of its own */
	CHECK_EQ(tables_live, 2);
	CHECK_EQ(cow_write_revoked, 4);
	CHECK_EQ(child.nregions, 2);
	CHECK_EQ(child.npages, 4);

	/* Both read the same page, without write access. */
	CHECK_EQ(as_fault(&parent, 0x10000, 0, &src, &rights), 0);
	CHECK_EQ(as_fault(&child, 0x10000, 0, &src2, &rights), 0);
	CHECK_EQ(src, src2);
	CHECK_EQ(rights, IPC_MAP_READ);
	CHECK_EQ(as_fault(&child, 0x20000, FETCH_ACCESS, &src2, &rights), 0);
	CHECK_EQ(rights, RX);

	/* The child's write (a fault) gets a copy; the parent keeps its. */
	CHECK_EQ(as_fault(&child, 0x10000, WRITE_ACCESS | 1, &src2, &rights), 0);
	CHECK(src2 != src);
	CHECK_EQ(rights, RW);
	CHECK_EQ(pages_live, 5);
	((uint8_t *)src2)[0] = 2;
	CHECK_EQ(as_copy_in(&parent, &b, 0x10000, 1), 0);
	CHECK_EQ(b, 1);
	CHECK_EQ(as_copy_in(&child, &b, 0x10000, 1), 0);
	CHECK_EQ(b, 2);
	/* The parent, the last owner now, writes its page itself: mapped
	 * again writable (the kernel extends the read-only mapping's
	 * rights), nothing revoked. */
	unsigned unmapped = cow_unmapped;
	CHECK_EQ(as_fault(&parent, 0x10000, WRITE_ACCESS | 1, &src3, &rights), 0);
	CHECK_EQ(src3, src);
	CHECK_EQ(rights, RW);
	CHECK_EQ(cow_unmapped, unmapped);

	/* The parent's copy_out (a read into its buffer) gets a copy too. */
	b = 3;
	CHECK_EQ(as_copy_out(&parent, 0x11000, &b, 1), 0);
	CHECK_EQ(pages_live, 6);
	CHECK_EQ(as_copy_in(&child, &b, 0x11000, 1), 0);
	CHECK_EQ(b, 1);
	/* A page never touched before the fork is each one's own. */
	CHECK_EQ(as_fault(&child, 0x12000, WRITE_ACCESS, &src, &rights), 0);
	CHECK_EQ(as_fault(&parent, 0x12000, WRITE_ACCESS, &src2, &rights), 0);
	CHECK(src != src2);

	/* No room for the table: the fork fails, nothing is shared. */
	as_init(&other, &cow_ops, NULL, 400);
	out_of_tables = 1;
	CHECK_EQ(as_share(&other, &parent), -ERR_NO_MEMORY);
	out_of_tables = 0;
	CHECK_EQ(other.nregions, 0);
	/* No page for the copy: the write is refused, the page stays shared. */
	as_release(&other);
	as_init(&other, &cow_ops, NULL, 2);
	CHECK_EQ(as_share(&other, &parent), -ERR_NO_MEMORY);     /* owns more than 2 */
	out_of_pages = 1;
	CHECK_EQ(as_fault(&child, 0x20000, WRITE_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	CHECK_EQ(as_fault(&child, 0x13000, WRITE_ACCESS | 1, &src, &rights), -ERR_NO_MEMORY);
	CHECK_EQ(as_copy_out(&child, 0x13000, &b, 1), -ERR_NO_MEMORY);
	out_of_pages = 0;
	CHECK_EQ(as_fault(&child, 0x13000, 0, &src, &rights), 0);
	CHECK_EQ(rights, IPC_MAP_READ);         /* still shared */

	/* A page of the pager's own (a file's, cached) adopted by two:
	 * read-only for both, a write copies, the pager's copy stays. */
	void *cached = page_alloc(NULL);
	(void)owners_of(cached);                /* the cache is its first owner */
	((uint8_t *)cached)[5] = 9;
	CHECK_EQ(as_add(&other, 0x40000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_adopt(&other, 0x40000, cached), 0);
	CHECK_EQ(cow_flushes, 2);
	CHECK_EQ(as_adopt(&other, 0x40000, cached), -ERR_INVALID_ARG);  /* owned already */
	CHECK_EQ(as_adopt(&other, 0x50000, cached), -ERR_INVALID_ARG);  /* no region */
	CHECK_EQ(as_add(&child, 0x40000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_adopt(&child, 0x40000, cached), 0);
	CHECK_EQ(*owners_of(cached), 3);
	CHECK_EQ(as_fault(&other, 0x40000, 0, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)cached);
	CHECK_EQ(rights, IPC_MAP_READ);
	CHECK_EQ(as_fault(&child, 0x40005, WRITE_ACCESS, &src, &rights), 0);
	CHECK(src != (uint64_t)cached);
	CHECK_EQ(((uint8_t *)src)[5], 9);
	CHECK_EQ(*owners_of(cached), 2);
	as_release(&other);
	CHECK_EQ(*owners_of(cached), 1);
	cow_page_free(NULL, cached);

	as_release(&child);
	as_release(&parent);
	CHECK_EQ(pages_live, 0);
	CHECK_EQ(tables_live, 0);
}

/* ---- AS_OBJECT: a memory object's pages, the same for every mapper ---- */

#define OBJ_PAGES 8
static void *obj_page[OBJ_PAGES];
static int obj_holds, obj_released_pages, obj_last, obj_writes;

static long obj_get(void *ctx, uint64_t object, uint64_t offset, bool create, bool write,
		    void **page)
{
	uint64_t i = offset / 4096;

	*page = NULL;
	obj_writes += write;
	if (object != 7 || i >= OBJ_PAGES)
		return -ERR_BAD_ADDRESS;
	if (!obj_page[i] && create && !(obj_page[i] = page_alloc(NULL)))
		return -ERR_NO_MEMORY;
	*page = obj_page[i];
	return 0;
}

static void obj_hold(void *ctx, uint64_t object)
{
	obj_holds++;
}

static void obj_release(void *ctx, uint64_t object, uint64_t offset, uint64_t size, bool last)
{
	obj_released_pages += (int)(size / 4096);
	if (last) {
		obj_holds--;
		obj_last++;
	}
}

static const struct as_ops obj_ops = { page_alloc, cow_page_free, NULL, table_alloc, table_free,
				       cow_page_share, cow_page_owners, obj_get, obj_hold,
				       obj_release, NULL };

TEST(aspace_object_regions_share_the_objects_pages)
{
	static struct aspace a, b;
	uint64_t src, src2;
	unsigned rights;
	uint8_t v;

	fresh();
	as_init(&a, &obj_ops, NULL, 400);
	as_init(&b, &obj_ops, NULL, 400);
	CHECK_EQ(as_add_object(&as, 0x10000, 0x2000, RW, 7, 0), -ERR_INVALID_ARG);  /* no object ops */
	CHECK_EQ(as_add_object(&a, 0x10000, 0x4000, RW, 7, 0x2000), 0);
	CHECK_EQ(obj_holds, 1);
	CHECK_EQ(as_add_object(&a, 0x12000, 0x1000, RW, 7, 0), -ERR_RANGE);
	CHECK_EQ(obj_holds, 1);
	/* A write, by fault or copy, goes into the object's page itself,
	 * and the object is told it is written (a file's mtime); a read
	 * is not. */
	obj_writes = 0;
	CHECK_EQ(as_fault(&a, 0x10000, WRITE_ACCESS, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)obj_page[2]);
	CHECK_EQ(rights, RW);
	CHECK_EQ(obj_writes, 1);
	v = 5;
	CHECK_EQ(as_copy_out(&a, 0x11003, &v, 1), 0);
	CHECK_EQ(((uint8_t *)obj_page[3])[3], 5);
	CHECK_EQ(obj_writes, 2);
	CHECK_EQ(as_copy_in(&a, &v, 0x12000, 1), 0);        /* no page yet: zeros, none made */
	CHECK_EQ(v, 0);
	CHECK_EQ(as_fault(&a, 0x10000, 0, &src, &rights), 0);
	CHECK_EQ(obj_writes, 2);
	CHECK(obj_page[4] == NULL);
	CHECK_EQ(a.npages, 0);                              /* the object's, not owned */
	/* A fork's child maps the same pages, writable, not copied. */
	CHECK_EQ(as_share(&b, &a), 0);
	CHECK_EQ(obj_holds, 2);
	CHECK_EQ(as_fault(&b, 0x11000, WRITE_ACCESS | 1, &src2, &rights), 0);
	CHECK_EQ(src2, (uint64_t)obj_page[3]);
	CHECK_EQ(rights, RW);
	/* Past the object's end: refused. */
	CHECK_EQ(as_add_object(&b, 0x30000, 0x8000, RW, 7, 0x4000), 0);
	CHECK_EQ(as_fault(&b, 0x34000, 0, &src, &rights), -ERR_BAD_ADDRESS);
	CHECK_EQ(as_copy_out(&b, 0x34000, &v, 1), -ERR_BAD_ADDRESS);
	/* Cut in the middle: the upper part holds it too; the middle is
	 * released, not the hold. */
	obj_released_pages = obj_last = 0;
	CHECK_EQ(as_remove(&a, 0x11000, 0x1000), 0);
	CHECK_EQ(obj_holds, 4);
	CHECK_EQ(obj_released_pages, 1);
	CHECK_EQ(obj_last, 0);
	CHECK_EQ(as_fault(&a, 0x12000, WRITE_ACCESS, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)obj_page[4]);               /* the offset moved with it */
	CHECK_EQ(as_protect(&a, 0x13000, 0x1000, IPC_MAP_READ), 0);
	CHECK_EQ(obj_holds, 5);
	CHECK_EQ(as_fault(&a, 0x13000, WRITE_ACCESS, &src, &rights), -ERR_NO_RIGHTS);
	CHECK_EQ(as_fault(&a, 0x13000, 0, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)obj_page[5]);
	CHECK_EQ(rights, IPC_MAP_READ);
	as_release(&a);
	CHECK_EQ(obj_holds, 2);
	as_release(&b);
	CHECK_EQ(obj_holds, 0);
	CHECK_EQ(obj_released_pages, 1 + 3 + 4 + 8);   /* the cut; a's three; b's two */
	for (int i = 0; i < OBJ_PAGES; i++)
		if (obj_page[i]) {
			free(obj_page[i]);
			pages_live--;
			obj_page[i] = NULL;
		}
	CHECK_EQ(pages_live, 0);
	CHECK_EQ(tables_live, 0);
}

/* Neighbours that go on with the same memory become one region, as
 * Linux merges mappings; others stay apart. */
TEST(aspace_merge_joins_neighbours_that_go_on)
{
	uint64_t src;
	unsigned rights;

	fresh();
	/* 1000 abutting anonymous pages, each added and merged: one region. */
	for (uint64_t i = 0; i < 1000; i++) {
		CHECK_EQ(as_add(&as, 0x100000 + i * 0x1000, 0x1000, RW, AS_ANON, 0, false), 0);
		as_merge(&as, 0x100000 + i * 0x1000, 0x101000 + i * 0x1000);
	}
	CHECK_EQ(as.nregions, 1);
	CHECK_EQ(as.regions[0].start, 0x100000);
	CHECK_EQ(as.regions[0].end, 0x100000 + 1000 * 0x1000);
	CHECK_EQ(as_fault(&as, 0x100000 + 999 * 0x1000, WRITE_ACCESS, &src, &rights), 0);
	CHECK_EQ(pages_live, 1);
	/* A protect in the middle splits; protecting back joins again. */
	CHECK_EQ(as_protect(&as, 0x200000, 0x1000, IPC_MAP_READ), 0);
	as_merge(&as, 0x200000, 0x201000);
	CHECK_EQ(as.nregions, 3);
	CHECK_EQ(as_protect(&as, 0x200000, 0x1000, RW), 0);
	as_merge(&as, 0x200000, 0x201000);
	CHECK_EQ(as.nregions, 1);
	/* Other rights, a gap, another kind: apart. */
	CHECK_EQ(as_add(&as, 0x100000 + 1000 * 0x1000, 0x1000, RX, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x100000 + 1002 * 0x1000, 0x1000, RW, AS_ANON, 0, false), 0);
	CHECK_EQ(as_add(&as, 0x0F0000, 0x10000, RW, AS_SHARED, 0x40000000, false), 0);
	as_merge(&as, 0, 0x2000000);
	CHECK_EQ(as.nregions, 4);
	/* A file's pages (tag) join only where the offsets go on. */
	CHECK_EQ(as_add(&as, 0x3000000, 0x2000, RW, AS_ANON, 0, false), 0);
	as_label(&as, 0x3000000, 0x2000, ~0u, 9, 0x5000);
	CHECK_EQ(as_add(&as, 0x3002000, 0x1000, RW, AS_ANON, 0, false), 0);
	as_label(&as, 0x3002000, 0x1000, ~0u, 9, 0x9000);
	as_merge(&as, 0x3002000, 0x3003000);
	CHECK_EQ(as.nregions, 6);
	CHECK_EQ(as_add(&as, 0x3003000, 0x1000, RW, AS_ANON, 0, false), 0);
	as_label(&as, 0x3003000, 0x1000, ~0u, 9, 0xA000);
	as_merge(&as, 0x3003000, 0x3004000);
	CHECK_EQ(as.nregions, 6);
	CHECK(as_region_at(&as, 0x3003000)->start == 0x3002000);
	/* Removing the whole merged range frees its page. */
	CHECK_EQ(as_remove(&as, 0x100000, 1000 * 0x1000), 0);
	CHECK_EQ(pages_live, 0);
	CHECK(as_region_at(&as, 0x180000) == NULL);
	as_release(&as);
}

TEST(aspace_merge_of_object_regions_drops_a_hold)
{
	static struct aspace a;

	fresh();
	obj_holds = obj_last = obj_released_pages = 0;
	as_init(&a, &obj_ops, NULL, 400);
	CHECK_EQ(as_add_object(&a, 0x10000, 0x2000, RW, 7, 0), 0);
	CHECK_EQ(as_add_object(&a, 0x12000, 0x1000, RW, 7, 0x2000), 0);
	CHECK_EQ(as_add_object(&a, 0x13000, 0x1000, RW, 7, 0x5000), 0);  /* offset jumps */
	CHECK_EQ(obj_holds, 3);
	as_merge(&a, 0x10000, 0x14000);
	CHECK_EQ(a.nregions, 2);
	CHECK_EQ(obj_holds, 2);
	CHECK_EQ(obj_released_pages, 0);        /* nothing revoked */
	as_release(&a);
	CHECK_EQ(obj_holds, 0);
}

/* loader_load_shared: a page of a segment that is 4 KiB of the file
 * whole comes from the pager's pages (a file cache) and is shared
 * copy-on-write; a page with the segment's zeros, or of a file offset
 * not page aligned, is a copy. */
static struct {
	struct test_elf_head h;
	uint8_t pad[4096 - sizeof(struct test_elf_head)];
	uint8_t body[0x3000];
} __attribute__((aligned(4096))) big_elf;

static void *cached_pages[4];
static unsigned cached_asked, cached_unused;

static void *cached_page(void *ctx, uint64_t offset)
{
	unsigned i = (unsigned)(offset / 4096);

	cached_asked++;
	if (i >= 4)
		return NULL;
	if (!cached_pages[i]) {
		cached_pages[i] = page_alloc(ctx);
		memcpy(cached_pages[i], (const uint8_t *)&big_elf + offset, 4096);
		owners_of(cached_pages[i]);     /* the cache's: its first owner */
	}
	return cached_pages[i];
}

static void cached_page_unused(void *ctx, void *page)
{
	cached_unused++;
}

TEST(loader_shares_whole_file_pages_and_copies_the_rest)
{
	static const struct loader_pages cache = { cached_page, cached_page_unused, NULL };
	static struct aspace a;
	struct loader_image img;
	uint64_t src;
	unsigned rights;
	uint8_t b;

	memset(&big_elf, 0, sizeof(big_elf));
	elf_head(&big_elf.h, 0x401000);
	/* Text: the file's 0x1000..0x2800 at 0x401000: one whole page. */
	elf_load(&big_elf.h.ph[0], 5, 0x1000, 0x401000, 0x1800, 0x1800);
	/* Data at an offset not page aligned with its address: copied. */
	elf_load(&big_elf.h.ph[1], 6, 0x2800, 0x600000, 0x1800, 0x2000);
	for (unsigned i = 0; i < sizeof(big_elf.body); i++)
		big_elf.body[i] = (uint8_t)(i * 7 + 1);

	fresh();
	memset(cached_pages, 0, sizeof(cached_pages));
	cached_asked = cached_unused = 0;
	as_init(&a, &cow_ops, NULL, 400);
	CHECK(loader_load_shared(&a, &big_elf, sizeof(big_elf), 0x400000, 0x1000000, 0, &cache,
				 &img) == NULL);
	CHECK_EQ(cached_asked, 1);               /* only 0x401000 is the file's whole */
	CHECK_EQ(cached_unused, 0);
	CHECK_EQ(*owners_of(cached_pages[1]), 2);
	CHECK_EQ(as_fault(&a, 0x401000, FETCH_ACCESS, &src, &rights), 0);
	CHECK_EQ(src, (uint64_t)cached_pages[1]);
	CHECK_EQ(as_copy_in(&a, &b, 0x401005, 1), 0);
	CHECK_EQ(b, big_elf.body[5]);
	/* The segment's last page: its half of the file, then zeros: a copy. */
	CHECK_EQ(as_fault(&a, 0x402000, FETCH_ACCESS, &src, &rights), 0);
	CHECK(src != (uint64_t)cached_pages[2]);
	CHECK_EQ(as_copy_in(&a, &b, 0x4027FF, 1), 0);
	CHECK_EQ(b, big_elf.body[0x17FF]);
	/* Data: copied, its bytes and zeros. */
	CHECK_EQ(as_copy_in(&a, &b, 0x600001, 1), 0);
	CHECK_EQ(b, big_elf.body[0x1801]);
	CHECK_EQ(as_copy_in(&a, &b, 0x601800, 1), 0);
	CHECK_EQ(b, 0);
	as_release(&a);
	CHECK_EQ(*owners_of(cached_pages[1]), 1);  /* the cache's again */
	cow_page_free(NULL, cached_pages[1]);
	CHECK_EQ(pages_live, 0);
}
