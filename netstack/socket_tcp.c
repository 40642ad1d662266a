/*
 * The socket service's stream sockets (SOCK_STREAM) over lwIP's raw TCP
 * interface. lwIP's callbacks note what happened in the socket and mark
 * its session for a readiness signal; the calls (struct sock_ops) act on
 * that state and return SOCK_WAIT when they must wait.
 *
 * Received data is kept as lwIP delivered it, or copied into the
 * socket's chunks ("Received data" below), and acknowledged to lwIP
 * (tcp_recved, opening the window again) only as the client reads it.
 */
#include "socket_service.h"
#include "lwip/priv/tcp_priv.h"     /* tcp_pcb_lists, NUM_TCP_PCB_LISTS */

/* ---- received data ----
 *
 * A client's RECV copies from the socket's entries straight into its
 * session buffer. An entry is either segments kept as lwIP delivered
 * them (their pbufs: pool buffers, which go back to the NIC as they are
 * read, or lwIP's heap), appended to the last kept entry while it stays
 * within a pbuf chain's 64 KiB, or a chunk that data is copied into.
 * Segments are kept when that is safe, and copied otherwise:
 *
 *   - only dense ones (at least RX_KEEP_MIN bytes per pbuf): a peer's
 *     small segments are copied and cost what they carry, not a pbuf,
 *     let alone a 2 KiB pool buffer, each;
 *   - pool buffers only while every socket together keeps at most half
 *     of lwIP's share of the pool (rx_kept_all): the NICs never lack
 *     receive buffers, and lwIP keeps half its share for out-of-order
 *     segments and everything else; a client that does not read pins
 *     at most that, and what comes past it is copied, as before;
 *   - what a socket keeps is bounded by its window as chunks were (the
 *     window is opened only as the client reads), and let go when the
 *     socket closes: a dead client's session ends (socket_session.c)
 *     and gives it all back.
 */

static unsigned rx_kept_all;    /* pool buffers every socket's kept entries hold */

/* The pool buffers p's pbufs are in. */
static unsigned pool_bufs(struct pbuf *p)
{
	unsigned n = 0;

	for (; p; p = p->next)
		n += iface_in_pool_buffer(p);
	return n;
}

/* Free an entry's chain, counting the pool buffers it let go of. */
static void rx_free(struct pbuf *p)
{
	rx_kept_all -= pool_bufs(p);
	pbuf_free(p);
}

/* Room left in the last chunk (0 when the last entry is not one). */
static uint32_t tail_room(const struct sock *s)
{
	const struct pbuf *t = s->rx_tail;

	return t ? (uint32_t)(s->rx_tail_end - ((uint8_t *)t->payload + t->len)) : 0;
}

/* Copy n bytes of p from offset into the last chunk's room. */
static void tail_fill(struct sock *s, struct pbuf *p, uint16_t offset, uint16_t n)
{
	struct pbuf *t = s->rx_tail;

	pbuf_copy_partial(p, (uint8_t *)t->payload + t->len, n, offset);
	t->len = (u16_t)(t->len + n);
	t->tot_len = t->len;
}

/* Keep p as it came: appended to the last entry when that is kept
 * segments with room in a chain's 64 KiB, else a new entry. False when
 * it should be copied instead (sparse, past the bound on kept pool
 * buffers, when the last chunk still has room for it, or when rxq is
 * full). */
static bool rx_keep(struct sock *s, struct pbuf *p)
{
	unsigned bufs = 0, pooled = 0;
	struct pbuf *last = s->rxq_n ? s->rxq[(s->rxq_head + s->rxq_n - 1) % RXQ_MAX] : NULL;

	for (struct pbuf *q = p; q; q = q->next) {
		bufs++;
		if (iface_in_pool_buffer(q))
			pooled++;
		else if ((q->flags & PBUF_FLAG_IS_CUSTOM) || !pbuf_match_type(q, PBUF_RAM))
			return false;   /* only pool buffers and lwIP's heap are kept */
	}
	if (p->tot_len < bufs * RX_KEEP_MIN || tail_room(s) >= p->tot_len ||
	    rx_kept_all + pooled > pool_lwip_share() / 2)
		return false;
	if (last && !s->rx_tail && (uint32_t)last->tot_len + p->tot_len <= 0xFFFF) {
		pbuf_cat(last, p);
	} else {
		if (s->rxq_n == RXQ_MAX)
			return false;
		s->rxq[(s->rxq_head + s->rxq_n++) % RXQ_MAX] = p;
		s->rx_tail = NULL;      /* what is copied next starts a chunk after it */
	}
	rx_kept_all += pooled;
	return true;
}

