/*
 * Calls on descriptors: read and write (and their vector and positional
 * forms), lseek, getdents64, fstat, ftruncate, ioctl, fcntl, dup and
 * close. What a descriptor reaches is a node of the file tree (vfs.h): a
 * file of the root filesystem or of tmpfs, a directory, or a device — a
 * terminal (the console, a pty's master or slave: tty.c), /dev/null,
 * /dev/zero, /dev/urandom.
 * Bytes move through the server in chunks; a bad user buffer is EFAULT,
 * or a short count when some bytes moved (as Linux).
 */
#include "file.h"
#include "path.h"
#include "procfs.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "timers.h"
#include "tty.h"
#include "vfs.h"

#define CHUNK 4096              /* bytes copied at a time */

/* The device behind f, or 0 for files and directories. */
static unsigned device_of(const struct file *f)
{
	const struct vfs_node *n = &vfs_nodes[f->node];

	return n->type == VFS_DEVICE ? n->device : 0;
}

/* Move up to len bytes between the process's buf and f at *off (the
 * console ignores it): the count, or -errno when nothing moved. */
static long transfer(struct process *p, struct file *f, uint64_t buf, uint64_t len, uint64_t *off,
		     bool write)
{
	static uint8_t chunk[CHUNK];
	unsigned dev = device_of(f);
	uint64_t done = 0;

	if (write ? !file_writable(f) : !file_readable(f))
		return -LINUX_EBADF;
	if (vfs_nodes[f->node].type == VFS_DIR)
		return -LINUX_EISDIR;
	if (len > POSIX_RW_MAX)
		len = POSIX_RW_MAX;
	if (vfs_nodes[f->node].type == VFS_PIPE)
		return write ? pipe_write(p, f, buf, len) : pipe_read(p, f, buf, len);
	if (vfs_nodes[f->node].type == VFS_EVENTFD)
		return write ? eventfd_write(p, f, buf, len) : eventfd_read(p, f, buf, len);
	if (vfs_nodes[f->node].type == VFS_TIMERFD)  /* no write: Linux's EINVAL */
		return write ? -LINUX_EINVAL : timerfd_read(p, f, buf, len);
	if (!write && procfs_file(f->node))
		return procfs_read(p, f, buf, len, off);
	if (write && (dev == DEV_NULL || dev == DEV_ZERO || dev == DEV_RANDOM))
		return (long)len;
	if (tty_file(f))
		return write ? tty_file_write(p, f, buf, len) : tty_file_read(p, f, buf, len);
	if (!write && dev == DEV_NULL)
		return 0;
	if (write && !dev && (f->flags & LINUX_O_APPEND))
		*off = vfs_nodes[f->node].size;
	while (done < len) {
		uint64_t n = len - done < CHUNK ? len - done : CHUNK;
		long got;
		if (write) {
			if (as_copy_in(&p->as, chunk, buf + done, n) < 0) {
				got = -LINUX_EFAULT;
			} else {
				got = vfs_write(f->node, *off, chunk, n);
			}
		} else {
			if (dev == DEV_ZERO)
				memset(chunk, 0, n), got = (long)n;
			else if (dev == DEV_RANDOM)
				random_fill(chunk, n), got = (long)n;
			else
				got = vfs_read(f->node, *off, chunk, n);
			if (got > 0 && as_copy_out(&p->as, buf + done, chunk, (size_t)got) < 0)
				got = -LINUX_EFAULT;
		}
		if (got <= 0)
			return done ? (long)done : got;
		done += (uint64_t)got;
		if (!dev)
			*off += (uint64_t)got;
		if ((uint64_t)got < n)
			break;
	}
	return (long)done;
}

/* The top of Linux x86_64's user space with 4-level paging (TASK_SIZE_MAX). */
#define USER_TOP 0x7FFFFFFFF000UL

/* Linux's access_ok: len bytes from base lie below USER_TOP. read/write
 * check a buffer's whole length before they move anything (vfs_read),
 * so a length past user space is EFAULT even where no byte would move
 * (/dev/null). */
static bool user_range(uint64_t base, uint64_t len)
{
	return len <= USER_TOP && base <= USER_TOP - len;
}

/* Positional calls need a file that seeks. */
static bool seekable(const struct file *f)
{
	return !tty_file(f) && vfs_nodes[f->node].type != VFS_PIPE &&
	       vfs_nodes[f->node].type != VFS_SOCKET && vfs_nodes[f->node].type != VFS_EVENTFD &&
	       vfs_nodes[f->node].type != VFS_TIMERFD;
}

/* A write to a pipe nobody reads: EPIPE, and Linux's SIGPIPE, whose
 * default action ends the process (delivered on the way back). */
