/* The POSIX server's file tree (posix-server/vfs.c): paths, tmpfs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux.h"
#include "share.h"
#include "unit.h"
#include "vfs.h"

static unsigned pages_out;

static void *page_alloc(int account)
{
	(void)account;
	pages_out++;
	return calloc(1, 4096);
}

static void page_free(void *page)
{
	pages_out--;
	free(page);
}

/* The nodes' clock: set by the tests. */
static uint64_t clock_now = 1000;

static uint64_t fake_now(void)
{
	return clock_now;
}

/* The account tmpfs charges (share.h): set by the tests; 0 the server's. */
static int account_now;

static int fake_account(void)
{
	return account_now;
}

static const struct vfs_ops ops = { page_alloc, page_free, fake_now, fake_account };

static void add(char *archive, size_t *used, const char *name, const char *data, unsigned mode)
{
	size_t namesize = strlen(name) + 1, filesize = strlen(data);

	*used += (size_t)sprintf(archive + *used,
				 "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1,
				 mode, 0, 0, 1, 0x65A0BC00, filesize, 0, 0, 0, 0, namesize, 0);
	memcpy(archive + *used, name, namesize);
	*used = (*used + namesize + 3) & ~(size_t)3;
	memcpy(archive + *used, data, filesize);
	*used = (*used + filesize + 3) & ~(size_t)3;
}

static void init_tree(void)
{
	static char archive[4096];
	size_t used = 0;

	memset(archive, 0, sizeof(archive));
	add(archive, &used, "bin", "", 040755);
	add(archive, &used, "bin/hello", "hello bytes", 0100755);
	add(archive, &used, "lib/ld.so", "/bin/hello", 0120777);
	add(archive, &used, "lib/loop", "loop", 0120777);
	add(archive, &used, "TRAILER!!!", "", 0);
	CHECK(vfs_init(&ops, archive, used));
}

static long resolve(const char *path, unsigned flags, struct vfs_lookup *l)
{
	return vfs_resolve(VFS_ROOT, path, flags, NULL, l);
}

TEST(vfs_resolves_paths_links_and_errors)
{
	struct vfs_lookup l;
	char buf[16] = { 0 };

	init_tree();
	CHECK_EQ(resolve("/bin/hello", 0, &l), 0);
	CHECK_EQ(vfs_read(l.node, 6, buf, sizeof(buf)), 5);
	CHECK(!strcmp(buf, "bytes"));
	CHECK_EQ(resolve("/lib/../bin/./hello", 0, &l), 0);
	CHECK_EQ(resolve("/lib/ld.so", VFS_FOLLOW, &l), 0);
	CHECK_EQ(vfs_nodes[l.node].type, VFS_FILE);
	CHECK_EQ(resolve("/lib/ld.so", 0, &l), 0);
	CHECK_EQ(vfs_nodes[l.node].type, VFS_SYMLINK);
	CHECK_EQ(resolve("/proc/self/exe", VFS_FOLLOW, &l), -LINUX_ENOENT);     /* no procfs */
	CHECK_EQ(resolve("/lib/loop", VFS_FOLLOW, &l), -LINUX_ELOOP);
	CHECK_EQ(resolve("/bin/hello/x", 0, &l), -LINUX_ENOTDIR);
	CHECK_EQ(resolve("/bin/hello/", 0, &l), -LINUX_ENOTDIR);
	CHECK_EQ(resolve("/nope/x", VFS_PARENT, &l), -LINUX_ENOENT);
	CHECK_EQ(resolve("/bin/new", VFS_PARENT, &l), 0);
	CHECK_EQ(l.node, -1);
	CHECK_EQ(vfs_create(l.parent, l.last, LINUX_S_IFREG | 0644), -LINUX_EROFS);
	CHECK_EQ(resolve("", 0, &l), -LINUX_ENOENT);
}

