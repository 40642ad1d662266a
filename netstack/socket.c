/*
 * The socket service (proto/socket.h, docs/netstack.md): sessions of
 * sockets over lwIP's raw TCP and UDP interfaces.
 *
 * A call that must wait (ACCEPT, CONNECT, SEND, RECV) keeps its caller's
 * reply object in the socket's pending slot for its direction, and
 * socket_poll answers it when lwIP's callbacks have made it possible.
 * Received TCP data waits in the socket as lwIP gave it (pbufs that may
 * still be driver pool buffers) and is acknowledged to lwIP (tcp_recved,
 * opening the window again) only as the client reads it.
 */
#include "netstack.h"

#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define UDP_QUEUE_MAX    64                    /* datagrams waiting per socket */
#define ACCEPT_QUEUE_MAX 16
#define RXQ_MAX          8     /* received chains per TCP socket, each < 64 KiB */

struct pending {
	cap_slot_t reply;               /* CAP_SLOT_NONE: nothing waits */
	uint64_t label, w[6];
};

struct dgram {
	struct dgram *next;
	struct pbuf *p;
	uint32_t addr;
	uint16_t port;
};

struct session;

struct sock {
	struct session *session;
	uint8_t type;                   /* 0: free */
	bool listening, connecting, connected, eof, unaccepted;
	int err;                        /* an error to report once (SOCK_E*) */
	struct tcp_pcb *tcp;
	struct udp_pcb *udp;
	/* TCP: received, not yet read, oldest first. A pbuf chain counts its
	 * length in 16 bits, so data is kept in up to RXQ_MAX chains. */
	struct pbuf *rxq[RXQ_MAX];
	unsigned rxq_head, rxq_n;
	struct dgram *dq, *dq_tail;     /* UDP: received datagrams */
	unsigned dq_len;
	int accq[ACCEPT_QUEUE_MAX];     /* listener: connections not yet accepted */
	unsigned acc_n;
	struct pending rd, wr;
};

struct session {
	bool used, signal;
	uint8_t *buf;
	uint64_t size, client_va;
	cap_slot_t notif;
	struct sock socks[SOCK_MAX_SOCKETS];
};

static struct session sessions[SOCK_MAX_SESSIONS];
static cap_slot_t service_ep, recv_slot;
static unsigned waiting;                /* pending calls, all sessions */
static uint64_t udp_dropped;

/* ---- replies ---- */

static void answer(cap_slot_t reply, uint64_t err, const uint64_t *w, unsigned n)
{
	struct msg m = msg_from_words(err, w, err ? 0 : n);
	ipc_reply(reply, &m);
}

/* Answer a waiting call and let go of its reply object. */
static void complete(struct pending *pd, uint64_t err, const uint64_t *w, unsigned n)
{
	answer(pd->reply, err, w, n);
	sys_cap_delete(pd->reply);
	slot_free(pd->reply);
	pd->reply = CAP_SLOT_NONE;
	waiting--;
}

static bool defer(struct pending *pd, cap_slot_t reply, const struct msg *m, const uint64_t *w)
{
	if (pd->reply != CAP_SLOT_NONE) {
		answer(reply, SOCK_EBUSY, NULL, 0);
		return true;
	}
	pd->reply = reply;
	pd->label = ipc_tag_label(m->tag);
	memcpy(pd->w, w, sizeof(pd->w));
	waiting++;
	return false;
}

static int lwip_errno(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: case ERR_BUF: return SOCK_ENOMEM;
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

static void changed(struct sock *s)
{
	s->session->signal = true;
}

/* ---- lwIP callbacks ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;

	if (!p) {
		s->eof = true;
	} else {
		struct pbuf **last = s->rxq_n ? &s->rxq[(s->rxq_head + s->rxq_n - 1) % RXQ_MAX] : NULL;
		if (last && (uint32_t)(*last)->tot_len + p->tot_len <= 0xFFFF)
			pbuf_cat(*last, p);
		else if (s->rxq_n < RXQ_MAX)
			s->rxq[(s->rxq_head + s->rxq_n++) % RXQ_MAX] = p;
		else
			return ERR_MEM;         /* lwIP keeps it and offers it again */
	}
	changed(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	changed(arg);
	return ERR_OK;
}

