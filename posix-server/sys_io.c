/*
 * Descriptors, for now: 0, 1 and 2 are the console. What a process writes
 * to 1 or 2 goes to the serial console through the kernel's debug channel
 * (debug_write), as it is; reading 0 gives end of file. There is no file
 * system yet: every path is missing (ENOENT), after its pointer is checked.
 */
#include "syscall.h"

#define CONSOLE_CHUNK 512       /* bytes copied and written at a time */

static bool is_console(uint64_t fd)
{
	return fd <= 2;
}

/* Write len bytes at user address buf to the console: how many, or
 * -EFAULT when not even the first chunk is readable (as Linux, a fault
 * after some bytes ends the write short). */
static long console_write(struct process *p, uint64_t buf, uint64_t len)
{
	char chunk[CONSOLE_CHUNK];
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < CONSOLE_CHUNK ? len - done : CONSOLE_CHUNK;
		if (as_copy_in(&p->as, chunk, buf + done, n) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		sys_debug_write((uint64_t)chunk, n);
		done += n;
	}
	return (long)done;
}

/* A path argument: copied (to check it) into path[LINUX_PATH_MAX]. 0,
 * -EFAULT, or -ENAMETOOLONG. */
static long path_in(struct process *p, uint64_t va, char *path)
{
	for (unsigned i = 0; i < LINUX_PATH_MAX; i++) {
		if (as_copy_in(&p->as, &path[i], va + i, 1) < 0)
			return -LINUX_EFAULT;
		if (!path[i])
			return 0;
	}
	return -LINUX_ENAMETOOLONG;
}

static long missing_path(struct process *p, uint64_t va)
{
	static char path[LINUX_PATH_MAX];
	long err = path_in(p, va, path);

	return err ? err : -LINUX_ENOENT;
}

long posix_read(struct process *p, struct user_regs *r)
{
	return r->rdi == 0 ? 0 : -LINUX_EBADF;
}

long posix_write(struct process *p, struct user_regs *r)
{
	if (r->rdi != 1 && r->rdi != 2)
		return -LINUX_EBADF;
	return console_write(p, r->rsi, r->rdx);
}

long posix_writev(struct process *p, struct user_regs *r)
{
	uint64_t fd = r->rdi, iov = r->rsi, count = r->rdx, total = 0;

	if (fd != 1 && fd != 2)
		return -LINUX_EBADF;
	if (count > LINUX_IOV_MAX)
		return -LINUX_EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		struct linux_iovec v;
		if (as_copy_in(&p->as, &v, iov + i * sizeof(v), sizeof(v)) < 0)
			return total ? (long)total : -LINUX_EFAULT;
		if ((int64_t)v.len < 0)
			return -LINUX_EINVAL;
		long n = console_write(p, v.base, v.len);
		if (n < 0)
			return total ? (long)total : n;
		total += (uint64_t)n;
		if ((uint64_t)n < v.len)
			break;
	}
	return (long)total;
}

long posix_open(struct process *p, struct user_regs *r)
{
	return missing_path(p, r->rdi);
}

long posix_openat(struct process *p, struct user_regs *r)
{
	return missing_path(p, r->rsi);
}

long posix_close(struct process *p, struct user_regs *r)
{
	return is_console(r->rdi) ? 0 : -LINUX_EBADF;
}

/* The console's status: a character device, read-write for its owner. */
static long console_stat(struct process *p, uint64_t out)
{
	struct linux_stat st = {
		.dev = 5, .ino = 1, .nlink = 1, .mode = LINUX_S_IFCHR | 0620, .rdev = (5 << 8) | 1,
		.blksize = 1024,
	};

	return as_copy_out(&p->as, out, &st, sizeof(st)) < 0 ? -LINUX_EFAULT : 0;
}

long posix_fstat(struct process *p, struct user_regs *r)
{
	return is_console(r->rdi) ? console_stat(p, r->rsi) : -LINUX_EBADF;
}

long posix_newfstatat(struct process *p, struct user_regs *r)
{
	static char path[LINUX_PATH_MAX];
	long err = path_in(p, r->rsi, path);

	if (err)
		return err;
	if (path[0] || !(r->r10 & LINUX_AT_EMPTY_PATH))
		return -LINUX_ENOENT;
	return is_console(r->rdi) ? console_stat(p, r->rdx) : -LINUX_EBADF;
}

long posix_lseek(struct process *p, struct user_regs *r)
{
	return is_console(r->rdi) ? -LINUX_ESPIPE : -LINUX_EBADF;
}

/* No terminal yet: the console answers no terminal request (TCGETS,
 * TIOCGWINSZ, ...), so programs treat it as a file. */
long posix_ioctl(struct process *p, struct user_regs *r)
{
	return is_console(r->rdi) ? -LINUX_ENOTTY : -LINUX_EBADF;
}

long posix_readlink(struct process *p, struct user_regs *r)
{
	return missing_path(p, r->rdi);
}

long posix_readlinkat(struct process *p, struct user_regs *r)
{
	return missing_path(p, r->rsi);
}

long posix_access(struct process *p, struct user_regs *r)
{
	return missing_path(p, r->rdi);
}

long posix_faccessat(struct process *p, struct user_regs *r)
{
	return missing_path(p, r->rsi);
}