/* Data into the socket's chunks: the last one's room, then new ones.
 * ERR_MEM when there is no memory or no room in rxq: lwIP keeps p and
 * offers it again. */
static err_t rx_append(struct sock *s, struct pbuf *p)
{
	uint32_t room = tail_room(s), len = p->tot_len;
	unsigned need = len > room ? (len - room + RX_CHUNK - 1) / RX_CHUNK : 0;
	struct pbuf *fresh[(0xFFFF + RX_CHUNK - 1) / RX_CHUNK + 1];

	if (rx_keep(s, p))
		return ERR_OK;
	if (s->rxq_n + need > RXQ_MAX)
		return ERR_MEM;
	for (unsigned i = 0; i < need; i++) {
		if (!(fresh[i] = pbuf_alloc(PBUF_RAW, RX_CHUNK, PBUF_RAM))) {
			while (i--)
				pbuf_free(fresh[i]);
			return ERR_MEM;
		}
	}
	uint16_t done = (uint16_t)(len < room ? len : room);
	if (done)
		tail_fill(s, p, 0, done);
	for (unsigned i = 0; i < need; i++) {
		struct pbuf *c = fresh[i];
		s->rx_tail = c;
		s->rx_tail_end = (uint8_t *)c->payload + RX_CHUNK;
		c->len = c->tot_len = 0;
		s->rxq[(s->rxq_head + s->rxq_n++) % RXQ_MAX] = c;
		uint16_t n = (uint16_t)(len - done < RX_CHUNK ? len - done : RX_CHUNK);
		tail_fill(s, p, done, n);
		done = (uint16_t)(done + n);
	}
	pbuf_free(p);
	return ERR_OK;
}

/* Copy at most len bytes from the front of the first entry to to and
 * take them off it (pbufs emptied are freed: pool buffers go back to the
 * NIC); the entry goes when emptied. Returns the bytes copied. */
static uint32_t rx_take(struct sock *s, uint8_t *to, uint32_t len)
{
	struct pbuf **first = &s->rxq[s->rxq_head], *p = *first;
	uint32_t done = 0;

	while (p && done < len) {
		uint32_t n = p->len < len - done ? p->len : len - done;
		memcpy(to + done, p->payload, n);
		done += n;
		if (n < p->len) {
			pbuf_remove_header(p, (size_t)n);
			break;
		}
		/* Emptied: freed (an emptied chunk too, the tail one
		 * included), the rest of the chain is the entry. */
		struct pbuf *next = p->next;
		p->next = NULL;
		if (iface_in_pool_buffer(p))
			rx_kept_all--;
		if (p == s->rx_tail)
			s->rx_tail = NULL;
		pbuf_free(p);
		p = next;
	}
	/* Empty pbufs left at a chain's end go with it. */
	if (p && !p->tot_len && p != s->rx_tail) {
		rx_free(p);
		p = NULL;
	}
	*first = p;
	if (!p) {
		s->rxq_head = (s->rxq_head + 1) % RXQ_MAX;
		s->rxq_n--;
	}
	return done;
}

/* Let go of every entry (the socket closes). */
static void rx_drop_all(struct sock *s)
{
	for (; s->rxq_n; s->rxq_n--, s->rxq_head = (s->rxq_head + 1) % RXQ_MAX)
		rx_free(s->rxq[s->rxq_head]);
	s->rx_tail = NULL;
}

/* ---- lwIP's callbacks ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;

	if (!p) {
		s->eof = true;
	} else {
		rcv_window_measure(&s->rw, p);
		if (rx_append(s, p) != ERR_OK)
			return ERR_MEM;         /* lwIP keeps it and offers it again */
	}
	sock_changed(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	sock_changed(arg);
	return ERR_OK;
}

