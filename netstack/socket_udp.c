/*
 * The socket service's datagram sockets (SOCK_DGRAM) over lwIP's raw UDP
 * interface. Received datagrams wait in the socket, copied out of the
 * pool into lwIP's heap, as long as what the socket's queue takes (the
 * heap blocks of each datagram's copy and record, dgram_cost) is within its
 * receive buffer (SO_RCVBUF: SOCK_OPT_RCVBUF, SOCK_RCVBUF_DEFAULT) and
 * what every socket's queue takes within UDP_QUEUED_MAX; others are
 * dropped and counted (sock_udp_dropped, on the management protocol:
 * Linux's RcvbufErrors). SOCK_RECV takes one datagram, or with
 * SOCK_RECV_MANY as many as fit, and then the socket's SOCK_POLL bits
 * (as a TCP RECV's: a datagram that comes to a socket whose client was
 * last told it is readable is not signalled, unless SOCK_OPT_EVERY_EDGE
 * asked for every one; socket_service.h, sock_poll_told). Sending never
 * waits: a datagram the interface cannot take (its transmit queue full,
 * ERR_MEM; counted in its tx_dropped) is reported as sent and counted
 * (sock_udp_send_dropped: Linux's SndbufErrors), as Linux's udp_send_skb
 * does with the ENOBUFS of a full device queue on a socket without
 * IP_RECVERR (which Mica does not have); one that cannot be allocated is
 * ENOBUFS (Linux's ip_append_data). SOCK_SEND_MANY sends several at
 * once (the POSIX server's batch: docs/posix.md), each as one SEND. An ICMP error
 * about a connected socket's datagram (icmp_error.c) is its error,
 * reported once, before any datagram queued, by its next receive or send
 * (as Linux's sock_error in __skb_recv_udp and sock_alloc_send_pskb), and
 * by poll as POLLERR until then.
 */
#include "socket_service.h"

#include "heap.h"

struct dgram {
	struct dgram *next;
	struct pbuf *p;
	uint32_t addr;                  /* the sender's, network byte order */
	uint32_t to;                    /* where it was sent, network byte order */
	uint16_t port;
	uint8_t flags;                  /* SOCK_RECV_* */
};

/* mem_malloc's word before each block it asks the heap for, for its
 * statistics (lwIP's mem.c, MEM_LIBC_STATSHELPER_SIZE). */
#if LWIP_STATS && MEM_STATS
#define MEM_STATS_WORD LWIP_MEM_ALIGN_SIZE(sizeof(mem_size_t))
#else
#define MEM_STATS_WORD 0
#endif

/* What a queued datagram of len bytes takes of lwIP's heap: the blocks
 * (heap.c: powers of two with a header) of its record and of its copy,
 * one PBUF_RAM (pbuf_clone: the struct pbuf, then the bytes). */
static uint32_t dgram_cost(uint16_t len)
{
	return (uint32_t)(heap_block_bytes(sizeof(struct dgram) + MEM_STATS_WORD) +
			  heap_block_bytes(LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf)) +
					   LWIP_MEM_ALIGN_SIZE(len) + MEM_STATS_WORD));
}

static uint64_t udp_dropped;
static uint64_t udp_send_dropped;       /* datagrams the interface refused */
static uint64_t udp_queued;             /* every socket's dq_bytes */

uint64_t socket_udp_dropped(void)
{
	return udp_dropped;
}

