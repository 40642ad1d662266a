/* A pager's record of a client address space, its regions
 * (include/lib/aspace.h); the owned pages are in aspace_owned.c, faults
 * and copies in aspace_fault.c. */
#include "lib/aspace.h"
#include "lib/string.h"
#include "uapi/errors.h"
#include "aspace_owned.h"

void as_init(struct aspace *as, const struct as_ops *ops, void *ctx, unsigned max_pages)
{
	memset(as, 0, sizeof(*as));
	as->ops = ops;
	as->ctx = ctx;
	as->max_pages = max_pages;
	as->regions = as->first_regions;
	as->region_capacity = AS_FIRST_REGIONS;
}

/* The bytes of a table of regions for at least n of them (n >
 * AS_FIRST_REGIONS): a power of two, at least 4 KiB, as table_alloc takes. */
static size_t region_table_bytes(unsigned n)
{
	size_t bytes = 4096;

	while (bytes / sizeof(struct as_region) < n)
		bytes *= 2;
	return bytes;
}

/* Room for n regions in all: the table grown (copied into a larger one
 * from ops->table_alloc) when it is smaller. false: n is past
 * AS_MAX_REGIONS, or there is no table to be had (nothing changed). */
static bool region_room(struct aspace *as, unsigned n)
{
	if (n <= as->region_capacity)
		return true;
	if (n > AS_MAX_REGIONS || !as->ops->table_alloc)
		return false;
	size_t bytes = region_table_bytes(n);
	struct as_region *table = as->ops->table_alloc(as->ctx, bytes);
	if (!table)
		return false;
	memcpy(table, as->regions, as->nregions * sizeof(*table));
	if (as->regions != as->first_regions)
		as->ops->table_free(as->ctx, as->regions, region_table_bytes(as->region_capacity));
	as->regions = table;
	as->region_capacity = (unsigned)(bytes / sizeof(*table));
	return true;
}

/* The table of regions given back: the record's own entries again (its
 * regions gone: as_release). */
static void region_table_free(struct aspace *as)
{
	if (as->regions != as->first_regions)
		as->ops->table_free(as->ctx, as->regions, region_table_bytes(as->region_capacity));
	as->regions = as->first_regions;
	as->region_capacity = AS_FIRST_REGIONS;
}

void as_move(struct aspace *to, struct aspace *from)
{
	*to = *from;
	if (from->regions == from->first_regions)
		to->regions = to->first_regions;
	as_init(from, from->ops, from->ctx, from->max_pages);
}

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
	if (!region_room(as, as->nregions + 1))
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

long as_remove(struct aspace *as, uint64_t start, uint64_t size)
{
	uint64_t end = start + size;
	unsigned splits = 0;

	if ((start | size) & PAGE_MASK || size == 0 || end < start)
		return -ERR_INVALID_ARG;
	for (unsigned i = 0; i < as->nregions; i++)
		splits += as->regions[i].start < start && as->regions[i].end > end;
	if (!region_room(as, as->nregions + splits))
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
	as_owned_free_range(as, start, end);
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
	if (!region_room(as, as->nregions + splits))
		return -ERR_NO_MEMORY;
	split_at(as, start);
	split_at(as, end);
	for (unsigned i = 0; i < as->nregions; i++)
		if (as->regions[i].start >= start && as->regions[i].end <= end)
			as->regions[i].rights = rights;
	return 0;
}

/* Whether b, which starts where a ends, goes on with what a maps, so
 * that one region can stand for both. */
static bool continues(const struct as_region *a, const struct as_region *b)
{
	if (a->kind != b->kind || a->rights != b->rights || a->max_rights != b->max_rights ||
	    a->tag != b->tag || a->prepare != b->prepare ||
	    (a->kind == AS_OBJECT && a->object != b->object))
		return false;
	if (a->kind == AS_ANON && !a->tag)
		return true;    /* anonymous memory: its source says nothing */
	return b->source == a->source + (a->end - a->start);
}

void as_merge(struct aspace *as, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < as->nregions; i++) {
		struct as_region *a = &as->regions[i];
		bool merged = false;
		if (a->end < start || a->end > end)
			continue;
		for (unsigned j = 0; j < as->nregions; j++) {
			struct as_region *b = &as->regions[j];
			if (b->start != a->end || !continues(a, b))
				continue;
			a->end = b->end;
			object_release(as, b, b->start, b->start, true);
			*b = as->regions[--as->nregions];
			if (a == &as->regions[as->nregions])
				a = b;  /* a was the last: it moved into b's slot */
			merged = true;
			j = (unsigned)-1;       /* a may go on into another */
		}
		if (merged)
			i = (unsigned)-1;       /* slots moved: look again */
	}
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
	region_table_free(as);
}

long as_regions_copy(struct aspace *to, const struct aspace *from)
{
	if (!region_room(to, from->nregions))
		return -ERR_NO_MEMORY;
	memcpy(to->regions, from->regions, from->nregions * sizeof(from->regions[0]));
	to->nregions = from->nregions;
	return 0;
}
