/*
 * The netstack's side of the socket service (proto/socket.h,
 * docs/netstack.md), shared between its files:
 *
 *   socket_session.c  sessions (SOCK_SESSION, SOCK_END) and the calls on
 *                     one, passed to the socket's type
 *   socket_pending.c  deferred replies: a call that must wait keeps its
 *                     reply object until socket_poll can answer it
 *   socket_tcp.c      stream sockets over lwIP's raw TCP interface
 *   socket_rx.c       their received data, waiting for the client
 *   socket_udp.c      datagram sockets over lwIP's raw UDP interface
 *
 * Everything runs on the netstack's one thread: lwIP's callbacks, the
 * requests and socket_poll never overlap.
 */
#ifndef MICA_NETSTACK_SOCKET_SERVICE_H
#define MICA_NETSTACK_SOCKET_SERVICE_H

#include "netstack.h"
#include "proto/socket.h"
#include "rcv_window.h"

#include "lwip/tcp.h"
#include "lwip/udp.h"

#define UDP_QUEUED_MAX   (2 * 1024 * 1024)  /* what every UDP socket's queue may take
					      of lwIP's heap in all (as Linux's udp_mem) */
#define SOCK_BADGE_LEND  (1UL << 33) /* SOCK_LEND_NAME's capability (service.c) */
#define SOCK_BADGE_OPEN  (1UL << 34) /* SOCK_SERVICE_NAME's capability (service.c) */
#define ACCEPT_QUEUE_MAX 16
/* A pbuf of lwIP's heap of 2^k bytes less this fits a block of 2^k
 * (heap.c: its header; lwIP's struct pbuf before the bytes); one of
 * 2^k bytes took a block twice as large. */
#define RX_HEAP_SLACK    64
#define RX_CHUNK         (16384 - RX_HEAP_SLACK) /* received TCP data not kept is copied into
						    chunks this big */
#define RX_ENTRY_MAX     (65536 - RX_HEAP_SLACK) /* bytes of an entry of kept segments (a
						    pbuf chain's tot_len, and the one
						    pbuf rx_collapse copies it into) */
#define RXQ_MAX          (TCP_WND / RX_CHUNK + 4) /* entries per TCP socket: the window and more */
#define RX_KEEP_MIN      1024  /* a segment is kept as it came only with at least
				  this many bytes per pbuf (half a pool buffer) */

/* A call's outcome, from the functions below that may wait: 0 done (out
 * filled), a SOCK_E* error number, or SOCK_WAIT: not yet. */
#define SOCK_WAIT (-1)

/* A call that waits: its reply object and its request (socket_pending.c). */
struct pending {
	cap_slot_t reply;               /* CAP_SLOT_NONE: nothing waits */
	uint64_t label, w[6];
};

struct session;
struct sock_ops;
struct dgram;                           /* socket_udp.c */

struct sock {
	struct session *session;
	const struct sock_ops *ops;     /* its type's calls */
	uint8_t type;                   /* SOCK_STREAM, SOCK_DGRAM; 0: free */
	bool listening, connecting, connected, eof, unaccepted;
	/* The client's last answer about it (SOCK_POLL, SOCK_POLL_ALL, a
	 * TCP RECV's or a UDP SOCK_RECV_MANY's bits) said SOCK_POLLIN: more
	 * data (segments, datagrams) needs no readiness signal
	 * (sock_poll_told), unless the client asked for every one
	 * (SOCK_OPT_EVERY_EDGE: every_edge). */
	bool rx_told, every_edge;
	int err;                        /* an error to report once (SOCK_E*) */
	/* TCP. Received, not yet read, oldest first (socket_tcp.c,
	 * "Received data"): each entry either the segments lwIP delivered,
	 * kept as they came (a pbuf chain of at most 64 KiB, its pbufs pool
	 * buffers or lwIP's heap), or a chunk of lwIP's heap (RX_CHUNK
	 * bytes, one pbuf) that sparse segments, and segments past the
	 * bound on kept pool buffers, are copied into. The last entry, when
	 * a chunk (rx_tail), is filled up to rx_tail_end. */
	struct tcp_pcb *tcp;
	struct pbuf *rxq[RXQ_MAX];
	unsigned rxq_head, rxq_n;
	struct pbuf *rx_tail;
	uint8_t *rx_tail_end;
	unsigned rx_kept;               /* pool buffers the entries hold (socket_rx.c) */
	struct sock *rx_keeper_prev, *rx_keeper_next;   /* the sockets with rx_kept > 0 */
	struct rcv_window rw;           /* the window by the buffers segments take */
	int accq[ACCEPT_QUEUE_MAX];     /* listener: connections not yet accepted */
	unsigned acc_n;
	/* UDP: received datagrams, oldest first; what they take of lwIP's
	 * heap (their bytes and bookkeeping), bounded by rcvbuf (SO_RCVBUF). */
	struct udp_pcb *udp;
	struct dgram *dq, *dq_tail;
	unsigned dq_len;
	uint32_t dq_bytes, rcvbuf;
	struct pending rd, wr;          /* the receive side's and send side's waiting call */
	uint32_t tx_lent;               /* bytes of its runs in the send area whose
					   pbufs are not all freed (tx_lend.c) */
};

