/*
 * Setting a file's permission bits (Linux's chmod(2), fchmod, fchmodat):
 * the mode's low 12 bits (07777) replace the node's, its type stays, the
 * status change time becomes now. The root filesystem is read-only
 * (EROFS); everyone is root (no EPERM). An O_PATH descriptor is EBADF,
 * as Linux's fchmod.
 */
#include "file.h"
#include "path.h"
#include "syscall.h"
#include "vfs.h"

#define MODE_BITS 07777u

static long node_chmod(int node, uint64_t mode)
{
	struct vfs_node *n = &vfs_nodes[node];

	if (n->fs == FS_ROOT)
		return -LINUX_EROFS;
	n->mode = (n->mode & ~MODE_BITS) | ((uint32_t)mode & MODE_BITS);
	n->ctime = vfs_now();
	return 0;
}

static long chmod_at(struct process *p, uint64_t dirfd, uint64_t va, uint64_t mode)
{
	int node;
	long err = path_at_node(p, dirfd, va, 0, &node);

	return err ? err : node_chmod(node, mode);
}

long posix_chmod(struct process *p, struct user_regs *r)
{
	return chmod_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi);
}

long posix_fchmodat(struct process *p, struct user_regs *r)
{
	return chmod_at(p, r->rdi, r->rsi, r->rdx);
}

long posix_fchmod(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	if (!f || (f->flags & LINUX_O_PATH))
		return -LINUX_EBADF;
	return node_chmod(f->node, r->rsi);
}
