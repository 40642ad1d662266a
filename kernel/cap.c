#include "cap.h"
#include "decode.h"
#include "frame_allocator.h"
#include "klog.h"
#include "kmem.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"
#include "uaccess.h"

#include "lib/string.h"
#include "uapi/errors.h"

static const char *const type_names[CAP_TYPE_COUNT] = {
	"null", "endpoint", "notification", "reply", "irq", "task", "thread",
	"memory", "ioport", "irq-control",
};

const char *cap_type_name(unsigned type)
{
	return type < CAP_TYPE_COUNT ? type_names[type] : "unknown";
}

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

uint64_t cap_generation = 1;

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
	cap_generation++;
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
	cap_generation++;
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

/* What a table of n slots takes from kmalloc, charged as such: blocks of
 * a power of two up to 2 KiB, whole frames above (kmem.c). */
static size_t table_bytes(uint32_t n)
{
	size_t bytes = (size_t)n * sizeof(struct cap), block = 16;

	if (bytes > 2048)
		return (bytes + FRAME_SIZE - 1) & ~(size_t)(FRAME_SIZE - 1);
	while (block < bytes)
		block <<= 1;
	return block;
}

/* A zeroed array of n slots of t, charged to charged (NULL: nobody). */
static struct cap *table_alloc(struct cap_table *t, struct task *charged, uint32_t n)
{
	size_t bytes = table_bytes(n);
	struct cap *slots;

	if (charged && !task_charge(charged, bytes))
		return NULL;
	slots = kmalloc(bytes);
	if (!slots) {
		if (charged)
			task_refund(charged, bytes);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		slots[i].table = t;
	return slots;
}

int cap_table_init(struct cap_table *t, struct task *charged, uint32_t n)
{
	t->slots = table_alloc(t, charged, n);
	if (!t->slots)
		return -ERR_NO_MEMORY;
	t->nslots = n;
	t->used = 0;
	return 0;
}

void cap_table_free(struct cap_table *t, struct task *charged)
{
	if (!t->slots)
		return;
	kfree(t->slots, table_bytes(t->nslots));
	if (charged)
		task_refund(charged, table_bytes(t->nslots));
	t->slots = NULL;
	t->nslots = 0;
}

int cap_table_resize(struct cap_table *t, struct task *charged, uint32_t n)
{
	if (n == 0 || n > TASK_CAP_SLOTS_MAX)
		return -ERR_INVALID_ARG;
	for (uint32_t i = n; i < t->nslots; i++)
		if (t->slots[i].obj)
			return -ERR_SLOT_IN_USE;
	if (n == t->nslots)
		return 0;
	struct cap *slots, *old = t->slots;
	uint32_t old_n = t->nslots, keep = n < old_n ? n : old_n;
	size_t new_b = table_bytes(n), old_b = table_bytes(old_n);
	size_t grow = new_b > old_b ? new_b - old_b : 0;

	/* Only what the table grows by is charged (a task at its quota can
	 * still shrink its table); the old array is briefly beside it. */
	if (charged && grow && !task_charge(charged, grow))
		return -ERR_NO_MEMORY;
	slots = table_alloc(t, NULL, n);
	if (!slots) {
		if (charged && grow)
			task_refund(charged, grow);
		return -ERR_NO_MEMORY;
	}
	/* One slot at a time, each move keeping the derivation tree whole
	 * (its neighbours, in this table or another, re-pointed). */
	for (uint32_t i = 0; i < keep; i++)
		if (old[i].obj)
			cap_move_to(&old[i], &slots[i]);
	t->slots = slots;
	t->nslots = n;
	kfree(old, old_b);
	if (charged && old_b > new_b)
		task_refund(charged, old_b - new_b);
	cap_generation++;
	return 0;
}

void cap_table_clear(struct cap_table *t)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		cap_clear(&t->slots[i]);
}

/* ---- system calls ---- */

long sys_cap_copy(uint64_t src, uint64_t task_slot, uint64_t dest, uint64_t mask, uint64_t badge)
{
	struct cap *s, *d;
	struct task *dt;

	LOOKUP(s, src, CAP_NULL, 0);
	LOOKUP_TASK(dt, task_slot, CAP_RIGHT_CONTROL);
	NEED_EMPTY(d, dt, dest);
	if (badge && s->obj->type != CAP_ENDPOINT && s->obj->type != CAP_NOTIFICATION)
		REJECT(ERR_INVALID_ARG, "a %s cannot carry a badge", cap_type_name(s->obj->type));
	/* notify_wait returns the word as a signed result: it must stay >= 0. */
	if ((badge >> 63) && s->obj->type == CAP_NOTIFICATION)
		REJECT(ERR_INVALID_ARG, "notification badge %#lx has bit 63 set", badge);
	if (badge && s->badge)
		REJECT(ERR_INVALID_ARG, "slot %lu is badged already", src);
	cap_derive(s, d, (uint8_t)mask, badge);
	return 0;
}

long sys_cap_move(uint64_t src, uint64_t task_slot, uint64_t dest)
{
	struct cap *s, *d;
	struct task *dt;

	LOOKUP(s, src, CAP_NULL, 0);
	LOOKUP_TASK(dt, task_slot, CAP_RIGHT_CONTROL);
	NEED_EMPTY(d, dt, dest);
	cap_move_to(s, d);
	return 0;
}

/*
 * cap_delete and cap_revoke: any filled slot will do, one naming a
 * destroyed object too (deleting is how such a slot is emptied). Either
 * may destroy objects, the calling thread among them.
 */
static long remove_caps(uint64_t slot, void (*remove)(struct cap *))
{
	struct cap *c = cap_slot(&current->task->caps, slot);

	if (!c || !c->obj)
		REJECT(ERR_INVALID_CAP, "slot %lu is empty or out of range", slot);
	remove(c);
	return current->state == THREAD_READY ? 0 : SYSCALL_NO_RESULT;
}

long sys_cap_delete(uint64_t slot)
{
	return remove_caps(slot, cap_clear);
}

long sys_cap_revoke(uint64_t slot)
{
	return remove_caps(slot, cap_revoke_children);
}

long sys_cap_info(uint64_t slot, uint64_t out)
{
	struct cap *c = cap_slot(&current->task->caps, slot);
	uint64_t info[3] = { 0, 0, 0 };

	if (!c)
		REJECT(ERR_INVALID_CAP, "slot %lu out of range", slot);
	if (c->obj) {
		info[0] = c->obj->dead ? CAP_NULL : c->obj->type;
		info[1] = c->rights;
		info[2] = c->badge;
	}
	if (copy_to_user(current->task, out, info, sizeof(info)))
		REJECT(ERR_BAD_ADDRESS, "result buffer %lx not writable", out);
	return 0;
}
