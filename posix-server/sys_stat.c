/*
 * The stat family and statx: a node's numbers as Linux gives them (the
 * paths resolved as sys_file.c's calls resolve them); statfs and fstatfs:
 * its file system's.
 */
#include "file.h"
#include "path.h"
#include "syscall.h"
#include "vfs.h"

#define PAGE 4096UL

uint8_t node_dirent_type(int node)
{
	const struct vfs_node *n = &vfs_nodes[vfs_inode(node)];

	switch (n->type) {
	case VFS_DIR: return LINUX_DT_DIR;
	case VFS_SYMLINK: return LINUX_DT_LNK;
	case VFS_DEVICE: return (n->mode & LINUX_S_IFMT) == LINUX_S_IFBLK ? LINUX_DT_BLK : LINUX_DT_CHR;
	case VFS_SOCKET_NAME: return LINUX_DT_SOCK;
	case VFS_FIFO: return LINUX_DT_FIFO;
	default: return LINUX_DT_REG;
	}
}

/* A device's numbers (Linux's devices.txt): the console 5:1, /dev/tty
 * 5:0, /dev/ptmx and a pty's master 5:2, its slave 136:N, /dev/null
 * 1:3, /dev/zero 1:5, /dev/urandom 1:9. */
static void device_numbers(const struct vfs_node *n, uint32_t *major, uint32_t *minor)
{
	static const uint8_t numbers[][2] = {
		[DEV_CONSOLE] = { 5, 1 }, [DEV_NULL] = { 1, 3 }, [DEV_ZERO] = { 1, 5 },
		[DEV_RANDOM] = { 1, 9 }, [DEV_TTY] = { 5, 0 }, [DEV_PTMX] = { 5, 2 },
		[DEV_PTY_MASTER] = { 5, 2 }, [DEV_PTY_SLAVE] = { 136, 0 },
	};
	bool dev = n->type == VFS_DEVICE && n->device <= DEV_PTY_SLAVE;

	if (n->type == VFS_DEVICE && n->rdev) {         /* mknod's: Linux's new_decode_dev */
		*major = (n->rdev & 0xFFF00) >> 8;
		*minor = (n->rdev & 0xFF) | ((n->rdev >> 12) & 0xFFF00);
		return;
	}
	*major = dev ? numbers[n->device][0] : 0;
	*minor = dev ? numbers[n->device][1] + (n->device == DEV_PTY_SLAVE ? n->pty : 0) : 0;
}

static uint64_t nlink_of(int node)
{
	unsigned pos = 0;
	uint64_t links = 2;
	int c;

	if (vfs_nodes[node].type != VFS_DIR)       /* a tmpfs file open with no name left: 0 */
		return VFS_WRITABLE(&vfs_nodes[node]) && vfs_nodes[node].unlinked ? 0
									       : 1 + vfs_nodes[node].links;
	while ((c = vfs_child_next(node, &pos)) >= 0)
		links += vfs_nodes[c].type == VFS_DIR;
	return links;
}

static uint64_t blocks_of(const struct vfs_node *n)
{
	return n->data ? (n->size + 511) / 512 : n->pages * (PAGE / 512);
}

static struct linux_statx_timestamp ns_statx(uint64_t ns)
{
	return (struct linux_statx_timestamp){ (int64_t)(ns / 1000000000),
					       (uint32_t)(ns % 1000000000), 0 };
}

/* What stat says of node: a named pipe's open pipe is its name's node. */
static int stat_node(int node)
{
	const struct vfs_node *n = &vfs_nodes[node];

	return n->type == VFS_PIPE && n->fifo ? n->fifo - 1 : node;
}

long node_stat(struct process *p, int node, uint64_t out)
{
	node = stat_node(node);
	const struct vfs_node *n = &vfs_nodes[node];
	uint32_t major, minor;

	device_numbers(n, &major, &minor);
	struct linux_stat st = {
		.dev = n->fs, .ino = (uint64_t)node + 1, .nlink = nlink_of(node), .mode = n->mode,
		.rdev = major << 8 | minor, .size = (int64_t)n->size, .blksize = PAGE,
		.blocks = (int64_t)blocks_of(n), .atime = ns_timespec(n->atime),
		.mtime = ns_timespec(n->mtime), .ctime = ns_timespec(n->ctime),
	};
	return as_copy_out(&p->as, out, &st, sizeof(st)) < 0 ? -LINUX_EFAULT : 0;
}