/* A RECV's slice table, while it lends (socket_rx.c). */
struct rx_lend {
	struct sock_slice *slices;      /* in the session buffer */
	unsigned n, max;
};

struct session {
	bool used, signal;              /* signal: a socket may have become ready */
	bool lend;                      /* opened through SOCK_LEND_NAME: the pool is mapped */
	/* The pool buffers the last RECV lent (proto/socket.h, "Lending"),
	 * until the session's next call: pbufs that left their socket's
	 * entries, or references to one an entry still keeps. At most
	 * rx_lend_bound() in all sessions (socket_rx.c). */
	unsigned lent_n;
	struct pbuf *lent[SOCK_LEND_SLICES];
	uint8_t *buf;                   /* the shared buffer (the netstack's side) */
	uint8_t buf_log2;               /* what it holds: kept for the slot's next sessions */
	uint64_t size, client_va;
	cap_slot_t notif;               /* the client's, for readiness; or CAP_SLOT_NONE */
	cap_slot_t cap;                 /* the session capability the client's derive
					   from: revoked at the session's end */
	struct tx_lend_area *lend_tx;   /* the send area, if the buffer is in lwIP's heap */
	struct sock socks[SOCK_MAX_SOCKETS];
};

/* tx_lend.c: a session's send area (proto/socket.h, SOCK_SEND_LENT). */
#define TX_LEND_AREAS 2                 /* sessions with one (2 MiB of lwIP's heap
					   each); the others copy */
#define TX_LEND_RUNS 64                 /* runs out at once in one area */
#define TX_LEND_RUN_MIN (16u << 10)     /* a shorter free run is not offered */

struct tx_lend_run {
	uint32_t at, len;               /* in the area */
	uint32_t pbufs, freed;          /* ROM pbufs lwIP made for it, and freed */
	struct sock *s;                 /* whose share it counts in; NULL when settled */
};

struct tx_lend_area {
	uint8_t *base;                  /* the buffer + SOCK_SEND_AREA_AT */
	uint32_t size;
	uint32_t head, tail;            /* runs, oldest at tail */
	uint32_t offer_at, offer_len;   /* the last reply's offer */
	struct tx_lend_run runs[TX_LEND_RUNS];
};

struct tx_lend_area *tx_lend_area_take(uint8_t *buf, uint64_t size);
bool tx_lend_busy(const struct tx_lend_area *a);
void tx_lend_offer(struct sock *s, uint64_t *out);
struct tx_lend_run *tx_lend_begin(struct sock *s, uint64_t offset, uint64_t len);
void tx_lend_end(struct sock *s, struct tx_lend_run *r, uint32_t taken);
void tx_lend_forget(struct sock *s);

/*
 * What a socket type does for each call. w is the request's words as in
 * proto/socket.h; out and *n the reply's words. A NULL call is not for
 * this type (socket_session.c answers for it). The calls that may wait
 * (connect, connect_done, recv, send, accept) return as SOCK_WAIT says.
 */
struct sock_ops {
	int (*open)(struct sock *s);
	int (*bind)(struct sock *s, const ip_addr_t *a, uint16_t port, uint64_t *out);
	int (*connect)(struct sock *s, const ip_addr_t *a, uint16_t port);
	int (*connect_done)(struct sock *s);
	int (*recv)(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n);
	int (*send)(struct sock *s, const uint64_t *w, uint64_t *out, unsigned *n);
	int (*name)(struct sock *s, bool peer, uint64_t *out);
	unsigned (*poll)(struct sock *s);       /* SOCK_POLL* bits but SOCK_POLLERR */
	void (*close)(struct sock *s);          /* let go of what the type holds */
	int (*listen)(struct sock *s, uint64_t backlog);
	int (*accept)(struct sock *s, uint64_t *out, unsigned *n);
	int (*shutdown)(struct sock *s, uint64_t how);
	int (*setopt)(struct sock *s, uint64_t option, uint64_t value);
};

