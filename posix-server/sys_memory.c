/*
 * A process's memory calls: brk (from the image's end: the region below
 * the break grown in place, or a new one), mmap and munmap (a region
 * each: anonymous memory is zero pages on first touch; a file's pages are
 * there at once — a root-filesystem file's shared copy-on-write with the
 * file cache, a tmpfs file's copied; private, shared or not), mprotect (the regions' rights; the pages
 * mapped in the range are revoked and come back with the new rights on
 * the next touch), madvise accepted. Neighbouring regions that go on
 * with the same memory are merged after each (as_merge), as Linux merges
 * mappings, so abutting mmaps do not use up AS_MAX_REGIONS.
 *
 * As Linux: a shared mapping of a file not opened for writing may never
 * be made writable (the region's max_rights: mprotect is EACCES), and
 * the pages of a file mapping past the page holding the file's end are
 * nobody's (a region of the object SHMEM_PAST_END, which has no page):
 * touching them is SIGBUS (signal_fault.c). A region of a file records
 * it (tag: MAP_TAG_FILE + node, for /proc/PID/maps; source: the file's
 * offset of its start).
 */
#include "file.h"
#include "layout.h"
#include "memory.h"
#include "syscall.h"
#include "vdso_map.h"
#include "vfs.h"

#define PAGE_UP(x) (((x) + POSIX_PAGE_SIZE - 1) & ~(POSIX_PAGE_SIZE - 1))

long posix_brk(struct process *p, struct user_regs *r)
{
	uint64_t want = r->rdi, old_end = PAGE_UP(p->brk), new_end = PAGE_UP(want);
	const unsigned rw = IPC_MAP_READ | IPC_MAP_WRITE;
	long err = 0;

	/* Linux answers every failure with the break unchanged. */
	if (want < p->brk_start || want - p->brk_start > POSIX_BRK_MAX)
		return (long)p->brk;
	if (new_end < old_end) {
		err = as_remove(&p->as, new_end, old_end - new_end);
	} else if (new_end > old_end) {
		/* Extend the region below the break (the process may have cut
		 * it, as musl's guard page does), or start one. */
		const struct as_region *below =
			old_end > p->brk_start ? as_region_at(&p->as, old_end - 1) : NULL;
		if (below && below->end == old_end && below->kind == AS_ANON && below->rights == rw)
			err = as_resize(&p->as, below->start, new_end);
		else if ((err = as_add(&p->as, old_end, new_end - old_end, rw, AS_ANON, 0, false)) == 0)
			as_merge(&p->as, old_end, new_end);
	}
	if (err == 0)
		p->brk = want;
	return (long)p->brk;
}

/* A region's rights for prot: x86 pages are readable whenever they are
 * mapped, so any access at all includes reading; PROT_NONE is none. */
static unsigned rights_of(uint64_t prot)
{
	if (!(prot & (LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC)))
		return 0;
	return IPC_MAP_READ | (prot & LINUX_PROT_WRITE ? IPC_MAP_WRITE : 0) |
	       (prot & LINUX_PROT_EXEC ? IPC_MAP_EXEC : 0);
}

static void revoke(void *ctx, uint64_t va, void *page)
{
	sys_mem_unmap(fpage((uint64_t)page, 12), 0);
}

/* Give [va, va + len) the rights of prot and take back the pages the
 * process has mapped there (it faults them in again with the new
 * rights). A Linux errno. */
static long protect(struct process *p, uint64_t va, uint64_t len, uint64_t prot)
{
	/* The vDSO's pages are every process's: never writable (Linux would
	 * give a private copy; nothing needs one). */
	if ((prot & LINUX_PROT_WRITE) && vdso_overlaps(va, len))
		return -LINUX_EACCES;
	long err = as_protect(&p->as, va, len, rights_of(prot));

	if (err)
		return err == -ERR_BAD_ADDRESS ? -LINUX_ENOMEM
		       : err == -ERR_NO_RIGHTS ? -LINUX_EACCES : errno_of(err);
	as_merge(&p->as, va, va + len);
	as_each_owned(&p->as, va, va + len, revoke, NULL);
	shmem_revoke(p, va, va + len);
	return 0;
}

/* The file node mmap maps for descriptor fd (or -1: anonymous memory,
 * as /dev/zero gives) and whether a shared mapping of it may be written
 * (*writable: the file is open for writing): 0 or -EBADF, -EACCES,
 * -ENODEV. */