TEST(vfs_tmpfs_files_grow_shrink_and_fill_up)
{
	struct vfs_lookup l;
	static char block[65536];
	char buf[8];
	long total = 0, n;

	init_tree();
	CHECK_EQ(resolve("/tmp/f", VFS_PARENT, &l), 0);
	int f = (int)vfs_create(l.parent, l.last, LINUX_S_IFREG | 0600);
	CHECK(f > 0);
	CHECK_EQ(vfs_create(l.parent, "f", LINUX_S_IFREG | 0600), -LINUX_EEXIST);
	CHECK_EQ(vfs_write(f, 10000, "abc", 3), 3);
	CHECK_EQ(vfs_nodes[f].size, 10003);
	CHECK_EQ(vfs_read(f, 9998, buf, 8), 5);
	CHECK(buf[0] == 0 && buf[2] == 'a' && buf[4] == 'c');
	CHECK_EQ(vfs_truncate(f, 10001), 0);
	CHECK_EQ(vfs_truncate(f, 10003), 0);
	CHECK_EQ(vfs_read(f, 10000, buf, 3), 3);
	CHECK(buf[0] == 'a' && buf[1] == 0 && buf[2] == 0);
	while ((n = vfs_write(f, (uint64_t)total, block, sizeof(block))) > 0)
		total += n;
	CHECK_EQ(n, -LINUX_ENOSPC);
	CHECK_EQ(vfs_tmpfs_pages(), TMPFS_PAGES);
	CHECK_EQ(vfs_remove(f, false), 0);
	CHECK_EQ(vfs_tmpfs_pages(), 0);
	CHECK_EQ(pages_out, 0);
}

/* One account may make SHARE(TMPFS_NODES) nodes and hold SHARE(TMPFS_PAGES)
 * pages in its files (whoever writes them); the next is ENOSPC while
 * another account still has room; the server's own (account 0) is bound
 * only by the totals, and a node freed is room again. */
TEST(vfs_tmpfs_shares_of_nodes_and_pages_by_account)
{
	static char block[65536];
	char name[16];
	long total = 0, n;
	int made = 0, node = 0, first = -1;

	init_tree();
	account_now = 5;
	struct vfs_lookup l;
	CHECK_EQ(resolve("/tmp", 0, &l), 0);
	int tmp = l.node;
	for (made = 0; made < TMPFS_NODES; made++) {
		sprintf(name, "n%d", made);
		if ((node = (int)vfs_create(tmp, name, LINUX_S_IFREG | 0600)) < 0)
			break;
		first = first < 0 ? node : first;
	}
	CHECK_EQ(node, -LINUX_ENOSPC);
	CHECK_EQ(made, SHARE(TMPFS_NODES));
	account_now = 6;
	int other = (int)vfs_create(tmp, "other", LINUX_S_IFREG | 0600);
	CHECK(other > 0);
	CHECK_EQ(vfs_nodes[other].account, 6);
	/* Account 5's pages, written by 6 (charged to the file's account). */
	while ((n = vfs_write(first, (uint64_t)total, block, sizeof(block))) > 0)
		total += n;
	CHECK_EQ(n, -LINUX_ENOSPC);
	CHECK_EQ(vfs_tmpfs_pages(), SHARE(TMPFS_PAGES));
	CHECK_EQ(vfs_write(other, 0, block, sizeof(block)), sizeof(block));
	void *page;
	uint64_t next = ((uint64_t)total + 4095) / 4096;   /* a page it has not */
	CHECK_EQ(vfs_truncate(first, (next + 1) * 4096), 0);
	CHECK_EQ(vfs_page(first, next, true, &page), -LINUX_ENOSPC);
	/* A node of 5's gone: 5 makes one again. */
	account_now = 5;
	CHECK_EQ(vfs_create(tmp, "again", LINUX_S_IFREG | 0600), -LINUX_ENOSPC);
	CHECK_EQ(resolve("/tmp/n1", 0, &l), 0);
	CHECK_EQ(vfs_remove(l.node, false), 0);
	CHECK(vfs_create(tmp, "again", LINUX_S_IFREG | 0600) > 0);
	/* The server's own: only the total bounds it. */
	account_now = 0;
	for (made = 0; made < TMPFS_NODES; made++) {
		sprintf(name, "s%d", made);
		if ((node = (int)vfs_create(tmp, name, LINUX_S_IFREG | 0600)) < 0)
			break;
	}
	CHECK_EQ(node, -LINUX_ENOSPC);
	unsigned writable = 0;
	for (int i = 0; i < VFS_NODES; i++)
		writable += vfs_nodes[i].type != VFS_FREE && VFS_WRITABLE(&vfs_nodes[i]);
	CHECK_EQ(writable, TMPFS_NODES);
	for (int i = 0; i < VFS_NODES; i++)
		if (vfs_nodes[i].type == VFS_FILE && VFS_WRITABLE(&vfs_nodes[i]))
			vfs_remove(i, false);
	CHECK_EQ(vfs_tmpfs_pages(), 0);
	CHECK_EQ(pages_out, 0);
}

