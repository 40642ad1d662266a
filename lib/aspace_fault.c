/* A pager's record of a client address space, its faults and copies
 * (include/lib/aspace.h): the page behind a client address, copied on a
 * write when shared. */
#include "lib/aspace.h"
#include "lib/string.h"
#include "uapi/errors.h"
#include "uapi/ipc.h"
#include "aspace_owned.h"

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
					    write, &page);
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
	struct as_page *e = as_owned_find(as, va);
	if (e && write && !unshare(as, e)) {
		*err = -ERR_NO_MEMORY;
		return NULL;
	}
	if (e)
		return e->page;
	if (!create)
		return NULL;
	void *page = as_owned_add(as, va);
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
	return 0;
}

/* Copy len bytes between the client's va and buf, page by page; `out`:
 * into the client. A page's region is looked up only when the page is
 * past the last one's (a 128 KiB buffer is 32 pages of one region; the
 * lookup is a walk of the regions). */
static long copy(struct aspace *as, uint64_t va, uint8_t *buf, size_t len, bool out)
{
	const struct as_region *r = NULL;

	while (len) {
		uint64_t page_va = va & ~PAGE_MASK, off = va - page_va;
		size_t n = AS_PAGE_SIZE - off < len ? AS_PAGE_SIZE - off : len;
		long err;
		if (!r || page_va >= r->end)
			r = as_region_at(as, page_va);
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