/* The pcb is gone (reset, timeout, abort): lwIP has freed it. */
static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;

	if (!s)
		return;
	s->tcp = NULL;
	s->err = err == ERR_RST && s->connecting ? SOCK_ECONNREFUSED : sock_errno(err);
	s->connected = s->connecting = false;
	s->eof = true;
	sock_changed(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;

	s->connecting = false;
	s->connected = true;
	sock_changed(s);
	return ERR_OK;
}

static void tcp_hooks(struct sock *s, struct tcp_pcb *pcb)
{
	s->tcp = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *l = arg, *s;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (l->acc_n == ACCEPT_QUEUE_MAX || !(s = sock_alloc(l->session, SOCK_STREAM))) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	tcp_hooks(s, pcb);
	/* Until the client accepts it, the connection counts against the
	 * listener's backlog (at most ACCEPT_QUEUE_MAX, tcp_sock_listen), so
	 * lwIP drops the SYNs past it, as Linux does when its accept queue is
	 * full (the peer sends its SYN again), instead of this queue
	 * resetting connections it has already answered. lwIP gives the
	 * count back when the connection goes before it is accepted. */
	tcp_backlog_delayed(pcb);
	s->connected = s->unaccepted = true;
	l->accq[l->acc_n++] = (int)(s - l->session->socks);
	sock_changed(l);
	return ERR_OK;
}

/* ---- the calls ---- */

static int tcp_sock_open(struct sock *s)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);

	if (!pcb)
		return SOCK_ENOMEM;
	tcp_hooks(s, pcb);
	return 0;
}

/* Whether a pcb of any of lwIP's lists (listening, bound, active,
 * TIME-WAIT) has port. */
static bool tcp_port_in_use(uint16_t port)
{
	for (int i = 0; i < NUM_TCP_PCB_LISTS; i++)
		for (const struct tcp_pcb *p = *tcp_pcb_lists[i]; p; p = p->next)
			if (p->local_port == port)
				return true;
	return false;
}

static int tcp_sock_bind(struct sock *s, const ip_addr_t *a, uint16_t port, uint64_t *out)
{
	if (!s->tcp || s->listening || s->connected || s->connecting)
		return SOCK_EINVAL;
	ip_set_option(s->tcp, SOF_REUSEADDR);
	err_t e = tcp_bind(s->tcp, a, port ? port : sock_random_port(tcp_port_in_use));
	out[0] = s->tcp->local_port;
	return sock_errno(e);
}

static int tcp_sock_listen(struct sock *s, uint64_t backlog)
{
	err_t e = ERR_OK;

	if (!s->tcp || s->connected || s->connecting)
		return SOCK_EINVAL;
	if (s->listening)
		return 0;
	if (backlog == 0 || backlog > ACCEPT_QUEUE_MAX)
		backlog = ACCEPT_QUEUE_MAX;
	if (!s->tcp->local_port)
		tcp_bind(s->tcp, IP4_ADDR_ANY, sock_random_port(tcp_port_in_use));
	struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->tcp, (u8_t)backlog, &e);
	if (!l)
		return sock_errno(e);
	s->tcp = l;             /* the old pcb is freed */
	s->listening = true;
	tcp_arg(l, s);
	tcp_accept(l, on_accept);
	return 0;
}

static int tcp_sock_accept(struct sock *l, uint64_t *out, unsigned *n)
{
	if (!l->listening)
		return SOCK_EINVAL;
	if (!l->acc_n)
		return l->err ? sock_take_err(l) : SOCK_WAIT;
	int idx = l->accq[0];
	memmove(l->accq, l->accq + 1, --l->acc_n * sizeof(l->accq[0]));
	struct sock *s = &l->session->socks[idx];
	s->unaccepted = false;
	if (s->tcp)
		tcp_backlog_accepted(s->tcp);
	out[0] = (uint64_t)idx;
	out[1] = s->tcp ? ip4_addr_get_u32(ip_2_ip4(&s->tcp->remote_ip)) : 0;
	out[2] = s->tcp ? s->tcp->remote_port : 0;
	*n = 3;
	return 0;
}

