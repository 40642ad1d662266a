/*
 * init's name service (protocol: include/proto/nameservice.h). A name
 * belongs to the program that registered it and goes when that program
 * ends; whoever watches it (NS_WATCH) is signalled on both.
 *
 * The three tables (names, lookups waiting for a name, watches) are
 * shared by every program, so each program may hold at most a quarter of
 * each: one that registers, waits or watches without end is refused
 * (init says so) before it can starve the others.
 *
 * A name is the first registrant's for the whole boot: the program (the
 * manifest's entry, every instance of it) that registered it first may
 * register it again after it ended, no other program may (ERR_NO_RIGHTS).
 * Else any program could take a driver's or the netstack's name in the
 * moment between its owner's death and its restart, and be attached to
 * in its place (the netstack would hand its pool, rings and heap to it).
 * The manifest's order decides the first registrant: the servers come
 * before their clients.
 */
#include "name_service.h"

#include "init.h"
#include "lib/fmt.h"
#include "lib/mica.h"
#include "proto/nameservice.h"
#include "proto/program.h"

#define MAX_NAMES 32
#define MAX_PENDING 16
#define MAX_WATCHES 32

/* A name with a capability: a registration (the endpoint published), a
 * waiting lookup (the caller's reply object) or a watch (the watcher's
 * notification). cap 0: a free entry. */
struct entry {
	uint64_t name[NS_NAME_WORDS];
	cap_slot_t cap;
	int owner;              /* program index */
	uint64_t generation;    /* registrations only */
	bool private_name;      /* registrations only: NS_REGISTER_PRIVATE */
};

static struct entry names[MAX_NAMES], pending[MAX_PENDING], watches[MAX_WATCHES];
static uint64_t generations;

/* Every name registered since boot and its first registrant (above),
 * as entries whose cap is CLAIM_HELD (a claim holds no capability and is
 * never let go); each program may claim CLAIM_SHARE, and there is room
 * for every program's share, so no program's claims can keep another
 * from registering its names (2026-12-02's second review: four programs
 * of 16 junk names each filled a table of 64 for the rest of the boot). */
#define CLAIM_SHARE 16
#define MAX_CLAIMS (MANIFEST_MAX_PROGRAMS * CLAIM_SHARE)
#define CLAIM_HELD ((cap_slot_t)-1)
static struct entry claims[MAX_CLAIMS];

/* What one program may hold of each table. */
struct table {
	struct entry *e;
	int size;
	int share;              /* entries one program may hold */
	const char *one, *many; /* what an entry is, for init's line */
	long full;              /* the error when the table or the share is full */
};

static const struct table name_table = { names, MAX_NAMES, MAX_NAMES / 4, "name", "names",
					 ERR_NO_MEMORY };
static const struct table pending_table = { pending, MAX_PENDING, MAX_PENDING / 4,
					    "lookup waiting", "lookups waiting", ERR_BUSY };
static const struct table watch_table = { watches, MAX_WATCHES, MAX_WATCHES / 4, "watch",
					  "watches", ERR_NO_MEMORY };
static const struct table claim_table = {
	claims, MAX_CLAIMS, CLAIM_SHARE, "name registered since boot",
	"names registered since boot", ERR_NO_MEMORY };

static bool same_name(const struct entry *e, const uint64_t *w)
{
	return e->cap && !memcmp(e->name, w, sizeof(e->name));
}

static int name_find(const uint64_t *w)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (same_name(&names[i], w))
			return i;
	return -1;
}

static void drop_cap(cap_slot_t *slot)
{
	sys_cap_delete(*slot);
	slot_free(*slot);
	*slot = 0;
}

/* A free entry of t for program owner, filled with name w and cap; NULL
 * (and *err) when the table is full or owner has its share of it (then
 * init says so, rate-limited per program). */