TEST(vfs_directories_remove_rename_and_path)
{
	struct vfs_lookup l;
	char path[64];

	init_tree();
	CHECK_EQ(resolve("/tmp/d", VFS_PARENT, &l), 0);
	int d = (int)vfs_create(l.parent, l.last, LINUX_S_IFDIR | 0700);
	int f = (int)vfs_create(d, "f", LINUX_S_IFREG | 0600);
	CHECK(d > 0 && f > 0);
	CHECK_EQ(vfs_path(d, path, sizeof(path)), 6);
	CHECK(!strcmp(path, "/tmp/d"));
	CHECK_EQ(vfs_path(d, path, 4), -LINUX_ERANGE);
	CHECK_EQ(vfs_remove(d, true), -LINUX_ENOTEMPTY);
	CHECK_EQ(vfs_rename(d, d, "x"), -LINUX_EINVAL);
	CHECK_EQ(resolve("/bin", 0, &l), 0);
	CHECK_EQ(vfs_rename(f, l.node, "f"), -LINUX_EXDEV);
	CHECK_EQ(vfs_rename(f, vfs_nodes[d].parent, "g"), 0);
	CHECK_EQ(resolve("/tmp/g", 0, &l), 0);
	CHECK_EQ(l.node, f);
	vfs_nodes[f].opens = 1;
	CHECK_EQ(vfs_remove(f, false), 0);
	CHECK_EQ(vfs_nodes[f].type, VFS_FILE);      /* open: kept */
	vfs_nodes[f].opens = 0;
	vfs_closed(f);
	CHECK_EQ(vfs_nodes[f].type, VFS_FREE);
	vfs_nodes[d].opens = 1;                 /* a working directory */
	CHECK_EQ(vfs_remove(d, true), 0);
	CHECK_EQ(vfs_create(d, "n", LINUX_S_IFREG | 0600), -LINUX_ENOENT);
	CHECK_EQ(vfs_path(d, path, sizeof(path)), -LINUX_ENOENT);
	vfs_nodes[d].opens = 0;
	vfs_closed(d);
	CHECK_EQ(resolve("/tmp", 0, &l), 0);
	CHECK_EQ(vfs_remove(l.node, true), -LINUX_EROFS);
}

