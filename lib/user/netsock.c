/* Native client of the socket service: include/lib/netsock.h. */
#include "lib/netsock.h"
#include "lib/mica.h"

static long call(cap_slot_t ep, uint64_t label, const uint64_t *w, unsigned n, uint64_t *out,
		 unsigned nout)
{
	struct msg m = msg_from_words(label, w, n);

	if (ipc_call(ep, &m) != 0)
		return -SOCK_EIO;
	if (ipc_tag_label(m.tag))
		return -(long)ipc_tag_label(m.tag);
	if (out)
		msg_to_words(&m, out, nout);
	return 0;
}

long net_call(const struct net_session *s, uint64_t label, const uint64_t *w, unsigned n,
	      uint64_t *out, unsigned nout)
{
	return call(s->cap, label, w, n, out, nout);
}

/* The notification made for a session, if any, destroyed and its slot freed. */
static void token_free(struct net_session *s)
{
	if (s->token == CAP_SLOT_NONE)
		return;
	sys_obj_destroy(s->token);
	sys_cap_delete(s->token);
	slot_free(s->token);
	s->token = CAP_SLOT_NONE;
}

/* Whether [va, va + size) lies inside the flexpage window. */
static bool in_window(uint64_t window, uint64_t va, uint64_t size)
{
	uint64_t base = fpage_base(window), end = base + (1UL << fpage_log2(window));

	return va >= base && size <= end - base && va - base <= end - base - size;
}

/* SOCK_SESSION through ep: net_session_open's, and with pool_va a lending
 * session's (the reply maps the pool there too; window: where both may
 * land, and *pool_log2 the pool's size). */
static long session_open(struct net_session *s, cap_slot_t ep, void *buf_va, unsigned log2,
			 cap_slot_t notif, void *pool_va, uint64_t window, unsigned *pool_log2)
{
	struct ipc_buffer *b = ipc_buffer();
	uint64_t size = 1UL << log2;
	struct msg m = { .tag = ipc_tag(SOCK_SESSION, pool_va ? 3 : 2, 1) };

	if (pool_va && (!in_window(window, (uint64_t)buf_va, size) ||
			!in_window(window, (uint64_t)pool_va, SOCK_LEND_POOL_MAX)))
		return -SOCK_EINVAL;
	s->token = CAP_SLOT_NONE;
	if (notif == CAP_SLOT_NONE) {
		notif = s->token = slot_alloc();
		if (notif == CAP_SLOT_NONE || sys_obj_create(CAP_NOTIFICATION, notif, 0) < 0) {
			token_free(s);
			return -SOCK_ENOMEM;
		}
	}
	s->cap = slot_alloc();
	if (s->cap == CAP_SLOT_NONE) {
		token_free(s);
		return -SOCK_EMFILE;
	}
	m.w[0] = log2;
	m.w[1] = (uint64_t)buf_va;
	m.w[2] = (uint64_t)pool_va;
	b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
	b->items[0][1] = notif;
	uint64_t old_window = b->recv_window;
	cap_slot_t slot = b->recv_cap_slot;
	b->recv_window = pool_va ? window : fpage((uint64_t)buf_va, log2);
	b->recv_cap_slot = s->cap;
	long ipc_err = ipc_call(ep, &m), err = 0;
	b->recv_window = old_window;
	b->recv_cap_slot = slot;
	if (ipc_err)
		err = -SOCK_EIO;
	else if (ipc_tag_label(m.tag))
		err = -(long)ipc_tag_label(m.tag);
	else if (b->recv_cap_count != 1 ||
		 (!pool_va && b->recv_pages != size / PAGE_SIZE) ||
		 (pool_va && (ipc_tag_words(m.tag) < 1 || m.w[0] < 12 ||
			      m.w[0] > log2_ceil(SOCK_LEND_POOL_MAX) ||
			      b->recv_pages < size / PAGE_SIZE + (1UL << m.w[0]) / PAGE_SIZE)))
		err = -SOCK_EFAULT;     /* the session, the buffer or the pool did not arrive */
	if (err) {
		/* What did arrive of the buffer goes: its place is the next
		 * session's (a page left there would keep that one's out). */
		if (!ipc_err && b->recv_pages)
			sys_mem_unmap(fpage((uint64_t)buf_va, log2), MEM_UNMAP_SELF);
		sys_cap_delete(s->cap);
		slot_free(s->cap);
		token_free(s);
		return err;
	}
	s->buf = buf_va;
	s->size = size;
	if (pool_va)
		*pool_log2 = (unsigned)m.w[0];
	return 0;
}