static struct entry *entry_take(const struct table *t, int owner, const uint64_t *w,
				cap_slot_t cap, long *err)
{
	struct entry *free_entry = NULL;
	int held = 0;

	for (int i = 0; i < t->size; i++) {
		if (!t->e[i].cap)
			free_entry = free_entry ? free_entry : &t->e[i];
		else
			held += t->e[i].owner == owner;
	}
	*err = t->full;
	if (held >= t->share) {
		struct program *p = &programs[owner];
		char n[32];
		printf_limit(&p->log_limit, "init: %s holds %s, the most one program may; "
			     "refused '%.*s'\n", p->m->name,
			     fmt_count(n, sizeof(n), (unsigned)held, t->one, t->many), NS_NAME_MAX,
			     (const char *)w);
		return NULL;
	}
	if (!free_entry)
		return NULL;
	*free_entry = (struct entry){ .cap = cap, .owner = owner };
	memcpy(free_entry->name, w, sizeof(free_entry->name));
	return free_entry;
}

/* Whether program `owner` may look up or watch registration e: a private
 * one only with a `lookup NAME` line for it in its manifest. */
static bool may_look_up(int owner, const struct entry *e)
{
	const struct manifest_program *m = programs[owner].m;

	if (!e->private_name)
		return true;
	for (unsigned k = 0; k < m->nlookups; k++) {
		uint64_t w[NS_NAME_WORDS] = { 0 };
		memcpy(w, m->lookups[k], strlen(m->lookups[k]));
		if (!memcmp(w, e->name, sizeof(w)))
			return true;
	}
	return false;
}

/* Registration e was made or removed: its watchers are signalled, those
 * that may look it up (a watch taken before a private name was registered
 * tells its program nothing of it). */
static void name_changed(const struct entry *e)
{
	for (int k = 0; k < MAX_WATCHES; k++)
		if (same_name(&watches[k], e->name) && may_look_up(watches[k].owner, e))
			sys_notify_signal(watches[k].cap, 1);
}

/* Whether p was told before that it may not look up name (and if not,
 * remember it now): a program that keeps asking (the console, at every
 * command) is told once for each name. */
static bool refusal_told(struct program *p, const uint64_t *name)
{
	for (unsigned k = 0; k < p->nrefused_names; k++)
		if (!memcmp(p->refused_names[k], name, sizeof(p->refused_names[k])))
			return true;
	if (p->nrefused_names < PROGRAM_MAX_REFUSED_NAMES)
		memcpy(p->refused_names[p->nrefused_names++], name, sizeof(p->refused_names[0]));
	return false;
}

/* init's line for a lookup or watch (`what`) of private registration e
 * that program owner may not make: once for each name. */
static void refuse_private(int owner, const struct entry *e, const char *what)
{
	struct program *p = &programs[owner];

	if (!refusal_told(p, e->name))
		printf_limit(&p->log_limit, "init: %s may not %s the private name '%.*s' "
			     "(no 'lookup' line)\n", p->m->name, what, NS_NAME_MAX,
			     (const char *)e->name);
}

/* Answer program owner's lookup with the capability (a copy of ours), or
 * ERR_NO_RIGHTS for a private name it may not look up. */
static void send_name(cap_slot_t reply, int i, int owner)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg r = { .tag = ipc_tag(0, 1, 1), .w = { names[i].generation } };

	if (!may_look_up(owner, &names[i])) {
		refuse_private(owner, &names[i], "look up");
		r = msg_make(ERR_NO_RIGHTS, 0);
		ipc_reply(reply, &r);
		return;
	}
	b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
	b->items[0][1] = names[i].cap;
	ipc_reply(reply, &r);
}

/* A program ended: its names, waiting lookups and watches go. */
void names_release(int owner)
{
	for (int i = 0; i < MAX_NAMES; i++)
		if (names[i].cap && names[i].owner == owner) {
			name_changed(&names[i]);        /* heard after we return */
			drop_cap(&names[i].cap);
		}
	for (int k = 0; k < MAX_PENDING; k++)
		if (pending[k].cap && pending[k].owner == owner)
			drop_cap(&pending[k].cap);
	for (int k = 0; k < MAX_WATCHES; k++)
		if (watches[k].cap && watches[k].owner == owner)
			drop_cap(&watches[k].cap);
}

int name_owner(const uint64_t *name)
{
	int i = name_find(name);

	return i < 0 ? -1 : names[i].owner;
}

