/* The POSIX server's file tree (vfs.h): the table, the tree at boot,
 * /proc's nodes, paths resolved; changes to it are in vfs_change.c. */
#include "vfs.h"
#include "linux.h"

#include "lib/cpio.h"
#include "lib/string.h"


struct vfs_node vfs_nodes[VFS_NODES];
int vfs_console;
int vfs_pts;
static const struct vfs_proc_ops *proc_ops;
static unsigned proc_nodes;     /* VFS_PROC_NODEs in the table */
static uint64_t proc_clock;     /* counts their lookups: their `used` */

static bool name_is(const char *name, size_t len, const char *s)
{
	return strlen(s) == len && !memcmp(name, s, len);
}

int vfs_child(int dir, const char *name, size_t len)
{
	for (int i = 0; i < VFS_NODES; i++) {
		const struct vfs_node *n = &vfs_nodes[i];
		if (n->type != VFS_FREE && n->parent == dir && i != dir && name_is(name, len, n->name))
			return i;
	}
	return -1;
}

int vfs_node_new(int dir, const char *name, size_t len, uint32_t mode, uint8_t fs)
{
	int account = fs == FS_TMP || fs == FS_VAR ? tmpfs_account() : 0;

	if ((fs == FS_TMP || fs == FS_VAR) && dir >= 0 && !tmpfs_node_room(account))
		return -1;
	for (int i = 1; i < VFS_NODES; i++) {
		struct vfs_node *n = &vfs_nodes[i];
		if (n->type != VFS_FREE)
			continue;
		memset(n, 0, sizeof(*n));
		switch (mode & LINUX_S_IFMT) {
		case LINUX_S_IFDIR: n->type = VFS_DIR; break;
		case LINUX_S_IFLNK: n->type = VFS_SYMLINK; break;
		case LINUX_S_IFCHR: n->type = VFS_DEVICE; break;
		case LINUX_S_IFIFO: n->type = fs == FS_PIPE ? VFS_PIPE : VFS_FIFO; break;
		case LINUX_S_IFBLK: n->type = VFS_DEVICE; break;
		case LINUX_S_IFSOCK: n->type = fs == FS_PIPE ? VFS_SOCKET : VFS_SOCKET_NAME; break;
		default: n->type = VFS_FILE; break;
		}
		n->mode = mode;
		n->parent = dir;
		n->fs = fs;
		n->account = account;
		n->atime = n->mtime = n->ctime = vfs_now();
		memcpy(n->name, name, len);
		return i;
	}
	return -1;
}

/* The node at path (relative to the root, components separated by '/'),
 * directories on the way made as needed with mode 0755; the last one made
 * with mode if new. -1 when the table is full or a name is too long or a
 * component is not a directory. */
static int node_make(const char *path, uint32_t mode, uint8_t fs)
{
	int cur = VFS_ROOT;

	for (;;) {
		while (*path == '/')
			path++;
		if (path[0] == '.' && (path[1] == '/' || !path[1])) {
			path++;
			continue;
		}
		if (!*path)
			return cur;
		const char *end = strchr(path, '/');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		while (end && *end == '/')
			end++;
		bool last = !end || !*end;
		if (len > VFS_NAME_MAX || vfs_nodes[cur].type != VFS_DIR)
			return -1;
		int next = vfs_child(cur, path, len);
		if (next < 0)
			next = vfs_node_new(cur, path, len, last ? mode : (LINUX_S_IFDIR | 0755),
					    last ? fs : vfs_nodes[cur].fs);
		if (next < 0)
			return -1;
		if (last)
			return next;
		cur = next;
		path = end;
	}
}

static bool device(const char *path, enum vfs_device dev, uint32_t perm)
{
	int n = node_make(path, LINUX_S_IFCHR | perm, FS_DEV);

	if (n < 0)
		return false;
	vfs_nodes[n].device = (uint8_t)dev;
	if (dev == DEV_CONSOLE && !vfs_console)
		vfs_console = n;
	return true;
}

