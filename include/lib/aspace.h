/*
 * A pager's record of one client address space: the regions the client
 * may touch and the pages that back them. init uses it for every program
 * it starts, the kernel tests for their child tasks, and the POSIX server
 * for its processes, so that no pager keeps its own copy of this logic.
 *
 * Pure logic (no system calls; unit-tested on the host): the pager gives
 * page allocation through struct as_ops, and turns what as_fault answers
 * into an IPC map item (pager_answer() in lib/pager.h does that).
 *
 * Three kinds of region:
 *   AS_ANON    memory of the client's own: a zeroed page of the pager's on
 *              first touch (or preset by as_preset/as_load_elf), owned by
 *              the address space and freed with it. An owned page may be
 *              owned by several address spaces at once (as_share, a
 *              fork): copy-on-write, mapped read-only until one of them
 *              writes it, which then gets a copy of its own.
 *   AS_SHARED  memory the pager already has (DMA memory, device registers,
 *              files): page va is the pager's source + (va - start); never
 *              freed here. With `prepare`, ops->prepare is asked to make
 *              the pager's own page present before it is handed out.
 *   AS_OBJECT  the pages of a memory object of the pager's (a file, shared
 *              memory) from byte `source` of it on: page va is the object's
 *              page at source + (va - start), from ops->object_page, the
 *              same for every address space that maps it, written in place
 *              (never copy-on-write); never freed here. Each region holds
 *              the object (ops->object_hold, object_release).
 *
 * Addresses are byte addresses; every region is page aligned. Errors are
 * the kernel's ERR_* numbers, negated (uapi/errors.h).
 */
#ifndef MICA_LIB_ASPACE_H
#define MICA_LIB_ASPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AS_PAGE_SIZE   4096UL
#define AS_MAX_REGIONS 256      /* iperf3 -P 128 maps a buffer per stream */
#define AS_FIRST_REGIONS 16     /* kept in the record itself; more in a table of
				 * ops->table_alloc's (4 KiB: 64, up to AS_MAX_REGIONS) */
#define AS_TABLE_FIRST 256      /* entries of the first table of owned pages (4 KiB) */

enum as_kind { AS_ANON, AS_SHARED, AS_OBJECT };

struct as_region {
	uint64_t start, end;    /* [start, end), page aligned */
	unsigned rights;        /* IPC_MAP_READ | IPC_MAP_WRITE | IPC_MAP_EXEC */
	enum as_kind kind;
	uint64_t source;        /* AS_SHARED: the pager's address of start;
				 * AS_OBJECT: the offset of start in the object;
				 * AS_ANON: the pager's own note (a mapped file's
				 * offset of start), never read here */
	bool prepare;           /* AS_SHARED: ops->prepare each page first */
	uint64_t object;        /* AS_OBJECT: the pager's name of the object */
	unsigned max_rights;    /* the most as_protect may give (as_add: all;
				 * Linux's VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC) */
	uint64_t tag;           /* the pager's own word about what it maps (0 from
				 * as_add); splits and as_share keep it */
};

/* One page the address space owns: the client's va, the pager's page. */
struct as_page {
	uint64_t va;
	void *page;             /* NULL: an empty table entry */
};

struct as_ops {
	/* A zeroed page of the pager's, or NULL when there is none. */
	void *(*page_alloc)(void *ctx);
	/* Give a page back (and revoke it from everyone it was mapped to). */
	void (*page_free)(void *ctx, void *page);
	/* For AS_SHARED regions with `prepare`: make the pager's page at
	 * source present; false if it cannot. May be NULL otherwise. */
	bool (*prepare)(void *ctx, uint64_t source);
	/* Memory for the table of owned pages: bytes (a power of two, at
	 * least 4 KiB), or NULL when there is none (the address space then
	 * owns no more pages). The table starts empty and doubles when half
	 * full; the old one is given back with table_free. Both NULL: the
	 * address space never owns a page (shared regions only). */
	void *(*table_alloc)(void *ctx, size_t bytes);
	void (*table_free)(void *ctx, void *table, size_t bytes);
	/* Copy-on-write (both, or none: then pages are never shared).
	 * page_share: one more address space owns page (count it, and
	 * revoke write access from every client it is mapped to);
	 * page_owners: how many own it (1: only the caller). With them,
	 * page_free drops one owner: the page is given back at the last, and
	 * revoked from every client either way. */
	void (*page_share)(void *ctx, void *page);
	unsigned (*page_owners)(void *ctx, void *page);
	/* AS_OBJECT regions (all three, or none: then there are none).
	 * object_page: the page of object at offset (page aligned) into
	 * *page — made if create, else NULL when there is none yet —: 0, or
	 * -ERR_BAD_ADDRESS (past the object's end), -ERR_NO_MEMORY; write:
	 * it is taken to be written (a write fault, a copy into the client),
	 * as Linux's fault_dirty_shared_page, which moves a file's mtime.
	 * object_hold: one more region maps object. object_release: the
	 * address space no longer maps [offset, offset + size) of object
	 * (revoke its client's mappings of those pages); last: a whole
	 * region went (drop its hold). */
	long (*object_page)(void *ctx, uint64_t object, uint64_t offset, bool create, bool write,
			    void **page);
	void (*object_hold)(void *ctx, uint64_t object);
	void (*object_release)(void *ctx, uint64_t object, uint64_t offset, uint64_t size,
			       bool last);
	/* May be NULL. page_share may leave the revocation of write access
	 * for later (to revoke many pages in one system call: mem_unmap_list);
	 * share_flush: every page_share so far must be revoked now.
	 * as_share and as_adopt call it before they return. */
	void (*share_flush)(void *ctx);
};

