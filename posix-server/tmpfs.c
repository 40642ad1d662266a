/* The bytes of tmpfs files (vfs.h): a two-level index of pages of the
 * server's, taken from the vfs_ops as a file grows, at most TMPFS_PAGES
 * in all and SHARE(TMPFS_PAGES) charged to one account (its nodes'),
 * whose nodes are at most SHARE(TMPFS_NODES) of TMPFS_NODES. Pure logic
 * (host unit tests, tests/unit/test_vfs.c). */
#include "vfs.h"
#include "linux.h"
#include "share.h"

#include "lib/string.h"

#define PAGE 4096UL
#define PTRS (PAGE / sizeof(void *))        /* page pointers in one index page */
#define FILE_MAX ((uint64_t)PTRS * PTRS * PAGE)  /* a tmpfs file's largest size */

static const struct vfs_ops *ops;
static uint64_t tmpfs_pages;

uint64_t vfs_now(void)
{
	return ops && ops->now ? ops->now() : 0;
}

void vfs_touch(int node)
{
	vfs_nodes[node].mtime = vfs_nodes[node].ctime = vfs_now();
}

void tmpfs_init(const struct vfs_ops *page_ops)
{
	ops = page_ops;
	tmpfs_pages = 0;
}

int tmpfs_account(void)
{
	return ops && ops->account ? ops->account() : 0;
}

bool tmpfs_node_room(int account)
{
	unsigned all = 0, mine = 0;

	for (int i = 0; i < VFS_NODES; i++) {
		const struct vfs_node *n = &vfs_nodes[i];
		if (n->type != VFS_FREE && VFS_WRITABLE(n) && n->parent >= 0) {
			all++;
			mine += n->account == account;
		}
	}
	return all < TMPFS_NODES && (!account || mine < SHARE(TMPFS_NODES));
}

/* Who a page of a file is charged to, and how many it has (counted when
 * first needed: a look at every node). */
struct charge {
	int account;
	bool counted;
	uint64_t pages;
};

/* Room for one more page charged to c (counted in it when true): below
 * TMPFS_PAGES in all and, for an account's file, below its share. */
static bool page_room(struct charge *c)
{
	if (tmpfs_pages >= TMPFS_PAGES)
		return false;
	if (!c->account)
		return true;
	if (!c->counted) {
		c->pages = 0;
		for (int i = 0; i < VFS_NODES; i++)
			if (vfs_nodes[i].type != VFS_FREE && vfs_nodes[i].account == c->account &&
			    VFS_WRITABLE(&vfs_nodes[i]))
				c->pages += vfs_nodes[i].pages;
		c->counted = true;
	}
	if (c->pages >= SHARE(TMPFS_PAGES))
		return false;
	c->pages++;
	return true;
}

/* Free a tmpfs file's pages from page `from` on (all: 0). */
static void pages_drop(struct vfs_node *n, uint64_t from)
{
	if (!n->index)
		return;
	for (uint64_t i = 0; i < PTRS; i++) {
		void **leaf = n->index[i];
		if (!leaf)
			continue;
		for (uint64_t k = 0; k < PTRS; k++) {
			if (leaf[k] && i * PTRS + k >= from) {
				ops->page_free(leaf[k]);
				leaf[k] = NULL;
				n->pages--;
			}
		}
		if (i * PTRS >= from) {
			ops->page_free(leaf);
			n->index[i] = NULL;
			n->pages--;
		}
	}
	if (from == 0) {
		ops->page_free(n->index);
		n->index = NULL;
		n->pages--;
	}
}

void tmpfs_free(struct vfs_node *n)
{
	tmpfs_pages -= n->pages;
	if (n->type == VFS_SYMLINK) {   /* its one page (vfs_set_target) */
		if (n->index)
			ops->page_free(n->index);
		n->index = NULL;
		n->pages = 0;
		return;
	}
	pages_drop(n, 0);
}

/* A new page for n, charged to c (its account's): NULL when tmpfs or
 * the account's share is full, or there is no memory. */
static void *page_new(struct vfs_node *n, struct charge *c)
{
	void *page = page_room(c) ? ops->page_alloc(c->account) : NULL;

	if (page) {
		tmpfs_pages++;
		n->pages++;
	}
	return page;
}

long vfs_set_target(int node, const char *target, size_t len)
{
	struct vfs_node *n = &vfs_nodes[node];
	struct charge c = { n->account, false, 0 };
	void *page;

	if (len >= PAGE)
		return -LINUX_ENAMETOOLONG;
	if (!(page = page_new(n, &c)))
		return -LINUX_ENOSPC;
	memcpy(page, target, len);
	n->index = page;
	n->size = len;
	return 0;
}

/* A tmpfs page pointer's slot for page number pg, index pages made (c
 * charged) when make is true: NULL when there is none (or no room:
 * *full). */
