/*
 * Calls on paths: open, access, readlink, getcwd and chdir, mkdir,
 * unlink, rmdir, rename, truncate, umask (the stat family: sys_stat.c). A path
 * is copied from the process (EFAULT, ENAMETOOLONG), resolved in the file
 * tree (vfs.h) from the root, the working directory or a directory
 * descriptor (the *at calls), and the call's errors are Linux's: the root
 * filesystem is read-only (EROFS), tmpfs (/tmp, /var) is not.
 */
#include "file.h"
#include "path.h"
#include "syscall.h"
#include "tty.h"
#include "vfs.h"

#define PAGE 4096UL

long path_in(struct process *p, uint64_t va, char *path)
{
	for (uint64_t done = 0; done < LINUX_PATH_MAX;) {
		uint64_t n = PAGE - (va + done) % PAGE;
		if (n > LINUX_PATH_MAX - done)
			n = LINUX_PATH_MAX - done;
		if (as_copy_in(&p->as, path + done, va + done, n) < 0)
			return -LINUX_EFAULT;
		for (uint64_t end = done + n; done < end; done++)
			if (!path[done])
				return 0;
	}
	return -LINUX_ENAMETOOLONG;
}

/* The directory a relative path starts from: dirfd's, or the working
 * directory for AT_FDCWD. 0 or -EBADF, -ENOTDIR. */
static long start_of(struct process *p, uint64_t dirfd, const char *path, int *start)
{
	*start = p->cwd;
	if (path[0] == '/' || (int)dirfd == LINUX_AT_FDCWD)
		return 0;
	struct file *f = fd_file(p, dirfd);
	if (!f)
		return -LINUX_EBADF;
	if (vfs_nodes[f->node].type != VFS_DIR)
		return -LINUX_ENOTDIR;
	*start = f->node;
	return 0;
}

long path_lookup(struct process *p, uint64_t dirfd, uint64_t va, unsigned flags,
		 struct vfs_lookup *out)
{
	static char path[LINUX_PATH_MAX];
	int start;
	long err = path_in(p, va, path);

	if (!err)
		err = start_of(p, dirfd, path, &start);
	return err ? err : vfs_resolve(start, path, flags, p, out);
}

long path_at_node(struct process *p, uint64_t dirfd, uint64_t va, uint64_t flags, int *node)
{
	static char path[LINUX_PATH_MAX];
	struct vfs_lookup l;
	long err = path_in(p, va, path);

	if (err)
		return err;
	if (!path[0] && (flags & LINUX_AT_EMPTY_PATH)) {
		if ((int)dirfd == LINUX_AT_FDCWD) {
			*node = p->cwd;
			return 0;
		}
		struct file *f = fd_file(p, dirfd);
		if (!f)
			return -LINUX_EBADF;
		*node = f->node;
		return 0;
	}
	int start;
	if ((err = start_of(p, dirfd, path, &start)) ||
	    (err = vfs_resolve(start, path, flags & LINUX_AT_SYMLINK_NOFOLLOW ? 0 : VFS_FOLLOW,
			       p, &l)))
		return err;
	*node = l.node;
	return 0;
}

/* The lowest free descriptor for the new description file (open's
 * flags: O_CLOEXEC), or -EMFILE with the description gone. */
static long install(struct process *p, long file, uint64_t flags)
{
	long fd = fd_install(p, (int)file, 0, flags & LINUX_O_CLOEXEC);

	if (fd < 0)
		file_put((int)file);
	return fd;
}

