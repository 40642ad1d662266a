/*
 * A process's memory calls: brk (from the image's end: the region below
 * the break grown in place, or a new one), mmap and munmap (a region
 * each: anonymous memory is zero pages on first touch; a file's pages are
 * there at once — a root-filesystem file's shared copy-on-write with the
 * file cache, a tmpfs file's copied; private, shared or not), mprotect (the regions' rights; the pages
 * mapped in the range are revoked and come back with the new rights on
 * the next touch), mremap (shrink, grow, move: the pages go with the
 * mapping), madvise accepted. Neighbouring regions that go on
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
	memory_revokes++;
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

/* A private mapping [va, va + len) of node from offset (node -1:
 * anonymous memory) with rights (0: PROT_NONE): a file's pages up to the
 * one holding its end, then none. 0 or -ENOMEM (nothing made). */
static long map_private(struct process *p, int node, uint64_t offset, uint64_t va, uint64_t len,
			unsigned rights, unsigned max_rights)
{
	/* A PROT_NONE mapping is made readable, then closed. */
	unsigned made = rights ? rights : IPC_MAP_READ;
	uint64_t filled = len;

	if (node >= 0 && PAGE_UP(vfs_nodes[node].size) < offset + len)
		filled = PAGE_UP(vfs_nodes[node].size) > offset ? PAGE_UP(vfs_nodes[node].size) - offset : 0;
	if ((filled && as_add(&p->as, va, filled, made, AS_ANON, node >= 0 ? offset : 0, false) < 0) ||
	    (filled < len && as_add_object(&p->as, va + filled, len - filled, made, SHMEM_PAST_END,
					   offset + filled) < 0)) {
		as_remove(&p->as, va, len);
		return -LINUX_ENOMEM;
	}
	/* The root filesystem's nodes stay for good: a region may name one. */
	as_label(&p->as, va, len, max_rights,
		 node < 0 ? 0 : VFS_WRITABLE(&vfs_nodes[node]) ? MAP_TAG_TMPFS : MAP_TAG_FILE + (uint64_t)node,
		 node >= 0 ? offset : 0);
	if ((node >= 0 && map_fill(p, node, offset, va, filled) < 0) ||
	    (!rights && as_protect(&p->as, va, len, 0) < 0)) {
		as_remove(&p->as, va, len);
		return -LINUX_ENOMEM;
	}
	as_merge(&p->as, va, va + len);
	return 0;
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
	long made = map_private(p, node, offset, va, len, rights_of(prot), max_rights);
	return made < 0 ? made : (long)va;
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

/* Move [old, old + len) of the AS_ANON region *r to the free range [to,
 * to + len): a region like it there (rights, max_rights, tag, a file's
 * offset), the pages owned moved and taken back from the process at
 * their old addresses, the old range removed unless keep (then it reads
 * as new: MREMAP_DONTUNMAP). 0 or -ENOMEM (nothing changed). */
static long move(struct process *p, const struct as_region *r, uint64_t old, uint64_t len,
		 uint64_t to, bool keep)
{
	const struct as_region was = *r;       /* r moves as regions are added */

	if (as_add(&p->as, to, len, was.rights ? was.rights : IPC_MAP_READ, AS_ANON, 0, false) < 0)
		return -LINUX_ENOMEM;
	as_label(&p->as, to, len, was.max_rights, was.tag, was.source + (old - was.start));
	if (!was.rights && as_protect(&p->as, to, len, 0) < 0) {
		as_remove(&p->as, to, len);
		return -LINUX_ENOMEM;
	}
	as_each_owned(&p->as, old, old + len, revoke, NULL);
	as_move_pages(&p->as, old, len, to);
	if (!keep && as_remove(&p->as, old, len) < 0) {
		as_move_pages(&p->as, to, len, old);
		as_each_owned(&p->as, old, old + len, revoke, NULL);
		as_remove(&p->as, to, len);
		return -LINUX_ENOMEM;
	}
	as_merge(&p->as, to, to + len);
	return 0;
}

/* [at, at + len) made as what would follow address from of the AS_ANON
 * region *r: its rights, and a file's pages from there for a mapping of
 * a root-filesystem file (tag). 0 or -ENOMEM (also for a mapping of a
 * tmpfs file: its node is not known). */
static long extend(struct process *p, const struct as_region *r, uint64_t from, uint64_t at,
		   uint64_t len)
{
	int node = r->tag >= MAP_TAG_FILE ? (int)(r->tag - MAP_TAG_FILE) : -1;

	if (r->tag == MAP_TAG_TMPFS)
		return -LINUX_ENOMEM;
	return map_private(p, node, r->source + (from - r->start), at, len, r->rights,
			   r->max_rights);
}

/*
 * mremap(old, old_len, new_len, flags, new_address), as Linux's
 * (mremap(2)): shrinking unmaps the tail; growing extends the mapping in
 * place when the addresses after it are free, else (MREMAP_MAYMOVE)
 * moves it where there is room, its pages with it; MREMAP_FIXED moves it
 * to new_address, unmapping what is there; MREMAP_DONTUNMAP leaves the
 * old range mapped and empty. Private mappings (anonymous or of files)
 * grow and move, but one of a tmpfs file only moves and shrinks (ENOMEM
 * to grow); shared ones only shrink (EINVAL). EINVAL for bad flags
 * or alignment and overlapping ranges, EFAULT for an old range not in one
 * mapping, ENOMEM when it cannot grow in place (no MREMAP_MAYMOVE) or
 * there is no room.
 */
long posix_mremap(struct process *p, struct user_regs *r)
{
	uint64_t old = r->rdi, old_len = PAGE_UP(r->rsi), new_len = PAGE_UP(r->rdx);
	uint64_t flags = r->r10, to = r->r8;
	const uint64_t known = LINUX_MREMAP_MAYMOVE | LINUX_MREMAP_FIXED | LINUX_MREMAP_DONTUNMAP;
	bool fixed = flags & LINUX_MREMAP_FIXED, keep = flags & LINUX_MREMAP_DONTUNMAP;
	long err = 0;

	if (flags & ~known || old & (POSIX_PAGE_SIZE - 1) || new_len == 0 || r->rdx > new_len ||
	    ((fixed || keep) && !(flags & LINUX_MREMAP_MAYMOVE)) || (keep && old_len != new_len) ||
	    old >= USER_SPACE_TOP || old_len > USER_SPACE_TOP - old ||
	    new_len > USER_SPACE_TOP - POSIX_PAGE_SIZE)   /* Linux's TASK_SIZE */
		return -LINUX_EINVAL;
	if (fixed && (to & (POSIX_PAGE_SIZE - 1) || to < POSIX_IMAGE_LO || to >= USER_SPACE_TOP ||
		      new_len > USER_SPACE_TOP - to || (old < to + new_len && to < old + old_len)))
		return -LINUX_EINVAL;
	const struct as_region *reg = as_region_at(&p->as, old);
	if (!reg)
		return -LINUX_EFAULT;
	if (fixed) {
		/* What is at new_address goes, and a shrinking move drops the
		 * old range's tail first. */
		if (as_remove(&p->as, to, new_len) < 0)
			return -LINUX_ENOMEM;
		if (old_len > new_len && as_remove(&p->as, old + new_len, old_len - new_len) < 0)
			return -LINUX_ENOMEM;
		old_len = old_len > new_len ? new_len : old_len;
		if (!(reg = as_region_at(&p->as, old)))
			return -LINUX_EFAULT;
	} else if (!keep && old_len >= new_len) {
		if (old_len > new_len && as_remove(&p->as, old + new_len, old_len - new_len) < 0)
			return -LINUX_ENOMEM;
		return (long)old;
	}
	if (old_len == 0 || old_len > reg->end - old)
		return old_len ? -LINUX_EFAULT : -LINUX_EINVAL;
	if (reg->kind != AS_ANON || (keep && reg->tag))
		return -LINUX_EINVAL;
	if (!fixed && !keep) {
		/* Grow in place when the mapping ends the region and nothing
		 * follows it. */
		uint64_t va, end = old + old_len;
		if (end == reg->end && new_len - old_len <= USER_SPACE_TOP - end &&
		    as_find_free(&p->as, end, old + new_len, new_len - old_len, POSIX_PAGE_SIZE, &va))
			return (err = extend(p, reg, end, end, new_len - old_len)) < 0 ? err : (long)old;
		if (!(flags & LINUX_MREMAP_MAYMOVE))
			return -LINUX_ENOMEM;
	}
	if (!fixed && (new_len > POSIX_MMAP_TOP - POSIX_MMAP_BASE ||
		       !as_find_free(&p->as, POSIX_MMAP_BASE, POSIX_MMAP_TOP, new_len, POSIX_PAGE_SIZE,
				     &to)))
		return -LINUX_ENOMEM;
	/* The new tail first (the room is free), then the old pages. */
	if (new_len > old_len && (err = extend(p, reg, old + old_len, to + old_len, new_len - old_len)) < 0)
		return err;
	if ((reg = as_region_at(&p->as, old)) == NULL || (err = move(p, reg, old, old_len, to, keep))) {
		if (new_len > old_len)
			as_remove(&p->as, to + old_len, new_len - old_len);
		return err ? err : -LINUX_EFAULT;
	}
	return (long)to;
}