static int tcp_sock_connect(struct sock *s, const ip_addr_t *a, uint16_t port)
{
	if (s->listening || !s->tcp)
		return SOCK_EINVAL;
	if (s->connected)
		return SOCK_EISCONN;
	if (s->connecting)
		return SOCK_EALREADY;
	/* (tcp_connect binds an unbound socket to lwIP's next port.) */
	uint16_t mine = s->tcp->local_port ? 0 : sock_random_port(tcp_port_in_use);
	err_t e = ERR_OK;
	if (mine) {
		ip_set_option(s->tcp, SOF_REUSEADDR);
		e = tcp_bind(s->tcp, IP4_ADDR_ANY, mine);
	}
	if (e == ERR_OK)
		e = tcp_connect(s->tcp, a, port, on_connected);
	if (e != ERR_OK)
		return sock_errno(e);
	s->connecting = true;
	return SOCK_WAIT;
}

static int tcp_sock_connect_done(struct sock *s)
{
	if (s->connecting)
		return SOCK_WAIT;
	if (s->connected)
		return 0;
	return s->err ? sock_take_err(s) : SOCK_ECONNABORTED;
}

static int tcp_sock_recv(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	uint8_t *to = s->session->buf + w[1];
	uint64_t len = w[2], done = 0;

	if (s->listening)
		return SOCK_EINVAL;
	if (!s->rxq_n) {
		if (s->err)
			return sock_take_err(s);
		if (!s->eof)
			return s->connected || s->connecting ? SOCK_WAIT : SOCK_ENOTCONN;
	}
	while (s->rxq_n && done < len) {
		uint64_t left = len - done;
		done += rx_take(s, to + done, (uint32_t)(left < 0xFFFF ? left : 0xFFFF));
	}
	/* The window opened by what was read, at once, as far as the
	 * buffers its segments take allow (rcv_window.c): one window update
	 * for a read, not one for every chunk it emptied. */
	if (s->tcp && done)
		rcv_window_recved(&s->rw, s->tcp, (uint32_t)done);
	out[0] = done;          /* 0 at the end of the stream */
	*n = 1;
	return 0;
}

/* The segment size tcp_write cuts data into (as it computes it): a write
 * needs a send queue entry per segment, so a longer one than the queue
 * holds would fail however long it waited (a peer's tiny MSS or window). */
static uint32_t send_mss(const struct tcp_pcb *pcb)
{
	uint32_t mss = pcb->mss, half_window = pcb->snd_wnd_max / 2;

	if (half_window && half_window < mss)
		mss = half_window;
	return mss ? mss : 1;
}

/* What a send may take now: the send buffer's room, as far as the send
 * queue has entries left for its segments. (pcb->snd_buf itself:
 * lwIP's tcp_sndbuf() says at most 64 KiB.) */
static uint32_t send_room(const struct tcp_pcb *pcb)
{
	uint32_t room = pcb->snd_buf, queued = tcp_sndqueuelen(pcb);

	if (queued >= TCP_SND_QUEUELEN - 4)
		return 0;
	if (room > (TCP_SND_QUEUELEN - 4 - queued) * send_mss(pcb))
		room = (TCP_SND_QUEUELEN - 4 - queued) * send_mss(pcb);
	return room;
}

/* Writable, as Linux's sk_stream_is_writeable says it: when the room
 * is at least half of what is queued, so a writer woken by poll finds
 * room for a large write, not for a segment at a time. */
static bool tcp_writable(const struct tcp_pcb *pcb)
{
	uint32_t room = send_room(pcb), queued = TCP_SND_BUF - pcb->snd_buf;

	return room > 0 && room >= queued / 2;
}

/* As much of the data as there is room for, in tcp_write's pieces of at
 * most 64 KiB: one call fills the send buffer. */
