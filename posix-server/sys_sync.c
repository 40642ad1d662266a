/*
 * Writing back: fsync, fdatasync, sync, syncfs. The server's files (the
 * root filesystem's, tmpfs's) are in memory only, so there is nothing
 * to write; what differs is which descriptors Linux refuses (fsync(2)).
 */
#include "file.h"
#include "syscall.h"
#include "vfs.h"

/* fsync(2), fdatasync(2): the root filesystem's and tmpfs's files and
 * directories are in memory, with nothing to write back: 0; what has no
 * fsync on Linux (pipes, sockets, eventfds, devices, /proc) EINVAL; a
 * descriptor not open (or O_PATH) EBADF. */
long posix_fsync(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	if (!f || (f->flags & LINUX_O_PATH))
		return -LINUX_EBADF;
	const struct vfs_node *n = &vfs_nodes[f->node];
	return (n->type == VFS_FILE || n->type == VFS_DIR) && n->fs != FS_PROC ? 0 : -LINUX_EINVAL;
}

long posix_fdatasync(struct process *p, struct user_regs *r)
{
	return posix_fsync(p, r);
}

/* sync(2): nothing to write back (always 0, as Linux's); syncfs(2): the
 * same for the filesystem of an open descriptor, EBADF for another. */
long posix_sync(struct process *p, struct user_regs *r)
{
	return 0;
}

long posix_syncfs(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	return f && !(f->flags & LINUX_O_PATH) ? 0 : -LINUX_EBADF;
}
