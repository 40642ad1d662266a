/* Changes to the POSIX server's file tree (vfs.h): nodes made in a
 * directory or in none, removed, renamed, freed at their last close. */
#include "vfs.h"
#include "linux.h"

#include "lib/string.h"

long vfs_create(int dir, const char *name, uint32_t mode)
{
	if (vfs_nodes[dir].unlinked)        /* a removed directory takes nothing new */
		return -LINUX_ENOENT;
	if (!VFS_WRITABLE(&vfs_nodes[dir]))
		return -LINUX_EROFS;
	if (vfs_child(dir, name, strlen(name)) >= 0)
		return -LINUX_EEXIST;
	int n = vfs_node_new(dir, name, strlen(name), mode, vfs_nodes[dir].fs);
	if (n < 0)
		return -LINUX_ENOSPC;
	vfs_touch(dir);
	return n;
}

long vfs_detached(uint32_t mode, uint8_t fs)
{
	int n = vfs_node_new(-1, "", 0, mode, fs);

	if (n < 0)
		return -LINUX_ENFILE;
	vfs_nodes[n].unlinked = true;
	return n;
}

static bool dir_empty(int dir)
{
	for (int i = 0; i < VFS_NODES; i++)
		if (vfs_nodes[i].type != VFS_FREE && vfs_nodes[i].parent == dir && i != dir)
			return false;
	return true;
}

static void node_free(struct vfs_node *n)
{
	tmpfs_free(n);
	n->type = VFS_FREE;
}

long vfs_device(int dir, const char *name, uint32_t mode, uint8_t device)
{
	int n = vfs_node_new(dir, name, strlen(name), mode, vfs_nodes[dir].fs);

	if (n < 0)
		return -LINUX_ENOSPC;
	vfs_nodes[n].device = device;
	return n;
}

void vfs_device_gone(int node)
{
	vfs_nodes[node].parent = -1;
	vfs_nodes[node].unlinked = true;
	if (!vfs_nodes[node].opens)
		node_free(&vfs_nodes[node]);
}

/* A VFS_HARDLINK naming node, or -1. */
static int second_name(int node)
{
	for (int i = 0; i < VFS_NODES; i++)
		if (vfs_nodes[i].type == VFS_HARDLINK && vfs_nodes[i].inode == node)
			return i;
	return -1;
}

long vfs_remove(int entry, bool is_dir)
{
	struct vfs_node *e = &vfs_nodes[entry];
	int node = vfs_inode(entry);
	struct vfs_node *n = &vfs_nodes[node];

	if (entry == VFS_ROOT || e->parent < 0)
		return -LINUX_EBUSY;
	if (!VFS_WRITABLE(&vfs_nodes[e->parent]))
		return -LINUX_EROFS;
	if (is_dir && !dir_empty(node))
		return -LINUX_ENOTEMPTY;
	if (!VFS_WRITABLE(e))       /* /tmp, /var themselves */
		return -LINUX_EBUSY;
	vfs_touch(e->parent);
	n->ctime = vfs_now();
	int other = !n->links ? -1 : entry != node ? entry : second_name(node);
	if (other >= 0) {           /* another name keeps it */
		n->links--;
		if (entry == node) {    /* its first name goes: another becomes first */
			n->parent = vfs_nodes[other].parent;
			memcpy(n->name, vfs_nodes[other].name, sizeof(n->name));
		}
		vfs_nodes[other].type = VFS_FREE;
		return 0;
	}
	n->links = 0;               /* (a count no other name backs: never, but the names win) */
	n->parent = -1;
	n->unlinked = true;
	if (!n->opens)
		node_free(n);
	return 0;
}

long vfs_rename(int entry, int dir, const char *name)
{
	struct vfs_node *n = &vfs_nodes[entry];
	int node = vfs_inode(entry);
	bool is_dir = vfs_nodes[node].type == VFS_DIR;

	if (vfs_nodes[dir].unlinked)
		return -LINUX_ENOENT;
	if (n->fs != vfs_nodes[dir].fs)
		return -LINUX_EXDEV;
	if (!VFS_WRITABLE(n) || !VFS_WRITABLE(&vfs_nodes[dir]) || n->parent < 0)
		return -LINUX_EROFS;
	for (int d = dir; ; d = vfs_nodes[d].parent) {
		if (d == entry)
			return -LINUX_EINVAL;
		if (d == VFS_ROOT || vfs_nodes[d].parent == d)
			break;
	}
	int old = vfs_child(dir, name, strlen(name));
	if (old >= 0 && vfs_inode(old) == node)
		return 0;               /* two names of one node: nothing to do (rename(2)) */
	if (old >= 0) {
		bool old_dir = vfs_nodes[vfs_inode(old)].type == VFS_DIR;
		if (is_dir && !old_dir)
			return -LINUX_ENOTDIR;
		if (!is_dir && old_dir)
			return -LINUX_EISDIR;
		long err = vfs_remove(old, old_dir);
		if (err)
			return err;
	}
	vfs_touch(n->parent);
	vfs_touch(dir);
	vfs_nodes[node].ctime = vfs_now();
	n->parent = dir;
	memset(n->name, 0, sizeof(n->name));
	memcpy(n->name, name, strlen(name));
	return 0;
}

long vfs_link(int node, int dir, const char *name)
{
	struct vfs_node *n = &vfs_nodes[node];
	const struct vfs_node *d = &vfs_nodes[dir];
	size_t len = strlen(name);

	/* Linux's order: filename_create (a removed directory, the name
	 * there, the read-only mount), the two mounts, then vfs_link's. */
	if (d->unlinked)
		return -LINUX_ENOENT;
	if (vfs_child(dir, name, len) >= 0)
		return -LINUX_EEXIST;
	if (d->fs == FS_ROOT)
		return -LINUX_EROFS;
	if (d->fs != n->fs)
		return -LINUX_EXDEV;
	if (!VFS_WRITABLE(d) || n->type == VFS_DIR)
		return -LINUX_EPERM;    /* /proc, /dev: no links there; directories never */
	if (n->parent < 0)
		return -LINUX_ENOENT;   /* no name left (open, unlinked) */
	if (n->links + 1 >= VFS_LINKS_NAMES)
		return -LINUX_EMLINK;
	int k = vfs_node_new(dir, name, len, LINUX_S_IFREG, d->fs);
	if (k < 0)
		return -LINUX_ENOSPC;
	vfs_nodes[k].type = VFS_HARDLINK;
	vfs_nodes[k].inode = node;
	n->links++;
	n->ctime = vfs_now();
	vfs_touch(dir);
	return 0;
}

void vfs_closed(int node)
{
	struct vfs_node *n = &vfs_nodes[node];

	if (n->opens == 0 && n->unlinked && n->type != VFS_FREE)
		node_free(n);
}
