#include "memory_region.h"
#include "decode.h"
#include "mapdb.h"
#include "paging.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"
#include "uaccess.h"

#include "uapi/errors.h"
#include "uapi/ipc.h"
#include "uapi/memory.h"

struct memory_region *memory_region_create(uint64_t base, uint64_t size, bool mmio)
{
	struct memory_region *r = kobject_alloc(NULL, CAP_MEMORY, sizeof(*r));

	if (r) {
		r->base = base;
		r->size = size;
		r->mmio = mmio;
	}
	return r;
}

/* ---- system calls ---- */

long sys_mem_map(uint64_t slot, uint64_t offset, uint64_t va, uint64_t pages, uint64_t rights)
{
	struct cap *c;

	LOOKUP(c, slot, CAP_MEMORY, CAP_RIGHT_READ);
	struct memory_region *r = (struct memory_region *)c->obj;
	if (offset % PAGE_SIZE || va % PAGE_SIZE)
		REJECT(ERR_INVALID_ARG, "offset %lx or address %lx not page aligned", offset, va);
	if (pages == 0 || pages > r->size / PAGE_SIZE ||
	    offset > r->size - pages * PAGE_SIZE)
		REJECT(ERR_RANGE, "%lu pages at offset %lx outside the %lu-byte region",
		       pages, offset, r->size);
	if (va >= USER_TOP || pages > (USER_TOP - va) / PAGE_SIZE)
		REJECT(ERR_BAD_ADDRESS, "%lu pages at %lx outside user space", pages, va);
	if ((rights & IPC_MAP_WRITE) && !(c->rights & CAP_RIGHT_WRITE))
		REJECT(ERR_NO_RIGHTS, "writable mapping of a read-only region");
	for (uint64_t i = 0; i < pages; i++)
		if (pt_lookup(current->task->pt_root, va + i * PAGE_SIZE))
			REJECT(ERR_RANGE, "address %lx is mapped already", va + i * PAGE_SIZE);
	uint64_t flags = (rights & IPC_MAP_WRITE ? PTE_WRITE : 0) |
			 (rights & IPC_MAP_EXEC ? 0 : PTE_NX) | (r->mmio ? PTE_UNCACHED : 0);
	for (uint64_t i = 0; i < pages; i++) {
		int err = mapdb_map(NULL, current->task, va + i * PAGE_SIZE,
				    r->base + offset + i * PAGE_SIZE, flags);
		if (err) {
			/* Out of quota part way: undo, so nothing changed. */
			while (i--)
				mapdb_unmap(mapdb_find(current->task, va + i * PAGE_SIZE), true, false);
			REJECT(-err, "mapping page %lu of %lu failed", i, pages);
		}
	}
	return 0;
}

/* Whether fp names 4 KiB..1 GiB of user space, aligned to its size (at
 * most 1 GiB, as for IPC items: the walk of unmap_range is per page and
 * must stay short, the kernel is not preemptible). */
static bool unmap_fpage_ok(uint64_t fp)
{
	unsigned log2 = fpage_log2(fp);
	uint64_t base = fpage_base(fp);

	return log2 >= 12 && log2 <= 30 && !(base & ((1UL << log2) - 1)) && base < USER_TOP &&
	       (1UL << log2) <= USER_TOP - base;
}

/* Revoke what was derived from the caller's pages in fp (checked). */
static void unmap_range(uint64_t fp, uint64_t flags)
{
	uint64_t base = fpage_base(fp), size = 1UL << fpage_log2(fp);

	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		struct mapping *m = mapdb_find(current->task, base + off);
		if (m)
			mapdb_unmap(m, flags & MEM_UNMAP_SELF, flags & MEM_UNMAP_WRITE_ONLY);
	}
}

/* Not a capability call: it takes back what the caller mapped (mem_map or
 * IPC) from everyone it passed the pages on to. */
