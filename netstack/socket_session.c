/*
 * The socket service's sessions (proto/socket.h, docs/netstack.md): the
 * SOCK_SESSION request on the published capabilities, the session a client
 * gets (a badged copy of the endpoint, and a buffer of the netstack's
 * memory mapped into the client), and the calls on a session, checked
 * here and passed to the socket's type (socket_tcp.c, socket_udp.c). A
 * call that must wait is deferred (socket_pending.c).
 */
#include "socket_service.h"

#include "lwip/timeouts.h"

#define CLIENT_CHECK_MS 250     /* how often sessions' clients are looked at */

static struct session sessions[SOCK_MAX_SESSIONS];
static cap_slot_t service_ep;
static uint64_t sessions_open, clients_died;
static bool client_check_armed;

static void clients_check(void *unused);

#define EPHEMERAL_FIRST 0xc000u  /* lwIP's UDP_ and TCP_LOCAL_PORT_RANGE_* */
#define EPHEMERAL_COUNT 0x4000u

uint16_t sock_random_port(bool (*in_use)(uint16_t port))
{
	for (int i = 0; i < 32; i++) {
		uint16_t port = (uint16_t)(EPHEMERAL_FIRST + LWIP_RAND() % EPHEMERAL_COUNT);

		if (!in_use(port))
			return port;
	}
	return 0;
}

int sock_errno(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: case ERR_BUF: return SOCK_ENOBUFS;   /* Linux's, for want of buffers */
	case ERR_TIMEOUT: return SOCK_ETIMEDOUT;
	case ERR_RTE: return SOCK_ENETUNREACH;
	case ERR_INPROGRESS: return SOCK_EINPROGRESS;
	case ERR_VAL: case ERR_ARG: return SOCK_EINVAL;
	case ERR_USE: return SOCK_EADDRINUSE;
	case ERR_ALREADY: return SOCK_EALREADY;
	case ERR_ISCONN: return SOCK_EISCONN;
	case ERR_CONN: return SOCK_ENOTCONN;
	case ERR_ABRT: return SOCK_ECONNABORTED;
	case ERR_RST: return SOCK_ECONNRESET;
	case ERR_CLSD: return SOCK_ENOTCONN;
	default: return SOCK_EIO;
	}
}

/* ---- sockets ---- */

struct sock *sock_alloc(struct session *se, uint8_t type)
{
	for (unsigned i = 0; i < SOCK_MAX_SOCKETS; i++) {
		struct sock *s = &se->socks[i];
		if (!s->type) {
			*s = (struct sock){ .session = se, .type = type,
					    .ops = type == SOCK_DGRAM ? &sock_udp_ops : &sock_tcp_ops,
					    .rd.reply = CAP_SLOT_NONE, .wr.reply = CAP_SLOT_NONE };
			return s;
		}
	}
	return NULL;
}

void sock_close(struct sock *s)
{
	if (s->rd.reply != CAP_SLOT_NONE)
		pending_complete(&s->rd, SOCK_EBADF, NULL, 0);
	if (s->wr.reply != CAP_SLOT_NONE)
		pending_complete(&s->wr, SOCK_EBADF, NULL, 0);
	s->ops->close(s);
	tx_lend_forget(s);
	s->type = 0;
}

int sock_attempt(struct sock *s, uint64_t label, const uint64_t *w, uint64_t *out, unsigned *n)
{
	struct session *se = s->session;

	switch (label) {
	case SOCK_ACCEPT:
		return s->ops->accept ? s->ops->accept(s, out, n) : SOCK_EINVAL;
	case SOCK_CONNECT:
		*n = 0;
		return s->ops->connect_done ? s->ops->connect_done(s) : 0;
	default:        /* SOCK_RECV, SOCK_SEND: [1] offset [2] length in the buffer */
		if (w[1] > se->size || w[2] > se->size - w[1])
			return SOCK_EFAULT;
		return label == SOCK_RECV ? s->ops->recv(s, w, out, n) : s->ops->send(s, w, out, n);
	}
}

