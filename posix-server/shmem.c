/*
 * Memory objects of shared mappings (lib/aspace.h's AS_OBJECT regions):
 * MAP_SHARED of a tmpfs file maps the file's own pages, so the writes of
 * every process mapping it and the file's read and write see each
 * other; MAP_SHARED|MAP_ANONYMOUS (and of /dev/zero) maps a tmpfs file
 * in no directory made for it, which a fork's child maps too. An object
 * is a node of the file tree (vfs.h), held open by every region that
 * maps it; its pages are tmpfs pages (bounded by TMPFS_PAGES with the
 * files of /tmp and /var), made on first touch and freed with the file.
 * A page no longer mapped by a live process (munmap, exec, mprotect) is
 * revoked from every process, which fault it in again. A write fault
 * (or the server's copy into such a page) moves the file's mtime and
 * ctime, as Linux's fault_dirty_shared_page for tmpfs: the first write
 * to a page each time it is mapped, not every store. The object
 * SHMEM_PAST_END (past a file's end) has no page and holds nothing.
 */
#include "memory.h"
#include "syscall.h"
#include "vfs.h"

#include "uapi/errors.h"

long shmem_page(void *ctx, uint64_t object, uint64_t offset, bool create, bool write,
		void **page)
{
	*page = NULL;
	if (object == SHMEM_PAST_END)
		return -ERR_BAD_ADDRESS;
	long err = vfs_page((int)object, offset / PAGE_SIZE, create, page);

	if (err == -LINUX_ENOSPC)
		return -ERR_NO_MEMORY;
	if (err)
		return -ERR_BAD_ADDRESS;
	/* A write fault (as Linux's for a file without page_mkwrite), or the
	 * server's copy into the page (read() into the mapping): each such
	 * copy moves the times, where Linux's copy faults only on a page not
	 * yet mapped writable. */
	if (write)
		vfs_touch((int)object);
	return 0;
}

void shmem_hold(void *ctx, uint64_t object)
{
	if (object != SHMEM_PAST_END)
		vfs_nodes[object].opens++;
}

void shmem_release(void *ctx, uint64_t object, uint64_t offset, uint64_t size, bool last)
{
	const struct process *owner = ctx;

	if (object == SHMEM_PAST_END)
		return;
	/* A process whose task is gone (its end) has no mapping left. */
	if (!owner || owner->task.task)
		for (uint64_t at = offset; at < offset + size; at += PAGE_SIZE) {
			void *page;
			if (vfs_page((int)object, at / PAGE_SIZE, false, &page) == -LINUX_ENXIO)
				break;
			if (page) {
				sys_mem_unmap(fpage((uint64_t)page, 12), 0);
				memory_revokes++;
			}
		}
	if (last) {
		vfs_nodes[object].opens--;
		vfs_closed((int)object);
	}
}

void shmem_revoke(struct process *p, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < p->as.nregions; i++) {
		const struct as_region *r = &p->as.regions[i];
		uint64_t from = r->start > start ? r->start : start, to = r->end < end ? r->end : end;
		if (r->kind == AS_OBJECT && from < to)
			shmem_release(p, r->object, r->source + (from - r->start), to - from, false);
	}
}

long shmem_anonymous(uint64_t size)
{
	long node = vfs_detached(LINUX_S_IFREG | 0600, FS_TMP), err;

	if (node < 0)
		return -LINUX_ENOMEM;
	if ((err = vfs_truncate((int)node, size)) < 0) {
		vfs_closed((int)node);
		return -LINUX_ENOMEM;
	}
	return node;
}