TEST(vfs_hard_links_share_a_node_until_its_last_name_goes)
{
	struct vfs_lookup l;
	char buf[8] = { 0 };

	init_tree();
	CHECK_EQ(resolve("/tmp", 0, &l), 0);
	int tmp = l.node;
	int a = (int)vfs_create(tmp, "a", LINUX_S_IFREG | 0644);
	int d = (int)vfs_create(tmp, "d", LINUX_S_IFDIR | 0755);
	CHECK(a > 0 && d > 0);
	CHECK_EQ(vfs_write(a, 0, "data", 4), 4);
	CHECK_EQ(vfs_link(a, tmp, "b"), 0);
	CHECK_EQ(vfs_link(a, d, "c"), 0);
	CHECK_EQ(vfs_nodes[a].links, 2u);
	/* the other names resolve to the node itself, their entries apart */
	CHECK_EQ(resolve("/tmp/d/c", 0, &l), 0);
	CHECK_EQ(l.node, a);
	CHECK(l.entry != a && vfs_nodes[l.entry].type == VFS_HARDLINK);
	CHECK_EQ(vfs_read(l.node, 0, buf, sizeof(buf)), 4);
	/* errors, in Linux's order */
	CHECK_EQ(vfs_link(a, tmp, "b"), -LINUX_EEXIST);
	CHECK_EQ(vfs_link(d, tmp, "e"), -LINUX_EPERM);
	CHECK_EQ(resolve("/bin", 0, &l), 0);
	CHECK_EQ(vfs_link(a, l.node, "x"), -LINUX_EROFS);
	CHECK_EQ(resolve("/bin/hello", 0, &l), 0);
	CHECK_EQ(vfs_link(l.node, tmp, "x"), -LINUX_EXDEV);
	CHECK_EQ(resolve("/var", 0, &l), 0);
	CHECK_EQ(vfs_link(a, l.node, "x"), -LINUX_EXDEV);
	/* renaming one name onto another of the same node changes nothing */
	CHECK_EQ(resolve("/tmp/b", 0, &l), 0);
	CHECK_EQ(vfs_rename(l.entry, tmp, "a"), 0);
	CHECK_EQ(vfs_nodes[a].links, 2u);
	/* the first name goes: another takes its place, the bytes stay */
	CHECK_EQ(vfs_remove(a, false), 0);
	CHECK_EQ(vfs_nodes[a].type, VFS_FILE);
	CHECK_EQ(vfs_nodes[a].links, 1u);
	CHECK_EQ(resolve("/tmp/a", 0, &l), -LINUX_ENOENT);
	CHECK_EQ(resolve("/tmp/b", 0, &l), 0);
	CHECK_EQ(l.node, a);
	CHECK_EQ(l.entry, a);                   /* its first name now */
	CHECK_EQ(vfs_remove(d, true), -LINUX_ENOTEMPTY);
	CHECK_EQ(resolve("/tmp/d/c", 0, &l), 0);
	CHECK_EQ(vfs_remove(l.entry, false), 0);
	CHECK_EQ(vfs_nodes[a].links, 0u);
	CHECK_EQ(vfs_remove(d, true), 0);
	unsigned before = pages_out;
	CHECK_EQ(vfs_remove(a, false), 0);     /* the last name: freed with its pages */
	CHECK_EQ(vfs_nodes[a].type, VFS_FREE);
	CHECK(pages_out < before);
	CHECK_EQ(vfs_link(a, tmp, "z"), -LINUX_ENOENT);
}

TEST(vfs_tmpfs_symbolic_links_keep_their_target_in_one_page)
{
	struct vfs_lookup l;
	size_t len;

	init_tree();
	CHECK_EQ(resolve("/tmp", 0, &l), 0);
	int tmp = l.node;
	unsigned before = pages_out;
	int s = (int)vfs_create(tmp, "s", LINUX_S_IFLNK | 0777);
	CHECK(s > 0);
	CHECK_EQ(vfs_set_target(s, "/bin/hello", 10), 0);
	CHECK_EQ(pages_out, before + 1);
	CHECK_EQ(vfs_tmpfs_pages(), 1u);
	const char *t = vfs_link_target(s, NULL, &len);
	CHECK(t && len == 10 && !memcmp(t, "/bin/hello", 10));
	CHECK_EQ(resolve("/tmp/s", VFS_FOLLOW, &l), 0);
	CHECK_EQ(vfs_nodes[l.node].type, VFS_FILE);
	CHECK_EQ(vfs_remove(s, false), 0);
	CHECK_EQ(pages_out, before);
	CHECK_EQ(vfs_tmpfs_pages(), 0u);
}