long sys_mem_unmap(uint64_t fp, uint64_t flags)
{
	if (!unmap_fpage_ok(fp))
		REJECT(ERR_INVALID_ARG, "bad flexpage %lx (4 KiB..1 GiB, aligned)", fp);
	if (flags & ~(uint64_t)(MEM_UNMAP_SELF | MEM_UNMAP_WRITE_ONLY))
		REJECT(ERR_INVALID_ARG, "unknown flags %#lx", flags);
	unmap_range(fp, flags);
	return 0;
}

/* mem_unmap for each flexpage of a list in the caller's memory (a pager
 * revoking a fork's pages for copy-on-write in one call): the list read
 * once into the kernel and every entry checked, then all revoked, so an
 * error changes nothing (an entry that unmaps the list's own page with
 * MEM_UNMAP_SELF cannot cut the list short). One static buffer: one CPU,
 * the kernel not preempted. */
long sys_mem_unmap_list(uint64_t list, uint64_t count, uint64_t flags)
{
	static uint64_t fps[MEM_UNMAP_LIST_MAX];
	uint64_t pages = 0;

	if (count == 0 || count > MEM_UNMAP_LIST_MAX)
		REJECT(ERR_INVALID_ARG, "%lu flexpages (1..%u)", count, MEM_UNMAP_LIST_MAX);
	if (flags & ~(uint64_t)(MEM_UNMAP_SELF | MEM_UNMAP_WRITE_ONLY))
		REJECT(ERR_INVALID_ARG, "unknown flags %#lx", flags);
	if (copy_from_user(current->task, fps, list, count * 8))
		REJECT(ERR_BAD_ADDRESS, "list %lx not readable", list);
	for (uint64_t i = 0; i < count; i++) {
		if (!unmap_fpage_ok(fps[i]))
			REJECT(ERR_INVALID_ARG, "bad flexpage %lx at %lu", fps[i], i);
		pages += 1UL << (fpage_log2(fps[i]) - 12);
	}
	if (pages > MEM_UNMAP_LIST_PAGES)
		REJECT(ERR_INVALID_ARG, "%lu pages in all (%lu at most)", pages, MEM_UNMAP_LIST_PAGES);
	for (uint64_t i = 0; i < count; i++)
		unmap_range(fps[i], flags);
	return 0;
}

/* The physical address behind the caller's own pages [va, va + pages
 * pages) when each is mapped and they follow each other in physical
 * memory, in order: a driver checks the run of DMA memory its client
 * says it shared (proto/netq.h, NETQ_ATTACH) before it gives the run's
 * addresses to its device. docs/abi.md, 39 mem_phys. */
long sys_mem_phys(uint64_t va, uint64_t pages)
{
	uint64_t first = 0;

	if (va % PAGE_SIZE || pages == 0 || pages > MEM_PHYS_PAGES_MAX)
		REJECT(ERR_INVALID_ARG, "%lu pages at %lx", pages, va);
	if (va >= USER_TOP || pages > (USER_TOP - va) / PAGE_SIZE)
		REJECT(ERR_BAD_ADDRESS, "%lu pages at %lx outside user space", pages, va);
	for (uint64_t i = 0; i < pages; i++) {
		struct mapping *m = mapdb_find(current->task, va + i * PAGE_SIZE);
		if (!m)
			REJECT(ERR_BAD_ADDRESS, "nothing mapped at %lx", va + i * PAGE_SIZE);
		if (i == 0)
			first = m->phys;
		else if (m->phys != first + i * PAGE_SIZE)
			REJECT(ERR_RANGE, "page %lu of %lu is not the next physical page", i, pages);
	}
	return (long)first;
}

long sys_mem_info(uint64_t slot, uint64_t out)
{
	struct memory_region *r;

	LOOKUP_OBJECT(r, slot, CAP_MEMORY, 0);
	struct mem_info info = { r->base, r->size, r->mmio ? MEM_INFO_MMIO : 0 };
	if (copy_to_user(current->task, out, &info, sizeof(info)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}