/* The pcb is gone (reset, timeout, abort): lwIP has freed it. */
static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;

	if (!s)
		return;
	s->tcp = NULL;
	s->err = err == ERR_RST && s->connecting ? SOCK_ECONNREFUSED : lwip_errno(err);
	s->connected = s->connecting = false;
	s->eof = true;
	changed(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;

	s->connecting = false;
	s->connected = true;
	changed(s);
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

static struct sock *sock_alloc(struct session *se, uint8_t type)
{
	for (unsigned i = 0; i < SOCK_MAX_SOCKETS; i++) {
		struct sock *s = &se->socks[i];
		if (!s->type) {
			*s = (struct sock){ .session = se, .type = type, .rd.reply = CAP_SLOT_NONE,
					    .wr.reply = CAP_SLOT_NONE };
			return s;
		}
	}
	return NULL;
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
	s->connected = s->unaccepted = true;
	l->accq[l->acc_n++] = (int)(s - l->session->socks);
	changed(l);
	return ERR_OK;
}

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	struct sock *s = arg;
	struct dgram *d;

	if (s->dq_len == UDP_QUEUE_MAX || !(d = mem_malloc(sizeof(*d)))) {
		udp_dropped++;
		pbuf_free(p);
		return;
	}
	*d = (struct dgram){ .p = p, .addr = ip4_addr_get_u32(ip_2_ip4(addr)), .port = port };
	if (s->dq_tail)
		s->dq_tail->next = d;
	else
		s->dq = d;
	s->dq_tail = d;
	s->dq_len++;
	changed(s);
}

/* ---- the calls ---- */

static unsigned poll_bits(struct sock *s)
{
	unsigned bits = 0;

	if (s->err)
		bits |= SOCK_POLLERR;
	if (s->type == SOCK_DGRAM)
		return bits | (s->dq ? SOCK_POLLIN : 0) | SOCK_POLLOUT;
	if (s->listening)
		return bits | (s->acc_n ? SOCK_POLLIN : 0);
	if (s->rxq_n || s->eof)
		bits |= SOCK_POLLIN;
	if (s->eof && !s->rxq_n)
		bits |= SOCK_POLLHUP;
	if (s->tcp && s->connected && tcp_sndbuf(s->tcp) > 0 &&
	    tcp_sndqueuelen(s->tcp) < TCP_SND_QUEUELEN)
		bits |= SOCK_POLLOUT;
	return bits;
}

static bool in_buffer(struct session *se, uint64_t off, uint64_t len)
{
	return off <= se->size && len <= se->size - off;
}

/* The error to report now, if any (reported once). */
static int take_err(struct sock *s)
{
	int e = s->err;
	s->err = 0;
	return e;
}

/*
 * Try a receive-side call (RECV, ACCEPT) or send-side call (SEND,
 * CONNECT). Returns 0 and fills out/n when done, an errno, or -1 when it
 * must wait.
 */
static int try_recv(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	struct session *se = s->session;
	uint64_t off = w[1], len = w[2];

	if (!in_buffer(se, off, len))
		return SOCK_EFAULT;
	if (s->type == SOCK_DGRAM) {
		struct dgram *d = s->dq;
		if (!d)
			return s->err ? take_err(s) : -1;
		uint16_t copy = (uint16_t)(d->p->tot_len < len ? d->p->tot_len : len);
		pbuf_copy_partial(d->p, se->buf + off, copy, 0);
		out[0] = copy;
		out[1] = d->addr;
		out[2] = d->port;
		out[3] = d->p->tot_len;      /* the datagram's whole length */
		*n = 4;
		if (!(s->dq = d->next))
			s->dq_tail = NULL;
		s->dq_len--;
		pbuf_free(d->p);
		mem_free(d);
		return 0;
	}
	if (s->listening)
		return SOCK_EINVAL;
	if (s->rxq_n) {
		uint64_t done = 0;
		while (s->rxq_n && done < len) {
			struct pbuf **first = &s->rxq[s->rxq_head];
			uint16_t copy = (uint16_t)((*first)->tot_len < len - done ? (*first)->tot_len
										 : len - done);
			pbuf_copy_partial(*first, se->buf + off + done, copy, 0);
			if (!(*first = pbuf_free_header(*first, copy))) {
				s->rxq_head = (s->rxq_head + 1) % RXQ_MAX;
				s->rxq_n--;
			}
			if (s->tcp)
				tcp_recved(s->tcp, copy);
			done += copy;
		}
		out[0] = done;
		*n = 1;
		return 0;
	}
	if (s->err)
		return take_err(s);
	if (s->eof) {
		out[0] = 0;
		*n = 1;
		return 0;
	}
	if (!s->connected && !s->connecting)
		return SOCK_ENOTCONN;
	return -1;
}

