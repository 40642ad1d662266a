/*
 * Capability tables: one per task, small integer slots. Each capability
 * names an object with rights and a badge, and sits in a derivation tree
 * (copies are children of their source) so that revoke can find every copy.
 */
#ifndef MICA_CAP_H
#define MICA_CAP_H

#include <stdint.h>

#include "object.h"

struct cap_table;

struct cap {
	struct kobject *obj;    /* NULL: empty slot */
	struct cap_table *table; /* the table this slot belongs to */
	uint64_t badge;
	uint8_t rights;
	struct cap *parent, *first_child, *next_sibling, *prev_sibling;
};

struct cap_table {
	struct cap *slots;
	uint32_t nslots;
	uint32_t used;
};

/* Counts the capabilities emptied anywhere (cap_clear, cap_move_to):
 * what a thread decoded while it had a value still names the same object
 * with the same rights, the slot filled since. (The fast path keeps the
 * slots it decoded last: fastpath.c.) Filling an empty slot does not
 * count. */
extern uint64_t cap_generation;

/* The name of a capability type (enum cap_type): "endpoint", ... */
const char *cap_type_name(unsigned type);

/* The capability in slot, or NULL if the slot is out of range. */
struct cap *cap_slot(struct cap_table *t, cap_slot_t slot);

/* Install obj (taking a new reference) in an empty slot as a root cap. */
int cap_install(struct cap_table *t, cap_slot_t slot, struct kobject *obj,
		uint8_t rights, uint64_t badge);

/* Copy src into the empty slot dst as its child, with rights & mask and,
 * if src has no badge, the given badge. */
void cap_derive(struct cap *src, struct cap *dst, uint8_t mask, uint64_t badge);

/* Move src into the empty slot dst, keeping its place in the tree. */
void cap_move_to(struct cap *src, struct cap *dst);

/* Empty the slot; its children move up to its parent. Drops the reference. */
void cap_clear(struct cap *c);

/* Delete every capability derived from c, in any table. */
void cap_revoke_children(struct cap *c);

/* Allocate an empty table of n slots charged to task (NULL: nobody);
 * empty every slot of one; free its slots, refunding charged. */
int cap_table_init(struct cap_table *t, struct task *charged, uint32_t n);
void cap_table_clear(struct cap_table *t);
void cap_table_free(struct cap_table *t, struct task *charged);

/* Give t n slots (1..TASK_CAP_SLOTS_MAX), keeping slots 0..n-1 with their
 * places in the derivation tree; charged pays what the table grows by
 * and is refunded what it shrinks by. -ERR_INVALID_ARG n out of range,
 * -ERR_SLOT_IN_USE a slot past n is filled, -ERR_NO_MEMORY over quota or
 * no memory (t unchanged). */
int cap_table_resize(struct cap_table *t, struct task *charged, uint32_t n);

#endif
