/*
 * Setting a file's times (Linux's utimensat(2), futimens(3) through it,
 * and the older utimes(2), futimesat(2), utime(2)), as fs/utimes.c does
 * it: times NULL sets the access and modification times to now; else
 * each is a time, UTIME_NOW or UTIME_OMIT (both omitted: 0 at once,
 * before the path is looked at); the status change time becomes now.
 * A path NULL with a descriptor (not AT_FDCWD) names the descriptor's
 * file (flags must then be 0). The root filesystem is read-only (EROFS);
 * everyone is root (no EPERM, EACCES). The nodes' times: vfs.h.
 */
#include "file.h"
#include "path.h"
#include "syscall.h"
#include "vfs.h"

#define NS_PER_SEC 1000000000ULL
#define UTIME_NOW  ((1L << 30) - 1)
#define UTIME_OMIT ((1L << 30) - 2)

static bool nsec_valid(int64_t nsec)
{
	return nsec == UTIME_NOW || nsec == UTIME_OMIT || (nsec >= 0 && nsec < (int64_t)NS_PER_SEC);
}

/* Set node's times to ts (NULL: both now): 0 or -EROFS. */
static long node_utimes(int node, const struct linux_timespec *ts)
{
	struct vfs_node *n = &vfs_nodes[node];
	uint64_t now = vfs_now();
	uint64_t *which[2] = { &n->atime, &n->mtime };

	if (n->fs == FS_ROOT)
		return -LINUX_EROFS;
	for (unsigned i = 0; i < 2; i++) {
		if (!ts || ts[i].nsec == UTIME_NOW)
			*which[i] = now;
		else if (ts[i].nsec != UTIME_OMIT)     /* before 1970: kept as 0 */
			*which[i] = ts[i].sec < 0 ? 0 : (uint64_t)ts[i].sec * NS_PER_SEC +
							 (uint64_t)ts[i].nsec;
	}
	n->ctime = now;
	return 0;
}

/* do_utimes: the file dirfd and path va name (as utimensat says), its
 * times ts (checked here) or NULL. */
static long utimes_at(struct process *p, uint64_t dirfd, uint64_t va,
		      const struct linux_timespec *ts, uint64_t flags)
{
	int node;
	long err;

	if (ts && (!nsec_valid(ts[0].nsec) || !nsec_valid(ts[1].nsec)))
		return -LINUX_EINVAL;
	if (!va && (int)dirfd != LINUX_AT_FDCWD) {
		struct file *f;
		if (flags)
			return -LINUX_EINVAL;
		if (!(f = fd_file(p, dirfd)))
			return -LINUX_EBADF;
		return node_utimes(f->node, ts);
	}
	if (flags & ~(uint64_t)(LINUX_AT_SYMLINK_NOFOLLOW | LINUX_AT_EMPTY_PATH))
		return -LINUX_EINVAL;
	if ((err = path_at_node(p, dirfd, va, flags, &node)))
		return err;
	return node_utimes(node, ts);
}

long posix_utimensat(struct process *p, struct user_regs *r)
{
	struct linux_timespec ts[2];

	if (r->rdx) {
		if (as_copy_in(&p->as, ts, r->rdx, sizeof(ts)) < 0)
			return -LINUX_EFAULT;
		if (ts[0].nsec == UTIME_OMIT && ts[1].nsec == UTIME_OMIT)
			return 0;
	}
	return utimes_at(p, r->rdi, r->rsi, r->rdx ? ts : NULL, r->r10);
}

/* futimesat and utimes: two timevals (microseconds below 10^6). */
static long timevals_at(struct process *p, uint64_t dirfd, uint64_t path, uint64_t va)
{
	struct linux_timeval tv[2];
	struct linux_timespec ts[2];

	if (!va)
		return utimes_at(p, dirfd, path, NULL, 0);
	if (as_copy_in(&p->as, tv, va, sizeof(tv)) < 0)
		return -LINUX_EFAULT;
	for (unsigned i = 0; i < 2; i++) {
		if (tv[i].usec < 0 || tv[i].usec >= 1000000)
			return -LINUX_EINVAL;
		ts[i] = (struct linux_timespec){ tv[i].sec, tv[i].usec * 1000 };
	}
	return utimes_at(p, dirfd, path, ts, 0);
}

long posix_futimesat(struct process *p, struct user_regs *r)
{
	return timevals_at(p, r->rdi, r->rsi, r->rdx);
}

long posix_utimes(struct process *p, struct user_regs *r)
{
	return timevals_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, r->rsi);
}

/* utime: struct utimbuf (access, modification time in seconds). */
long posix_utime(struct process *p, struct user_regs *r)
{
	int64_t times[2];
	struct linux_timespec ts[2];

	if (!r->rsi)
		return utimes_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, NULL, 0);
	if (as_copy_in(&p->as, times, r->rsi, sizeof(times)) < 0)
		return -LINUX_EFAULT;
	ts[0] = (struct linux_timespec){ times[0], 0 };
	ts[1] = (struct linux_timespec){ times[1], 0 };
	return utimes_at(p, (uint64_t)LINUX_AT_FDCWD, r->rdi, ts, 0);
}