static long open_at(struct process *p, uint64_t dirfd, uint64_t va, uint64_t flags, uint64_t mode)
{
	uint64_t acc = flags & LINUX_O_ACCMODE;
	bool create = flags & LINUX_O_CREAT, path_only = flags & LINUX_O_PATH;
	bool follow = !(flags & LINUX_O_NOFOLLOW) && !(create && (flags & LINUX_O_EXCL));
	struct vfs_lookup l;
	long err;

	if ((flags & LINUX_O_TMPFILE) == LINUX_O_TMPFILE || acc == 3)
		return -LINUX_EINVAL;
	int waited = fifo_waiting(p->current);
	if (waited >= 0) {      /* tried again: on the node, not the name (fifo.c) */
		long file = fifo_open(p, waited, (uint32_t)flags & (LINUX_O_ACCMODE | LINUX_O_NONBLOCK));
		return file < 0 ? file : install(p, file, flags);
	}
	if ((err = path_lookup(p, dirfd, va, (follow ? VFS_FOLLOW : 0) | (create ? VFS_PARENT : 0), &l)))
		return err;
	int node = l.node;
	if (node < 0) {
		if (l.dir_wanted)
			return -LINUX_EISDIR;
		if ((err = vfs_create(l.parent, l.last,
				      LINUX_S_IFREG | ((uint32_t)mode & ~p->umask & 07777))) < 0)
			return err;
		node = (int)err;
	} else {
		const struct vfs_node *n = &vfs_nodes[node];
		if (create && (flags & LINUX_O_EXCL))
			return -LINUX_EEXIST;
		if (n->type == VFS_SYMLINK && !path_only)
			return -LINUX_ELOOP;
		if ((n->type == VFS_SOCKET_NAME || (n->fs == FS_PIPE && n->type != VFS_PIPE)) &&
		    !path_only)
			return -LINUX_ENXIO;    /* a socket is reached by connect; /proc/PID/fd/N
						 * of a socket, eventfd, epoll opens nothing */
		if ((flags & LINUX_O_DIRECTORY) && n->type != VFS_DIR)
			return -LINUX_ENOTDIR;
		if (n->type == VFS_DEVICE && !n->device && !path_only)
			return -LINUX_ENXIO;    /* mknod's numbers of no device here (chrdev_open) */
		if (n->type == VFS_FIFO && !path_only) {
			/* a pipe's end: its own description, or waits (fifo.c) */
			long file = fifo_open(p, node, (uint32_t)flags & (LINUX_O_ACCMODE | LINUX_O_NONBLOCK));
			if (file < 0)
				return file;    /* (SYSCALL_BLOCK too) */
			return install(p, file, flags);
		}
		if (!path_only && (err = tty_open(p, &node)))
			return err;     /* /dev/tty without a terminal, a locked pty */
		if (n->type == VFS_DIR && !path_only && (acc != LINUX_O_RDONLY || create))
			return -LINUX_EISDIR;
		bool writes = acc != LINUX_O_RDONLY || (flags & LINUX_O_TRUNC);
		if (writes && !path_only && n->type == VFS_FILE && !VFS_WRITABLE(n))
			return -LINUX_EROFS;
		if ((flags & LINUX_O_TRUNC) && !path_only && n->type == VFS_FILE &&
		    (err = vfs_truncate(node, 0)))
			return err;
	}
	uint32_t keep = LINUX_O_ACCMODE | LINUX_O_APPEND | LINUX_O_NONBLOCK | LINUX_O_PATH;
	long file = file_open(node, (uint32_t)flags & keep);
	if (file < 0) {
		vfs_closed(node);
		return file;
	}
	if (vfs_nodes[node].type == VFS_PIPE)   /* through /proc/PID/fd/N: one more end */
		pipe_opened(&files[file]);
	if (!path_only && (err = tty_opened(p, &files[file], flags))) {
		file_put((int)file);    /* /dev/ptmx: no pty free */
		return err;
	}
	return install(p, file, flags);
}

long posix_open(struct process *p, struct user_regs *r)
{
	return open_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi, r->rdx);
}

long posix_openat(struct process *p, struct user_regs *r)
{
	return open_at(p, r->rdi, r->rsi, r->rdx, r->r10);
}

long posix_creat(struct process *p, struct user_regs *r)
{
	return open_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi,
		       LINUX_O_CREAT | LINUX_O_WRONLY | LINUX_O_TRUNC, r->rsi);
}