static long broken_pipe(struct process *p)
{
	if (p->actions[LINUX_SIGPIPE - 1].handler == LINUX_SIG_DFL &&
	    !(p->current->sigmask & 1UL << (LINUX_SIGPIPE - 1)))
		printf("posix: %s (pid %d): write to a pipe nobody reads: SIGPIPE\n", p->name, p->pid);
	signal_send_thread(p->current, LINUX_SIGPIPE, LINUX_SI_USER, p->pid, 0);
	return -LINUX_EPIPE;
}

/* Move the buffers of a read or write: one (single) or count iovecs at
 * user address iov. A call that waited comes here again: p->current->io_done
 * bytes moved before are skipped. A blocking write to a pipe moves every
 * byte before it returns (waiting for room); a read returns what it got. */
static long moves(struct process *p, struct file *f, const struct linux_iovec *single,
		  uint64_t iov, uint64_t count, uint64_t *off, bool write)
{
	uint64_t total = 0, skip = p->current->io_done;
	bool pipe = vfs_nodes[f->node].type == VFS_PIPE || tty_file(f);   /* writes wait for room */
	struct uio u = { single, iov, count, NULL };

	if (vfs_nodes[f->node].type == VFS_SOCKET)
		return socket_io(p, f, &u, write);

	for (uint64_t i = 0; i < count; i++) {
		struct linux_iovec v;
		if (single)
			v = *single;
		else
			as_copy_in(&p->as, &v, iov + i * sizeof(v), sizeof(v));  /* checked before */
		if (v.len <= skip) {
			skip -= v.len;
			total += v.len;
			continue;
		}
		total += skip;
		long n = transfer(p, f, v.base + skip, v.len - skip, off, write);
		uint64_t want = v.len - skip;
		skip = 0;
		if (n == SYSCALL_BLOCK && (write || !total)) {
			p->current->io_done = total;
			return SYSCALL_BLOCK;
		}
		if (n < 0 && n != SYSCALL_BLOCK) {
			if (n == -LINUX_EPIPE && !total)
				return broken_pipe(p);
			return total ? (long)total : n;
		}
		if (n == SYSCALL_BLOCK)
			break;
		total += (uint64_t)n;
		if ((uint64_t)n < want) {
			if (pipe && write && !(f->flags & LINUX_O_NONBLOCK)) {
				p->current->io_done = total;
				return SYSCALL_BLOCK;
			}
			break;
		}
	}
	return (long)total;
}

static long rw(struct process *p, struct user_regs *r, bool write)
{
	struct file *f = fd_file(p, r->rdi);
	struct linux_iovec v = { r->rsi, r->rdx };

	if (!f)
		return -LINUX_EBADF;
	if ((write ? file_writable(f) : file_readable(f)) && !user_range(v.base, v.len))
		return -LINUX_EFAULT;
	return moves(p, f, &v, 0, 1, &f->offset, write);
}

long posix_read(struct process *p, struct user_regs *r)
{
	return rw(p, r, false);
}

long posix_write(struct process *p, struct user_regs *r)
{
	return rw(p, r, true);
}

static long prw(struct process *p, struct user_regs *r, bool write)
{
	struct file *f = fd_file(p, r->rdi);
	uint64_t off = r->r10;

	if (!f)
		return -LINUX_EBADF;
	if (!seekable(f))
		return -LINUX_ESPIPE;
	if ((int64_t)off < 0)
		return -LINUX_EINVAL;
	if ((write ? file_writable(f) : file_readable(f)) && !user_range(r->rsi, r->rdx))
		return -LINUX_EFAULT;
	/* Linux's pwrite on an O_APPEND file appends; transfer does that. */
	return transfer(p, f, r->rsi, r->rdx, &off, write);
}

long posix_pread64(struct process *p, struct user_regs *r)
{
	return prw(p, r, false);
}

long posix_pwrite64(struct process *p, struct user_regs *r)
{
	return prw(p, r, true);
}

static long vector(struct process *p, struct user_regs *r, bool write)
{
	struct file *f = fd_file(p, r->rdi);
	uint64_t iov = r->rsi, count = r->rdx;
	struct linux_iovec v[1];

	if (!f)
		return -LINUX_EBADF;
	if (count > LINUX_IOV_MAX)
		return -LINUX_EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		/* Linux checks the whole vector first: a bad one moves nothing. */
		if (as_copy_in(&p->as, v, iov + i * sizeof(v[0]), sizeof(v[0])) < 0)
			return -LINUX_EFAULT;
		if ((int64_t)v[0].len < 0)
			return -LINUX_EINVAL;
	}
	/* Then each buffer lies in user space (import_iovec): one alone is
	 * first cut to POSIX_RW_MAX, several are checked whole. */
	for (uint64_t i = 0; i < count; i++) {
		as_copy_in(&p->as, v, iov + i * sizeof(v[0]), sizeof(v[0]));
		if (count == 1 && v[0].len > POSIX_RW_MAX)
			v[0].len = POSIX_RW_MAX;
		if (!user_range(v[0].base, v[0].len))
			return -LINUX_EFAULT;
	}
	return moves(p, f, NULL, iov, count, &f->offset, write);
}