static long map_source(struct process *p, uint64_t fd, uint64_t type, uint64_t prot, int *node,
		       bool *writable)
{
	struct file *f = fd_file(p, fd);

	*node = -1;
	*writable = true;
	if (!f || (f->flags & LINUX_O_PATH))
		return -LINUX_EBADF;
	const struct vfs_node *n = &vfs_nodes[f->node];
	if (n->type == VFS_DEVICE && n->device == DEV_ZERO)
		return 0;
	if (n->type != VFS_FILE || n->fs == FS_PROC)
		return -LINUX_ENODEV;
	unsigned acc = f->flags & LINUX_O_ACCMODE;
	*writable = acc == LINUX_O_RDWR;
	if (acc == LINUX_O_WRONLY ||
	    (type == LINUX_MAP_SHARED && (prot & LINUX_PROT_WRITE) && acc != LINUX_O_RDWR))
		return -LINUX_EACCES;
	*node = f->node;
	return 0;
}

/* node's bytes from offset into the new region [va, va + len): a root
 * filesystem file's pages from the file cache, shared copy-on-write
 * (memory.c), a tmpfs file's copied. */
static long map_fill(struct process *p, int node, uint64_t offset, uint64_t va, uint64_t len)
{
	uint64_t size = vfs_nodes[node].size;

	for (uint64_t at = 0; at < len && offset + at < size; at += POSIX_PAGE_SIZE) {
		void *cached = memory_file_page(node, (offset + at) / POSIX_PAGE_SIZE);
		if (cached && as_adopt(&p->as, va + at, cached) == 0)
			continue;
		if (cached)
			memory_file_page_unused(cached);
		void *page = as_page(&p->as, va + at);
		uint64_t n = size - (offset + at) < POSIX_PAGE_SIZE ? size - (offset + at)
								     : POSIX_PAGE_SIZE;
		if (!page)
			return -LINUX_ENOMEM;
		vfs_read(node, offset + at, page, n);
	}
	return 0;
}

/* A shared mapping: of a tmpfs file (node), its own pages from offset;
 * anonymous (node -1), a new object of len bytes that a fork's child
 * maps too (shmem.c). none: PROT_NONE. The address, or -ENOMEM. */
static long map_shared(struct process *p, int node, uint64_t offset, uint64_t va, uint64_t len,
		       unsigned rights, bool none, unsigned max_rights)
{
	long object = node;

	if (node < 0 && (object = shmem_anonymous(len)) < 0)
		return object;
	if (as_add_object(&p->as, va, len, rights, (uint64_t)object, node < 0 ? 0 : offset) < 0) {
		if (node < 0)
			vfs_closed((int)object);
		return -LINUX_ENOMEM;
	}
	as_label(&p->as, va, len, max_rights, 0, 0);
	if (none && as_protect(&p->as, va, len, 0) < 0) {
		as_remove(&p->as, va, len);
		return -LINUX_ENOMEM;
	}
	as_merge(&p->as, va, va + len);
	return (long)va;
}