static long access_at(struct process *p, uint64_t dirfd, uint64_t va, uint64_t mode,
		      uint64_t flags)
{
	int node;
	long err;

	if (mode & ~7UL || flags & ~(uint64_t)(LINUX_AT_EACCESS | LINUX_AT_SYMLINK_NOFOLLOW |
					       LINUX_AT_EMPTY_PATH))
		return -LINUX_EINVAL;
	if ((err = path_at_node(p, dirfd, va, flags, &node)))
		return err;
	const struct vfs_node *n = &vfs_nodes[node];
	/* Everybody is root: only a read-only file system and a file
	 * nobody may execute say no. */
	if ((mode & LINUX_W_OK) && n->type != VFS_DEVICE && !VFS_WRITABLE(n))
		return -LINUX_EROFS;
	if ((mode & LINUX_X_OK) && n->type != VFS_DIR && !(n->mode & 0111))
		return -LINUX_EACCES;
	return 0;
}

long posix_access(struct process *p, struct user_regs *r)
{
	return access_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi, 0);
}

long posix_faccessat(struct process *p, struct user_regs *r)
{
	return access_at(p, r->rdi, r->rsi, r->rdx, 0);
}

long posix_faccessat2(struct process *p, struct user_regs *r)
{
	return access_at(p, r->rdi, r->rsi, r->rdx, r->r10);
}

static long readlink_at(struct process *p, uint64_t dirfd, uint64_t va, uint64_t buf,
			uint64_t size)
{
	struct vfs_lookup l;
	size_t len;
	long err;

	if ((int64_t)size <= 0)
		return -LINUX_EINVAL;
	if ((err = path_lookup(p, dirfd, va, 0, &l)))
		return err;
	if (vfs_nodes[l.node].type != VFS_SYMLINK)
		return -LINUX_EINVAL;
	const char *target = vfs_link_target(l.node, p, &len);
	if (!target)
		return -LINUX_ENOENT;
	if (len > size)
		len = size;
	return as_copy_out(&p->as, buf, target, len) < 0 ? -LINUX_EFAULT : (long)len;
}

long posix_readlink(struct process *p, struct user_regs *r)
{
	return readlink_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi, r->rdx);
}

long posix_readlinkat(struct process *p, struct user_regs *r)
{
	return readlink_at(p, r->rdi, r->rsi, r->rdx, r->r10);
}

long posix_getcwd(struct process *p, struct user_regs *r)
{
	static char path[LINUX_PATH_MAX];
	long len = vfs_path(p->cwd, path, sizeof(path));

	if (len < 0)
		return len;
	if ((uint64_t)len + 1 > r->rsi)
		return -LINUX_ERANGE;
	return as_copy_out(&p->as, r->rdi, path, (size_t)len + 1) < 0 ? -LINUX_EFAULT : len + 1;
}

void process_set_cwd(struct process *p, int node)
{
	int old = p->cwd;

	vfs_nodes[node].opens++;
	p->cwd = node;
	if (old >= 0) {
		vfs_nodes[old].opens--;
		vfs_closed(old);
	}
}

long posix_chdir(struct process *p, struct user_regs *r)
{
	struct vfs_lookup l;
	long err = path_lookup(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, VFS_FOLLOW, &l);

	if (err)
		return err;
	if (vfs_nodes[l.node].type != VFS_DIR)
		return -LINUX_ENOTDIR;
	process_set_cwd(p, l.node);
	return 0;
}

long posix_fchdir(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	if (!f)
		return -LINUX_EBADF;
	if (vfs_nodes[f->node].type != VFS_DIR)
		return -LINUX_ENOTDIR;
	process_set_cwd(p, f->node);
	return 0;
}

static long mkdir_at(struct process *p, uint64_t dirfd, uint64_t va, uint64_t mode)
{
	struct vfs_lookup l;
	long err = path_lookup(p, dirfd, va, VFS_PARENT, &l);

	if (err)
		return err;
	if (l.node >= 0)
		return -LINUX_EEXIST;
	err = vfs_create(l.parent, l.last, LINUX_S_IFDIR | ((uint32_t)mode & ~p->umask & 01777));
	return err < 0 ? err : 0;
}

long posix_mkdir(struct process *p, struct user_regs *r)
{
	return mkdir_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi);
}