static int sock_open(struct session *se, uint64_t type, uint64_t *out)
{
	if (type != SOCK_STREAM && type != SOCK_DGRAM)
		return SOCK_EPROTOTYPE;
	struct sock *s = sock_alloc(se, (uint8_t)type);
	if (!s)
		return SOCK_EMFILE;
	int r = s->ops->open(s);
	if (r) {
		s->type = 0;
		return r;
	}
	out[0] = (uint64_t)(s - se->socks);
	return 0;
}

/* ---- sessions ---- */

/* SOCK_SESSION: 0 and the reply in m (with its items), or an error. The
 * session keeps its capability: the client's copy (and every copy of
 * that) derives from it, so the session's end revokes them all before its
 * badge is given to anybody else. */
static bool in_lwip_heap(const uint8_t *buf)
{
	return buf && pool.heap_log2 && buf >= pool.heap && buf < pool.heap + (1UL << pool.heap_log2);
}

/* The slot a new session of 2^log2 bytes takes: one with a send area
 * (want_area) only a free slot whose buffer is in lwIP's heap and has no
 * runs out (tx_lend.c: not given to a new session before they are all
 * back), another a free slot whose buffer is elsewhere and large enough;
 * else one whose buffer is not there yet. SOCK_MAX_SESSIONS: none. */
static unsigned session_pick(bool want_area, unsigned log2)
{
	unsigned fresh = SOCK_MAX_SESSIONS;

	for (unsigned i = 0; i < SOCK_MAX_SESSIONS; i++) {
		const struct session *se = &sessions[i];
		if (se->used)
			continue;
		if (!se->buf) {
			if (fresh == SOCK_MAX_SESSIONS)
				fresh = i;
		} else if (want_area ? in_lwip_heap(se->buf) && !tx_lend_busy(se->lend_tx)
				     : !in_lwip_heap(se->buf) && se->buf_log2 >= log2) {
			return i;
		}
	}
	return fresh;
}