long posix_readv(struct process *p, struct user_regs *r)
{
	return vector(p, r, false);
}

long posix_writev(struct process *p, struct user_regs *r)
{
	return vector(p, r, true);
}

long posix_lseek(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);
	int64_t off = (int64_t)r->rsi, base;

	if (!f)
		return -LINUX_EBADF;
	if (vfs_nodes[f->node].type == VFS_EVENTFD || vfs_nodes[f->node].type == VFS_TIMERFD)
		return 0;       /* Linux's noop_llseek: the position stays 0 */
	if (!seekable(f))
		return -LINUX_ESPIPE;
	switch (r->rdx) {
	case LINUX_SEEK_SET: base = 0; break;
	case LINUX_SEEK_CUR: base = (int64_t)f->offset; break;
	case LINUX_SEEK_END: base = (int64_t)vfs_nodes[f->node].size; break;
	default: return -LINUX_EINVAL;
	}
	if ((off < 0 && base + off < 0) || (off > 0 && base > INT64_MAX - off))
		return -LINUX_EINVAL;
	f->offset = (uint64_t)(base + off);
	return (long)f->offset;
}

long posix_getdents64(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);
	uint64_t buf = r->rsi, size = r->rdx, used = 0;
	uint8_t rec[sizeof(struct linux_dirent64) + VFS_NAME_MAX + 8];

	if (!f || (f->flags & LINUX_O_PATH))
		return -LINUX_EBADF;
	if (vfs_nodes[f->node].type != VFS_DIR)
		return -LINUX_ENOTDIR;
	/* Positions: 0 is ".", 1 "..", 2 + k the scan of the table from k
	 * (or what procfs_dirent says for /proc's that depend on the
	 * processes). */
	bool proc = procfs_dir(f->node);
	for (;;) {
		struct linux_dirent64 *d = (struct linux_dirent64 *)rec;
		unsigned pos = f->offset < 2 ? 0 : (unsigned)(f->offset - 2);
		uint64_t next = f->offset + 1, ino = 0;
		char proc_name[VFS_NAME_MAX + 1];
		uint8_t type = 0;
		int node;
		const char *name;
		if (f->offset == 0) {
			node = f->node, name = ".";
		} else if (f->offset == 1) {
			node = vfs_nodes[f->node].parent < 0 ? f->node : vfs_nodes[f->node].parent;
			name = "..";
		} else if (proc) {
			next = f->offset;
			if (!procfs_dirent(f->node, &next, proc_name, sizeof(proc_name), &type, &ino))
				break;
			node = -1;
			name = proc_name;
		} else if ((node = vfs_child_next(f->node, &pos)) < 0) {
			break;
		} else {
			name = vfs_nodes[node].name;
			next = (uint64_t)pos + 2;
		}
		if (node >= 0) {
			ino = (uint64_t)vfs_inode(node) + 1;
			type = node_dirent_type(node);
		}
		size_t len = strlen(name);
		size_t reclen = (__builtin_offsetof(struct linux_dirent64, name) + len + 1 + 7) & ~7UL;
		if (used + reclen > size) {
			if (!used)
				return -LINUX_EINVAL;
			break;
		}
		memset(rec, 0, reclen);
		d->ino = ino;
		d->off = (int64_t)next;
		d->reclen = (uint16_t)reclen;
		d->type = type;
		memcpy(d->name, name, len);
		if (as_copy_out(&p->as, buf + used, rec, reclen) < 0)
			return used ? (long)used : -LINUX_EFAULT;
		used += reclen;
		f->offset = (uint64_t)d->off;
	}
	return (long)used;
}

long posix_fstat(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	return f ? node_stat(p, f->node, r->rsi) : -LINUX_EBADF;
}

long posix_ftruncate(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);

	if (!f || (f->flags & LINUX_O_PATH))
		return -LINUX_EBADF;
	/* Linux: EINVAL too for a descriptor not open for writing. */
	if ((int64_t)r->rsi < 0 || vfs_nodes[f->node].type != VFS_FILE || !file_writable(f))
		return -LINUX_EINVAL;
	return vfs_truncate(f->node, r->rsi);
}

