/*
 * A process's descriptors: fds[fd] names a description (file.c) or is
 * free. Up to RLIMIT_NOFILE of them (FD_MAX at most). The first FD_FIRST
 * slots are in the process's record; a process that opens more gets a
 * table of FD_MAX in a page of the server's (memory_page_alloc), given
 * back at its end. fd_end (one past the highest open descriptor) bounds
 * what fork copies and exec and exit look through, so those cost what
 * the process has open, not FD_MAX.
 */
#include "file.h"
#include "memory.h"

void fd_table_init(struct process *p)
{
	p->fds = p->first_fds;
	p->fd_slots = FD_FIRST;
	p->fd_end = 0;
	memset(p->first_fds, 0, sizeof(p->first_fds));
}

/* Room for descriptor fd (< FD_MAX): the page's table taken when fd is
 * past the record's slots. false: no page. */
static bool fd_room(struct process *p, uint64_t fd)
{
	if (fd < p->fd_slots)
		return true;
	struct fd_slot *table = memory_page_alloc();
	_Static_assert(FD_MAX * sizeof(struct fd_slot) <= PAGE_SIZE, "a table is one page");
	if (!table)
		return false;
	memcpy(table, p->first_fds, sizeof(p->first_fds));
	p->fds = table;
	p->fd_slots = FD_MAX;
	return true;
}

/* Descriptor fd (free, with room) names files[file]. */
static void fd_set(struct process *p, uint64_t fd, int file, bool cloexec)
{
	p->fds[fd].file = (uint16_t)(file + 1);
	p->fds[fd].cloexec = cloexec;
	if (fd >= p->fd_end)
		p->fd_end = (unsigned)fd + 1;
}

long fd_install(struct process *p, int file, uint64_t min, bool cloexec)
{
	uint64_t fd = min;

	while (fd < p->fd_end && p->fds[fd].file)
		fd++;
	if (fd >= p->nofile)
		return -LINUX_EMFILE;
	if (!fd_room(p, fd))
		return -LINUX_ENOMEM;
	fd_set(p, fd, file, cloexec);
	return (long)fd;
}

long fd_install_at(struct process *p, int file, uint64_t fd, bool cloexec)
{
	if (!fd_room(p, fd))
		return -LINUX_ENOMEM;
	if (fd_file(p, fd))
		fd_close(p, fd);
	fd_set(p, fd, file, cloexec);
	return (long)fd;
}

struct file *fd_file(struct process *p, uint64_t fd)
{
	return fd < p->fd_end && p->fds[fd].file ? &files[p->fds[fd].file - 1] : NULL;
}

long fd_close(struct process *p, uint64_t fd)
{
	if (!fd_file(p, fd))
		return -LINUX_EBADF;
	int file = p->fds[fd].file - 1;
	p->fds[fd].file = 0;
	p->fds[fd].cloexec = false;
	while (p->fd_end && !p->fds[p->fd_end - 1].file)
		p->fd_end--;
	file_put(file);
	return 0;
}

void fd_close_all(struct process *p)
{
	for (uint64_t fd = 0; fd < p->fd_end; fd++)
		if (p->fds[fd].file)
			fd_close(p, fd);
	if (p->fd_slots == FD_MAX)
		memory_page_free(p->fds);
	fd_table_init(p);
}

void fd_close_on_exec(struct process *p)
{
	for (uint64_t fd = 0; fd < p->fd_end; fd++)
		if (p->fds[fd].file && p->fds[fd].cloexec)
			fd_close(p, fd);
}

long fd_copy(struct process *to, const struct process *from)
{
	if (from->fd_end && !fd_room(to, from->fd_end - 1))
		return -LINUX_ENOMEM;
	for (uint64_t fd = 0; fd < from->fd_end; fd++) {
		to->fds[fd] = from->fds[fd];
		if (to->fds[fd].file)
			files[to->fds[fd].file - 1].refs++;
	}
	to->fd_end = from->fd_end;
	return 0;
}

long fd_console(struct process *p)
{
	long f = file_open(vfs_console, LINUX_O_RDWR);

	if (f < 0)
		return f;
	for (uint64_t fd = 0; fd < 3; fd++)
		fd_set(p, fd, (int)f, false);
	files[f].refs = 3;
	return 0;
}