uint64_t socket_udp_send_dropped(void)
{
	return udp_send_dropped;
}

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
	struct sock *s = arg;
	struct dgram *d = NULL;
	struct pbuf *q = NULL;

	if (!guard_udp_datagram(p))
		return;         /* its length field is wrong: dropped, counted */
	/* As Linux's __udp_enqueue_schedule_skb: taken while the queue is
	 * within the buffer, so one datagram larger than it still gets in. */
	uint32_t cost = dgram_cost(p->tot_len);
	if (s->dq_bytes > s->rcvbuf || udp_queued + cost > UDP_QUEUED_MAX ||
	    !(d = mem_malloc(sizeof(*d))) || !(q = pbuf_clone(PBUF_RAW, PBUF_RAM, p))) {
		udp_dropped++;
		pbuf_free(p);
		if (d)
			mem_free(d);
		return;
	}
	pbuf_free(p);
	const ip_addr_t *to = ip_current_dest_addr();
	bool broadcast = ip_addr_ismulticast(to) || ip_addr_isbroadcast(to, ip_current_netif());
	*d = (struct dgram){ .p = q, .addr = ip4_addr_get_u32(ip_2_ip4(addr)), .port = port,
			     .to = ip4_addr_get_u32(ip_2_ip4(to)),
			     .flags = broadcast ? SOCK_RECV_BROADCAST : 0 };
	s->dq_bytes += cost;
	udp_queued += cost;
	if (s->dq_tail)
		s->dq_tail->next = d;
	else
		s->dq = d;
	s->dq_tail = d;
	s->dq_len++;
	if (s->rx_told && !s->every_edge)
		return;                 /* readable already, and told so */
	sock_changed(s);
}

void socket_udp_error(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, int err)
{
	for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next) {
		if (pcb->recv != on_udp || !(pcb->flags & UDP_FLAGS_CONNECTED) ||
		    pcb->local_port != sport || pcb->remote_port != dport ||
		    ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)) != dst ||
		    (!ip_addr_isany(&pcb->local_ip) && ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)) != src))
			continue;
		struct sock *s = pcb->recv_arg;
		s->err = err;
		sock_changed(s);
		return;
	}
}

static int udp_sock_open(struct sock *s)
{
	if (!(s->udp = udp_new_ip_type(IPADDR_TYPE_V4)))
		return SOCK_ENOMEM;
	s->rcvbuf = SOCK_RCVBUF_DEFAULT;
	udp_recv(s->udp, on_udp, s);
	return 0;
}

/* The oldest datagram leaves the queue. */
static void dgram_drop_first(struct sock *s)
{
	struct dgram *d = s->dq;
	uint32_t cost = dgram_cost(d->p->tot_len);

	if (!(s->dq = d->next))
		s->dq_tail = NULL;
	s->dq_len--;
	s->dq_bytes -= cost;
	udp_queued -= cost;
	pbuf_free(d->p);
	mem_free(d);
}

/* SOCK_RECV_MANY: datagrams into the range, each a struct sock_dgram and
 * its bytes; the first cut to the range if it does not fit. [0] bytes
 * used [1] datagrams [2] the socket's SOCK_POLL bits after the call (what
 * is left: the client's next poll). */
static int udp_sock_recv_many(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	uint8_t *at = s->session->buf + w[1];
	uint64_t room = w[2], used = 0, count = 0;

	if (!s->dq) {
		s->rx_told = false;     /* it learns there is nothing */
		return SOCK_WAIT;
	}
	if (room < sizeof(struct sock_dgram))
		return SOCK_EINVAL;
	while (s->dq) {
		struct dgram *d = s->dq;
		uint64_t len = d->p->tot_len;
		if (SOCK_DGRAM_NEXT(len) > room - used) {
			if (count)
				break;
			len = room - sizeof(struct sock_dgram);
		}
		struct sock_dgram h = { .len = (uint32_t)len, .whole = d->p->tot_len,
					.addr = d->addr, .to = d->to, .port = d->port,
					.flags = d->flags };
		memcpy(at + used, &h, sizeof(h));
		pbuf_copy_partial(d->p, at + used + sizeof(h), (u16_t)len, 0);
		used += SOCK_DGRAM_NEXT(len);
		count++;
		dgram_drop_first(s);
		if (used >= room)
			break;
	}
	out[0] = used < room ? used : room;
	out[1] = count;
	out[2] = sock_poll_told(s);
	*n = 3;
	return 0;
}

static bool udp_port_in_use(uint16_t port)
{
	for (const struct udp_pcb *p = udp_pcbs; p; p = p->next)
		if (p->local_port == port)
			return true;
	return false;
}

