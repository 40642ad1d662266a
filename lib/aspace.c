/* A pager's record of a client address space (include/lib/aspace.h). */
#include "lib/aspace.h"
#include "lib/string.h"
#include "uapi/errors.h"
#include "uapi/ipc.h"

#define PAGE_MASK (AS_PAGE_SIZE - 1)

void as_init(struct aspace *as, const struct as_ops *ops, void *ctx, unsigned max_pages)
{
	memset(as, 0, sizeof(*as));
	as->ops = ops;
	as->ctx = ctx;
	as->max_pages = max_pages;
}

/* ---- the table of owned pages: open addressing, linear probing ---- */

static unsigned slot_of(const struct aspace *as, uint64_t va)
{
	return (unsigned)(((va >> 12) * 0x9E3779B97F4A7C15ULL) >> 32) & (as->capacity - 1);
}

static struct as_page *page_find(const struct aspace *as, uint64_t va)
{
	if (!as->capacity)
		return NULL;
	for (unsigned i = slot_of(as, va);; i = (i + 1) & (as->capacity - 1)) {
		struct as_page *e = &as->table[i];
		if (!e->page)
			return NULL;
		if (e->va == va)
			return e;
	}
}

static void table_put(struct aspace *as, uint64_t va, void *page)
{
	unsigned i = slot_of(as, va);

	while (as->table[i].page)
		i = (i + 1) & (as->capacity - 1);
	as->table[i].va = va;
	as->table[i].page = page;
}

/* Room for one more owned page: the table doubles (from AS_TABLE_FIRST
 * entries) when it would be more than half full. */
static bool table_room(struct aspace *as)
{
	if (as->npages >= as->max_pages)
		return false;
	if (as->npages < as->capacity / 2)
		return true;
	unsigned capacity = as->capacity ? 2 * as->capacity : AS_TABLE_FIRST;
	if (!as->ops->table_alloc || capacity < as->capacity)
		return false;
	struct as_page *table = as->ops->table_alloc(as->ctx, capacity * sizeof(*table));
	if (!table)
		return false;
	struct as_page *old = as->table;
	unsigned old_capacity = as->capacity;
	memset(table, 0, capacity * sizeof(*table));
	as->table = table;
	as->capacity = capacity;
	for (unsigned i = 0; i < old_capacity; i++)
		if (old[i].page)
			table_put(as, old[i].va, old[i].page);
	if (old)
		as->ops->table_free(as->ctx, old, old_capacity * sizeof(*old));
	return true;
}

/* A fresh zeroed page owned at va (not present before), or NULL. */
static void *page_add(struct aspace *as, uint64_t va)
{
	if (!table_room(as))
		return NULL;
	void *page = as->ops->page_alloc(as->ctx);
	if (!page)
		return NULL;
	table_put(as, va, page);
	as->npages++;
	return page;
}

/* Free the owned page at entry e and close the gap, so that every entry
 * stays reachable from its home slot. */
