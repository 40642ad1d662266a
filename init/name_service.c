/*
 * init's name service (protocol: include/proto/nameservice.h). A name
 * belongs to the program that registered it and goes when that program
 * ends; whoever watches it (NS_WATCH) is signalled on both.
 */
#include "name_service.h"

#include "lib/mica.h"
#include "proto/nameservice.h"
#include "proto/program.h"

#define MAX_NAMES 32
#define MAX_PENDING 8
#define MAX_WATCHES 16

static struct {
	uint64_t name[NS_NAME_WORDS];
	cap_slot_t cap;
	int owner;              /* program index */
	uint64_t generation;
} names[MAX_NAMES];
static uint64_t generations;
static struct {
	uint64_t name[NS_NAME_WORDS];
	cap_slot_t reply;
	int owner;
} pending[MAX_PENDING];
static struct {
	uint64_t name[NS_NAME_WORDS];
	cap_slot_t notif;
	int owner;
} watches[MAX_WATCHES];

static int name_find(const uint64_t *w)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].cap && !memcmp(names[i].name, w, sizeof(names[i].name)))
			return i;
	return -1;
}

static void drop_cap(cap_slot_t *slot)
{
	sys_cap_delete(*slot);
	slot_free(*slot);
	*slot = 0;
}

static void name_changed(const uint64_t *w)
{
	for (int k = 0; k < MAX_WATCHES; k++)
		if (watches[k].notif && !memcmp(watches[k].name, w, sizeof(watches[k].name)))
			sys_notify_signal(watches[k].notif, 1);
}

/* Answer a lookup with the capability (a copy of ours). */
static void send_name(cap_slot_t reply, int i)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg r = { .tag = ipc_tag(0, 1, 1), .w = { names[i].generation } };

	b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
	b->items[0][1] = names[i].cap;
	ipc_reply(reply, &r);
}

/* A program ended: its names, waiting lookups and watches go. */
void names_release(int owner)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].cap && names[i].owner == owner) {
			drop_cap(&names[i].cap);
			name_changed(names[i].name);
		}
	for (int k = 0; k < MAX_PENDING; k++)
		if (pending[k].reply && pending[k].owner == owner)
			drop_cap(&pending[k].reply);
	for (int k = 0; k < MAX_WATCHES; k++)
		if (watches[k].notif && watches[k].owner == owner)
			drop_cap(&watches[k].notif);
}

int name_owner(const uint64_t *name)
{
	int i = name_find(name);

	return i < 0 ? -1 : names[i].owner;
}

static long name_register(int owner, const uint64_t *w)
{
	struct ipc_buffer *b = ipc_buffer();
	cap_slot_t got = b->recv_cap_slot;

	if (!b->recv_cap_count)
		return ERR_INVALID_ARG;
	b->recv_cap_slot = slot_alloc();        /* for the next one */
	int i = name_find(w);
	if (i < 0)
		for (i = 0; i < MAX_NAMES && names[i].cap; i++)
			;
	else
		i = -2;
	if (i < 0 || i == MAX_NAMES) {
		drop_cap(&got);
		return i == -2 ? ERR_SLOT_IN_USE : ERR_NO_MEMORY;
	}
	memcpy(names[i].name, w, sizeof(names[i].name));
	names[i].cap = got;
	names[i].owner = owner;
	names[i].generation = ++generations;
	/* Whoever waited for this name gets it now. */
	for (int k = 0; k < MAX_PENDING; k++)
		if (pending[k].reply && !memcmp(pending[k].name, w, sizeof(pending[k].name))) {
			send_name(pending[k].reply, i);
			drop_cap(&pending[k].reply);
		}
	name_changed(w);
	return 0;
}

static long name_lookup(int owner, const uint64_t *w, uint64_t flags, cap_slot_t *reply,
			bool *deferred)
{
	int i = name_find(w);

	if (i >= 0) {
		send_name(*reply, i);
		*deferred = true;
		return 0;
	}
	if (flags & NS_LOOKUP_NOWAIT)
		return ERR_WOULD_BLOCK;
	for (int k = 0; k < MAX_PENDING; k++) {
		if (pending[k].reply)
			continue;
		/* Keep this caller's reply object; take a fresh one for the
		 * next receive. */
		memcpy(pending[k].name, w, sizeof(pending[k].name));
		pending[k].reply = *reply;
		pending[k].owner = owner;
		*reply = slot_alloc();
		sys_obj_create(CAP_REPLY, *reply, 0);
		*deferred = true;
		return 0;
	}
	return ERR_BUSY;
}

static long name_watch(int owner, const uint64_t *w)
{
	struct ipc_buffer *b = ipc_buffer();
	cap_slot_t got = b->recv_cap_slot;
	uint64_t info[3];       /* type, rights, badge */

	if (!b->recv_cap_count)
		return ERR_INVALID_ARG;
	b->recv_cap_slot = slot_alloc();
	if (sys_cap_info(got, (uint64_t)info) < 0 || info[0] != CAP_NOTIFICATION) {
		drop_cap(&got);
		return ERR_WRONG_TYPE;
	}
	for (int k = 0; k < MAX_WATCHES; k++) {
		if (watches[k].notif)
			continue;
		memcpy(watches[k].name, w, sizeof(watches[k].name));
		watches[k].notif = got;
		watches[k].owner = owner;
		return 0;
	}
	drop_cap(&got);
	return ERR_NO_MEMORY;
}

/* One name-service request of program `owner`, received with the reply
 * object *reply; *deferred: the reply was sent or is kept (then *reply
 * may be a fresh object, and must not be used for the answer). */
long name_request(int owner, struct msg *m, cap_slot_t *reply, bool *deferred)
{
	uint64_t label = ipc_tag_label(m->tag);
	uint64_t w[NS_NAME_WORDS];

	_Static_assert(NS_NAME_WORDS < IPC_REG_WORDS, "a name and a flag word in registers");
	memcpy(w, m->w, sizeof(w));
	*deferred = false;
	switch (label) {
	case NS_REGISTER:
		return name_register(owner, w);
	case NS_LOOKUP:
		return name_lookup(owner, w,
				   ipc_tag_words(m->tag) > NS_NAME_WORDS ? m->w[NS_NAME_WORDS] : 0,
				   reply, deferred);
	case NS_WATCH:
		return name_watch(owner, w);
	}
	return ERR_NO_SYSCALL;
}

