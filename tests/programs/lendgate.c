/*
 * lendgate: can a native program get the netstack's packet pool? (the
 * gate on lending, tests/system/test_rx_lend.py; proto/socket.h,
 * "Lending"). It looks up SOCK_LEND_NAME, which init gives only to a
 * program whose manifest has `lookup net-lend`, and says what it got:
 * `lendgate: net-lend refused: ERROR`, or `lendgate: net-lend given:
 * pool of N pages mapped read-only` after opening a lending session with
 * it. Then it asks "net" for a session with the pool's word set, as a
 * lending session would, and says how many pages came (only the
 * buffer's: "net" never lends). Then what a client could try instead:
 * copies of net's capability with the badges the netstack tells its
 * callers apart by (a session's, management's, lending's: refused, net's
 * is badged already), and a session without a notification (refused: its
 * death could not be seen).
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netsock.h"
#include "proto/socket.h"

#define LOG2 12
#define WINDOW (PROGRAM_OWN_BASE + (4UL << 30))         /* each session's: buffer, then pool */

static cap_slot_t notif;

/* SOCK_SESSION through ep with the pool's word (and notif, if any):
 * pages that arrived, or -err. */
static long session(cap_slot_t ep, uint64_t window, uint64_t *pool_log2)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m = { .tag = ipc_tag(SOCK_SESSION, 3, notif != CAP_SLOT_NONE) };
	cap_slot_t cap = slot_alloc();

	m.w[0] = LOG2;
	m.w[1] = window;
	m.w[2] = window + SOCK_LEND_POOL_MAX;
	b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
	b->items[0][1] = notif;
	b->recv_window = fpage(window, log2_ceil(2 * SOCK_LEND_POOL_MAX));
	b->recv_cap_slot = cap;
	long err = ipc_call(ep, &m);
	b->recv_window = 0;
	b->recv_cap_slot = CAP_SLOT_NONE;
	if (err)
		return err;
	if (ipc_tag_label(m.tag))
		return -(long)ipc_tag_label(m.tag);
	*pool_log2 = ipc_tag_words(m.tag) ? m.w[0] : 0;
	return (long)b->recv_pages;
}

int main(uint64_t arg)
{
	cap_slot_t lend = slot_alloc(), net = slot_alloc();
	uint64_t log2 = 0;
	long err;

	notif = slot_alloc();
	if ((err = sys_obj_create(CAP_NOTIFICATION, notif, 0)) < 0) {
		printf("lendgate: no notification: %s\n", mica_strerror(err));
		return 1;
	}
	if ((err = ns_lookup(SOCK_SERVICE_NAME, net)) < 0) {
		printf("lendgate: no netstack: %s\n", mica_strerror(err));
		return 1;
	}
	if ((err = ns_lookup_now(SOCK_LEND_NAME, lend, NULL)) < 0) {
		printf("lendgate: net-lend refused: %s\n", mica_strerror(err));
	} else {
		long pages = session(lend, WINDOW, &log2);
		if (pages < 0)
			printf("lendgate: net-lend given: session refused: %ld\n", pages);
		else
			printf("lendgate: net-lend given: pool of %lu pages mapped read-only, "
			       "%ld pages in all\n", (1UL << log2) / PAGE_SIZE, pages);
	}
	log2 = 0;
	long pages = session(net, WINDOW + 2 * SOCK_LEND_POOL_MAX, &log2);
	printf("lendgate: a session through net with the pool's word: %ld pages, pool log2 %lu\n",
	       pages, log2);
	static const uint64_t badges[] = { 1, 1UL << 32, 1UL << 33, 1UL << 34 };
	unsigned made = 0;
	for (unsigned i = 0; i < sizeof(badges) / sizeof(badges[0]); i++) {
		cap_slot_t copy = slot_alloc();
		if (sys_cap_copy(net, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, badges[i]) == 0) {
			made++;
			sys_cap_delete(copy);
		}
		slot_free(copy);
	}
	printf("lendgate: copies of net with other badges: %u made\n", made);
	notif = CAP_SLOT_NONE;
	pages = session(net, WINDOW + 4 * SOCK_LEND_POOL_MAX, &log2);
	printf("lendgate: a session through net without a notification: %ld\n", pages);
	return 0;
}