long posix_ioctl(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);
	uint64_t req = r->rsi & 0xFFFFFFFF, arg = r->rdx;
	int value;

	if (!f || (f->flags & LINUX_O_PATH))
		return -LINUX_EBADF;
	switch (req) {
	case LINUX_FIOCLEX: case LINUX_FIONCLEX:
		p->fds[r->rdi].cloexec = req == LINUX_FIOCLEX;
		return 0;
	case LINUX_FIONBIO:
		if (as_copy_in(&p->as, &value, arg, sizeof(value)) < 0)
			return -LINUX_EFAULT;
		f->flags = value ? f->flags | LINUX_O_NONBLOCK : f->flags & ~LINUX_O_NONBLOCK;
		return 0;
	case LINUX_FIONREAD:
		if (vfs_nodes[f->node].type == VFS_PIPE) {
			value = (int)pipe_bytes(f);
			return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
		}
		if (vfs_nodes[f->node].type == VFS_SOCKET) {
			long n = socket_fionread(f);
			if (n < 0)
				return n;
			value = (int)n;
			return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
		}
		if (tty_file(f))
			return tty_file_ioctl(p, f, req, arg);
		if (vfs_nodes[f->node].type == VFS_FILE) {
			uint64_t size = vfs_nodes[f->node].size;
			value = f->offset < size ? (int)(size - f->offset) : 0;
			return as_copy_out(&p->as, arg, &value, sizeof(value)) < 0 ? -LINUX_EFAULT : 0;
		}
		break;
	}
	if (vfs_nodes[f->node].type == VFS_SOCKET && netif_ioctl_request(req))
		return netif_ioctl(p, req, arg);
	if (tty_file(f))
		return tty_file_ioctl(p, f, req, arg);
	return vfs_nodes[f->node].type == VFS_DIR && req == LINUX_FIONREAD ? -LINUX_EINVAL
									    : -LINUX_ENOTTY;
}

/* Another descriptor for fd's description: the lowest free one from min. */
static long dup_from(struct process *p, uint64_t fd, uint64_t min, bool cloexec)
{
	if (!fd_file(p, fd))
		return -LINUX_EBADF;
	int file = p->fds[fd].file - 1;
	long nfd = fd_install(p, file, min, cloexec);
	if (nfd >= 0)
		files[file].refs++;
	return nfd;
}

long posix_fcntl(struct process *p, struct user_regs *r)
{
	struct file *f = fd_file(p, r->rdi);
	const uint32_t settable = LINUX_O_APPEND | LINUX_O_NONBLOCK;
	uint64_t arg = r->rdx;

	if (!f)
		return -LINUX_EBADF;
	switch (r->rsi) {
	case LINUX_F_DUPFD: case LINUX_F_DUPFD_CLOEXEC:
		if (arg >= p->nofile)
			return -LINUX_EINVAL;
		return dup_from(p, r->rdi, arg, r->rsi == LINUX_F_DUPFD_CLOEXEC);
	case LINUX_F_GETFD:
		return p->fds[r->rdi].cloexec ? LINUX_FD_CLOEXEC : 0;
	case LINUX_F_SETFD:
		p->fds[r->rdi].cloexec = arg & LINUX_FD_CLOEXEC;
		return 0;
	case LINUX_F_GETFL:
		return f->flags;
	case LINUX_F_SETFL:
		if (!(f->flags & LINUX_O_PATH))
			f->flags = (f->flags & ~settable) | ((uint32_t)arg & settable);
		return 0;
	default:
		return -LINUX_EINVAL;
	}
}

long posix_dup(struct process *p, struct user_regs *r)
{
	return dup_from(p, r->rdi, 0, false);
}

static long dup_to(struct process *p, uint64_t old, uint64_t new, bool cloexec)
{
	if (!fd_file(p, old))
		return -LINUX_EBADF;
	if (new >= p->nofile)
		return -LINUX_EBADF;
	int file = p->fds[old].file - 1;
	files[file].refs++;
	long err = fd_install_at(p, file, new, cloexec);
	if (err < 0)
		file_put(file);
	return err;
}

long posix_dup2(struct process *p, struct user_regs *r)
{
	if (r->rdi == r->rsi)
		return fd_file(p, r->rdi) ? (long)r->rsi : -LINUX_EBADF;
	return dup_to(p, r->rdi, r->rsi, false);
}

long posix_dup3(struct process *p, struct user_regs *r)
{
	if (r->rdx & ~(uint64_t)LINUX_O_CLOEXEC)
		return -LINUX_EINVAL;
	if (r->rdi == r->rsi)
		return -LINUX_EINVAL;
	return dup_to(p, r->rdi, r->rsi, r->rdx & LINUX_O_CLOEXEC);
}

long posix_close(struct process *p, struct user_regs *r)
{
	return fd_close(p, r->rdi);
}
