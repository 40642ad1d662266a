/*
 * /proc/PID/maps and /proc/PID/environ: a process's memory as text, in
 * the formats of Linux's proc(5). maps has a line per region of its
 * address space (lib/aspace.h), lowest first: the range, the rights
 * (rwx and s for a shared object's pages, p otherwise), the file offset,
 * the device and inode that stat gives for the mapped file (or 00:00 0)
 * and the file's path, [heap] for the break's region, [stack] for the
 * stack's. A root-filesystem file mapped privately is named by its
 * region's tag (sys_memory.c; the program's and its interpreter's
 * segments too, process.c), a shared file by its object; a tmpfs file
 * mapped privately is copied and named by nothing (its pages are the
 * process's own). environ
 * is the environment's strings as they are in its memory now.
 */
#include "layout.h"
#include "memory.h"
#include "procfs.h"
#include "syscall.h"
#include "vfs.h"

#include "lib/fmt.h"

/* proc(5): the path starts in column 74. */
#define MAPS_PATH_COLUMN 73
#define PAGE_UP(x) (((x) + POSIX_PAGE_SIZE - 1) & ~(POSIX_PAGE_SIZE - 1))

/* The node of the file r maps (-1: none). */
static int region_node(const struct as_region *r)
{
	if (r->kind == AS_OBJECT && r->object != SHMEM_PAST_END)
		return (int)r->object;
	if (r->tag >= MAP_TAG_FILE && r->tag != MAP_TAG_TMPFS)
		return (int)(r->tag - MAP_TAG_FILE);
	return -1;
}

static void region_line(const struct process *p, const struct as_region *r)
{
	static char line[MAPS_PATH_COLUMN + LINUX_PATH_MAX + 32];
	int node = region_node(r);
	const struct vfs_node *n = node >= 0 ? &vfs_nodes[node] : NULL;
	bool shared = r->kind == AS_OBJECT && r->object != SHMEM_PAST_END;
	int len = fmt_snprintf(line, sizeof(line), "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
			       r->start, r->end, r->rights & IPC_MAP_READ ? 'r' : '-',
			       r->rights & IPC_MAP_WRITE ? 'w' : '-',
			       r->rights & IPC_MAP_EXEC ? 'x' : '-', shared ? 's' : 'p',
			       n || r->kind == AS_OBJECT ? r->source : 0, 0, n ? n->fs : 0,
			       n ? (uint64_t)node + 1 : 0);
	char name[LINUX_PATH_MAX];
	name[0] = 0;
	if (n && n->parent < 0)         /* in no directory: shared anonymous memory, or unlinked */
		fmt_snprintf(name, sizeof(name), "/%s (deleted)", n->name[0] ? n->name : "dev/zero");
	else if (n && vfs_path(node, name, sizeof(name)) < 0)
		name[0] = 0;
	else if (!n && p->brk > p->brk_start && r->start < PAGE_UP(p->brk) &&
		 r->end > p->brk_start)
		fmt_snprintf(name, sizeof(name), "[heap]");
	else if (!n && r->start < POSIX_STACK_TOP && r->end >= POSIX_STACK_TOP)
		fmt_snprintf(name, sizeof(name), "[stack]");
	else if (!n && r->start == POSIX_VVAR_BASE)
		fmt_snprintf(name, sizeof(name), "[vvar]");
	else if (!n && r->start == POSIX_VDSO_BASE)
		fmt_snprintf(name, sizeof(name), "[vdso]");
	if (name[0]) {
		while (len < MAPS_PATH_COLUMN && len < (int)sizeof(line) - 1)
			line[len++] = ' ';
		len += fmt_snprintf(line + len, sizeof(line) - len, "%s", name);
	}
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	procfs_append(line, (size_t)len);
}

void procfs_maps(const struct process *p)
{
	uint64_t after = 0;

	if (p->state == PROCESS_ZOMBIE)
		return;
	/* The regions are kept in no order: the lowest above the last. */
	for (;;) {
		const struct as_region *next = NULL;
		for (unsigned i = 0; i < p->as.nregions; i++) {
			const struct as_region *r = &p->as.regions[i];
			if (r->start >= after && (!next || r->start < next->start))
				next = r;
		}
		if (!next)
			return;
		region_line(p, next);
		after = next->end;
	}
}

void procfs_environ(struct process *p)
{
	static char chunk[256];

	if (p->state == PROCESS_ZOMBIE)
		return;
	for (uint64_t at = p->env_start; at < p->env_end;) {
		uint64_t n = p->env_end - at < sizeof(chunk) ? p->env_end - at : sizeof(chunk);
		if (as_copy_in(&p->as, chunk, at, n) < 0 || !procfs_append(chunk, n))
			return;
		at += n;
	}
}
