#include "mapdb.h"
#include "klog.h"
#include "kmem.h"
#include "paging.h"
#include "task.h"

#include "uapi/errors.h"

#define HASH_BUCKETS 4096

static struct mapping **buckets;
static uint64_t live_nodes;

void mapdb_init(void)
{
	buckets = kmalloc(HASH_BUCKETS * sizeof(*buckets));
	if (!buckets)
		panic("mapdb: no memory for the hash table");
}

static unsigned hash(struct task *space, uint64_t va)
{
	uint64_t h = ((uint64_t)space >> 6) ^ (va >> 12);

	h *= 0x9E3779B97F4A7C15ULL;
	return (unsigned)(h >> 52) & (HASH_BUCKETS - 1);
}

struct mapping *mapdb_find(struct task *space, uint64_t va)
{
	for (struct mapping *m = buckets[hash(space, va)]; m; m = m->hash_next)
		if (m->space == space && m->va == va)
			return m;
	return NULL;
}

static void hash_insert(struct mapping *m)
{
	struct mapping **b = &buckets[hash(m->space, m->va)];

	m->hash_next = *b;
	*b = m;
}

static void hash_remove(struct mapping *m)
{
	struct mapping **p = &buckets[hash(m->space, m->va)];

	while (*p != m)
		p = &(*p)->hash_next;
	*p = m->hash_next;
}

static void space_link(struct mapping *m)
{
	struct mapping *head = m->space->mappings;

	m->space_prev = NULL;
	m->space_next = head;
	if (head)
		head->space_prev = m;
	m->space->mappings = m;
}

static void space_unlink(struct mapping *m)
{
	if (m->space_prev)
		m->space_prev->space_next = m->space_next;
	else
		m->space->mappings = m->space_next;
	if (m->space_next)
		m->space_next->space_prev = m->space_prev;
}

static void tree_link(struct mapping *parent, struct mapping *m)
{
	m->parent = parent;
	m->prev_sibling = NULL;
	m->next_sibling = parent ? parent->first_child : NULL;
	if (m->next_sibling)
		m->next_sibling->prev_sibling = m;
	if (parent)
		parent->first_child = m;
}

static void tree_unlink(struct mapping *m)
{
	if (m->prev_sibling)
		m->prev_sibling->next_sibling = m->next_sibling;
	else if (m->parent)
		m->parent->first_child = m->next_sibling;
	if (m->next_sibling)
		m->next_sibling->prev_sibling = m->prev_sibling;
	m->parent = m->next_sibling = m->prev_sibling = NULL;
}

/* Charge space for a node and the page tables va needs; 0 or an error. */
static int charge_for(struct task *space, uint64_t va, uint64_t *charged)
{
	if (mapdb_find(space, va) || (pt_lookup(space->pt_root, va) & PTE_PRESENT))
		return -ERR_RANGE;
	*charged = sizeof(struct mapping) +
		   (uint64_t)pt_tables_needed(space->pt_root, va) * FRAME_SIZE;
	if (!task_charge(space, *charged))
		return -ERR_NO_MEMORY;
	return 0;
}

static int install_pte(struct task *space, uint64_t va, uint64_t phys,
		       uint64_t pte_flags, uint64_t charged)
{
	unsigned tables = 0;
	int err = pt_map(space->pt_root, va, phys, pte_flags | PTE_USER, &tables);

	/* Return the charge for tables it did not need to make. */
	task_refund(space, charged - sizeof(struct mapping) - tables * FRAME_SIZE);
	space->pt_tables += tables;
	if (err) {
		/* Tables made before a failure stay, charged, until a
		 * mapping there goes or the task's page tables are freed. */
		task_refund(space, sizeof(struct mapping));
		return err == PT_NO_MEMORY ? -ERR_NO_MEMORY : -ERR_RANGE;
	}
	return 0;
}

int mapdb_map(struct mapping *parent, struct task *space, uint64_t va,
	      uint64_t phys, uint64_t pte_flags)
{
	struct mapping *old = parent ? mapdb_find(space, va) : NULL;

	if (old && old->parent == parent && old->phys == phys &&
	    pt_extend(space->pt_root, va, pte_flags))
		return 0;
	uint64_t charged;
	int err = charge_for(space, va, &charged);

	if (err)
		return err;
	struct mapping *m = kmalloc(sizeof(*m));
	if (!m) {
		task_refund(space, charged);
		return -ERR_NO_MEMORY;
	}
	err = install_pte(space, va, phys, pte_flags, charged);
	if (err) {
		kfree(m, sizeof(*m));
		return err;
	}
	m->space = space;
	m->va = va;
	m->phys = phys;
	m->first_child = NULL;
	tree_link(parent, m);
	hash_insert(m);
	space_link(m);
	live_nodes++;
	return 0;
}

/* va's mapping in space went: the page tables left empty are freed and
 * their charge returned (not while the task is being destroyed: its
 * tables go whole then). */
static void prune(struct task *space, uint64_t va)
{
	if (space->dying)
		return;
	unsigned freed = pt_prune(space->pt_root, va);
	space->pt_tables -= freed;
	task_refund(space, (uint64_t)freed * FRAME_SIZE);
}

int mapdb_move(struct mapping *m, struct task *space, uint64_t va, uint64_t pte_flags)
{
	uint64_t charged;
	int err = charge_for(space, va, &charged);

	if (err)
		return err;
	err = install_pte(space, va, m->phys, pte_flags, charged);
	if (err)
		return err;
	pt_unmap(m->space->pt_root, m->va);
	prune(m->space, m->va);
	hash_remove(m);
	space_unlink(m);
	task_refund(m->space, sizeof(struct mapping));
	m->space = space;
	m->va = va;
	hash_insert(m);
	space_link(m);
	return 0;
}

static void remove_node(struct mapping *m)
{
	pt_unmap(m->space->pt_root, m->va);
	prune(m->space, m->va);
	tree_unlink(m);
	hash_remove(m);
	space_unlink(m);
	task_refund(m->space, sizeof(struct mapping));
	kfree(m, sizeof(*m));
	live_nodes--;
}

void mapdb_unmap(struct mapping *m, bool include_self, bool write_only)
{
	if (write_only) {
		/* Walk the subtree without changing its shape. */
		struct mapping *n = m->first_child;
		while (n) {
			pt_protect(n->space->pt_root, n->va, PTE_WRITE);
			if (n->first_child) {
				n = n->first_child;
				continue;
			}
			while (n != m && !n->next_sibling)
				n = n->parent;
			n = n == m ? NULL : n->next_sibling;
		}
		if (include_self)
			pt_protect(m->space->pt_root, m->va, PTE_WRITE);
		return;
	}
	/* Remove leaves first, without recursion. */
	while (m->first_child) {
		struct mapping *leaf = m->first_child;
		while (leaf->first_child)
			leaf = leaf->first_child;
		remove_node(leaf);
	}
	if (include_self)
		remove_node(m);
}

void mapdb_remove_space(struct task *space)
{
	while (space->mappings)
		mapdb_unmap(space->mappings, true, false);
}

uint64_t mapdb_count(void)
{
	return live_nodes;
}