TEST(vfs_pages_of_a_shared_mapping_and_socket_names)
{
	struct vfs_lookup l;
	void *page, *again;
	char buf[4];

	init_tree();
	CHECK_EQ(resolve("/tmp/m", VFS_PARENT, &l), 0);
	int f = (int)vfs_create(l.parent, l.last, LINUX_S_IFREG | 0600);
	CHECK_EQ(vfs_truncate(f, 5000), 0);
	CHECK_EQ(vfs_page(f, 1, false, &page), 0);
	CHECK(page == NULL);                    /* a hole: none made */
	CHECK_EQ(vfs_page(f, 1, true, &page), 0);
	CHECK(page != NULL);
	CHECK_EQ(vfs_page(f, 1, false, &again), 0);
	CHECK(again == page);
	memcpy((char *)page + 404, "abc", 3);   /* byte 4500 */
	CHECK_EQ(vfs_read(f, 4500, buf, 3), 3);
	CHECK(!memcmp(buf, "abc", 3));          /* the file's read sees the page's bytes */
	CHECK_EQ(vfs_write(f, 4096, "xyz", 3), 3);
	CHECK(!memcmp(page, "xyz", 3));         /* and the page sees the file's writes */
	CHECK_EQ(vfs_page(f, 2, true, &page), -LINUX_ENXIO);    /* past the end */
	CHECK_EQ(vfs_page(VFS_ROOT, 0, true, &page), -LINUX_EROFS);
	/* A detached one (shared anonymous memory) lives until closed. */
	long anon = vfs_detached(LINUX_S_IFREG | 0600, FS_TMP);
	CHECK(anon > 0);
	CHECK_EQ(vfs_truncate((int)anon, 4096), 0);
	CHECK_EQ(vfs_page((int)anon, 0, true, &page), 0);
	vfs_closed((int)anon);
	CHECK_EQ(vfs_nodes[anon].type, VFS_FREE);
	/* A socket's name in tmpfs is a node of its own type. */
	CHECK_EQ(resolve("/tmp/sock", VFS_PARENT, &l), 0);
	long s = vfs_create(l.parent, l.last, LINUX_S_IFSOCK | 0755);
	CHECK(s > 0);
	CHECK_EQ(vfs_nodes[s].type, VFS_SOCKET_NAME);
	CHECK_EQ(vfs_remove((int)s, false), 0);
	CHECK_EQ(vfs_remove(f, false), 0);
	CHECK_EQ(vfs_tmpfs_pages(), 0);
	CHECK_EQ(pages_out, 0);
}

/* A /proc of processes 1..1000, each with /bin/hello as exe and fd 3
 * (procfs_pid.c's shape, without processes). */
static int hello_node;

static long fake_child(void *caller, int dir, const char *name, size_t len)
{
	const struct vfs_node *d = &vfs_nodes[dir];
	char n[16] = { 0 };

	(void)caller;
	memcpy(n, name, len < 15 ? len : 15);
	if (d->device == PROC_ROOT) {
		int pid = atoi(n);
		if (pid < 1 || pid > 1000)
			return -LINUX_ENOENT;
		return vfs_proc_node(dir, n, LINUX_S_IFDIR | 0555, PROC_PID, pid, -1);
	}
	if (d->device == PROC_PID && !strcmp(n, "exe"))
		return vfs_proc_node(dir, n, LINUX_S_IFLNK | 0777, PROC_PID_EXE, d->pid, -1);
	if (d->device == PROC_PID && !strcmp(n, "fd"))
		return vfs_proc_node(dir, n, LINUX_S_IFDIR | 0500, PROC_PID_FD, d->pid, -1);
	if (d->device == PROC_PID_FD && !strcmp(n, "3"))
		return vfs_proc_node(dir, n, LINUX_S_IFLNK | 0700, PROC_FD, d->pid, 3);
	return -LINUX_ENOENT;
}

static const char *fake_link(void *caller, int node, size_t *len)
{
	const char *t = vfs_nodes[node].device == PROC_SELF ? "7" : "/bin/hello";

	(void)caller;
	*len = strlen(t);
	return t;
}

static long fake_follow(void *caller, int node)
{
	(void)caller;
	return vfs_nodes[node].fd == 3 ? hello_node : -LINUX_ENOENT;
}

static const struct vfs_proc_ops fake_proc = { fake_child, fake_link, fake_follow };