long posix_mmap(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, len = r->rsi, prot = r->rdx, flags = r->r10, va;
	uint64_t type = flags & LINUX_MAP_TYPE, offset = r->r9;
	int node = -1;
	bool writable = true;
	long err;

	if (!(flags & LINUX_MAP_ANONYMOUS)) {
		if (offset & (POSIX_PAGE_SIZE - 1))
			return -LINUX_EINVAL;
		if ((err = map_source(p, r->r8, type, prot, &node, &writable)))
			return err;
	}
	if (len == 0 || addr & (POSIX_PAGE_SIZE - 1) ||
	    (type != LINUX_MAP_PRIVATE && type != LINUX_MAP_SHARED))
		return -LINUX_EINVAL;
	if (len > POSIX_MMAP_TOP - POSIX_MMAP_BASE)
		return -LINUX_ENOMEM;   /* as Linux's for a length past the address space */
	len = PAGE_UP(len);
	bool fixed = flags & (LINUX_MAP_FIXED | LINUX_MAP_FIXED_NOREPLACE);
	if (fixed) {
		if (addr < POSIX_IMAGE_LO || addr >= USER_SPACE_TOP || len > USER_SPACE_TOP - addr)
			return -LINUX_EINVAL;
		if (flags & LINUX_MAP_FIXED_NOREPLACE) {
			if (!as_find_free(&p->as, addr, addr + len, len, POSIX_PAGE_SIZE, &va))
				return -LINUX_EEXIST;
		} else if (as_remove(&p->as, addr, len) < 0) {
			return -LINUX_ENOMEM;
		}
		va = addr;
	} else if (!(addr >= POSIX_IMAGE_LO && addr < USER_SPACE_TOP &&
		     len <= USER_SPACE_TOP - addr &&
		     as_find_free(&p->as, addr, addr + len, len, POSIX_PAGE_SIZE, &va)) &&
		   !as_find_free(&p->as, POSIX_MMAP_BASE, POSIX_MMAP_TOP, len, POSIX_PAGE_SIZE, &va)) {
		return -LINUX_ENOMEM;
	}
	/* A PROT_NONE mapping is made readable, then closed. */
	unsigned rights = rights_of(prot) ? rights_of(prot) : IPC_MAP_READ;
	unsigned max_rights = type == LINUX_MAP_SHARED && !writable ? ~(unsigned)IPC_MAP_WRITE : ~0u;
	if (type == LINUX_MAP_SHARED && (node < 0 || VFS_WRITABLE(&vfs_nodes[node])))
		return map_shared(p, node, offset, va, len, rights, !rights_of(prot), max_rights);
	/* A file's pages up to the one holding its end, then none. */
	uint64_t filled = len;
	if (node >= 0 && PAGE_UP(vfs_nodes[node].size) < offset + len)
		filled = PAGE_UP(vfs_nodes[node].size) > offset ? PAGE_UP(vfs_nodes[node].size) - offset : 0;
	if ((filled && as_add(&p->as, va, filled, rights, AS_ANON, node >= 0 ? offset : 0, false) < 0) ||
	    (filled < len && as_add_object(&p->as, va + filled, len - filled, rights, SHMEM_PAST_END,
					   offset + filled) < 0)) {
		as_remove(&p->as, va, len);
		return -LINUX_ENOMEM;
	}
	/* The root filesystem's nodes stay for good: a region may name one. */
	as_label(&p->as, va, len, max_rights,
		 node >= 0 && !VFS_WRITABLE(&vfs_nodes[node]) ? MAP_TAG_FILE + (uint64_t)node : 0,
		 node >= 0 ? offset : 0);
	if ((node >= 0 && map_fill(p, node, offset, va, filled) < 0) ||
	    (!rights_of(prot) && as_protect(&p->as, va, len, 0) < 0)) {
		as_remove(&p->as, va, len);
		return -LINUX_ENOMEM;
	}
	as_merge(&p->as, va, va + len);
	return (long)va;
}

long posix_munmap(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, len = PAGE_UP(r->rsi);

	if (addr & (POSIX_PAGE_SIZE - 1) || len == 0 || addr >= USER_SPACE_TOP ||
	    len > USER_SPACE_TOP - addr)
		return -LINUX_EINVAL;
	return as_remove(&p->as, addr, len) < 0 ? -LINUX_ENOMEM : 0;
}

long posix_mprotect(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, len = PAGE_UP(r->rsi);

	if (addr & (POSIX_PAGE_SIZE - 1) || addr >= USER_SPACE_TOP || len > USER_SPACE_TOP - addr)
		return -LINUX_EINVAL;
	return len ? protect(p, addr, len, r->rdx) : 0;
}

/* msync: the pages of a shared mapping are the file's own, so there is
 * nothing to write back; as Linux, EINVAL for an address not page
 * aligned or bad flags (MS_ASYNC with MS_SYNC), ENOMEM for a range not
 * all mapped. */
long posix_msync(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, len = PAGE_UP(r->rsi), flags = r->rdx;
	const uint64_t ms_async = 1, ms_invalidate = 2, ms_sync = 4;

	if (addr & (POSIX_PAGE_SIZE - 1) || flags & ~(ms_async | ms_invalidate | ms_sync) ||
	    ((flags & ms_async) && (flags & ms_sync)) || addr + len < addr)
		return -LINUX_EINVAL;
	for (uint64_t va = addr; va < addr + len;) {
		const struct as_region *reg = as_region_at(&p->as, va);
		if (!reg)
			return -LINUX_ENOMEM;
		va = reg->end;
	}
	return 0;
}

/* Advice is only advice: accepted, nothing is done. */
long posix_madvise(struct process *p, struct user_regs *r)
{
	if (r->rdi & (POSIX_PAGE_SIZE - 1))
		return -LINUX_EINVAL;
	return 0;
}
