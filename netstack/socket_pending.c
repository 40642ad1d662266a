/*
 * The socket service's deferred replies (docs/netstack.md, "Blocking"):
 * a call that cannot finish yet (ACCEPT, CONNECT, SEND, RECV) keeps its
 * caller's reply object in the socket's pending slot for its direction
 * (rd: RECV, ACCEPT; wr: SEND, CONNECT), and socket_poll tries it again
 * after every round of the loop, answering it once lwIP's callbacks have
 * made it possible. The loop takes a fresh reply object for its next
 * receive (main.c).
 */
#include "socket_service.h"

static unsigned waiting;                /* pending calls, all sessions */

unsigned pending_count(void)
{
	return waiting;
}

bool pending_defer(struct pending *pd, cap_slot_t reply, const struct msg *m, const uint64_t *w)
{
	if (pd->reply != CAP_SLOT_NONE) {
		service_answer(reply, SOCK_EBUSY, NULL, 0);
		return true;
	}
	pd->reply = reply;
	pd->label = ipc_tag_label(m->tag);
	memcpy(pd->w, w, sizeof(pd->w));
	waiting++;
	return false;
}

void pending_complete(struct pending *pd, uint64_t err, const uint64_t *w, unsigned n)
{
	service_answer(pd->reply, err, w, n);
	sys_cap_delete(pd->reply);
	slot_free(pd->reply);
	pd->reply = CAP_SLOT_NONE;
	waiting--;
}

void pending_retry(struct sock *s)
{
	struct pending *sides[] = { &s->rd, &s->wr };
	uint64_t out[6] = { 0 };

	for (unsigned i = 0; i < 2; i++) {
		struct pending *pd = sides[i];
		unsigned n = 0;
		if (pd->reply == CAP_SLOT_NONE)
			continue;
		int r = sock_attempt(s, pd->label, pd->w, out, &n);
		if (r != SOCK_WAIT)
			pending_complete(pd, (uint64_t)r, out, n);
	}
}