static int try_accept(struct sock *l, uint64_t *out, unsigned *n)
{
	if (!l->listening)
		return SOCK_EINVAL;
	if (!l->acc_n)
		return l->err ? take_err(l) : -1;
	int idx = l->accq[0];
	memmove(l->accq, l->accq + 1, --l->acc_n * sizeof(l->accq[0]));
	struct sock *s = &l->session->socks[idx];
	s->unaccepted = false;
	out[0] = (uint64_t)idx;
	out[1] = s->tcp ? ip4_addr_get_u32(ip_2_ip4(&s->tcp->remote_ip)) : 0;
	out[2] = s->tcp ? s->tcp->remote_port : 0;
	*n = 3;
	return 0;
}

static int try_send(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	struct session *se = s->session;
	uint64_t off = w[1], len = w[2];

	if (!in_buffer(se, off, len))
		return SOCK_EFAULT;
	if (s->type == SOCK_DGRAM) {
		if (len > 65507)
			return SOCK_EMSGSIZE;
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
		if (!p)
			return SOCK_ENOMEM;
		pbuf_take(p, se->buf + off, (u16_t)len);
		ip_addr_t to;
		err_t e;
		if (w[4]) {
			ip_addr_set_ip4_u32(&to, (uint32_t)w[4]);
			e = udp_sendto(s->udp, p, &to, (u16_t)w[5]);
		} else {
			e = (s->udp->flags & UDP_FLAGS_CONNECTED) ? udp_send(s->udp, p) : ERR_CONN;
		}
		pbuf_free(p);
		if (e == ERR_CONN)
			return SOCK_ENOTCONN;
		if (e != ERR_OK)
			return lwip_errno(e);
		out[0] = len;
		*n = 1;
		return 0;
	}
	if (s->err)
		return take_err(s);
	if (!s->tcp || s->listening || (!s->connected && !s->connecting))
		return s->eof ? SOCK_EPIPE : SOCK_ENOTCONN;
	if (s->connecting)
		return -1;
	uint32_t room = tcp_sndbuf(s->tcp);
	if (tcp_sndqueuelen(s->tcp) >= TCP_SND_QUEUELEN - 4)
		room = 0;
	if (len && !room)
		return -1;
	uint16_t chunk = (uint16_t)(len < room ? len : room);
	err_t e = chunk ? tcp_write(s->tcp, se->buf + off, chunk, TCP_WRITE_FLAG_COPY) : ERR_OK;
	if (e == ERR_MEM)
		return -1;
	if (e != ERR_OK)
		return lwip_errno(e);
	tcp_output(s->tcp);
	out[0] = chunk;
	*n = 1;
	return 0;
}

static int try_connect(struct sock *s, uint64_t *out, unsigned *n)
{
	if (s->connecting)
		return -1;
	*n = 0;
	if (s->connected)
		return 0;
	return s->err ? take_err(s) : SOCK_ECONNABORTED;
}