static uint64_t session_open(struct msg *m, const uint64_t *w, bool lend)
{
	static unsigned heap_buffers;   /* slots whose buffer is in lwIP's heap */
	struct ipc_buffer *b = ipc_buffer();
	uint64_t log2 = w[0], va = w[1], pool_va = lend ? w[2] : 0;

	/* The client's notification is how its death is seen (client_alive):
	 * a session without one would keep its sockets, kept and lent
	 * buffers for ever after its client died. */
	if (!service_has_cap())
		return SOCK_EINVAL;
	if (log2 < 12 || (log2 > SOCK_BUFFER_MAX_LOG2 && log2 != SOCK_BUFFER_SEND_LOG2) ||
	    (va & ((1UL << log2) - 1)) ||
	    va >= USER_SPACE_TOP)
		return SOCK_EINVAL;
	if (lend && ((pool_va & (SOCK_LEND_POOL_MAX - 1)) || pool_va >= USER_SPACE_TOP ||
		     (1UL << pool.log2) > SOCK_LEND_POOL_MAX))
		return SOCK_EINVAL;
	/* A send area's session: SOCK_EBUSY when none is free (the client
	 * asks for SOCK_BUFFER_MAX_LOG2 then: proto/socket.h). */
	bool want_area = log2 == SOCK_BUFFER_SEND_LOG2;
	unsigned pick = session_pick(want_area, (unsigned)log2);
	if (want_area && (!pool.heap_log2 || pick == SOCK_MAX_SESSIONS ||
			  (!sessions[pick].buf && heap_buffers == TX_LEND_AREAS)))
		return SOCK_EBUSY;
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS; i++) {
		struct session *se = &sessions[i];
		if (i != pick)
			continue;
		cap_slot_t cap = slot_alloc();
		if (cap == CAP_SLOT_NONE ||
		    sys_cap_copy(service_ep, CAP_SLOT_SELF, cap, CAP_RIGHT_WRITE, i + 1) < 0) {
			if (cap != CAP_SLOT_NONE)
				slot_free(cap);
			return SOCK_ENOMEM;
		}
		/* The buffer, taken from the heap the first time this slot is
		 * used and aligned to the largest size; zeroed, so every page is
		 * present and the map item carries all of it. */
		if (!se->buf) {
			unsigned max_log2 = want_area ? SOCK_BUFFER_SEND_LOG2 : SOCK_BUFFER_MAX_LOG2;
			uint64_t max = 1UL << max_log2;
			/* A send area's in lwIP's heap, which the drivers read
			 * (tx_lend.c); at most TX_LEND_AREAS of them. */
			uint8_t *mem = want_area ? mem_malloc(2 * max - 8) : mem_heap(2 * max);
			if (!mem) {
				sys_cap_delete(cap);
				slot_free(cap);
				return want_area ? SOCK_EBUSY : SOCK_ENOMEM;
			}
			heap_buffers += want_area;
			se->buf = (uint8_t *)(((uintptr_t)mem + max - 1) & ~(max - 1));
			se->buf_log2 = (uint8_t)max_log2;
		}
		se->size = 1UL << log2;
		memset(se->buf, 0, se->size);
		se->lend_tx = NULL;
		if (want_area && in_lwip_heap(se->buf))
			se->lend_tx = tx_lend_area_take(se->buf, se->size);
		se->client_va = va;
		se->used = true;
		se->lend = lend;
		se->lent_n = 0;
		se->notif = service_take_cap();
		se->cap = cap;
		sessions_open++;
		if (!client_check_armed) {
			client_check_armed = true;
			sys_timeout(CLIENT_CHECK_MS, clients_check, NULL);
		}
		*m = (struct msg){ .tag = ipc_tag(0, 0, 2) };
		b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		b->items[0][1] = cap;
		b->items[1][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE, va);
		b->items[1][1] = fpage((uint64_t)se->buf, (unsigned)log2);
		if (lend) {
			/* The pool, read-only: what a RECV lends lies there. */
			m->tag = ipc_tag(0, 1, 3);
			m->w[0] = pool.log2;
			b->items[2][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ, pool_va);
			b->items[2][1] = fpage((uint64_t)pool.mem, pool.log2);
		}
		return 0;
	}
	return SOCK_EMFILE;
}

static void session_end(struct session *se)
{
	if (se->lent_n)
		sock_rx_return(se);
	for (unsigned i = 0; i < SOCK_MAX_SOCKETS; i++)
		if (se->socks[i].type)
			sock_close(&se->socks[i]);
	/* Take the buffer and the session's capabilities back from the
	 * client (the netstack keeps its own buffer). A lending session's
	 * pool mapping is not taken back: unmapping the pool's children
	 * would take it from the drivers too; the client, whom the manifest
	 * trusts with it, keeps it until it or the netstack ends (and a
	 * next lending session of it is mapped there again). */
	sys_mem_unmap(fpage((uint64_t)se->buf, log2_ceil(se->size)), 0);
	sys_cap_revoke(se->cap);
	sys_cap_delete(se->cap);
	slot_free(se->cap);
	if (se->notif != CAP_SLOT_NONE) {
		sys_cap_delete(se->notif);
		slot_free(se->notif);
	}
	se->used = false;
	sessions_open--;
}

static bool client_alive(const struct session *se)
{
	uint64_t info[3];

	return se->notif == CAP_SLOT_NONE ||
	       (sys_cap_info(se->notif, (uint64_t)info) == 0 && info[0] == CAP_NOTIFICATION);
}

/* A session whose client's notification died: objects die with the task
 * that made them, so the client is gone (crashed, killed or exited
 * without SOCK_END). Its sockets are closed (connections reset or closed,
 * ports freed) and the session ends. Every session is looked at, since a
 * client often has several. */
static void clients_sweep(void)
{
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS; i++)
		if (sessions[i].used && !client_alive(&sessions[i])) {
			clients_died++;
			session_end(&sessions[i]);
		}
}

/* Every CLIENT_CHECK_MS while any session is open. */
static void clients_check(void *unused)
{
	client_check_armed = false;
	clients_sweep();
	if (sessions_open) {
		client_check_armed = true;
		sys_timeout(CLIENT_CHECK_MS, clients_check, NULL);
	}
}