bool vfs_init(const struct vfs_ops *page_ops, const void *cpio, size_t size)
{
	struct cpio_entry e;
	size_t offset = 0;
	int r;

	tmpfs_init(page_ops);
	vfs_console = 0;
	memset(vfs_nodes, 0, sizeof(vfs_nodes));
	vfs_nodes[VFS_ROOT] = (struct vfs_node){ .type = VFS_DIR, .mode = LINUX_S_IFDIR | 0755,
						 .parent = VFS_ROOT, .fs = FS_ROOT };
	vfs_nodes[VFS_ROOT].atime = vfs_nodes[VFS_ROOT].mtime = vfs_nodes[VFS_ROOT].ctime = vfs_now();
	while (cpio && (r = cpio_next(cpio, size, &offset, &e)) == 1) {
		int n = node_make(e.name, e.mode, FS_ROOT);
		if (n < 0)
			return false;
		vfs_nodes[n].mode = e.mode;
		vfs_nodes[n].atime = vfs_nodes[n].mtime = vfs_nodes[n].ctime =
			(uint64_t)e.mtime * 1000000000ULL;
		if (vfs_nodes[n].type != VFS_DIR) {
			vfs_nodes[n].data = e.data;
			vfs_nodes[n].size = e.size;
		}
	}
	if (cpio && r < 0)
		return false;
	int tmp = node_make("tmp", LINUX_S_IFDIR | 01777, FS_TMP);
	int var = node_make("var", LINUX_S_IFDIR | 0755, FS_VAR);
	int proc = node_make("proc", LINUX_S_IFDIR | 0555, FS_PROC);
	int self = node_make("proc/self", LINUX_S_IFLNK | 0777, FS_PROC);
	if (tmp < 0 || var < 0 || proc < 0 || self < 0)
		return false;
	vfs_nodes[tmp].fs = FS_TMP;
	vfs_nodes[var].fs = FS_VAR;
	vfs_nodes[proc].fs = FS_PROC;
	vfs_nodes[proc].device = PROC_ROOT;
	vfs_nodes[self].device = PROC_SELF;
	static const struct { const char *path; enum vfs_device file; } files[] = {
		{ "proc/meminfo", PROC_MEMINFO }, { "proc/cpuinfo", PROC_CPUINFO },
		{ "proc/uptime", PROC_UPTIME }, { "proc/mounts", PROC_MOUNTS },
		{ "proc/net/dev", PROC_NET_DEV }, { "proc/stat", PROC_STAT },
		{ "proc/net/route", PROC_NET_ROUTE }, { "proc/net/tcp", PROC_NET_TCP },
		{ "proc/net/udp", PROC_NET_UDP },
		{ "proc/loadavg", PROC_LOADAVG },
	};
	for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int n = node_make(files[i].path, LINUX_S_IFREG | 0444, FS_PROC);
		if (n < 0)
			return false;
		vfs_nodes[n].device = (uint8_t)files[i].file;
	}
	proc_nodes = 0;
	vfs_pts = node_make("dev/pts", LINUX_S_IFDIR | 0755, FS_DEV);
	return vfs_pts > 0 && device("dev/console", DEV_CONSOLE, 0600) &&
	       device("dev/tty", DEV_TTY, 0666) && device("dev/ptmx", DEV_PTMX, 0666) &&
	       device("dev/null", DEV_NULL, 0666) && device("dev/zero", DEV_ZERO, 0666) &&
	       device("dev/random", DEV_RANDOM, 0666) && device("dev/urandom", DEV_RANDOM, 0666);
}

void vfs_set_proc(const struct vfs_proc_ops *proc)
{
	proc_ops = proc;
}

/* Whether a VFS_PROC_NODE may go: not open, no node in it. */
static bool proc_node_idle(int node)
{
	if (vfs_nodes[node].opens)
		return false;
	for (int i = 0; i < VFS_NODES; i++)
		if (vfs_nodes[i].type != VFS_FREE && vfs_nodes[i].parent == node && i != node)
			return false;
	return true;
}

/* The least recently used idle proc node other than dir, or -1: two
 * passes over the table (the nodes with a node below them first). */
