/*
 * fakenet: a netstack that maps its lending session's pool where it was
 * not asked (tests/system/test_rx_lend.py; proto/socket.h, "Lending").
 * It publishes SOCK_SERVICE_NAME and, privately, SOCK_LEND_NAME, and
 * answers SOCK_SESSION as the netstack does (a session capability, the
 * buffer at [1], the pool read-only, 1 MiB of its own pages) except that
 * the pool goes `pool_off=MIB` past where [2] asked (default 0: where
 * asked). The client (the POSIX server) must receive only into the
 * region it keeps for the netstack's pages, so a pool sent elsewhere
 * does not arrive and it refuses the session. One line each:
 * `fakenet: session N answered, pool at +M MiB from where asked`, and
 * `fakenet: call L on session N` for every call through a session (only
 * a session its client took sees one); every such call is refused.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/socket.h"

#define POOL_LOG2 20
#define BADGE_OPEN 1
#define BADGE_LEND 2
#define BADGE_SESSION 3                 /* session N's is BADGE_SESSION + N */

static cap_slot_t endpoint;

/* n bytes of the heap, aligned to n, every page present (a map item
 * carries only pages the sender has). */
static uint8_t *present(uint64_t n)
{
	uint8_t *raw = mem_heap(2 * n);
	uint8_t *p = raw ? (uint8_t *)(((uintptr_t)raw + n - 1) & ~(n - 1)) : NULL;

	if (p)
		memset(p, 0, n);
	return p;
}

static long publish(const char *name, uint64_t badge, bool private_name)
{
	cap_slot_t cap = slot_alloc();
	long err = sys_cap_copy(endpoint, CAP_SLOT_SELF, cap, CAP_RIGHT_WRITE | CAP_RIGHT_GRANT,
				badge);

	if (err < 0)
		return err;
	return private_name ? ns_register_private(name, cap) : ns_register(name, cap);
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	struct ipc_buffer *b = ipc_buffer();
	cap_slot_t reply = slot_alloc(), got = slot_alloc();
	uint8_t *buf = present(1UL << SOCK_BUFFER_SEND_LOG2), *pool = present(1UL << POOL_LOG2);
	char off_arg[8] = "0";
	unsigned sessions = 0;
	long err = 0;

	program_arg(pi->args, "pool_off", off_arg, sizeof(off_arg));
	uint64_t pool_off = 0;
	for (const char *c = off_arg; *c >= '0' && *c <= '9'; c++)
		pool_off = pool_off * 10 + (uint64_t)(*c - '0');
	pool_off <<= 20;
	endpoint = slot_alloc();
	if (!buf || !pool || (err = sys_obj_create(CAP_ENDPOINT, endpoint, 0)) < 0 ||
	    (err = sys_obj_create(CAP_REPLY, reply, 0)) < 0 ||
	    (err = publish(SOCK_LEND_NAME, BADGE_LEND, true)) < 0 ||
	    (err = publish(SOCK_SERVICE_NAME, BADGE_OPEN, false)) < 0) {
		printf("fakenet: setting up: %s\n", buf && pool ? mica_strerror(err) : "no heap");
		return 1;
	}
	for (;;) {
		struct msg m;
		b->recv_cap_slot = got;
		if (ipc_recv(endpoint, reply, &m))
			continue;
		if (b->recv_cap_count)
			sys_cap_delete(got);    /* the client's notification: not watched */
		uint64_t badge = m.badge;
		if (badge >= BADGE_SESSION) {
			printf("fakenet: call %lu on session %lu\n", ipc_tag_label(m.tag),
			       badge - BADGE_SESSION);
			m = msg_make(SOCK_EINVAL, 0);
			ipc_reply(reply, &m);
			continue;
		}
		uint64_t log2 = m.w[0], va = m.w[1], pool_va = m.w[2];
		cap_slot_t session = slot_alloc();
		if (ipc_tag_label(m.tag) != SOCK_SESSION || log2 < 12 ||
		    log2 > SOCK_BUFFER_SEND_LOG2 || session == CAP_SLOT_NONE ||
		    sys_cap_copy(endpoint, CAP_SLOT_SELF, session, CAP_RIGHT_WRITE,
				 BADGE_SESSION + sessions) < 0) {
			m = msg_make(SOCK_EINVAL, 0);
			ipc_reply(reply, &m);
			continue;
		}
		m = (struct msg){ .tag = ipc_tag(0, 0, 2) };
		b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		b->items[0][1] = session;
		b->items[1][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE, va);
		b->items[1][1] = fpage((uint64_t)buf, (unsigned)log2);
		if (badge == BADGE_LEND) {
			m.tag = ipc_tag(0, 1, 3);
			m.w[0] = POOL_LOG2;
			b->items[2][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ, pool_va + pool_off);
			b->items[2][1] = fpage((uint64_t)pool, POOL_LOG2);
		}
		printf("fakenet: session %u answered%s, pool at +%lu MiB from where asked\n",
		       sessions, badge == BADGE_LEND ? " (lending)" : "", pool_off >> 20);
		sessions++;
		ipc_reply(reply, &m);   /* the session's capability stays ours too */
	}
}