extern const struct sock_ops sock_tcp_ops, sock_udp_ops;

/* socket_session.c */
/* A free socket of the session, of type SOCK_STREAM or SOCK_DGRAM; NULL
 * when all are used. Its type's open is not called. */
struct sock *sock_alloc(struct session *se, uint8_t type);
/* Answer its waiting calls (SOCK_EBADF), let go of everything, free it. */
void sock_close(struct sock *s);
/* Try a call that may wait (SOCK_ACCEPT, SOCK_RECV, SOCK_SEND; and
 * SOCK_CONNECT, which here asks whether the connect started earlier is
 * done), with the request's words w: as SOCK_WAIT says. */
int sock_attempt(struct sock *s, uint64_t label, const uint64_t *w, uint64_t *out, unsigned *n);
/* lwIP's error as an error number (SOCK_E*; 0 for ERR_OK). */
int sock_errno(err_t e);
/* A free ephemeral port chosen at random from lwIP's range 49152..65535
 * (RFC 6056 3.3.1, as Linux picks from ip_local_port_range), where lwIP
 * would take the next in sequence: a peer that saw one of our ports
 * cannot foretell the next (nor forge ICMP errors or resets for it).
 * in_use says whether the protocol has a port taken; 0 when 32 tries
 * found only ports in use (lwIP's own choice then). */
uint16_t sock_random_port(bool (*in_use)(uint16_t port));

/* socket_rx.c: a stream socket's received data (its entries). */
/* Keep p (a segment lwIP delivered) or copy it into the entries;
 * ERR_MEM when there is no memory or no entry left: lwIP keeps p and
 * offers it again. */
err_t sock_rx_append(struct sock *s, struct pbuf *p);
/* Copy at most len bytes from the front of the first entry to `to` and
 * take them off it (pbufs emptied are freed: pool buffers go back to the
 * NIC); the entry goes when emptied. Returns the bytes copied. With l
 * (a lending RECV): bytes in pool buffers are not copied but described
 * in l's table and their pbufs lent to the session (within the bound on
 * lent buffers; past it they are copied too), the others copied to their place at `to` and described as
 * SOCK_SLICE_COPIED; stops early (0 bytes) when the table is full. */
uint32_t sock_rx_take(struct sock *s, uint8_t *to, uint32_t len, struct rx_lend *l);
/* The session's lent buffers back (its next call, its end). */
void sock_rx_return(struct session *se);
/* Let go of every entry (the socket closes). */
void sock_rx_drop_all(struct sock *s);

/* socket_pending.c */
/* Keep the reply object for the call in m (words w) in pd: false, the
 * reply is deferred; or, if a call waits there already, answer
 * SOCK_EBUSY: true. */
bool pending_defer(struct pending *pd, cap_slot_t reply, const struct msg *m, const uint64_t *w);
/* Answer the call waiting in pd and let go of its reply object. */
void pending_complete(struct pending *pd, uint64_t err, const uint64_t *w, unsigned n);
/* Try the socket's waiting calls again; answer those that are done. */
void pending_retry(struct sock *s);
/* Calls waiting, in all sessions. */
unsigned pending_count(void);

/* A socket of the session may have become readable or writable. */
static inline void sock_changed(struct sock *s)
{
	s->session->signal = true;
}

/* The SOCK_POLL bits an answer gives the client now (SOCK_POLL,
 * SOCK_POLL_ALL, a TCP RECV's, a UDP SOCK_RECV_MANY's), noted: once it
 * was told the socket is readable, data added to it changes nothing the
 * client can see (it reads until a RECV says nothing is left), so on_recv
 * (TCP) and on_udp signal only for data that comes when it was not (an
 * edge, as epoll's EPOLLET). */
static inline unsigned sock_poll_told(struct sock *s)
{
	unsigned bits = (s->err ? SOCK_POLLERR : 0) | s->ops->poll(s);

	s->rx_told = (bits & SOCK_POLLIN) != 0;
	return bits;
}

/* The error to report now, if any (reported once). */
static inline int sock_take_err(struct sock *s)
{
	int e = s->err;
	s->err = 0;
	return e;
}

#endif