static int proc_node_lru(int dir)
{
	static uint8_t has_child[VFS_NODES];
	int victim = -1;

	memset(has_child, 0, sizeof(has_child));
	for (int i = 0; i < VFS_NODES; i++)
		if (vfs_nodes[i].type != VFS_FREE && vfs_nodes[i].parent != i &&
		    (unsigned)vfs_nodes[i].parent < VFS_NODES)
			has_child[vfs_nodes[i].parent] = 1;
	for (int i = 0; i < VFS_NODES; i++) {
		const struct vfs_node *v = &vfs_nodes[i];
		if (v->type == VFS_FREE || !VFS_PROC_NODE(v) || i == dir || v->opens || has_child[i])
			continue;
		if (victim < 0 || v->used < vfs_nodes[victim].used)
			victim = i;
	}
	return victim;
}

long vfs_proc_node(int dir, const char *name, uint32_t mode, uint8_t device, int pid, int fd)
{
	size_t len = strlen(name);
	int n = vfs_child(dir, name, len);

	if (n >= 0 && vfs_nodes[n].device == device && vfs_nodes[n].pid == pid &&
	    vfs_nodes[n].fd == fd) {
		vfs_nodes[n].used = ++proc_clock;
		return n;
	}
	if (n >= 0 && !VFS_PROC_NODE(&vfs_nodes[n]))
		return -LINUX_ENFILE;   /* a fixed node has that name */
	if (n >= 0 || proc_nodes >= VFS_PROC_NODES) {
		/* The one there is stands for something else (an old
		 * process's): it goes, or the least recently used one. */
		int victim = n < 0 ? proc_node_lru(dir) : proc_node_idle(n) ? n : -1;
		if (victim < 0)
			return -LINUX_ENFILE;
		vfs_nodes[victim].type = VFS_FREE;
		proc_nodes--;
	}
	if (len > VFS_NAME_MAX || (n = vfs_node_new(dir, name, len, mode, FS_PROC)) < 0)
		return -LINUX_ENFILE;
	vfs_nodes[n].device = device;
	vfs_nodes[n].pid = pid;
	vfs_nodes[n].fd = fd;
	vfs_nodes[n].used = ++proc_clock;
	proc_nodes++;
	return n;
}

const char *vfs_link_target(int node, void *caller, size_t *len)
{
	const struct vfs_node *n = &vfs_nodes[node];

	if (n->fs == FS_PROC) {
		const char *t = proc_ops ? proc_ops->link(caller, node, len) : NULL;
		if (!t)
			*len = 0;
		return t;
	}
	*len = n->size;
	return n->data ? (const char *)n->data : tmpfs_bytes(n);
}

/* Whether name[0..len) is a number, as /proc spells them (no sign, no
 * leading zero). */