static int tcp_sock_send(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	uint64_t len = w[2], done = 0;
	uint32_t room;

	if (s->err)
		return sock_take_err(s);
	if (!s->tcp || s->listening || (!s->connected && !s->connecting))
		return s->eof ? SOCK_EPIPE : SOCK_ENOTCONN;
	if (s->connecting)
		return SOCK_WAIT;
	while (done < len && (room = send_room(s->tcp)) > 0) {
		uint64_t left = len - done;
		uint16_t chunk = (uint16_t)(left < room ? (left < 0xFFFF ? left : 0xFFFF)
						 : (room < 0xFFFF ? room : 0xFFFF));
		/* PSH on the call's last segment only: lwIP sets it at the
		 * end of every tcp_write, and a PSH ends the aggregate a NIC
		 * that cuts segments gets (segment_coalesce). */
		err_t e = tcp_write(s->tcp, s->session->buf + w[1] + done, chunk,
				    TCP_WRITE_FLAG_COPY |
				    (done + chunk < len ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK) {
			if (done)
				break;
			return sock_errno(e);
		}
		done += chunk;
	}
	if (len && !done)
		return SOCK_WAIT;
	tcp_output(s->tcp);
	out[0] = done;
	out[1] = send_room(s->tcp);
	*n = 2;
	return 0;
}

static int tcp_sock_name(struct sock *s, bool peer, uint64_t *out)
{
	if (!s->tcp || (peer && !s->connected))
		return SOCK_ENOTCONN;
	out[0] = ip4_addr_get_u32(ip_2_ip4(peer ? &s->tcp->remote_ip : &s->tcp->local_ip));
	out[1] = peer ? s->tcp->remote_port : s->tcp->local_port;
	return 0;
}

static unsigned tcp_sock_poll(struct sock *s)
{
	unsigned bits = 0;

	if (s->listening)
		return s->acc_n ? SOCK_POLLIN : 0;
	if (s->rxq_n || s->eof)
		bits |= SOCK_POLLIN;
	if (s->eof && !s->rxq_n)
		bits |= SOCK_POLLHUP;
	if (s->tcp && s->connected && tcp_writable(s->tcp))
		bits |= SOCK_POLLOUT;
	return bits;
}

static int tcp_sock_shutdown(struct sock *s, uint64_t how)
{
	if (!s->tcp || !s->connected)
		return SOCK_ENOTCONN;
	return sock_errno(tcp_shutdown(s->tcp, how != SOCK_SHUT_WR, how != SOCK_SHUT_RD));
}

static int tcp_sock_setopt(struct sock *s, uint64_t option, uint64_t value)
{
	if (!s->tcp)
		return SOCK_ENOPROTOOPT;
	switch (option) {
	case SOCK_OPT_NODELAY:
		if (value)
			tcp_nagle_disable(s->tcp);
		else
			tcp_nagle_enable(s->tcp);
		return 0;
	case SOCK_OPT_KEEPALIVE:
		if (value)
			ip_set_option(s->tcp, SOF_KEEPALIVE);
		else
			ip_reset_option(s->tcp, SOF_KEEPALIVE);
		return 0;
	default:
		return SOCK_ENOPROTOOPT;
	}
}

static void tcp_sock_close(struct sock *s)
{
	if (s->tcp) {
		tcp_arg(s->tcp, NULL);
		if (s->listening) {
			tcp_accept(s->tcp, NULL);
		} else {
			tcp_recv(s->tcp, NULL);
			tcp_sent(s->tcp, NULL);
			tcp_err(s->tcp, NULL);
			rcv_window_release(&s->rw, s->tcp);     /* else lwIP resets it */
		}
		if (tcp_close(s->tcp) != ERR_OK)
			tcp_abort(s->tcp);
	}
	for (unsigned i = 0; i < s->acc_n; i++)
		sock_close(&s->session->socks[s->accq[i]]);
	rx_drop_all(s);
}

const struct sock_ops sock_tcp_ops = {
	.open = tcp_sock_open,
	.bind = tcp_sock_bind,
	.connect = tcp_sock_connect,
	.connect_done = tcp_sock_connect_done,
	.recv = tcp_sock_recv,
	.send = tcp_sock_send,
	.name = tcp_sock_name,
	.poll = tcp_sock_poll,
	.close = tcp_sock_close,
	.listen = tcp_sock_listen,
	.accept = tcp_sock_accept,
	.shutdown = tcp_sock_shutdown,
	.setopt = tcp_sock_setopt,
};