void socket_sessions(uint64_t *open, uint64_t *died)
{
	*open = sessions_open;
	*died = clients_died;
}

/* A call on SOCK_SERVICE_NAME's capability, or (lend) on SOCK_LEND_NAME's. */
static void open_request(struct msg *m, cap_slot_t reply, const uint64_t *w, bool lend)
{
	if (ipc_tag_label(m->tag) != SOCK_SESSION) {
		service_answer(reply, SOCK_ENOSYS, NULL, 0);
		return;
	}
	/* Sessions whose client died end first, not at the next look
	 * (CLIENT_CHECK_MS): their ports are free for the new client (a
	 * POSIX server restarted after a crash starts iperf3 -s at once, on
	 * the dead one's port). */
	clients_sweep();
	uint64_t err = session_open(m, w, lend);
	if (err) {
		service_answer(reply, err, NULL, 0);
		return;
	}
	ipc_reply(reply, m);
}

/* A call on socket s of a session that never waits: its error number;
 * the reply's words in out, *n of them. */
static int sock_call(struct sock *s, uint64_t label, const uint64_t *w, uint64_t *out,
		     unsigned *n)
{
	switch (label) {
	case SOCK_BIND: {
		ip_addr_t a;
		ip_addr_set_ip4_u32(&a, (uint32_t)w[1]);
		*n = 1;
		return w[2] > 0xFFFF ? SOCK_EINVAL : s->ops->bind(s, &a, (uint16_t)w[2], out);
	}
	case SOCK_LISTEN:
		return s->ops->listen ? s->ops->listen(s, w[1]) : SOCK_EINVAL;
	case SOCK_SHUTDOWN:
		if (w[1] > SOCK_SHUT_RDWR)
			return SOCK_EINVAL;
		return s->ops->shutdown ? s->ops->shutdown(s, w[1]) : 0;
	case SOCK_CLOSE:
		sock_close(s);
		return 0;
	case SOCK_POLL:
		out[0] = sock_poll_told(s);
		*n = 1;
		return 0;
	case SOCK_NAME:
		*n = 2;
		return s->ops->name(s, w[1] != 0, out);
	default:        /* SOCK_SETOPT */
		return s->ops->setopt ? s->ops->setopt(s, w[1], w[2]) : SOCK_ENOPROTOOPT;
	}
}

/* SOCK_POLL_ALL: every socket's SOCK_POLL bits, 4 a socket (in the
 * reply's words: session_request's out). */
#define REPLY_WORDS (SOCK_POLL_ALL_WORDS > 6 ? SOCK_POLL_ALL_WORDS : 6) /* the longest */
_Static_assert(SOCK_POLL_ALL_WORDS * 16 == SOCK_MAX_SOCKETS && SOCK_POLL_ALL_WORDS <= IPC_MAX_WORDS,
	       "SOCK_POLL_ALL's reply does not fit");

static void poll_all(struct session *se, uint64_t *out)
{
	for (unsigned i = 0; i < SOCK_MAX_SOCKETS; i++) {
		struct sock *s = &se->socks[i];
		if (!s->type || s->unaccepted)
			continue;
		unsigned b = sock_poll_told(s);
		uint64_t bits = (b & SOCK_POLLIN ? SOCK_POLL_ALL_IN : 0) |
				(b & SOCK_POLLOUT ? SOCK_POLL_ALL_OUT : 0) |
				(b & SOCK_POLLERR ? SOCK_POLL_ALL_ERR : 0) |
				(b & SOCK_POLLHUP ? SOCK_POLL_ALL_HUP : 0);
		out[i / 16] |= bits << SOCK_POLL_ALL_SHIFT(i);
	}
}

