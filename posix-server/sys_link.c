/*
 * Calls that make names in the file tree beside open, mkdir and bind:
 * link and linkat (a second name of a node: vfs_link), symlink and
 * symlinkat (a symbolic link in tmpfs, its target in a page of tmpfs:
 * vfs_set_target), mknod and mknodat (a regular file, a named pipe: fifo.c, a
 * socket's name, a device node). Linux's errors, in Linux's order
 * (do_linkat, do_symlinkat, do_mknodat): the old path first, then the
 * new name (filename_create: EEXIST, ENOENT for a trailing slash, EROFS
 * on the read-only root), then the call's own checks.
 */
#include "file.h"
#include "path.h"
#include "syscall.h"
#include "vfs.h"

/* The new name of a call that makes one (filename_create): 0 and *l, or
 * -errno: -EEXIST when something has that name (or it is ".", "..",
 * "/"), -ENOENT when it ends in '/' or is in /proc (whose lookup of a
 * name it does not have fails, as Linux's proc_root_lookup). */
static long new_name(struct process *p, uint64_t dirfd, uint64_t va, struct vfs_lookup *l)
{
	long err = path_lookup(p, dirfd, va, VFS_PARENT, l);

	if (err)
		return err;
	if (l->node >= 0)
		return -LINUX_EEXIST;
	return l->dir_wanted || vfs_nodes[l->parent].fs == FS_PROC ? -LINUX_ENOENT : 0;
}

static long link_at(struct process *p, uint64_t olddir, uint64_t oldva, uint64_t newdir,
		    uint64_t newva, uint64_t flags)
{
	struct vfs_lookup l;
	int node;
	long err;

	if (flags & ~(uint64_t)(LINUX_AT_SYMLINK_FOLLOW | LINUX_AT_EMPTY_PATH))
		return -LINUX_EINVAL;
	/* The old path is followed only with AT_SYMLINK_FOLLOW: a link to a
	 * symbolic link is a second name of the link. */
	uint64_t how = (flags & LINUX_AT_EMPTY_PATH) |
		       (flags & LINUX_AT_SYMLINK_FOLLOW ? 0 : LINUX_AT_SYMLINK_NOFOLLOW);
	if ((err = path_at_node(p, olddir, oldva, how, &node)) ||
	    (err = new_name(p, newdir, newva, &l)))
		return err;
	return vfs_link(node, l.parent, l.last);
}

long posix_link(struct process *p, struct user_regs *r)
{
	return link_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, (uint64_t)LINUX_AT_FDCWD, r->rsi, 0);
}

long posix_linkat(struct process *p, struct user_regs *r)
{
	return link_at(p, r->rdi, r->rsi, r->rdx, r->r10, r->r8);
}

static long symlink_at(struct process *p, uint64_t targetva, uint64_t dirfd, uint64_t va)
{
	static char target[LINUX_PATH_MAX];
	struct vfs_lookup l;
	long err, node;

	if ((err = path_in(p, targetva, target)))
		return err;
	if (!target[0])
		return -LINUX_ENOENT;   /* getname of "" */
	if ((err = new_name(p, dirfd, va, &l)))
		return err;
	if ((node = vfs_create(l.parent, l.last, LINUX_S_IFLNK | 0777)) < 0)
		return node;
	if ((err = vfs_set_target((int)node, target, strlen(target))) < 0)
		vfs_remove((int)node, false);
	return err;
}

long posix_symlink(struct process *p, struct user_regs *r)
{
	return symlink_at(p, r->rdi, (uint64_t)LINUX_AT_FDCWD, r->rsi);
}

long posix_symlinkat(struct process *p, struct user_regs *r)
{
	return symlink_at(p, r->rdi, r->rsi, r->rdx);
}

/* The device a character device's numbers name here (the numbers of
 * Linux's devices.txt that the server has), or 0: none. */
static uint8_t device_of(uint32_t major, uint32_t minor)
{
	static const struct { uint8_t major, minor, device; } known[] = {
		{ 1, 3, DEV_NULL }, { 1, 5, DEV_ZERO }, { 1, 8, DEV_RANDOM }, { 1, 9, DEV_RANDOM },
		{ 5, 0, DEV_TTY }, { 5, 1, DEV_CONSOLE }, { 5, 2, DEV_PTMX },
	};

	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].major == major && known[i].minor == minor)
			return known[i].device;
	return 0;
}

/* mknod(2) as Linux's for root: the kind is checked first (a directory
 * is EPERM, an unknown kind EINVAL: may_mknod), then the name. A device
 * node keeps its numbers (stat's st_rdev); one whose numbers are a
 * device the server has opens that device, any other opens as ENXIO, as
 * Linux's open of a device no driver has. */
static long mknod_at(struct process *p, uint64_t dirfd, uint64_t va, uint64_t mode, uint64_t dev)
{
	uint32_t type = (uint32_t)mode & LINUX_S_IFMT, rdev = (uint32_t)dev;
	struct vfs_lookup l;
	long err, node;

	switch (type) {
	case 0: type = LINUX_S_IFREG; break;
	case LINUX_S_IFREG: case LINUX_S_IFCHR: case LINUX_S_IFBLK: case LINUX_S_IFIFO:
	case LINUX_S_IFSOCK: break;
	case LINUX_S_IFDIR: return -LINUX_EPERM;
	default: return -LINUX_EINVAL;
	}
	if ((err = new_name(p, dirfd, va, &l)))
		return err;
	if ((node = vfs_create(l.parent, l.last, type | ((uint32_t)mode & ~p->umask & 07777))) < 0)
		return node;
	if (type == LINUX_S_IFCHR || type == LINUX_S_IFBLK) {
		struct vfs_node *n = &vfs_nodes[node];
		uint32_t major = (rdev & 0xFFF00) >> 8;         /* Linux's new_decode_dev */
		uint32_t minor = (rdev & 0xFF) | ((rdev >> 12) & 0xFFF00);
		n->rdev = rdev;
		n->device = type == LINUX_S_IFCHR ? device_of(major, minor) : 0;
	}
	return 0;
}

long posix_mknod(struct process *p, struct user_regs *r)
{
	return mknod_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi, r->rdx);
}

long posix_mknodat(struct process *p, struct user_regs *r)
{
	return mknod_at(p, r->rdi, r->rsi, r->rdx, r->r10);
}