static int udp_sock_bind(struct sock *s, const ip_addr_t *a, uint16_t port, uint64_t *out)
{
	ip_set_option(s->udp, SOF_REUSEADDR);   /* as TCP: SO_REUSEADDR is every socket's */
	err_t e = udp_bind(s->udp, a, port ? port : sock_random_port(udp_port_in_use));

	out[0] = s->udp->local_port;
	return sock_errno(e);
}

/* Bind s, when unbound, to a random free port, before a connect or a
 * send would bind it to lwIP's next one. */
static err_t bind_unbound(struct sock *s)
{
	uint16_t port = s->udp->local_port ? 0 : sock_random_port(udp_port_in_use);

	if (!port)
		return ERR_OK;
	ip_set_option(s->udp, SOF_REUSEADDR);
	return udp_bind(s->udp, &s->udp->local_ip, port);
}

static int udp_sock_connect(struct sock *s, const ip_addr_t *a, uint16_t port)
{
	err_t e = bind_unbound(s);

	return sock_errno(e != ERR_OK ? e : udp_connect(s->udp, a, port));
}

/* The oldest datagram, cut to the read's length: [0] bytes [1] address
 * [2] port [3] the datagram's whole length [4] the address it was sent to
 * [5] SOCK_RECV_* flags. */
static int udp_sock_recv(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	struct dgram *d = s->dq;
	uint64_t len = w[2];

	if (s->err)
		return sock_take_err(s);
	if (w[3] & SOCK_RECV_MANY)
		return udp_sock_recv_many(s, w, out, n);
	if (!d) {
		s->rx_told = false;
		return SOCK_WAIT;
	}
	uint16_t copy = (uint16_t)(d->p->tot_len < len ? d->p->tot_len : len);
	pbuf_copy_partial(d->p, s->session->buf + w[1], copy, 0);
	out[0] = copy;
	out[1] = d->addr;
	out[2] = d->port;
	out[3] = d->p->tot_len;
	out[4] = d->to;
	out[5] = d->flags;
	*n = 6;
	dgram_drop_first(s);
	if (!s->dq)
		s->rx_told = false;     /* the next one is news (the answer has no bits) */
	return 0;
}

/* One datagram of len bytes at bytes to addr:port, or (addr 0) to the
 * connected peer: 0 or SOCK_E*. */
static int udp_send_one(struct sock *s, const uint8_t *bytes, uint64_t len, uint32_t addr,
			uint16_t port)
{
	if (s->err)
		return sock_take_err(s);
	if (len > 65507)
		return SOCK_EMSGSIZE;
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return SOCK_ENOBUFS;
	pbuf_take(p, bytes, (u16_t)len);
	ip_addr_t to;
	err_t e;
	if (addr) {
		ip_addr_set_ip4_u32(&to, addr);
		e = bind_unbound(s);
		if (e == ERR_OK)
			e = udp_sendto(s->udp, p, &to, port);
	} else {
		e = (s->udp->flags & UDP_FLAGS_CONNECTED) ? udp_send(s->udp, p) : ERR_CONN;
	}
	pbuf_free(p);
	if (e == ERR_CONN)
		return SOCK_ENOTCONN;
	if (e == ERR_MEM || e == ERR_BUF)
		udp_send_dropped++;     /* dropped below: as if sent (see the top) */
	else if (e != ERR_OK)
		return sock_errno(e);
	return 0;
}

/* SOCK_SEND_MANY: the range's datagrams (struct sock_dgram and bytes),
 * each sent as one SEND; those that fail are counted with the
 * interface's refusals (the client was told they were sent: it reports
 * the first error to its program at the socket's next call). [0]
 * datagrams sent [1] the first error [2] how many failed [3] the
 * socket's SOCK_POLL bits after it (as a single SEND's [1]). A header
 * outside the range, or past SOCK_SEND_MANY_MAX, ends the call. */