static unsigned proc_nodes_in_table(void)
{
	unsigned n = 0;

	for (int i = 0; i < VFS_NODES; i++)
		n += vfs_nodes[i].type != VFS_FREE && VFS_PROC_NODE(&vfs_nodes[i]);
	return n;
}

TEST(vfs_proc_nodes_follow_descriptors_and_stay_bounded)
{
	struct vfs_lookup l;
	char path[32];

	init_tree();
	vfs_set_proc(&fake_proc);
	CHECK_EQ(resolve("/bin/hello", 0, &l), 0);
	hello_node = l.node;
	int bin = l.parent;
	CHECK_EQ(resolve("/proc/self/exe", VFS_FOLLOW, &l), 0);
	CHECK_EQ(l.node, hello_node);
	CHECK_EQ(resolve("/proc/self", 0, &l), 0);
	CHECK_EQ(vfs_nodes[l.node].type, VFS_SYMLINK);
	CHECK_EQ(resolve("/proc/7/fd/3", 0, &l), 0);        /* the link itself */
	CHECK_EQ(vfs_nodes[l.node].device, PROC_FD);
	int link = l.node;
	/* Followed, it is the descriptor's node, not a path: its own
	 * directory and name. */
	CHECK_EQ(resolve("/proc/7/fd/3", VFS_FOLLOW, &l), 0);
	CHECK_EQ(l.node, hello_node);
	CHECK_EQ(l.parent, bin);
	CHECK(!strcmp(l.last, "hello"));
	CHECK_EQ(resolve("/proc/7/fd/3/x", 0, &l), -LINUX_ENOTDIR);
	CHECK_EQ(resolve("/proc/7/fd/4", VFS_FOLLOW, &l), -LINUX_ENOENT);
	CHECK_EQ(resolve("/proc/07", 0, &l), -LINUX_ENOENT);
	CHECK_EQ(resolve("/proc/0", 0, &l), -LINUX_ENOENT);
	CHECK_EQ(resolve("/proc/meminfo", 0, &l), 0);
	CHECK_EQ(resolve("/proc/self/fd/../exe", VFS_FOLLOW, &l), 0);
	CHECK_EQ(l.node, hello_node);
	/* Many lookups: the made nodes stay at most VFS_PROC_NODES; an open
	 * one (and the directories holding it) stays. */
	vfs_nodes[link].opens = 1;
	for (int pid = 1; pid <= 1000; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		CHECK_EQ(resolve(path, VFS_FOLLOW, &l), 0);
		CHECK(proc_nodes_in_table() <= VFS_PROC_NODES);
	}
	CHECK_EQ(vfs_nodes[link].type, VFS_SYMLINK);
	CHECK_EQ(vfs_nodes[link].device, PROC_FD);
	CHECK_EQ(resolve("/proc/7/fd/3", 0, &l), 0);
	CHECK_EQ(l.node, link);
	vfs_nodes[link].opens = 0;
	vfs_set_proc(NULL);
}

/* Past VFS_PROC_NODES the least recently used idle node goes: one
 * looked up again stays, though it was made first. */
TEST(vfs_proc_nodes_evict_the_least_recently_used)
{
	struct vfs_lookup l;
	char path[32];

	init_tree();
	vfs_set_proc(&fake_proc);
	CHECK_EQ(resolve("/proc/1/fd", 0, &l), 0);
	int first = l.node;
	for (int pid = 2; pid <= VFS_PROC_NODES / 2 - 8; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		CHECK_EQ(resolve(path, 0, &l), 0);
	}
	CHECK_EQ(resolve("/proc/1/fd", 0, &l), 0);
	CHECK_EQ(l.node, first);
	for (int pid = VFS_PROC_NODES / 2 - 7; pid <= VFS_PROC_NODES / 2 + 8; pid++) {
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		CHECK_EQ(resolve(path, 0, &l), 0);
		CHECK(proc_nodes_in_table() <= VFS_PROC_NODES);
	}
	CHECK_EQ(resolve("/proc/1/fd", 0, &l), 0);
	CHECK_EQ(l.node, first);
	vfs_set_proc(NULL);
}