static void sock_close(struct sock *s)
{
	static const uint64_t none[1];

	if (s->rd.reply != CAP_SLOT_NONE)
		complete(&s->rd, SOCK_EBADF, none, 0);
	if (s->wr.reply != CAP_SLOT_NONE)
		complete(&s->wr, SOCK_EBADF, none, 0);
	if (s->tcp) {
		tcp_arg(s->tcp, NULL);
		if (s->listening) {
			tcp_accept(s->tcp, NULL);
		} else {
			tcp_recv(s->tcp, NULL);
			tcp_sent(s->tcp, NULL);
			tcp_err(s->tcp, NULL);
		}
		if (tcp_close(s->tcp) != ERR_OK)
			tcp_abort(s->tcp);
	}
	for (unsigned i = 0; i < s->acc_n; i++)
		sock_close(&s->session->socks[s->accq[i]]);
	if (s->udp)
		udp_remove(s->udp);
	for (; s->rxq_n; s->rxq_n--, s->rxq_head = (s->rxq_head + 1) % RXQ_MAX)
		pbuf_free(s->rxq[s->rxq_head]);
	while (s->dq) {
		struct dgram *d = s->dq;
		s->dq = d->next;
		pbuf_free(d->p);
		mem_free(d);
	}
	s->type = 0;
}

static void session_end(struct session *se)
{
	for (unsigned i = 0; i < SOCK_MAX_SOCKETS; i++)
		if (se->socks[i].type)
			sock_close(&se->socks[i]);
	/* Take the buffer back from the client (the netstack keeps its own). */
	sys_mem_unmap(fpage((uint64_t)se->buf, log2_ceil(se->size)), 0);
	if (se->notif != CAP_SLOT_NONE) {
		sys_cap_delete(se->notif);
		slot_free(se->notif);
	}
	se->used = false;
}

static uint64_t open_session(struct msg *m, const uint64_t *w, cap_slot_t *session_cap)
{
	struct ipc_buffer *b = ipc_buffer();
	uint64_t log2 = w[0], va = w[1];

	if (log2 < 12 || log2 > SOCK_BUFFER_MAX_LOG2 || (va & ((1UL << log2) - 1)) ||
	    va >= USER_SPACE_TOP)
		return SOCK_EINVAL;
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS; i++) {
		struct session *se = &sessions[i];
		if (se->used)
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
			uint64_t max = 1UL << SOCK_BUFFER_MAX_LOG2;
			uint8_t *mem = mem_heap(2 * max);
			if (!mem) {
				sys_cap_delete(cap);
				slot_free(cap);
				return SOCK_ENOMEM;
			}
			se->buf = (uint8_t *)(((uintptr_t)mem + max - 1) & ~(max - 1));
		}
		se->size = 1UL << log2;
		memset(se->buf, 0, se->size);
		se->client_va = va;
		se->used = true;
		se->notif = CAP_SLOT_NONE;
		if (b->recv_cap_count) {
			se->notif = recv_slot;
			recv_slot = slot_alloc();
			b->recv_cap_slot = recv_slot;
		}
		*session_cap = cap;
		*m = (struct msg){ .tag = ipc_tag(0, 0, 2) };
		b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		b->items[0][1] = cap;
		b->items[1][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE, va);
		b->items[1][1] = fpage((uint64_t)se->buf, (unsigned)log2);
		return 0;
	}
	return SOCK_EMFILE;
}

static uint64_t if_stats(uint64_t index, uint64_t *out)
{
	struct net_if_info info = { 0 };

	if (index >= nifaces)
		return SOCK_EINVAL;
	struct iface *n = &ifaces[index];
	memcpy(info.name, n->cfg.name, sizeof(info.name) - 1);
	for (int i = 0; i < 6; i++)
		info.mac |= (uint64_t)n->netif.hwaddr[i] << (8 * i);
	info.addr = ip4_addr_get_u32(netif_ip4_addr(&n->netif));
	info.mask = ip4_addr_get_u32(netif_ip4_netmask(&n->netif));
	info.gw = ip4_addr_get_u32(netif_ip4_gw(&n->netif));
	info.flags = (info.addr ? NET_IF_UP : 0) | (n->cfg.dhcp ? NET_IF_DHCP : 0);
	iface_counters(n, &info.count);
	memcpy(out, &info, sizeof(info));
	return 0;
}

