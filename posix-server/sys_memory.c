/*
 * A process's memory calls: brk (from the image's end: the region below
 * the break grown in place, or a new one), anonymous private mmap and munmap (a region each,
 * zero pages on first touch), mprotect and madvise accepted.
 */
#include "layout.h"
#include "syscall.h"

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
		else
			err = as_add(&p->as, old_end, new_end - old_end, rw, AS_ANON, 0, false);
	}
	if (err == 0)
		p->brk = want;
	return (long)p->brk;
}

static unsigned rights_of(uint64_t prot)
{
	/* x86 pages are always readable: PROT_NONE reads as PROT_READ for now. */
	return IPC_MAP_READ | (prot & LINUX_PROT_WRITE ? IPC_MAP_WRITE : 0) |
	       (prot & LINUX_PROT_EXEC ? IPC_MAP_EXEC : 0);
}

long posix_mmap(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, len = r->rsi, prot = r->rdx, flags = r->r10, va;
	uint64_t type = flags & LINUX_MAP_TYPE;

	if (!(flags & LINUX_MAP_ANONYMOUS))
		return (int64_t)r->r8 >= 0 && r->r8 <= 2 ? -LINUX_ENODEV : -LINUX_EBADF;
	if (len == 0 || len > POSIX_MMAP_TOP - POSIX_MMAP_BASE || addr & (POSIX_PAGE_SIZE - 1) ||
	    (type != LINUX_MAP_PRIVATE && type != LINUX_MAP_SHARED))
		return -LINUX_EINVAL;
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
	/* A shared anonymous mapping is private until there is fork. */
	if (as_add(&p->as, va, len, rights_of(prot), AS_ANON, 0, false) < 0)
		return -LINUX_ENOMEM;
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

/* Accepted for memory the process has; the protection itself is not
 * changed yet (regions keep the rights they were made with). */
long posix_mprotect(struct process *p, struct user_regs *r)
{
	uint64_t addr = r->rdi, len = PAGE_UP(r->rsi);

	if (addr & (POSIX_PAGE_SIZE - 1) || addr >= USER_SPACE_TOP || len > USER_SPACE_TOP - addr)
		return -LINUX_EINVAL;
	for (uint64_t va = addr; va < addr + len; va += POSIX_PAGE_SIZE) {
		const struct as_region *reg = as_region_at(&p->as, va);
		if (!reg)
			return -LINUX_ENOMEM;
		va = reg->end - POSIX_PAGE_SIZE;
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
