/*
 * Open file descriptions. A description (struct file: a node of the
 * file tree, its offset and flags) is shared by the descriptors dup made and, later, by fork's
 * child; it goes when the last descriptor on it is closed (a process's
 * descriptors: fd.c). An account has up to SHARE(FILE_MAX) descriptions
 * (share.c).
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