static void proto_stats(uint64_t *out)
{
	struct stats_ *st = &lwip_stats;
	struct net_proto_stats p = {
		.link_recv = st->link.recv, .link_drop = st->link.drop, .link_err = st->link.err,
		.arp_recv = st->etharp.recv, .arp_drop = st->etharp.drop,
		.ip_recv = st->ip.recv, .ip_drop = st->ip.drop, .ip_chkerr = st->ip.chkerr,
		.ip_lenerr = st->ip.lenerr, .ip_proterr = st->ip.proterr, .ip_opterr = st->ip.opterr,
		.icmp_recv = st->icmp.recv, .icmp_drop = st->icmp.drop,
		.icmp_chkerr = st->icmp.chkerr, .icmp_lenerr = st->icmp.lenerr,
		.udp_recv = st->udp.recv, .udp_drop = st->udp.drop, .udp_chkerr = st->udp.chkerr,
		.udp_lenerr = st->udp.lenerr,
		.tcp_recv = st->tcp.recv, .tcp_drop = st->tcp.drop, .tcp_chkerr = st->tcp.chkerr,
		.tcp_lenerr = st->tcp.lenerr, .tcp_proterr = st->tcp.proterr,
		.sock_udp_dropped = udp_dropped,
	};
	memcpy(out, &p, sizeof(p));
}

/* A call on the unbadged endpoint. */
static void control_request(struct msg *m, cap_slot_t reply, const uint64_t *w)
{
	uint64_t out[32] = { 0 };

	switch (ipc_tag_label(m->tag)) {
	case SOCK_SESSION: {
		cap_slot_t cap = CAP_SLOT_NONE;
		uint64_t err = open_session(m, w, &cap);
		if (err) {
			answer(reply, err, NULL, 0);
		} else {
			ipc_reply(reply, m);
			sys_cap_delete(cap);   /* the client's copy stays */
			slot_free(cap);
		}
		return;
	}
	case NET_IF_STATS: {
		uint64_t err = if_stats(w[0], out);
		answer(reply, err, out, NET_IF_INFO_WORDS);
		return;
	}
	case NET_PROTO_STATS:
		proto_stats(out);
		answer(reply, 0, out, NET_PROTO_STATS_WORDS);
		return;
	default:
		answer(reply, SOCK_ENOSYS, NULL, 0);
		return;
	}
}

static int do_open(struct session *se, const uint64_t *w, uint64_t *out)
{
	struct sock *s = sock_alloc(se, (uint8_t)w[0]);

	if (w[0] != SOCK_STREAM && w[0] != SOCK_DGRAM)
		return SOCK_EPROTOTYPE;
	if (!s)
		return SOCK_EMFILE;
	s->type = (uint8_t)w[0];
	if (s->type == SOCK_STREAM) {
		struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
		if (!pcb) {
			s->type = 0;
			return SOCK_ENOMEM;
		}
		tcp_hooks(s, pcb);
	} else {
		if (!(s->udp = udp_new_ip_type(IPADDR_TYPE_V4))) {
			s->type = 0;
			return SOCK_ENOMEM;
		}
		udp_recv(s->udp, on_udp, s);
	}
	out[0] = (uint64_t)(s - se->socks);
	return 0;
}

static int do_bind(struct sock *s, const uint64_t *w, uint64_t *out)
{
	ip_addr_t a;
	err_t e;

	ip_addr_set_ip4_u32(&a, (uint32_t)w[1]);
	if (w[2] > 0xFFFF)
		return SOCK_EINVAL;
	if (s->type == SOCK_DGRAM) {
		e = udp_bind(s->udp, &a, (u16_t)w[2]);
		out[0] = s->udp->local_port;
	} else {
		if (!s->tcp || s->listening || s->connected || s->connecting)
			return SOCK_EINVAL;
		ip_set_option(s->tcp, SOF_REUSEADDR);
		e = tcp_bind(s->tcp, &a, (u16_t)w[2]);
		out[0] = s->tcp->local_port;
	}
	return lwip_errno(e);
}

static int do_listen(struct sock *s, const uint64_t *w)
{
	err_t e = ERR_OK;

	if (s->type != SOCK_STREAM || !s->tcp || s->connected || s->connecting)
		return SOCK_EINVAL;
	if (s->listening)
		return 0;
	uint8_t backlog = (uint8_t)(w[1] == 0 || w[1] > ACCEPT_QUEUE_MAX ? ACCEPT_QUEUE_MAX : w[1]);
	if (!s->tcp->local_port)
		tcp_bind(s->tcp, IP4_ADDR_ANY, 0);
	struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->tcp, backlog, &e);
	if (!l)
		return lwip_errno(e);
	s->tcp = l;             /* the old pcb is freed */
	s->listening = true;
	tcp_arg(l, s);
	tcp_accept(l, on_accept);
	return 0;
}