static long node_statx(struct process *p, int node, uint64_t out)
{
	node = stat_node(node);
	const struct vfs_node *n = &vfs_nodes[node];
	struct linux_statx sx;

	memset(&sx, 0, sizeof(sx));
	sx.mask = LINUX_STATX_BASIC_STATS;
	sx.blksize = PAGE;
	sx.nlink = (uint32_t)nlink_of(node);
	sx.mode = (uint16_t)n->mode;
	sx.ino = (uint64_t)node + 1;
	sx.size = n->size;
	sx.blocks = blocks_of(n);
	sx.atime = ns_statx(n->atime);
	sx.mtime = ns_statx(n->mtime);
	sx.ctime = ns_statx(n->ctime);
	device_numbers(n, &sx.rdev_major, &sx.rdev_minor);
	sx.dev_minor = n->fs;
	return as_copy_out(&p->as, out, &sx, sizeof(sx)) < 0 ? -LINUX_EFAULT : 0;
}

long posix_newfstatat(struct process *p, struct user_regs *r)
{
	int node;
	long err;

	if (r->r10 & ~(uint64_t)(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH | 0x800))
		return -LINUX_EINVAL;
	err = path_at_node(p, r->rdi, r->rsi, r->r10, &node);
	return err ? err : node_stat(p, node, r->rdx);
}

long posix_statx(struct process *p, struct user_regs *r)
{
	const uint64_t known = LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH | 0x800 | 0x6000;
	int node;
	long err;

	if (r->rdx & ~known || (r->rdx & 0x6000) == 0x6000)
		return -LINUX_EINVAL;
	err = path_at_node(p, r->rdi, r->rsi, r->rdx, &node);
	return err ? err : node_statx(p, node, r->r8);
}

static long stat_path(struct process *p, uint64_t va, uint64_t out, unsigned follow)
{
	struct vfs_lookup l;
	long err = path_lookup(p, (uint64_t)LINUX_AT_FDCWD, va, follow, &l);

	return err ? err : node_stat(p, l.node, out);
}

long posix_stat(struct process *p, struct user_regs *r)
{
	return stat_path(p, r->rdi, r->rsi, VFS_FOLLOW);
}

long posix_lstat(struct process *p, struct user_regs *r)
{
	return stat_path(p, r->rdi, r->rsi, 0);
}

/* Linux's struct statfs (x86_64, statfs(2)). */
struct linux_statfs {
	int64_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags, spare[4];
};

/* The file system of node as statfs(2) reports it: f_type the magic
 * number Linux's file system of that kind has (the root filesystem, a
 * boot module unpacked in memory: ramfs's, as Linux's initramfs; /tmp,
 * /var and /dev: tmpfs's; /proc: procfs's; pipes, sockets, eventfd and
 * timerfd: pipefs', sockfs' and anon_inodefs'), tmpfs's size and free
 * pages (TMPFS_PAGES, shared by /tmp and /var), ST_RDONLY for the root. */
static long node_statfs(struct process *p, int node, uint64_t out)
{
	const struct vfs_node *n = &vfs_nodes[stat_node(node)];
	const uint64_t st_rdonly = 1, st_valid = 0x20;
	struct linux_statfs sf;

	memset(&sf, 0, sizeof(sf));
	sf.bsize = sf.frsize = PAGE;
	sf.namelen = VFS_NAME_MAX;
	sf.flags = st_valid;
	sf.fsid[0] = n->fs;
	switch (n->type) {
	case VFS_PIPE: sf.type = 0x50495045; break;                  /* PIPEFS_MAGIC */
	case VFS_SOCKET: sf.type = 0x534F434B; break;                /* SOCKFS_MAGIC */
	case VFS_EVENTFD: case VFS_TIMERFD: sf.type = 0x09041934; break; /* ANON_INODE_FS_MAGIC */
	default:
		if (n->fs == FS_PROC) {
			sf.type = 0x9FA0;                            /* PROC_SUPER_MAGIC */
		} else if (n->fs == FS_ROOT) {
			sf.type = 0x858458F6;                        /* RAMFS_MAGIC */
			sf.flags |= st_rdonly;
		} else {
			sf.type = 0x01021994;                        /* TMPFS_MAGIC */
			if (VFS_WRITABLE(n)) {
				uint64_t used = vfs_tmpfs_pages();
				sf.blocks = TMPFS_PAGES;
				sf.bfree = sf.bavail = used < TMPFS_PAGES ? TMPFS_PAGES - used : 0;
			}
		}
	}
	return as_copy_out(&p->as, out, &sf, sizeof(sf)) < 0 ? -LINUX_EFAULT : 0;
}

long posix_statfs(struct process *p, struct user_regs *r)
{
	struct vfs_lookup l;
	long err = path_lookup(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, VFS_FOLLOW, &l);

	return err ? err : node_statfs(p, l.node, r->rsi);
}

long posix_fstatfs(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	return f ? node_statfs(p, f->node, r->rsi) : -LINUX_EBADF;
}
