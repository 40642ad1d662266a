/*
 * Open file descriptions and each process's descriptor table. A
 * description (struct file: a node of the file tree, its offset and
 * flags) is shared by the descriptors dup made and, later, by fork's
 * child; it goes when the last descriptor on it is closed. A process has
 * up to its RLIMIT_NOFILE descriptors (FD_MAX at most), its account up
 * to SHARE(FILE_MAX) descriptions (share.c).
 */
#include "file.h"
#include "socket.h"
#include "syscall.h"
#include "timers.h"
#include "tty.h"
#include "vfs.h"

struct file files[FILE_MAX];

long file_open(int node, uint32_t flags)
{
	unsigned i, free = FILE_MAX, mine = 0;
	long err;

	for (i = 0; i < FILE_MAX; i++)
		if (!files[i].refs)
			free = free < FILE_MAX ? free : i;
		else if (files[i].account == share_account)
			mine++;
	if ((err = share_check(mine, free, FILE_MAX)) < 0)
		return err;
	struct file *f = &files[free];
	memset(f, 0, sizeof(*f));
	f->refs = 1;
	f->node = node;
	f->account = share_account;
	f->flags = flags | LINUX_O_LARGEFILE;
	vfs_nodes[node].opens++;
	return free;
}

void file_put(int index)
{
	struct file *f = &files[index];

	if (--f->refs)
		return;
	if (vfs_nodes[f->node].type == VFS_PIPE)
		pipe_closed(f);
	if (vfs_nodes[f->node].type == VFS_SOCKET)
		socket_closed(f);
	if (vfs_nodes[f->node].type == VFS_EVENTFD)
		eventfd_closed(f);
	if (vfs_nodes[f->node].type == VFS_TIMERFD)
		timerfd_closed(f);
	if (tty_file(f))
		tty_closed(f);
	epoll_closed(index);
	vfs_nodes[f->node].opens--;
	vfs_closed(f->node);
}

long fd_install(struct process *p, int file, uint64_t min, bool cloexec)
{
	for (uint64_t fd = min; fd < p->nofile; fd++) {
		if (p->fds[fd].file)
			continue;
		p->fds[fd].file = (uint16_t)(file + 1);
		p->fds[fd].cloexec = cloexec;
		return (long)fd;
	}
	return -LINUX_EMFILE;
}

struct file *fd_file(struct process *p, uint64_t fd)
{
	return fd < FD_MAX && p->fds[fd].file ? &files[p->fds[fd].file - 1] : NULL;
}

long fd_close(struct process *p, uint64_t fd)
{
	if (!fd_file(p, fd))
		return -LINUX_EBADF;
	file_put(p->fds[fd].file - 1);
	p->fds[fd].file = 0;
	p->fds[fd].cloexec = false;
	return 0;
}

void fd_close_all(struct process *p)
{
	for (uint64_t fd = 0; fd < FD_MAX; fd++)
		if (p->fds[fd].file)
			fd_close(p, fd);
}

long fd_console(struct process *p)
{
	long f = file_open(vfs_console, LINUX_O_RDWR);

	if (f < 0)
		return f;
	for (uint64_t fd = 0; fd < 3; fd++) {
		p->fds[fd].file = (uint16_t)(f + 1);
		p->fds[fd].cloexec = false;
	}
	files[f].refs = 3;
	return 0;
}