/* The times: the root filesystem's from the archive (read-only: no
 * atime); a new node's now and its directory's mtime and ctime; a write
 * and a truncate the file's mtime and ctime; a read its atime as
 * relatime (when not after the last change); remove and rename the
 * directories' and the node's. */
TEST(vfs_times_follow_changes_as_linux)
{
	struct vfs_lookup l;
	char buf[8];

	clock_now = 1000;
	init_tree();
	CHECK_EQ(resolve("/bin/hello", VFS_FOLLOW, &l), 0);
	CHECK_EQ(vfs_nodes[l.node].mtime, 0x65A0BC00ULL * 1000000000ULL);
	CHECK_EQ(vfs_nodes[l.node].atime, vfs_nodes[l.node].mtime);
	clock_now = 5000;
	CHECK_EQ(vfs_read(l.node, 0, buf, sizeof(buf)), 8);
	CHECK_EQ(vfs_nodes[l.node].atime, 0x65A0BC00ULL * 1000000000ULL);
	CHECK_EQ(resolve("/tmp", 0, &l), 0);
	int tmp = l.node;
	clock_now = 2000;
	long f = vfs_create(tmp, "f", LINUX_S_IFREG | 0644);
	CHECK(f > 0);
	CHECK_EQ(vfs_nodes[f].atime, 2000);
	CHECK_EQ(vfs_nodes[f].mtime, 2000);
	CHECK_EQ(vfs_nodes[f].ctime, 2000);
	CHECK_EQ(vfs_nodes[tmp].mtime, 2000);
	CHECK_EQ(vfs_nodes[tmp].ctime, 2000);
	clock_now = 3000;
	CHECK_EQ(vfs_write((int)f, 0, "abc", 3), 3);
	CHECK_EQ(vfs_nodes[f].mtime, 3000);
	CHECK_EQ(vfs_nodes[f].ctime, 3000);
	CHECK_EQ(vfs_nodes[f].atime, 2000);
	CHECK_EQ(vfs_nodes[tmp].mtime, 2000);
	clock_now = 4000;
	CHECK_EQ(vfs_read((int)f, 0, buf, 3), 3);
	CHECK_EQ(vfs_nodes[f].atime, 4000);
	clock_now = 4500;       /* read since the last change: relatime keeps it */
	CHECK_EQ(vfs_read((int)f, 0, buf, 3), 3);
	CHECK_EQ(vfs_nodes[f].atime, 4000);
	clock_now = 4000 + 86400ULL * 1000000000ULL;      /* a day later it moves */
	CHECK_EQ(vfs_read((int)f, 0, buf, 3), 3);
	CHECK_EQ(vfs_nodes[f].atime, clock_now);
	clock_now += 1000;
	CHECK_EQ(vfs_truncate((int)f, 3), 0);   /* the same size: still a change */
	CHECK_EQ(vfs_nodes[f].mtime, clock_now);
	CHECK_EQ(vfs_nodes[f].ctime, clock_now);
	long d = vfs_create(tmp, "d", LINUX_S_IFDIR | 0755);
	CHECK(d > 0);
	clock_now += 1000;
	CHECK_EQ(vfs_rename((int)f, (int)d, "g"), 0);
	CHECK_EQ(vfs_nodes[tmp].mtime, clock_now);
	CHECK_EQ(vfs_nodes[d].mtime, clock_now);
	CHECK_EQ(vfs_nodes[f].ctime, clock_now);
	CHECK(vfs_nodes[f].mtime < clock_now);
	clock_now += 1000;
	CHECK_EQ(vfs_remove((int)f, false), 0);
	CHECK_EQ(vfs_nodes[d].mtime, clock_now);
	CHECK_EQ(vfs_nodes[d].ctime, clock_now);
	CHECK_EQ(vfs_nodes[tmp].mtime, clock_now - 1000);
	CHECK_EQ(vfs_remove((int)d, true), 0);
	CHECK_EQ(pages_out, 0);
}