/* Whether program owner may register name w: the name's claim is its,
 * or there is none and it gets one (0, or ERR_NO_RIGHTS: another's;
 * ERR_NO_MEMORY: no claim left for it, entry_take; init says which,
 * rate-limited). */
static long claim(int owner, const uint64_t *w)
{
	struct program *p = &programs[owner];
	long err;

	for (int i = 0; i < MAX_CLAIMS; i++) {
		if (!same_name(&claims[i], w))
			continue;
		if (claims[i].owner == owner)
			return 0;
		printf_limit(&p->log_limit, "init: %s may not register the name '%.*s': "
			     "it is %s's (registered by it first)\n", p->m->name,
			     NS_NAME_MAX, (const char *)w, programs[claims[i].owner].m->name);
		return ERR_NO_RIGHTS;
	}
	return entry_take(&claim_table, owner, w, CLAIM_HELD, &err) ? 0 : err;
}

static long name_register(int owner, const uint64_t *w, uint64_t flags)
{
	struct ipc_buffer *b = ipc_buffer();
	cap_slot_t got = b->recv_cap_slot;
	struct entry *e;
	long err = ERR_SLOT_IN_USE;

	if (!b->recv_cap_count)
		return ERR_INVALID_ARG;
	b->recv_cap_slot = slot_alloc();        /* for the next one */
	if (name_find(w) >= 0 || (err = claim(owner, w)) ||
	    !(e = entry_take(&name_table, owner, w, got, &err))) {
		drop_cap(&got);
		return err;
	}
	e->generation = ++generations;
	e->private_name = flags & NS_REGISTER_PRIVATE;
	/* Whoever waited for this name gets it now. */
	for (int k = 0; k < MAX_PENDING; k++)
		if (same_name(&pending[k], w)) {
			send_name(pending[k].cap, (int)(e - names), pending[k].owner);
			drop_cap(&pending[k].cap);
		}
	name_changed(e);
	return 0;
}

static long name_lookup(int owner, const uint64_t *w, uint64_t flags, cap_slot_t *reply,
			bool *deferred)
{
	int i = name_find(w);
	long err;

	if (i >= 0) {
		send_name(*reply, i, owner);
		*deferred = true;
		return 0;
	}
	if (flags & NS_LOOKUP_NOWAIT)
		return ERR_WOULD_BLOCK;
	/* Keep this caller's reply object; take a fresh one for the next
	 * receive. */
	if (!entry_take(&pending_table, owner, w, *reply, &err))
		return err;
	*reply = slot_alloc();
	sys_obj_create(CAP_REPLY, *reply, 0);
	*deferred = true;
	return 0;
}

/* A watch of name w; ERR_NO_RIGHTS for a registered private name program
 * owner may not look up (its restarts are nothing of the program's). */
static long name_watch(int owner, const uint64_t *w)
{
	struct ipc_buffer *b = ipc_buffer();
	cap_slot_t got = b->recv_cap_slot;
	uint64_t info[3];       /* type, rights, badge */
	long err = ERR_WRONG_TYPE;
	int i = name_find(w);

	if (!b->recv_cap_count)
		return ERR_INVALID_ARG;
	b->recv_cap_slot = slot_alloc();
	if (i >= 0 && !may_look_up(owner, &names[i])) {
		refuse_private(owner, &names[i], "watch");
		drop_cap(&got);
		return ERR_NO_RIGHTS;
	}
	if (sys_cap_info(got, (uint64_t)info) < 0 || info[0] != CAP_NOTIFICATION ||
	    !entry_take(&watch_table, owner, w, got, &err)) {
		drop_cap(&got);
		return err;
	}
	return 0;
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
		return name_register(owner, w,
				     ipc_tag_words(m->tag) > NS_NAME_WORDS ? m->w[NS_NAME_WORDS] : 0);
	case NS_LOOKUP:
		return name_lookup(owner, w,
				   ipc_tag_words(m->tag) > NS_NAME_WORDS ? m->w[NS_NAME_WORDS] : 0,
				   reply, deferred);
	case NS_WATCH:
		return name_watch(owner, w);
	}
	return ERR_NO_SYSCALL;
}