/* A call on a session; true when answered, false when deferred. */
static bool session_request(struct session *se, struct msg *m, cap_slot_t reply, const uint64_t *w)
{
	uint64_t label = ipc_tag_label(m->tag), out[REPLY_WORDS] = { 0 };
	unsigned n = 0;
	int r;

	/* The buffers the last RECV lent come back with the next call,
	 * whatever it is (proto/socket.h, "Lending"). */
	if (se->lent_n)
		sock_rx_return(se);
	if (label == SOCK_END) {
		session_end(se);
		service_answer(reply, 0, NULL, 0);
		return true;
	}
	if (label == SOCK_OPEN) {
		r = sock_open(se, w[0], out);
		service_answer(reply, (uint64_t)r, out, 1);
		return true;
	}
	if (label == SOCK_POLL_ALL) {
		poll_all(se, out);
		service_answer(reply, 0, out, SOCK_POLL_ALL_WORDS);
		return true;
	}
	if (label < SOCK_BIND || label > SOCK_SETOPT) {
		service_answer(reply, SOCK_ENOSYS, NULL, 0);
		return true;
	}
	if (w[0] >= SOCK_MAX_SOCKETS || !se->socks[w[0]].type || se->socks[w[0]].unaccepted) {
		service_answer(reply, SOCK_EBADF, NULL, 0);
		return true;
	}
	struct sock *s = &se->socks[w[0]];
	struct pending *pd;
	uint64_t flags;
	switch (label) {
	case SOCK_ACCEPT: pd = &s->rd; flags = w[1]; break;
	case SOCK_RECV: pd = &s->rd; flags = w[3]; break;
	case SOCK_CONNECT: pd = &s->wr; flags = w[3]; break;
	case SOCK_SEND: pd = &s->wr; flags = w[3]; break;
	default:
		r = sock_call(s, label, w, out, &n);
		service_answer(reply, (uint64_t)r, out, n);
		return true;
	}
	/* A call that may wait: one per socket and direction. */
	bool nonblock = flags & SOCK_NONBLOCK;
	if (pd->reply != CAP_SLOT_NONE) {
		r = SOCK_EBUSY;
	} else if (label == SOCK_CONNECT) {
		if (w[2] == 0 || w[2] > 0xFFFF) {
			r = SOCK_EINVAL;
		} else {
			ip_addr_t a;
			ip_addr_set_ip4_u32(&a, (uint32_t)w[1]);
			r = s->ops->connect(s, &a, (uint16_t)w[2]);
		}
		if (r == SOCK_WAIT && nonblock)
			r = SOCK_EINPROGRESS;
	} else {
		r = sock_attempt(s, label, w, out, &n);
	}
	if (r == SOCK_WAIT) {
		if (nonblock) {
			service_answer(reply, SOCK_EAGAIN, NULL, 0);
			return true;
		}
		return pending_defer(pd, reply, m, w);
	}
	service_answer(reply, (uint64_t)r, out, n);
	return true;
}

bool socket_request(struct msg *m, cap_slot_t reply)
{
	uint64_t w[8];

	msg_to_words(m, w, 8);
	if (m->badge == SOCK_BADGE_OPEN || m->badge == SOCK_BADGE_LEND) {
		open_request(m, reply, w, m->badge == SOCK_BADGE_LEND);
		return true;
	}
	if (!m->badge || m->badge > SOCK_MAX_SESSIONS || !sessions[m->badge - 1].used) {
		service_answer(reply, SOCK_EBADF, NULL, 0);
		return true;
	}
	return session_request(&sessions[m->badge - 1], m, reply, w);
}

void socket_poll(void)
{
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS && pending_count(); i++) {
		struct session *se = &sessions[i];
		if (!se->used)
			continue;
		for (unsigned k = 0; k < SOCK_MAX_SOCKETS; k++)
			if (se->socks[k].type)
				pending_retry(&se->socks[k]);
	}
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS; i++) {
		struct session *se = &sessions[i];
		if (se->used && se->signal && se->notif != CAP_SLOT_NONE &&
		    sys_notify_signal(se->notif, 1) == -ERR_INVALID_CAP)
			clients_sweep();
		se->signal = false;
	}
}

void socket_init(cap_slot_t endpoint)
{
	service_ep = endpoint;
}