static bool numeric(const char *name, size_t len)
{
	if (!len || (name[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/* dir's child name[0..len): /proc's that depend on who looks from the
 * vfs_proc_ops, the others from the table. The node, or -errno. */
static long lookup_child(int dir, const char *name, size_t len, void *caller)
{
	const struct vfs_node *d = &vfs_nodes[dir];

	if (d->fs == FS_PROC && ((d->device == PROC_ROOT && numeric(name, len)) ||
				 d->device == PROC_PID || d->device == PROC_PID_FD ||
				 d->device == PROC_PID_FDINFO || d->device == PROC_PID_TASK ||
				 d->device == PROC_TASK_TID))
		return proc_ops ? proc_ops->child(caller, dir, name, len) : -LINUX_ENOENT;
	int n = vfs_child(dir, name, len);
	return n < 0 ? -LINUX_ENOENT : n;
}

long vfs_resolve(int start, const char *path, unsigned flags, void *caller,
		 struct vfs_lookup *out)
{
	static char buf[2][LINUX_PATH_MAX];
	unsigned links = 0, which = 0;
	int cur = path[0] == '/' ? VFS_ROOT : start;

	if (!path[0])
		return -LINUX_ENOENT;
	for (;;) {
		while (*path == '/')
			path++;
		if (!*path) {           /* "/": its last name is "/" (Linux's LAST_ROOT) */
			out->node = out->entry = cur;
			out->parent = vfs_nodes[cur].parent;
			memcpy(out->last, "/", 2);
			out->dir_wanted = true;
			return 0;
		}
		const char *end = path;
		while (*end && *end != '/')
			end++;
		size_t len = (size_t)(end - path);
		const char *rest = end;
		while (*rest == '/')
			rest++;
		bool last = !*rest, slash = last && *end == '/';
		if (vfs_nodes[cur].type != VFS_DIR)
			return -LINUX_ENOTDIR;
		if (len > VFS_NAME_MAX)
			return -LINUX_ENAMETOOLONG;
		long next;
		if (name_is(path, len, "."))
			next = cur;
		else if (name_is(path, len, ".."))
			next = vfs_nodes[cur].parent;
		else
			next = lookup_child(cur, path, len, caller);
		if (next == -LINUX_ENFILE)
			return next;
		if (next < 0) {
			if (!last || !(flags & VFS_PARENT))
				return -LINUX_ENOENT;
			out->node = out->entry = -1;
			out->parent = cur;
			memcpy(out->last, path, len);
			out->last[len] = 0;
			out->dir_wanted = slash;
			return 0;
		}
		int entry = (int)next;
		next = vfs_inode(entry);        /* a second name: the node it names */
		bool follow = vfs_nodes[next].type == VFS_SYMLINK && (!last || slash || (flags & VFS_FOLLOW));
		if (follow && vfs_nodes[next].fs == FS_PROC && vfs_nodes[next].device == PROC_FD) {
			/* Not a path: the descriptor's own node, as Linux's. */
			if (++links > VFS_LINKS_MAX)
				return -LINUX_ELOOP;
			next = proc_ops ? proc_ops->follow(caller, (int)next) : -LINUX_ENOENT;
			if (next < 0)
				return next;
			follow = false;
			if (last) {     /* the node's own directory and name */
				if (slash && vfs_nodes[next].type != VFS_DIR)
					return -LINUX_ENOTDIR;
				out->node = out->entry = (int)next;
				out->parent = vfs_nodes[next].parent >= 0 ? vfs_nodes[next].parent : cur;
				memcpy(out->last, vfs_nodes[next].name, VFS_NAME_MAX + 1);
				out->dir_wanted = slash;
				return 0;
			}
		}
		if (follow) {
			size_t tlen, rlen = strlen(end);
			const char *target = vfs_link_target((int)next, caller, &tlen);
			if (++links > VFS_LINKS_MAX)
				return -LINUX_ELOOP;
			if (tlen == 0)
				return -LINUX_ENOENT;
			if (tlen + rlen >= LINUX_PATH_MAX)
				return -LINUX_ENAMETOOLONG;
			char *b = buf[which];
			which ^= 1;
			memmove(b + tlen, end, rlen + 1);
			memcpy(b, target, tlen);
			if (b[0] == '/')
				cur = VFS_ROOT;
			path = b;
			continue;
		}
		if (last) {
			if (slash && vfs_nodes[next].type != VFS_DIR)
				return -LINUX_ENOTDIR;
			out->node = (int)next;
			out->entry = entry;
			out->parent = cur;
			memcpy(out->last, path, len);
			out->last[len] = 0;
			out->dir_wanted = slash;
			return 0;
		}
		cur = (int)next;
		path = rest;
	}
}

int vfs_child_next(int dir, unsigned *pos)
{
	for (unsigned i = *pos; i < VFS_NODES; i++) {
		if (vfs_nodes[i].type != VFS_FREE && vfs_nodes[i].parent == dir && (int)i != dir) {
			*pos = i + 1;
			return (int)i;
		}
	}
	*pos = VFS_NODES;
	return -1;
}

long vfs_path(int dir, char *buf, size_t size)
{
	size_t len = 0;

	if (size < 2)
		return -LINUX_ERANGE;
	buf[0] = 0;
	/* Build it backwards at the end of buf, then move it to the front. */
	char *at = buf + size - 1;
	*at = 0;
	for (int d = dir; d != VFS_ROOT; d = vfs_nodes[d].parent) {
		if (d < 0)
			return -LINUX_ENOENT;
		size_t n = strlen(vfs_nodes[d].name);
		if (len + n + 1 > size - 1)
			return -LINUX_ERANGE;
		at -= n;
		memcpy(at, vfs_nodes[d].name, n);
		*--at = '/';
		len += n + 1;
	}
	if (!len) {
		*--at = '/';
		len = 1;
	}
	memmove(buf, at, len + 1);
	return (long)len;
}