static int do_connect(struct sock *s, const uint64_t *w)
{
	ip_addr_t a;

	ip_addr_set_ip4_u32(&a, (uint32_t)w[1]);
	if (w[2] == 0 || w[2] > 0xFFFF)
		return SOCK_EINVAL;
	if (s->type == SOCK_DGRAM)
		return lwip_errno(udp_connect(s->udp, &a, (u16_t)w[2]));
	if (s->listening || !s->tcp)
		return SOCK_EINVAL;
	if (s->connected)
		return SOCK_EISCONN;
	if (s->connecting)
		return SOCK_EALREADY;
	err_t e = tcp_connect(s->tcp, &a, (u16_t)w[2], on_connected);
	if (e != ERR_OK)
		return lwip_errno(e);
	s->connecting = true;
	return -1;
}

static int do_name(struct sock *s, const uint64_t *w, uint64_t *out)
{
	const ip_addr_t *a;
	u16_t port;

	if (s->type == SOCK_DGRAM) {
		a = w[1] ? &s->udp->remote_ip : &s->udp->local_ip;
		port = w[1] ? s->udp->remote_port : s->udp->local_port;
	} else if (s->tcp) {
		a = w[1] ? &s->tcp->remote_ip : &s->tcp->local_ip;
		port = w[1] ? s->tcp->remote_port : s->tcp->local_port;
	} else {
		return SOCK_ENOTCONN;
	}
	if (w[1] && s->type == SOCK_STREAM && !s->connected)
		return SOCK_ENOTCONN;
	out[0] = ip4_addr_get_u32(ip_2_ip4(a));
	out[1] = port;
	return 0;
}

static int do_setopt(struct sock *s, const uint64_t *w)
{
	if (s->type != SOCK_STREAM || !s->tcp)
		return SOCK_ENOPROTOOPT;
	switch (w[1]) {
	case SOCK_OPT_NODELAY:
		if (w[2])
			tcp_nagle_disable(s->tcp);
		else
			tcp_nagle_enable(s->tcp);
		return 0;
	case SOCK_OPT_KEEPALIVE:
		if (w[2])
			ip_set_option(s->tcp, SOF_KEEPALIVE);
		else
			ip_reset_option(s->tcp, SOF_KEEPALIVE);
		return 0;
	default:
		return SOCK_ENOPROTOOPT;
	}
}