struct aspace {
	const struct as_ops *ops;
	void *ctx;
	unsigned nregions;
	unsigned region_capacity;       /* entries of regions[]: AS_FIRST_REGIONS, or
					 * the table's (without ops->table_alloc, never
					 * more than AS_FIRST_REGIONS) */
	struct as_region *regions;      /* first_regions, or a table from ops->table_alloc;
					 * a record that moves must go by as_move */
	struct as_region first_regions[AS_FIRST_REGIONS];
	struct as_page *table;  /* hash table of owned pages, capacity entries */
	unsigned capacity;      /* 0, or a power of two */
	unsigned npages;        /* owned pages, at most capacity / 2 */
	unsigned max_pages;     /* the most it may own */
};

/* An empty address space that may own up to max_pages pages. */
void as_init(struct aspace *as, const struct as_ops *ops, void *ctx, unsigned max_pages);

/* to takes over what from holds (its regions, owned pages and table):
 * a process's new image, built aside, replacing its old one (released
 * first). from is left as as_init left it. A plain struct copy would not
 * do: regions may point into the record. */
void as_move(struct aspace *to, struct aspace *from);

/* Add the region [start, start + size). 0, or -ERR_INVALID_ARG (not page
 * aligned, empty, wraps, no rights), -ERR_RANGE (overlaps a region),
 * -ERR_NO_MEMORY (AS_MAX_REGIONS in use, or no memory for a larger table
 * of regions). */
long as_add(struct aspace *as, uint64_t start, uint64_t size, unsigned rights, enum as_kind kind,
	    uint64_t source, bool prepare);

/* An AS_OBJECT region [start, start + size) of object from its byte
 * offset on (page aligned), held (ops->object_hold). 0, or as_add's
 * errors; -ERR_INVALID_ARG too when the ops have no objects. */
long as_add_object(struct aspace *as, uint64_t start, uint64_t size, unsigned rights,
		   uint64_t object, uint64_t offset);

/* Set max_rights and tag of every region wholly in [start, start +
 * size) (those as_add, as_add_object or the loader just made there), and
 * an AS_ANON one's source to offset + (its start - start). */
void as_label(struct aspace *as, uint64_t start, uint64_t size, unsigned max_rights, uint64_t tag,
	      uint64_t offset);

/* Remove [start, start + size) from every region it touches (splitting a
 * region it cuts in two) and free the owned pages in it. The caller
 * revokes the client's mappings (page_free does for owned pages). 0, or
 * -ERR_INVALID_ARG (not page aligned, empty), -ERR_NO_MEMORY (a split needs a
 * region slot and none is free; nothing changed). */
long as_remove(struct aspace *as, uint64_t start, uint64_t size);

/* Move the end of the region that starts at start to end: grown (the
 * addresses up to end must be in no region), or shrunk (the owned pages
 * at and above end freed, as as_remove). A process's brk. 0, or
 * -ERR_INVALID_ARG (no region starts at start, end not page aligned or
 * not above start), -ERR_RANGE (growing would overlap a region). */
long as_resize(struct aspace *as, uint64_t start, uint64_t end);

/* Give every byte of [start, start + size) the rights `rights` (0: none
 * at all, a process's PROT_NONE: every fault and copy there is refused),
 * splitting the regions at its ends; owned pages stay. The caller revokes
 * the client's mappings in the range so that they are made again with the
 * new rights. 0, or -ERR_INVALID_ARG (not page aligned, empty, wraps),
 * -ERR_BAD_ADDRESS (a page of the range is in no region), -ERR_NO_RIGHTS
 * (rights beyond a region's max_rights), -ERR_NO_MEMORY
 * (the splits need region slots and none is free); nothing changes on an
 * error. */
long as_protect(struct aspace *as, uint64_t start, uint64_t size, unsigned rights);

