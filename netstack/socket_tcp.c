/*
 * The socket service's stream sockets (SOCK_STREAM) over lwIP's raw TCP
 * interface. lwIP's callbacks note what happened in the socket and mark
 * its session for a readiness signal; the calls (struct sock_ops) act on
 * that state and return SOCK_WAIT when they must wait.
 *
 * Received data waits in the socket's entries (socket_rx.c) and is
 * acknowledged to lwIP (tcp_recved, opening the window again) only as
 * the client reads it.
 */
#include "socket_service.h"
#include "lwip/priv/tcp_priv.h"     /* tcp_pcb_lists, NUM_TCP_PCB_LISTS */
#include "lwip/stats.h"             /* lwip_stats.memp: send_limit */

/* ---- lwIP's callbacks ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;

	if (!p) {
		s->eof = true;
	} else {
		rcv_window_measure(&s->rw, p);
		if (sock_rx_append(s, p) != ERR_OK)
			return ERR_MEM;         /* lwIP keeps it and offers it again */
		rcv_window_ack_policy(&s->rw, pcb);     /* an ACK the reader's update makes */
		if (s->rx_told && !s->every_edge)
			return ERR_OK;          /* readable already, and told so */
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
	struct session *se = s->session;
	uint8_t *to = se->buf + w[1];
	uint64_t len = w[2], done = 0;
	struct rx_lend lend, *l = NULL;

	if (s->listening)
		return SOCK_EINVAL;
	if (w[3] & SOCK_RECV_LEND) {
		/* Only answered at once (a call that waited would lend while
		 * the client's other calls may go on), and the table inside
		 * the buffer, aligned. */
		if (!se->lend || !(w[3] & SOCK_NONBLOCK) || !w[5] || w[5] > SOCK_LEND_SLICES ||
		    w[4] % 8)
			return SOCK_EINVAL;
		if (w[4] > se->size || w[5] * sizeof(struct sock_slice) > se->size - w[4])
			return SOCK_EFAULT;
		lend = (struct rx_lend){ .slices = (struct sock_slice *)(se->buf + w[4]),
					 .max = (unsigned)w[5] };
		l = &lend;
	}
	if (!s->rxq_n) {
		s->rx_told = false;     /* it learns there is nothing (or an end) */
		if (s->err)
			return sock_take_err(s);
		if (!s->eof)
			return s->connected || s->connecting ? SOCK_WAIT : SOCK_ENOTCONN;
	}
	while (s->rxq_n && done < len) {
		uint64_t left = len - done;
		uint32_t got = sock_rx_take(s, to + done, (uint32_t)(left < 0xFFFF ? left : 0xFFFF), l);
		if (!got)
			break;          /* the slice table is full */
		done += got;
	}
	/* The window opened by what was read (or lent: the client has it
	 * now, as a copy would give it), at once, as far as the buffers its
	 * segments take allow (rcv_window.c): one window update for a read,
	 * not one for every chunk it emptied. */
	if (s->tcp && done)
		rcv_window_recved(&s->rw, s->tcp, (uint32_t)done);
	out[0] = done;          /* 0 at the end of the stream */
	out[1] = out[2] = 0;
	out[3] = l ? l->n : 0;
	out[4] = sock_poll_told(s);     /* what is left: the client's next poll */
	*n = 5;
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

/* The send queue entries a connection may fill now. lwIP's TCP segments
 * are one pool for every connection (MEMP_NUM_TCP_SEG, 4096), and one
 * connection's queue may take 2868 of them (TCP_SND_QUEUELEN): a peer
 * that stops reading what three connections send (at its MSS of
 * 536: about 1960 segments each for 1 MiB) took the pool, and every other
 * connection's SYN-ACK and data failed (ERR_MEM) until it read again.
 * So a send takes no segment of the pool's last quarter (SEG_RESERVE:
 * SYN-ACKs, FINs, out-of-order segments, small queues), except that a
 * connection may always have SEG_FLOOR entries queued. A connection held
 * back so has at least SEG_FLOOR queued, so its tcp_sent will tell its
 * client when there is room again. */
#if !MEMP_STATS
#error "send_limit counts lwIP's TCP segments in use (MEMP_STATS)"
#endif
#define SEG_RESERVE (MEMP_NUM_TCP_SEG / 4)
#define SEG_FLOOR   32

static uint32_t send_limit(uint32_t queued)
{
	uint32_t used = lwip_stats.memp[MEMP_TCP_SEG]->used, limit = TCP_SND_QUEUELEN - 4;
	uint32_t spare = used + SEG_RESERVE < MEMP_NUM_TCP_SEG ? MEMP_NUM_TCP_SEG - SEG_RESERVE - used : 0;

	if (queued + spare < limit)
		limit = queued + spare > SEG_FLOOR ? queued + spare : SEG_FLOOR;
	return limit;
}

/* What a send may take now: the send buffer's room, as far as the send
 * queue has entries left for its segments (send_limit). (pcb->snd_buf
 * itself: lwIP's tcp_sndbuf() says at most 64 KiB.) */
static uint32_t send_room(const struct tcp_pcb *pcb)
{
	uint32_t room = pcb->snd_buf, queued = tcp_sndqueuelen(pcb), limit = send_limit(queued);

	if (queued >= limit)
		return 0;
	if (room > (limit - queued) * send_mss(pcb))
		room = (limit - queued) * send_mss(pcb);
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
	/* By reference: only from the standing offer (proto/socket.h). */
	struct tx_lend_run *run = NULL;
	if ((w[3] & SOCK_SEND_LENT) && !(run = tx_lend_begin(s, w[1], len)))
		return SOCK_EINVAL;
	while (done < len && (room = send_room(s->tcp)) > 0) {
		uint64_t left = len - done;
		uint16_t chunk = (uint16_t)(left < room ? (left < 0xFFFF ? left : 0xFFFF)
						 : (room < 0xFFFF ? room : 0xFFFF));
		/* PSH on the call's last segment only: lwIP sets it at the
		 * end of every tcp_write, and a PSH ends the aggregate a NIC
		 * that cuts segments gets (segment_coalesce). */
		err_t e = tcp_write(s->tcp, s->session->buf + w[1] + done, chunk,
				    (run ? 0 : TCP_WRITE_FLAG_COPY) |
				    (done + chunk < len ? TCP_WRITE_FLAG_MORE : 0));
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK) {
			if (done)
				break;
			if (run)
				tx_lend_end(s, run, 0);
			return sock_errno(e);
		}
		done += chunk;
	}
	if (run)
		tx_lend_end(s, run, (uint32_t)done);
	if (len && !done)
		return SOCK_WAIT;
	tcp_output(s->tcp);
	out[0] = done;
	out[1] = send_room(s->tcp);
	tx_lend_offer(s, &out[2]);
	*n = 4;
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
	if (option == SOCK_OPT_EVERY_EDGE) {
		s->every_edge = value != 0;
		return 0;
	}
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
	sock_rx_drop_all(s);
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