/* A call on a session; true when answered, false when deferred. */
static bool session_request(struct session *se, struct msg *m, cap_slot_t reply, const uint64_t *w)
{
	uint64_t label = ipc_tag_label(m->tag), out[6] = { 0 };
	unsigned n = 0;
	int r;

	if (label == SOCK_END) {
		session_end(se);
		answer(reply, 0, NULL, 0);
		return true;
	}
	if (label == SOCK_OPEN) {
		r = do_open(se, w, out);
		answer(reply, (uint64_t)r, out, 1);
		return true;
	}
	if (label < SOCK_BIND || label > SOCK_SETOPT) {
		answer(reply, SOCK_ENOSYS, NULL, 0);
		return true;
	}
	if (w[0] >= SOCK_MAX_SOCKETS || !se->socks[w[0]].type || se->socks[w[0]].unaccepted) {
		answer(reply, SOCK_EBADF, NULL, 0);
		return true;
	}
	struct sock *s = &se->socks[w[0]];
	bool nonblock = false;
	struct pending *pd = NULL;
	switch (label) {
	case SOCK_BIND: r = do_bind(s, w, out); n = 1; break;
	case SOCK_LISTEN: r = do_listen(s, w); break;
	case SOCK_ACCEPT:
		nonblock = w[1] & SOCK_NONBLOCK;
		pd = &s->rd;
		r = pd->reply != CAP_SLOT_NONE ? SOCK_EBUSY : try_accept(s, out, &n);
		break;
	case SOCK_CONNECT:
		nonblock = w[3] & SOCK_NONBLOCK;
		pd = &s->wr;
		r = pd->reply != CAP_SLOT_NONE ? SOCK_EBUSY : do_connect(s, w);
		if (r < 0 && nonblock)
			r = SOCK_EINPROGRESS;
		break;
	case SOCK_SEND:
		nonblock = w[3] & SOCK_NONBLOCK;
		pd = &s->wr;
		r = pd->reply != CAP_SLOT_NONE ? SOCK_EBUSY : try_send(s, w, out, &n);
		break;
	case SOCK_RECV:
		nonblock = w[3] & SOCK_NONBLOCK;
		pd = &s->rd;
		r = pd->reply != CAP_SLOT_NONE ? SOCK_EBUSY : try_recv(s, w, out, &n);
		break;
	case SOCK_SHUTDOWN:
		r = 0;
		if (w[1] > SOCK_SHUT_RDWR)
			r = SOCK_EINVAL;
		else if (s->type == SOCK_STREAM && s->tcp && s->connected)
			r = lwip_errno(tcp_shutdown(s->tcp, w[1] != SOCK_SHUT_WR, w[1] != SOCK_SHUT_RD));
		else if (s->type == SOCK_STREAM)
			r = SOCK_ENOTCONN;
		break;
	case SOCK_CLOSE: sock_close(s); r = 0; break;
	case SOCK_POLL: out[0] = poll_bits(s); n = 1; r = 0; break;
	case SOCK_NAME: r = do_name(s, w, out); n = 2; break;
	default: r = do_setopt(s, w); break;
	}
	if (r < 0) {
		if (nonblock) {
			answer(reply, SOCK_EAGAIN, NULL, 0);
			return true;
		}
		return defer(pd, reply, m, w);
	}
	answer(reply, (uint64_t)r, out, n);
	return true;
}

bool socket_request(struct msg *m, cap_slot_t reply)
{
	struct ipc_buffer *b = ipc_buffer();
	uint64_t w[8];

	msg_to_words(m, w, 8);
	if (!m->badge) {
		control_request(m, reply, w);
		/* A capability SOCK_SESSION did not keep (recv_slot is then
		 * still the one it arrived in). */
		if (b->recv_cap_count)
			sys_cap_delete(recv_slot);
		return true;
	}
	if (b->recv_cap_count)
		sys_cap_delete(recv_slot);
	if (m->badge > SOCK_MAX_SESSIONS || !sessions[m->badge - 1].used) {
		answer(reply, SOCK_EBADF, NULL, 0);
		return true;
	}
	return session_request(&sessions[m->badge - 1], m, reply, w);
}

void socket_poll(void)
{
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS && waiting; i++) {
		struct session *se = &sessions[i];
		if (!se->used)
			continue;
		for (unsigned k = 0; k < SOCK_MAX_SOCKETS; k++) {
			struct sock *s = &se->socks[k];
			uint64_t out[6] = { 0 };
			unsigned n = 0;
			int r;
			if (!s->type)
				continue;
			if (s->rd.reply != CAP_SLOT_NONE) {
				r = s->rd.label == SOCK_ACCEPT ? try_accept(s, out, &n)
							       : try_recv(s, s->rd.w, out, &n);
				if (r >= 0)
					complete(&s->rd, (uint64_t)r, out, n);
			}
			if (s->wr.reply != CAP_SLOT_NONE) {
				n = 0;
				r = s->wr.label == SOCK_CONNECT ? try_connect(s, out, &n)
								: try_send(s, s->wr.w, out, &n);
				if (r >= 0)
					complete(&s->wr, (uint64_t)r, out, n);
			}
		}
	}
	for (unsigned i = 0; i < SOCK_MAX_SESSIONS; i++) {
		struct session *se = &sessions[i];
		if (se->used && se->signal && se->notif != CAP_SLOT_NONE)
			sys_notify_signal(se->notif, 1);
		se->signal = false;
	}
}

void socket_init(cap_slot_t endpoint)
{
	struct ipc_buffer *b = ipc_buffer();

	service_ep = endpoint;
	recv_slot = slot_alloc();
	b->recv_cap_slot = recv_slot;
	b->recv_window = 0;
}