static void page_remove(struct aspace *as, struct as_page *e)
{
	unsigned mask = as->capacity - 1, hole = (unsigned)(e - as->table);

	as->ops->page_free(as->ctx, e->page);
	as->npages--;
	for (unsigned i = (hole + 1) & mask; as->table[i].page; i = (i + 1) & mask) {
		unsigned home = slot_of(as, as->table[i].va);
		/* Move entry i into the hole unless its home lies cyclically
		 * in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			as->table[hole] = as->table[i];
			hole = i;
		}
	}
	as->table[hole].page = NULL;
	as->table[hole].va = 0;
}

/* ---- regions ---- */

const struct as_region *as_region_at(const struct aspace *as, uint64_t va)
{
	for (unsigned i = 0; i < as->nregions; i++)
		if (va >= as->regions[i].start && va < as->regions[i].end)
			return &as->regions[i];
	return NULL;
}

bool as_find_free(const struct aspace *as, uint64_t lo, uint64_t hi, uint64_t size,
		  uint64_t align, uint64_t *va)
{
	if (lo > UINT64_MAX - (align - 1))
		return false;
	uint64_t at = (lo + align - 1) & ~(align - 1);

	while (at < hi && size <= hi - at) {
		/* Past the highest region that overlaps, or done. */
		uint64_t next = at;
		for (unsigned i = 0; i < as->nregions; i++)
			if (at < as->regions[i].end && as->regions[i].start < at + size &&
			    as->regions[i].end > next)
				next = as->regions[i].end;
		if (next == at) {
			*va = at;
			return true;
		}
		if (next > UINT64_MAX - (align - 1))
			return false;
		at = (next + align - 1) & ~(align - 1);
	}
	return false;
}

/* The object's part of region r from va to end is no longer mapped here;
 * last: r itself goes. */
static void object_release(struct aspace *as, const struct as_region *r, uint64_t va,
			   uint64_t end, bool last)
{
	if (r->kind == AS_OBJECT)
		as->ops->object_release(as->ctx, r->object, r->source + (va - r->start), end - va,
					last);
}

/* A region's part from va on, as a region of its own (a split). */
static struct as_region upper_part(struct aspace *as, const struct as_region *r, uint64_t va)
{
	struct as_region upper = *r;

	upper.source += va - r->start;
	upper.start = va;
	if (r->kind == AS_OBJECT)
		as->ops->object_hold(as->ctx, r->object);
	return upper;
}

long as_add_object(struct aspace *as, uint64_t start, uint64_t size, unsigned rights,
		   uint64_t object, uint64_t offset)
{
	if (!as->ops->object_page)
		return -ERR_INVALID_ARG;
	long err = as_add(as, start, size, rights, AS_OBJECT, offset, false);
	if (err)
		return err;
	as->regions[as->nregions - 1].object = object;
	as->ops->object_hold(as->ctx, object);
	return 0;
}

long as_add(struct aspace *as, uint64_t start, uint64_t size, unsigned rights, enum as_kind kind,
	    uint64_t source, bool prepare)
{
	if ((start | size | source) & PAGE_MASK || size == 0 || start + size < start || !rights)
		return -ERR_INVALID_ARG;
	for (unsigned i = 0; i < as->nregions; i++)
		if (start < as->regions[i].end && as->regions[i].start < start + size)
			return -ERR_RANGE;
	if (as->nregions == AS_MAX_REGIONS)
		return -ERR_NO_MEMORY;
	as->regions[as->nregions++] = (struct as_region){
		.start = start, .end = start + size, .rights = rights, .kind = kind,
		.source = source, .prepare = prepare, .max_rights = ~0u,
	};
	return 0;
}

void as_label(struct aspace *as, uint64_t start, uint64_t size, unsigned max_rights, uint64_t tag,
	      uint64_t offset)
{
	for (unsigned i = 0; i < as->nregions; i++) {
		struct as_region *r = &as->regions[i];
		if (r->start >= start && r->end <= start + size) {
			r->max_rights = max_rights;
			r->tag = tag;
			if (r->kind == AS_ANON)
				r->source = offset + (r->start - start);
		}
	}
}

static void free_owned(struct aspace *as, uint64_t start, uint64_t end)
{
	/* A short range page by page; a long one (which may be far larger
	 * than the pages it holds) by walking the table. Removal shifts
	 * entries back, so an entry is looked at again after a removal. */
	if ((end - start) / AS_PAGE_SIZE <= as->capacity) {
		for (uint64_t va = start; va < end; va += AS_PAGE_SIZE) {
			struct as_page *e = page_find(as, va);
			if (e)
				page_remove(as, e);
		}
		return;
	}
	for (unsigned i = 0; i < as->capacity;) {
		struct as_page *e = &as->table[i];
		if (e->page && e->va >= start && e->va < end)
			page_remove(as, e);
		else
			i++;
	}
}

long as_remove(struct aspace *as, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	unsigned splits = 0;

	if ((start | size) & PAGE_MASK || size == 0 || end < start)
		return -ERR_INVALID_ARG;
	for (unsigned i = 0; i < as->nregions; i++)
		splits += as->regions[i].start < start && as->regions[i].end > end;
	if (as->nregions + splits > AS_MAX_REGIONS)
		return -ERR_NO_MEMORY;
	for (unsigned i = 0; i < as->nregions;) {
		struct as_region *r = &as->regions[i];
		if (r->end <= start || r->start >= end) {
			i++;
			continue;
		}
		if (r->start < start && r->end > end) {
			/* Cut in two: the upper part becomes a region of its own. */
			as->regions[as->nregions++] = upper_part(as, r, end);
			object_release(as, r, start, end, false);
			r->end = start;
		} else if (r->start < start) {
			object_release(as, r, start, r->end, false);
			r->end = start;
		} else if (r->end > end) {
			object_release(as, r, r->start, end, false);
			r->source += end - r->start;
			r->start = end;
		} else {
			object_release(as, r, r->start, r->end, true);
			as->regions[i] = as->regions[--as->nregions];
			continue;
		}
		i++;
	}
	free_owned(as, start, end);
	return 0;
}

long as_resize(struct aspace *as, uint64_t start, uint64_t end)
{
	struct as_region *r = NULL;

	for (unsigned i = 0; i < as->nregions; i++)
		if (as->regions[i].start == start)
			r = &as->regions[i];
	if (!r || end & PAGE_MASK || end <= start)
		return -ERR_INVALID_ARG;
	if (end < r->end)
		return as_remove(as, end, r->end - end);
	for (unsigned i = 0; i < as->nregions; i++)
		if (as->regions[i].start >= r->end && as->regions[i].start < end)
			return -ERR_RANGE;
	r->end = end;
	return 0;
}

/* Does [start, end) lie wholly in regions? */
static bool covered(const struct aspace *as, uint64_t start, uint64_t end)
{
	while (start < end) {
		const struct as_region *r = as_region_at(as, start);
		if (!r)
			return false;
		start = r->end;
	}
	return true;
}

/* Cut the region strictly containing va (if any) in two at va; a free
 * region slot must exist. */
static void split_at(struct aspace *as, uint64_t va)
{
	for (unsigned i = 0; i < as->nregions; i++) {
		struct as_region *r = &as->regions[i];
		if (r->start < va && va < r->end) {
			as->regions[as->nregions++] = upper_part(as, r, va);
			as->regions[i].end = va;
			return;
		}
	}
}

long as_protect(struct aspace *as, uint64_t start, uint64_t size, unsigned rights)
{
	uint64_t end = start + size;
	unsigned splits = 0;

	if ((start | size) & PAGE_MASK || size == 0 || end < start)
		return -ERR_INVALID_ARG;
	if (!covered(as, start, end))
		return -ERR_BAD_ADDRESS;
	for (unsigned i = 0; i < as->nregions; i++) {
		const struct as_region *r = &as->regions[i];
		if (r->start < end && start < r->end && (rights & ~r->max_rights))
			return -ERR_NO_RIGHTS;
		splits += (r->start < start && start < r->end) + (r->start < end && end < r->end);
	}
	if (as->nregions + splits > AS_MAX_REGIONS)
		return -ERR_NO_MEMORY;
	split_at(as, start);
	split_at(as, end);
	for (unsigned i = 0; i < as->nregions; i++)
		if (as->regions[i].start >= start && as->regions[i].end <= end)
			as->regions[i].rights = rights;
	return 0;
}

void as_each_owned(const struct aspace *as, uint64_t start, uint64_t end,
		   void (*fn)(void *ctx, uint64_t va, void *page), void *ctx)
{
	start &= ~PAGE_MASK;
	if (end <= start)
		return;
	if ((end - start) / AS_PAGE_SIZE <= as->capacity) {
		for (uint64_t va = start; va < end; va += AS_PAGE_SIZE) {
			const struct as_page *e = page_find(as, va);
			if (e)
				fn(ctx, va, e->page);
		}
		return;
	}
	for (unsigned i = 0; i < as->capacity; i++) {
		const struct as_page *e = &as->table[i];
		if (e->page && e->va >= start && e->va < end)
			fn(ctx, e->va, e->page);
	}
}

long as_share(struct aspace *to, const struct aspace *from)
{
	if (to->nregions || to->capacity || !from->ops->page_share || from->npages > to->max_pages)
		return from->npages > to->max_pages ? -ERR_NO_MEMORY : -ERR_INVALID_ARG;
	if (from->capacity) {
		size_t bytes = from->capacity * sizeof(*from->table);
		struct as_page *table = to->ops->table_alloc(to->ctx, bytes);
		if (!table)
			return -ERR_NO_MEMORY;
		memcpy(table, from->table, bytes);
		to->table = table;
		to->capacity = from->capacity;
		to->npages = from->npages;
		for (unsigned i = 0; i < from->capacity; i++)
			if (table[i].page)
				from->ops->page_share(from->ctx, table[i].page);
	}
	memcpy(to->regions, from->regions, from->nregions * sizeof(from->regions[0]));
	to->nregions = from->nregions;
	for (unsigned i = 0; i < to->nregions; i++)
		if (to->regions[i].kind == AS_OBJECT)
			to->ops->object_hold(to->ctx, to->regions[i].object);
	return 0;
}

long as_adopt(struct aspace *as, uint64_t va, void *page)
{
	const struct as_region *r = as_region_at(as, va);

	if (!r || r->kind != AS_ANON || va & PAGE_MASK || page_find(as, va) || !as->ops->page_share)
		return -ERR_INVALID_ARG;
	if (!table_room(as))
		return -ERR_NO_MEMORY;
	table_put(as, va, page);
	as->npages++;
	as->ops->page_share(as->ctx, page);
	return 0;
}

/* ---- faults and copies ---- */

/* Whether the owned page is shared with another address space. */
static bool shared(const struct aspace *as, void *page)
{
	return as->ops->page_owners && as->ops->page_owners(as->ctx, page) > 1;
}

/* The owned page at e, shared, becomes a copy of this address space's
 * own (the shared one loses an owner and is revoked from every client).
 * false: no page for the copy. */
static bool unshare(struct aspace *as, struct as_page *e)
{
	if (!shared(as, e->page))
		return true;
	void *copy = as->ops->page_alloc(as->ctx);
	if (!copy)
		return false;
	memcpy(copy, e->page, AS_PAGE_SIZE);
	as->ops->page_free(as->ctx, e->page);
	e->page = copy;
	return true;
}

/* The pager's page behind client page va in region r: an owned page
 * (allocated when create; made the writer's own first when write and it
 * is shared), or the shared source. NULL: none (an untouched AS_ANON page
 * without create), or no memory. */
static void *backing(struct aspace *as, const struct as_region *r, uint64_t va, bool create,
		     bool write, long *err)
{
	*err = 0;
	if (r->kind == AS_OBJECT) {
		void *page = NULL;
		*err = as->ops->object_page(as->ctx, r->object, r->source + (va - r->start), create,
					    &page);
		return page;
	}
	if (r->kind == AS_SHARED) {
		uint64_t source = r->source + (va - r->start);
		if (r->prepare && !as->ops->prepare(as->ctx, source)) {
			*err = -ERR_NO_MEMORY;
			return NULL;
		}
		return (void *)source;
	}
	struct as_page *e = page_find(as, va);
	if (e && write && !unshare(as, e)) {
		*err = -ERR_NO_MEMORY;
		return NULL;
	}
	if (e)
		return e->page;
	if (!create)
		return NULL;
	void *page = page_add(as, va);
	if (!page)
		*err = -ERR_NO_MEMORY;
	return page;
}

void *as_page(struct aspace *as, uint64_t va)
{
	const struct as_region *r = as_region_at(as, va);
	long err;

	return r ? backing(as, r, va, true, true, &err) : NULL;
}

void *as_preset(struct aspace *as, uint64_t va, unsigned rights)
{
	if (as_add(as, va, AS_PAGE_SIZE, rights, AS_ANON, 0, false) < 0)
		return NULL;
	void *page = as_page(as, va);
	if (!page)
		as_remove(as, va, AS_PAGE_SIZE);
	return page;
}

long as_fault(struct aspace *as, uint64_t addr, uint64_t access, uint64_t *source,
	      unsigned *rights)
{
	uint64_t va = addr & ~PAGE_MASK;
	const struct as_region *r = as_region_at(as, va);
	long err;

	if (!r)
		return -ERR_BAD_ADDRESS;
	if (!r->rights || ((access & 2) && !(r->rights & IPC_MAP_WRITE)) ||
	    ((access & 16) && !(r->rights & IPC_MAP_EXEC)))
		return -ERR_NO_RIGHTS;
	bool write = access & 2;
	void *page = backing(as, r, va, true, write, &err);
	if (!page)
		return err;
	*source = (uint64_t)page;
	*rights = r->rights;
	if (r->kind == AS_ANON && !write && shared(as, page))
		*rights &= ~IPC_MAP_WRITE;
	/* A write to a page the client has read-only (bit 0: present): it
	 * was shared, and the mapping must go before a writable one can
	 * take its place. */
	if (r->kind == AS_ANON && write && (access & 1) && as->ops->page_unmap)
		as->ops->page_unmap(as->ctx, page);
	return 0;
}

/* Copy len bytes between the client's va and buf, page by page; `out`:
 * into the client. */
static long copy(struct aspace *as, uint64_t va, uint8_t *buf, size_t len, bool out)
{
	while (len) {
		uint64_t page_va = va & ~PAGE_MASK, off = va - page_va;
		size_t n = AS_PAGE_SIZE - off < len ? AS_PAGE_SIZE - off : len;
		const struct as_region *r = as_region_at(as, page_va);
		long err;
		if (!r || !(r->rights & (out ? IPC_MAP_WRITE : IPC_MAP_READ)))
			return -ERR_BAD_ADDRESS;
		uint8_t *page = backing(as, r, page_va, out, out, &err);
		if (err)
			return err;
		if (out)
			memcpy(page + off, buf, n);
		else if (page)
			memcpy(buf, page + off, n);
		else
			memset(buf, 0, n);
		va += n;
		buf += n;
		len -= n;
	}
	return 0;
}

long as_copy_in(struct aspace *as, void *dst, uint64_t va, size_t len)
{
	if (va + len < va)
		return -ERR_BAD_ADDRESS;
	return copy(as, va, dst, len, false);
}

long as_copy_out(struct aspace *as, uint64_t va, const void *src, size_t len)
{
	if (va + len < va)
		return -ERR_BAD_ADDRESS;
	return copy(as, va, (uint8_t *)src, len, true);
}

void as_release(struct aspace *as)
{
	for (unsigned i = 0; i < as->capacity; i++)
		if (as->table[i].page)
			as->ops->page_free(as->ctx, as->table[i].page);
	if (as->table)
		as->ops->table_free(as->ctx, as->table, as->capacity * sizeof(*as->table));
	as->table = NULL;
	as->capacity = 0;
	as->npages = 0;
	for (unsigned i = 0; i < as->nregions; i++)
		object_release(as, &as->regions[i], as->regions[i].start, as->regions[i].end, true);
	as->nregions = 0;
}