static int udp_sock_send_many(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	const uint8_t *at = s->session->buf + w[1];
	uint64_t room = w[2], used = 0, sent = 0, failed = 0, first = 0;

	while (sent + failed < SOCK_SEND_MANY_MAX && room - used >= sizeof(struct sock_dgram)) {
		struct sock_dgram h;
		memcpy(&h, at + used, sizeof(h));       /* the client may change it meanwhile */
		if (h.len > room - used - sizeof(h))
			break;
		int e = udp_send_one(s, at + used + sizeof(h), h.len, h.addr, h.port);
		if (e) {
			failed++;
			udp_send_dropped++;
			first = first ? first : (uint64_t)e;
		} else {
			sent++;
		}
		used += SOCK_DGRAM_NEXT(h.len) < room - used ? SOCK_DGRAM_NEXT(h.len) : room - used;
	}
	out[0] = sent;
	out[1] = first;
	out[2] = failed;
	out[3] = sock_poll_told(s);
	*n = 4;
	return 0;
}

/* To w[4]:w[5], or (w[4] 0) to the connected peer; SOCK_SEND_MANY:
 * several. [0] bytes [1] the socket's SOCK_POLL bits after the call, so
 * that the client knows them without asking (a pending error taken by
 * a send is gone from them; the POSIX server's batches need them
 * known) [2] SOCK_SENT_LOCAL when it went to an address of this host. */
static int udp_sock_send(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n)
{
	if (w[3] & SOCK_SEND_MANY)
		return udp_sock_send_many(s, w, out, n);
	int e = udp_send_one(s, s->session->buf + w[1], w[2], (uint32_t)w[4], (u16_t)w[5]);
	if (e)
		return e;
	out[0] = w[2];
	out[1] = sock_poll_told(s);
	out[2] = loopback_ours(w[4] ? (uint32_t)w[4] : ip4_addr_get_u32(ip_2_ip4(&s->udp->remote_ip)))
		 ? SOCK_SENT_LOCAL : 0;
	*n = 3;
	return 0;
}

/* A connected socket bound to any address names the one it sends from
 * (the address of the interface its peer is routed through), as Linux's
 * connect sets the source address (ip4_datagram_connect; getsockname(2)). */
static int udp_sock_name(struct sock *s, bool peer, uint64_t *out)
{
	const ip4_addr_t *a = ip_2_ip4(peer ? &s->udp->remote_ip : &s->udp->local_ip);

	if (!peer && ip4_addr_isany(a) && (s->udp->flags & UDP_FLAGS_CONNECTED)) {
		struct netif *via = ip4_route(ip_2_ip4(&s->udp->remote_ip));
		if (via)
			a = netif_ip4_addr(via);
	}
	out[0] = ip4_addr_get_u32(a);
	out[1] = peer ? s->udp->remote_port : s->udp->local_port;
	return 0;
}

static unsigned udp_sock_poll(struct sock *s)
{
	return (s->dq ? SOCK_POLLIN : 0) | SOCK_POLLOUT;
}

static void udp_sock_close(struct sock *s)
{
	if (s->udp)
		udp_remove(s->udp);
	while (s->dq)
		dgram_drop_first(s);
}

static int udp_sock_setopt(struct sock *s, uint64_t option, uint64_t value)
{
	if (option == SOCK_OPT_EVERY_EDGE) {
		s->every_edge = value != 0;
		return 0;
	}
	if (option != SOCK_OPT_RCVBUF)
		return SOCK_ENOPROTOOPT;
	s->rcvbuf = value < SOCK_RCVBUF_MIN ? SOCK_RCVBUF_MIN
		  : value > SOCK_RCVBUF_MAX ? SOCK_RCVBUF_MAX : (uint32_t)value;
	return 0;
}

/* No listen, accept or shutdown (a no-op). */
const struct sock_ops sock_udp_ops = {
	.open = udp_sock_open,
	.bind = udp_sock_bind,
	.connect = udp_sock_connect,
	.recv = udp_sock_recv,
	.send = udp_sock_send,
	.name = udp_sock_name,
	.poll = udp_sock_poll,
	.close = udp_sock_close,
	.setopt = udp_sock_setopt,
};