static void **page_slot(struct vfs_node *n, uint64_t pg, bool make, struct charge *c, bool *full)
{
	void **leaf;

	if (!n->index) {
		if (!make)
			return NULL;
		if (!(n->index = page_new(n, c)))
			return *full = true, NULL;
	}
	if (!(leaf = n->index[pg / PTRS])) {
		if (!make)
			return NULL;
		if (!(leaf = page_new(n, c)))
			return *full = true, NULL;
		n->index[pg / PTRS] = leaf;
	}
	return &leaf[pg % PTRS];
}

const char *tmpfs_bytes(const struct vfs_node *n)
{
	return n->type == VFS_SYMLINK ? (const char *)n->index : NULL;
}

/* A read of n: its atime now, as Linux's relatime (the default mount
 * option) decides: when it is not after the last change, or a day old.
 * The root filesystem is read-only (no atime). */
static void accessed(struct vfs_node *n)
{
	const uint64_t day = 86400ULL * 1000000000ULL;
	uint64_t now;

	if (!VFS_WRITABLE(n))
		return;
	now = vfs_now();
	if (n->atime <= n->mtime || n->atime <= n->ctime || now - n->atime >= day)
		n->atime = now;
}

long vfs_read(int node, uint64_t offset, void *buf, size_t len)
{
	struct vfs_node *n = &vfs_nodes[node];
	uint8_t *out = buf;

	accessed(n);
	if (offset >= n->size)
		return 0;
	if (len > n->size - offset)
		len = n->size - offset;
	if (n->data) {
		memcpy(out, n->data + offset, len);
		return (long)len;
	}
	for (size_t done = 0; done < len;) {
		uint64_t at = offset + done, in = at % PAGE;
		size_t chunk = PAGE - in < len - done ? PAGE - in : len - done;
		bool full = false;
		void **slot = page_slot(n, at / PAGE, false, NULL, &full);
		if (slot && *slot)
			memcpy(out + done, (uint8_t *)*slot + in, chunk);
		else
			memset(out + done, 0, chunk);
		done += chunk;
	}
	return (long)len;
}

long vfs_write(int node, uint64_t offset, const void *buf, size_t len)
{
	struct vfs_node *n = &vfs_nodes[node];
	const uint8_t *in = buf;
	size_t done = 0;
	struct charge c = { n->account, false, 0 };

	if (!VFS_WRITABLE(n))
		return -LINUX_EROFS;
	if (offset >= FILE_MAX)
		return -LINUX_EFBIG;
	if (len > FILE_MAX - offset)
		len = FILE_MAX - offset;
	while (done < len) {
		uint64_t at = offset + done, off = at % PAGE;
		size_t chunk = PAGE - off < len - done ? PAGE - off : len - done;
		bool full = false;
		void **slot = page_slot(n, at / PAGE, true, &c, &full);
		if (slot && !*slot && !(*slot = page_new(n, &c)))
			full = true;
		if (full)
			break;
		memcpy((uint8_t *)*slot + off, in + done, chunk);
		done += chunk;
	}
	if (offset + done > n->size)
		n->size = offset + done;
	if (done)
		vfs_touch(node);
	return done ? (long)done : -LINUX_ENOSPC;
}

long vfs_page(int node, uint64_t index, bool create, void **page)
{
	struct vfs_node *n = &vfs_nodes[node];
	struct charge c = { n->account, false, 0 };
	bool full = false;

	*page = NULL;
	if (!VFS_WRITABLE(n) || n->type != VFS_FILE)
		return -LINUX_EROFS;
	if (index >= (n->size + PAGE - 1) / PAGE)
		return -LINUX_ENXIO;
	void **slot = page_slot(n, index, create, &c, &full);
	if (slot && !*slot && create && !(*slot = page_new(n, &c)))
		full = true;
	if (full)
		return -LINUX_ENOSPC;
	*page = slot ? *slot : NULL;
	return 0;
}

long vfs_truncate(int node, uint64_t size)
{
	struct vfs_node *n = &vfs_nodes[node];

	if (!VFS_WRITABLE(n))
		return -LINUX_EROFS;
	if (size > FILE_MAX)
		return -LINUX_EFBIG;
	if (size < n->size) {
		uint64_t before = n->pages;
		pages_drop(n, (size + PAGE - 1) / PAGE);
		tmpfs_pages -= before - n->pages;
		bool full = false;
		void **slot = size % PAGE ? page_slot(n, size / PAGE, false, NULL, &full) : NULL;
		if (slot && *slot)      /* the tail of the last page reads as zeros */
			memset((uint8_t *)*slot + size % PAGE, 0, PAGE - size % PAGE);
	}
	n->size = size;
	vfs_touch(node);        /* always, as Linux's do_truncate */
	return 0;
}

uint64_t vfs_tmpfs_pages(void)
{
	return tmpfs_pages;
}