/* Merge every region that ends in [start, end] (those in the range and
 * the one just below it) with the region that starts where it ends, when
 * one region can stand for both, as Linux merges neighbouring mappings:
 * the same kind, rights, max_rights, tag and prepare, and the same
 * backing going on — an AS_SHARED or AS_OBJECT region's source (and
 * object) continued, an AS_ANON one's too when it has a tag (a file's
 * offset), any when it has none (anonymous memory). A merged AS_OBJECT
 * region's hold is dropped (object_release of nothing, last). Owned pages
 * are untouched. For a pager after it has made, labelled or protected
 * [start, start + size): neighbours that abut do not use up
 * AS_MAX_REGIONS. */
void as_merge(struct aspace *as, uint64_t start, uint64_t end);

/* Call fn(ctx, va, page) for every page owned in [start, end), in no
 * particular order; the time it takes is bounded by the smaller of the
 * range's pages and the table's size, so a huge range costs no more than
 * the pages there are. fn must not change the address space. */
void as_each_owned(const struct aspace *as, uint64_t start, uint64_t end,
		   void (*fn)(void *ctx, uint64_t va, void *page), void *ctx);

/* The pages owned in [start, start + size) are owned at to + (their va
 * - start) instead, unshared and uncopied (a process's mremap moving a
 * mapping): the range and [to, to + size) must not overlap, and nothing
 * may be owned in the latter. Regions are untouched (the caller adds the
 * new one first and removes the old one after); the caller revokes the
 * client's mappings of the pages at their old addresses. */
void as_move_pages(struct aspace *as, uint64_t start, uint64_t size, uint64_t to);

/* to (empty, with the same ops) gets every region of from and owns
 * every page from owns, shared (ops->page_share): a fork. A write to a
 * shared page, by a client's fault or by as_copy_out/as_page, first
 * gives the writer a copy of its own. 0, or -ERR_INVALID_ARG (to is not
 * empty, or the ops cannot share), -ERR_NO_MEMORY (no memory for the
 * table: to is left empty). */
long as_share(struct aspace *to, const struct aspace *from);

/* Own page, a page of the pager's that others own too (a file's page
 * in a cache), at va: an AS_ANON page not owned yet. Shared as as_share
 * shares (ops->page_share): read-only until written, a write copies. 0,
 * or -ERR_INVALID_ARG (no AS_ANON region at va, va owned already, the ops
 * cannot share), -ERR_NO_MEMORY (max_pages, or no memory for the table). */
long as_adopt(struct aspace *as, uint64_t va, void *page);

/* The lowest address in [lo, hi) aligned to align (a power of two) where
 * size bytes overlap no region: true and *va, or false. */
bool as_find_free(const struct aspace *as, uint64_t lo, uint64_t hi, uint64_t size,
		  uint64_t align, uint64_t *va);

/* The region holding va, or NULL. */
const struct as_region *as_region_at(const struct aspace *as, uint64_t va);

/* A one-page AS_ANON region at va (page aligned) with a fresh zeroed page,
 * for start-up information the pager writes: the pager's address of the
 * page, or NULL (overlap, no region slot or no page). */
void *as_preset(struct aspace *as, uint64_t va, unsigned rights);

/* The pager's page behind client page va (page aligned), whatever the
 * region's rights: an owned page (allocated if the region is AS_ANON and
 * the page is new) or the shared source. For the pager filling memory it
 * gives (program images, start-up pages). NULL: no region, no memory. */
void *as_page(struct aspace *as, uint64_t va);

/*
 * A page fault at addr with the x86 page-fault error code `access` (bit 1
 * write, bit 4 instruction fetch): where the page comes from in the
 * pager's space (*source, page aligned) and the rights to map it with.
 * AS_ANON pages are allocated on first touch. A shared page (as_share)
 * is answered without write access, unless the fault is a write: then
 * the writer gets a copy of its own (or, the last owner, the page
 * itself: mapped again writable over the read-only mapping the client
 * has, the kernel extends its rights, abi.md). 0, or -ERR_BAD_ADDRESS (no
 * region), -ERR_NO_RIGHTS (a write to a read-only or a fetch from a
 * non-executable region), -ERR_NO_MEMORY (no page, max_pages owned, or no
 * memory for the table).
 */
long as_fault(struct aspace *as, uint64_t addr, uint64_t access, uint64_t *source,
	      unsigned *rights);

/*
 * Copy between the client's memory and the pager's, as the client would
 * see it: len bytes at client address va. Reading an AS_ANON page never
 * touched gives zeros without allocating it; writing one allocates it.
 * 0, or -ERR_BAD_ADDRESS (a byte outside every region, or in a region
 * without the right: read for copy_in, write for copy_out) or
 * -ERR_NO_MEMORY; after an error the bytes before the failing page may
 * have been copied, as with a kernel's copy_to_user.
 */
long as_copy_in(struct aspace *as, void *dst, uint64_t va, size_t len);
long as_copy_out(struct aspace *as, uint64_t va, const void *src, size_t len);

/* Free every owned page and the table, and forget every region (an
 * AS_OBJECT one's object released). */
void as_release(struct aspace *as);

#endif