long posix_mkdirat(struct process *p, struct user_regs *r)
{
	return mkdir_at(p, r->rdi, r->rsi, r->rdx);
}

static long remove_at(struct process *p, uint64_t dirfd, uint64_t va, bool dir)
{
	struct vfs_lookup l;
	long err = path_lookup(p, dirfd, va, 0, &l);

	if (err)
		return err;
	bool is_dir = vfs_nodes[l.node].type == VFS_DIR;
	if (dir && !strcmp(l.last, "/"))       /* Linux's LAST_ROOT */
		return -LINUX_EBUSY;
	if (dir && !strcmp(l.last, "."))
		return -LINUX_EINVAL;
	if (dir && !strcmp(l.last, ".."))
		return -LINUX_ENOTEMPTY;
	if (dir != is_dir)
		return dir ? -LINUX_ENOTDIR : -LINUX_EISDIR;
	return vfs_remove(l.entry, dir);
}

long posix_unlink(struct process *p, struct user_regs *r)
{
	return remove_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, false);
}

long posix_rmdir(struct process *p, struct user_regs *r)
{
	return remove_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, true);
}

long posix_unlinkat(struct process *p, struct user_regs *r)
{
	if (r->rdx & ~(uint64_t)LINUX_AT_REMOVEDIR)
		return -LINUX_EINVAL;
	return remove_at(p, r->rdi, r->rsi, r->rdx & LINUX_AT_REMOVEDIR);
}

static long rename_at(struct process *p, uint64_t olddir, uint64_t oldva, uint64_t newdir,
		      uint64_t newva, uint64_t flags)
{
	struct vfs_lookup from, to;
	long err;

	if (flags & ~1UL)       /* RENAME_NOREPLACE only */
		return -LINUX_EINVAL;
	if ((err = path_lookup(p, olddir, oldva, 0, &from)) ||
	    (err = path_lookup(p, newdir, newva, VFS_PARENT, &to)))
		return err;
	/* Linux (do_renameat2) compares the two parent directories' mounts
	 * first: rename("/tmp/x", "/") is EXDEV, within one mount EBUSY. "/"
	 * and names ending in "." resolve to the directory itself. */
	int from_dir = !strcmp(from.last, ".") || !strcmp(from.last, "/") ? from.node : from.parent;
	int to_dir = !strcmp(to.last, ".") || !strcmp(to.last, "/") ? to.node : to.parent;
	if (vfs_nodes[from_dir].fs != vfs_nodes[to_dir].fs)
		return -LINUX_EXDEV;
	if (to.node >= 0 && (flags & 1))
		return -LINUX_EEXIST;
	if (!strcmp(from.last, ".") || !strcmp(from.last, "..") || !strcmp(from.last, "/") ||
	    !strcmp(to.last, ".") || !strcmp(to.last, "..") || !strcmp(to.last, "/"))
		return -LINUX_EBUSY;
	return vfs_rename(from.entry, to.parent, to.last);
}

long posix_rename(struct process *p, struct user_regs *r)
{
	return rename_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, (uint64_t)LINUX_AT_FDCWD, r->rsi, 0);
}

long posix_renameat(struct process *p, struct user_regs *r)
{
	return rename_at(p, r->rdi, r->rsi, r->rdx, r->r10, 0);
}

long posix_renameat2(struct process *p, struct user_regs *r)
{
	return rename_at(p, r->rdi, r->rsi, r->rdx, r->r10, r->r8);
}

long posix_truncate(struct process *p, struct user_regs *r)
{
	struct vfs_lookup l;
	long err = path_lookup(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, VFS_FOLLOW, &l);

	if (err)
		return err;
	if ((int64_t)r->rsi < 0)
		return -LINUX_EINVAL;
	if (vfs_nodes[l.node].type == VFS_DIR)
		return -LINUX_EISDIR;
	if (vfs_nodes[l.node].type != VFS_FILE)
		return -LINUX_EINVAL;
	return vfs_truncate(l.node, r->rsi);
}

long posix_umask(struct process *p, struct user_regs *r)
{
	uint32_t old = p->umask;

	p->umask = (uint32_t)r->rdi & 0777;
	return old;
}