long net_session_open(struct net_session *s, cap_slot_t net, void *buf_va, unsigned log2,
		      cap_slot_t notif)
{
	return session_open(s, net, buf_va, log2, notif, NULL, 0, NULL);
}

long net_session_open_lend(struct net_session *s, cap_slot_t lend, void *buf_va, unsigned log2,
			   cap_slot_t notif, void *pool_va, uint64_t window, unsigned *pool_log2)
{
	return session_open(s, lend, buf_va, log2, notif, pool_va, window, pool_log2);
}

long net_session_end(struct net_session *s)
{
	long err = call(s->cap, SOCK_END, NULL, 0, NULL, 0);

	sys_cap_delete(s->cap);
	slot_free(s->cap);
	token_free(s);
	return err;
}

long sock_open(const struct net_session *s, int type)
{
	uint64_t w[1] = { (uint64_t)type }, out[1];
	long err = call(s->cap, SOCK_OPEN, w, 1, out, 1);
	return err ? err : (long)out[0];
}

long sock_bind(const struct net_session *s, int sock, uint32_t addr, uint16_t port)
{
	uint64_t w[3] = { (uint64_t)sock, addr, port }, out[1];
	long err = call(s->cap, SOCK_BIND, w, 3, out, 1);
	return err ? err : (long)out[0];
}

long sock_listen(const struct net_session *s, int sock, unsigned backlog)
{
	uint64_t w[2] = { (uint64_t)sock, backlog };
	return call(s->cap, SOCK_LISTEN, w, 2, NULL, 0);
}

long sock_accept(const struct net_session *s, int sock, uint32_t *addr, uint16_t *port)
{
	uint64_t w[2] = { (uint64_t)sock, 0 }, out[3];
	long err = call(s->cap, SOCK_ACCEPT, w, 2, out, 3);
	if (err)
		return err;
	if (addr)
		*addr = (uint32_t)out[1];
	if (port)
		*port = (uint16_t)out[2];
	return (long)out[0];
}

long sock_connect(const struct net_session *s, int sock, uint32_t addr, uint16_t port)
{
	uint64_t w[4] = { (uint64_t)sock, addr, port, 0 };
	return call(s->cap, SOCK_CONNECT, w, 4, NULL, 0);
}

long sock_send(const struct net_session *s, int sock, const void *data, size_t len,
	       uint32_t addr, uint16_t port)
{
	uint64_t out[1];

	if (len > s->size)
		len = s->size;
	memcpy(s->buf, data, len);
	uint64_t w[6] = { (uint64_t)sock, 0, len, 0, addr, port };
	long err = call(s->cap, SOCK_SEND, w, 6, out, 1);
	return err ? err : (long)out[0];
}

/* SOCK_RECV of up to len bytes into data; its reply words in out[nout]. */
static long recv_words(const struct net_session *s, int sock, void *data, size_t len,
		       uint64_t *out, unsigned nout)
{
	if (len > s->size)
		len = s->size;
	uint64_t w[4] = { (uint64_t)sock, 0, len, 0 };
	long err = call(s->cap, SOCK_RECV, w, 4, out, nout);
	if (err)
		return err;
	memcpy(data, s->buf, out[0]);
	return (long)out[0];
}

long sock_recv(const struct net_session *s, int sock, void *data, size_t len, uint32_t *addr,
	       uint16_t *port)
{
	uint64_t out[3];
	long n = recv_words(s, sock, data, len, out, 3);

	if (n >= 0 && addr)
		*addr = (uint32_t)out[1];
	if (n >= 0 && port)
		*port = (uint16_t)out[2];
	return n;
}

long sock_recv_dgram(const struct net_session *s, int sock, void *data, size_t len,
		     struct sock_dgram_info *info)
{
	uint64_t out[6];
	long n = recv_words(s, sock, data, len, out, 6);

	if (n >= 0)
		*info = (struct sock_dgram_info){ .addr = (uint32_t)out[1],
						  .port = (uint16_t)out[2],
						  .to = (uint32_t)out[4],
						  .flags = (unsigned)out[5] };
	return n;
}

long sock_close(const struct net_session *s, int sock)
{
	uint64_t w[1] = { (uint64_t)sock };
	return call(s->cap, SOCK_CLOSE, w, 1, NULL, 0);
}
