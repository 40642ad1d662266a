/* Name service client (protocol: include/proto/nameservice.h). */
#include "lib/mica.h"
#include "lib/names.h"
#include "proto/nameservice.h"
#include "proto/program.h"

static void name_words(const char *name, uint64_t w[NS_NAME_WORDS])
{
	memset(w, 0, NS_NAME_WORDS * 8);
	size_t n = strnlen(name, NS_NAME_MAX);
	memcpy(w, name, n);
}

/* A name and one capability: NS_REGISTER, NS_WATCH. */
static long send_with_cap(uint64_t label, const char *name, cap_slot_t cap, uint64_t flags)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m = { .tag = ipc_tag(label, NS_NAME_WORDS + 1, 1) };

	if (strlen(name) > NS_NAME_MAX)
		return -ERR_INVALID_ARG;
	name_words(name, m.w);
	m.w[NS_NAME_WORDS] = flags;
	b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
	b->items[0][1] = cap;
	long err = ipc_call(PROGRAM_INIT_SLOT, &m);
	if (err)
		return err;
	return ipc_tag_label(m.tag) ? -(long)ipc_tag_label(m.tag) : 0;
}

long ns_register(const char *name, cap_slot_t cap)
{
	return send_with_cap(NS_REGISTER, name, cap, 0);
}

long ns_register_private(const char *name, cap_slot_t cap)
{
	return send_with_cap(NS_REGISTER, name, cap, NS_REGISTER_PRIVATE);
}

static long lookup(const char *name, cap_slot_t dest, uint64_t flags, uint64_t *generation)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m = { .tag = ipc_tag(NS_LOOKUP, NS_NAME_WORDS + 1, 0) };

	if (strlen(name) > NS_NAME_MAX)
		return -ERR_INVALID_ARG;
	name_words(name, m.w);
	m.w[NS_NAME_WORDS] = flags;
	b->recv_cap_slot = dest;
	long err = ipc_call(PROGRAM_INIT_SLOT, &m);
	b->recv_cap_slot = CAP_SLOT_NONE;
	if (err)
		return err;
	if (ipc_tag_label(m.tag))
		return -(long)ipc_tag_label(m.tag);
	if (generation)
		*generation = m.w[0];
	return b->recv_cap_count ? 0 : -ERR_INVALID_CAP;
}

long ns_lookup(const char *name, cap_slot_t dest)
{
	return lookup(name, dest, 0, NULL);
}

long ns_lookup_now(const char *name, cap_slot_t dest, uint64_t *generation)
{
	return lookup(name, dest, NS_LOOKUP_NOWAIT, generation);
}

long ns_watch(const char *name, cap_slot_t notif)
{
	return send_with_cap(NS_WATCH, name, notif, 0);
}
