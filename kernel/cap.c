#include "cap.h"
#include "klog.h"
#include "kmem.h"
#include "task.h"

#include "lib/string.h"
#include "uapi/errors.h"

struct cap *cap_slot(struct cap_table *t, cap_slot_t slot)
{
	return slot < t->nslots ? &t->slots[slot] : NULL;
}

static void link_child(struct cap *parent, struct cap *c)
{
	c->parent = parent;
	c->prev_sibling = NULL;
	c->next_sibling = parent ? parent->first_child : NULL;
	if (c->next_sibling)
		c->next_sibling->prev_sibling = c;
	if (parent)
		parent->first_child = c;
}

static void unlink(struct cap *c)
{
	if (c->prev_sibling)
		c->prev_sibling->next_sibling = c->next_sibling;
	else if (c->parent)
		c->parent->first_child = c->next_sibling;
	if (c->next_sibling)
		c->next_sibling->prev_sibling = c->prev_sibling;
	c->parent = c->next_sibling = c->prev_sibling = NULL;
}

int cap_install(struct cap_table *t, cap_slot_t slot, struct kobject *obj,
		uint8_t rights, uint64_t badge)
{
	struct cap *c = cap_slot(t, slot);

	if (!c)
		return -ERR_INVALID_CAP;
	if (c->obj)
		return -ERR_SLOT_IN_USE;
	kobject_get(obj);
	c->obj = obj;
	c->rights = rights;
	c->badge = badge;
	c->first_child = NULL;
	link_child(NULL, c);
	t->used++;
	return 0;
}

void cap_derive(struct cap *src, struct cap *dst, uint8_t mask, uint64_t badge)
{
	kassert(src->obj && !dst->obj);
	kobject_get(src->obj);
	dst->obj = src->obj;
	dst->rights = src->rights & mask;
	dst->badge = src->badge ? src->badge : badge;
	dst->first_child = NULL;
	link_child(src, dst);
	dst->table->used++;
}

void cap_move_to(struct cap *src, struct cap *dst)
{
	kassert(src->obj && !dst->obj);
	struct cap_table *dt = dst->table;

	*dst = *src;
	dst->table = dt;
	/* Re-point the neighbours and children at the new slot. */
	if (dst->prev_sibling)
		dst->prev_sibling->next_sibling = dst;
	else if (dst->parent)
		dst->parent->first_child = dst;
	if (dst->next_sibling)
		dst->next_sibling->prev_sibling = dst;
	for (struct cap *ch = dst->first_child; ch; ch = ch->next_sibling)
		ch->parent = dst;
	src->table->used--;
	dt->used++;
	src->obj = NULL;
	src->parent = src->first_child = src->next_sibling = src->prev_sibling = NULL;
	src->rights = 0;
	src->badge = 0;
}

void cap_clear(struct cap *c)
{
	if (!c->obj)
		return;
	struct kobject *obj = c->obj;
	struct cap *parent = c->parent;

	/* Children keep existing; they now derive from c's parent. */
	while (c->first_child) {
		struct cap *ch = c->first_child;
		unlink(ch);
		link_child(parent, ch);
	}
	unlink(c);
	c->obj = NULL;
	c->rights = 0;
	c->badge = 0;
	c->table->used--;
	kobject_put(obj);
}

void cap_revoke_children(struct cap *c)
{
	/* Depth first, without recursion: always delete a leaf. */
	while (c->first_child) {
		struct cap *leaf = c->first_child;
		while (leaf->first_child)
			leaf = leaf->first_child;
		cap_clear(leaf);
	}
}

int cap_table_init(struct cap_table *t, struct task *charged, uint32_t n)
{
	size_t bytes = n * sizeof(struct cap);

	if (charged && !task_charge(charged, bytes))
		return -ERR_NO_MEMORY;
	t->slots = kmalloc(bytes);
	if (!t->slots) {
		if (charged)
			task_refund(charged, bytes);
		return -ERR_NO_MEMORY;
	}
	t->nslots = n;
	t->used = 0;
	for (uint32_t i = 0; i < n; i++)
		t->slots[i].table = t;
	return 0;
}

void cap_table_clear(struct cap_table *t)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		cap_clear(&t->slots[i]);
}
