/*
 * The netstack's socket service: TCP and UDP sockets for the POSIX server
 * and native programs. (Counters and the rest of the netstack's state are
 * on its management protocol, proto/netmgmt.h.) docs/netstack.md explains
 * it; the rules in short:
 *
 * The netstack registers a badged copy of its endpoint as
 * SOCK_SERVICE_NAME ("net") (badged, so that nobody can make copies of it
 * with other badges: sessions', management's). Through it a client can only open a session
 * (SOCK_SESSION). A session is a badged copy of the endpoint that the
 * netstack hands back; every socket call goes through it, and sockets
 * belong to their session.
 *
 * Data does not travel in messages: each session has a buffer of 2^log2
 * bytes, the netstack's memory mapped into the client by SOCK_SESSION's
 * reply (so a client that dies takes nothing from the netstack with it),
 * and each SEND/RECV names an offset and length inside it. The netstack
 * copies between that buffer and lwIP.
 *
 * Blocking: ACCEPT, CONNECT, SEND and RECV wait (the netstack keeps the
 * reply and answers later) unless SOCK_NONBLOCK is given, in which case
 * they answer SOCK_EAGAIN (SOCK_EINPROGRESS for CONNECT). One call may
 * wait per socket and direction (receive side: RECV, ACCEPT; send side:
 * SEND, CONNECT); a second gets SOCK_EBUSY. The session's notification,
 * if the client gave one, is signalled whenever a socket of the session
 * may have become readable or writable, for poll(), with one exception:
 * data that comes to a socket whose last answer to the client (SOCK_POLL,
 * SOCK_POLL_ALL, a TCP RECV's [4] or a UDP SOCK_RECV_MANY's [2]) said
 * SOCK_POLLIN is not signalled (nothing the client can see changed: it reads until a RECV
 * leaves nothing, or answers SOCK_EAGAIN, and is then signalled for the
 * next data; SOCK_OPT_EVERY_EDGE asks for every arrival). It is also the
 * client's token: when it dies (with the task that made it), the netstack
 * ends the session as by SOCK_END within 250 ms.
 *
 * Every reply's label is 0 or an error number; error numbers are Linux's
 * errno values, so the POSIX server passes them on unchanged. Addresses
 * are IPv4 in network byte order (as in struct sockaddr_in), ports in host
 * byte order.
 */
#ifndef MICA_PROTO_SOCKET_H
#define MICA_PROTO_SOCKET_H

#include <stdint.h>

#define SOCK_SERVICE_NAME "net"

/*
 * Lending (docs/netstack.md, "Received TCP data: lent"): the POSIX server
 * reads received TCP data where the netstack keeps it, in the pool
 * buffers it came in, instead of having it copied into the session
 * buffer first. The pool holds every interface's frames (forwarded ones
 * too), so lending is gated: the netstack registers SOCK_LEND_NAME as a
 * private name (NS_REGISTER_PRIVATE), which only a program whose manifest
 * has the line `lookup net-lend` can look up (init's name service;
 * docs/manifest.md). SOCK_SESSION through it is SOCK_SESSION with
 *   [2] where the client wants the pool (aligned to SOCK_LEND_POOL_MAX,
 *       inside the client's recv_window, SOCK_LEND_POOL_MAX bytes)
 * and its reply carries a third item, the pool mapped read-only, and
 * [0] the pool's log2 (bytes mapped). A session opened through "net"
 * never lends.
 *
 * SOCK_RECV with SOCK_RECV_LEND in its flags, on a TCP socket of a
 * lending session: [4] the offset of a table of struct sock_slice in the
 * buffer [5] its entries (at most SOCK_LEND_SLICES); the reply's [0]
 * bytes as always and [3] the slices used, in the order of the bytes:
 * a slice's bytes are in the pool (read-only, at pool + slice.pool) or,
 * for data the netstack keeps outside the pool (copied into lwIP's
 * heap), copied into the range [1],[2] at the place they take in the
 * read (SOCK_SLICE_COPIED). The pool buffers a RECV lent are the
 * session's until its next call, whatever its label (so a one-threaded
 * client must be done with the slices before it calls again), or its
 * end (SOCK_END, or its client's death); every lending session
 * together holds at most a quarter of lwIP's share of the pool lent
 * (past it a RECV copies). SOCK_RECV_LEND needs SOCK_NONBLOCK. The
 * window opens when the data is lent, as when it is copied. Without SOCK_RECV_LEND, or on a session
 * that does not lend, RECV copies as before.
 */
#define SOCK_LEND_NAME "net-lend"
#define SOCK_LEND_POOL_MAX (4UL << 20)  /* the largest pool: the client's window for it */
#define SOCK_LEND_SLICES 256            /* slices one RECV may use at most */
#define SOCK_SLICE_COPIED 0xFFFFFFFFu   /* sock_slice.pool: the bytes are in the buffer */

struct sock_slice {
	uint32_t pool;          /* offset in the pool mapping, or SOCK_SLICE_COPIED */
	uint32_t len;           /* bytes */
};

enum sock_label {
	/* On the "net" endpoint. */
	SOCK_SESSION = 1,       /* words: [0] log2 of the buffer (12..SOCK_BUFFER_MAX_LOG2,
				   or SOCK_BUFFER_SEND_LOG2: SOCK_EBUSY when
				   the netstack has no send area free, below)
				   [1] where the client wants it (aligned to its size,
				   inside the client's recv_window)
				   item: a notification (IPC_ITEM_CAP), required:
				   its death is the client's (SOCK_EINVAL without)
				   reply: items: the session (a badged endpoint, into
				   recv_cap_slot) and the buffer (IPC_ITEM_MAP) */

	/* On a session. Sockets are small integers per session. */
	SOCK_END = 16,          /* close every socket, unmap the buffer, end the session */
	SOCK_OPEN = 17,         /* [0] SOCK_STREAM or SOCK_DGRAM -> [0] socket */
	SOCK_BIND = 18,         /* [0] socket [1] addr [2] port (0: any) -> [0] port */
	SOCK_LISTEN = 19,       /* [0] socket [1] backlog */
	SOCK_ACCEPT = 20,       /* [0] socket [1] flags -> [0] new socket [1] addr [2] port */
	SOCK_CONNECT = 21,      /* [0] socket [1] addr [2] port [3] flags */
	SOCK_SEND = 22,         /* [0] socket [1] offset [2] length [3] flags
				   [4] addr [5] port (UDP, 0: the connected peer)
				   -> [0] bytes taken; TCP also [1] the room
				   left in the send buffer (bytes), [2] [3] the
				   send area's next free run (SOCK_SEND_LENT, below); UDP [1]
				   the socket's SOCK_POLL bits after the call
				   [2] SOCK_SENT_LOCAL or 0;
				   UDP with SOCK_SEND_MANY in [3]: the range
				   holds datagrams, each a struct sock_dgram
				   (len; addr and port: where to, addr 0: the
				   connected peer) and its bytes, at most
				   SOCK_SEND_MANY_MAX, each sent as one SEND
				   would send it -> [0] datagrams sent [1] the
				   first one's error that failed (0: none) [2]
				   how many failed (counted in sock_udp_send_dropped)
				   [3] the socket's SOCK_POLL bits after it */
	SOCK_RECV = 23,         /* [0] socket [1] offset [2] length [3] flags
				   -> [0] bytes (0: end of stream) [1] addr [2] port;
				   UDP also [3] the datagram's whole length [4] the
				   address it was sent to [5] SOCK_RECV_* flags;
				   UDP with SOCK_RECV_MANY in [3]: as many whole
				   datagrams as fit, each a struct sock_dgram and its
				   bytes -> [0] bytes used [1] datagrams [2] the
				   socket's SOCK_POLL bits after the call;
				   TCP with SOCK_RECV_LEND in [3]: [4] offset of
				   the slice table [5] its entries -> [3] slices
				   (lending, above); TCP also [4] the socket's
				   SOCK_POLL bits after the call (readiness,
				   below) */
	SOCK_SHUTDOWN = 24,     /* [0] socket [1] SOCK_SHUT_RD/WR/RDWR */
	SOCK_CLOSE = 25,        /* [0] socket */
	SOCK_POLL = 26,         /* [0] socket -> [0] SOCK_POLL* bits */
	SOCK_NAME = 27,         /* [0] socket [1] 0 local, 1 peer -> [0] addr [1] port */
	SOCK_SETOPT = 28,       /* [0] socket [1] SOCK_OPT_* [2] value */
	SOCK_POLL_ALL = 29,     /* -> [0..SOCK_POLL_ALL_WORDS - 1] every socket's
				   SOCK_POLL bits at once:
				   socket i's in the 4 bits at SOCK_POLL_ALL_SHIFT(i)
				   of word i / 16, SOCK_POLL_ALL_* (0 for no socket) */
};

/* SOCK_POLL_ALL's 4 bits of a socket. */
#define SOCK_POLL_ALL_SHIFT(i) (4 * ((i) % 16))
#define SOCK_POLL_ALL_IN   0x1
#define SOCK_POLL_ALL_OUT  0x2
#define SOCK_POLL_ALL_ERR  0x4
#define SOCK_POLL_ALL_HUP  0x8

#define SOCK_STREAM 1
#define SOCK_DGRAM  2

#define SOCK_NONBLOCK 0x1       /* flags: answer now, never wait */
#define SOCK_RECV_MANY 0x2      /* SOCK_RECV's flags, UDP: several datagrams */
#define SOCK_SEND_LENT 0x10     /* SOCK_SEND's flags, TCP: the bytes lie in the
				   run the last SEND reply offered; below */
#define SOCK_RECV_LEND 0x4      /* SOCK_RECV's flags, TCP on a lending session:
				   slices of the pool (above) */
#define SOCK_SEND_MANY 0x8      /* SOCK_SEND's flags, UDP: several datagrams */
#define SOCK_SEND_MANY_MAX 64   /* datagrams one SOCK_SEND_MANY sends at most */
#define SOCK_SENT_LOCAL 0x1     /* a UDP SEND's [2]: to an address of this host
				   (127/8, an interface's): it stays here */

/* SOCK_RECV with SOCK_RECV_MANY: the range gets datagrams, oldest
 * first, each this header and then its len bytes, the next header at
 * the following multiple of 8 bytes (SOCK_SEND with SOCK_SEND_MANY:
 * the range holds them so, len, addr and port set, the rest 0). Only whole datagrams, except that
 * the first is cut to the range when it does not fit (len < whole); the
 * netstack takes every datagram it puts there. */
struct sock_dgram {
	uint32_t len;           /* its bytes that follow */
	uint32_t whole;         /* its whole length */
	uint32_t addr;          /* the sender's address, network byte order */
	uint32_t to;            /* the address it was sent to */
	uint16_t port;          /* the sender's port, host order */
	uint8_t flags;          /* SOCK_RECV_* */
	uint8_t pad[5];
};
#define SOCK_DGRAM_NEXT(len) ((sizeof(struct sock_dgram) + (len) + 7) & ~7UL)

/* SOCK_RECV's [5], UDP: the datagram was sent to a broadcast (limited or
 * the interface's subnet) or multicast address, not to this host alone
 * (what Linux's IP_PKTINFO tells, as a bit). A server that answers every
 * datagram should not answer these: one datagram would draw an answer
 * from every such server on the link. */
#define SOCK_RECV_BROADCAST 0x1

#define SOCK_SHUT_RD   0
#define SOCK_SHUT_WR   1
#define SOCK_SHUT_RDWR 2

#define SOCK_POLLIN  0x001
#define SOCK_POLLOUT 0x004
#define SOCK_POLLERR 0x008
#define SOCK_POLLHUP 0x010

#define SOCK_OPT_NODELAY   1    /* TCP_NODELAY */
#define SOCK_OPT_KEEPALIVE 2    /* SO_KEEPALIVE */
#define SOCK_OPT_EVERY_EDGE 4   /* 1: signal every arrival of data (TCP
				   segments, UDP datagrams), also to a socket
				   the client was told is readable (epoll's
				   EPOLLET reports each, as Linux's) */
#define SOCK_OPT_RCVBUF    3    /* UDP: SO_RCVBUF in bytes, as Linux keeps it (twice
				   what setsockopt was given), clamped to
				   SOCK_RCVBUF_MIN..SOCK_RCVBUF_MAX */

/* A UDP socket's receive buffer (socket(7) SO_RCVBUF, udp(7)): what its
 * queued datagrams may take, each counted with its bookkeeping (as
 * Linux's truesize); past it arrivals are dropped and counted (Linux's
 * RcvbufErrors). Default and bounds as Linux's with net.core.rmem_max
 * 212992 (at most twice that is kept). */
#define SOCK_RCVBUF_DEFAULT 212992
#define SOCK_RCVBUF_MIN     4608
#define SOCK_RCVBUF_MAX     425984

#define SOCK_BUFFER_MAX_LOG2 18 /* 256 KiB of shared buffer per session */
#define SOCK_BUFFER_SEND_LOG2 20 /* or 1 MiB: a session with a send area, if the
				   netstack can (SOCK_SEND_LENT, below) */

/*
 * Sending by reference (docs/netstack.md, "Sending the client's bytes by
 * reference"). A session of 2^SOCK_BUFFER_SEND_LOG2 bytes is one whose
 * bytes the netstack can send from its buffer without copying them; the
 * netstack has few (TX_LEND_AREAS) and refuses the size with SOCK_EBUSY
 * when it has none free (the client then opens a 2^SOCK_BUFFER_MAX_LOG2
 * session, which copies as always). Such a buffer's layout, in bytes:
 *
 *   [0, SOCK_SEND_AREA_AT)                 the client's: copies staged
 *                                          (RECV, UDP, copied SENDs)
 *   [SOCK_SEND_AREA_AT, size - SOCK_SEND_AREA_TAIL)   the send area
 *   [size - SOCK_SEND_AREA_TAIL, size)     the client's (the POSIX server
 *                                          keeps its UDP batch there)
 *
 * A TCP SEND's reply offers a run of the send area: [2] its offset in the
 * buffer, [3] its length in bytes (0: none now, or a session without an
 * area; then [2] is 0). Once a reply has offered one, the client stages
 * nothing else in the send area. A SEND with SOCK_SEND_LENT whose [1] is
 * the offer's offset and [2] at most its length hands the bytes it takes
 * ([0]) to the netstack by reference: the client must not write them
 * again until the netstack releases them, which it tells only by offering
 * them again (writing them anyway changes only what this connection
 * sends, maybe in a retransmission: the client's own data). An offer
 * stands until the session's next TCP SEND (the latest reply's is the
 * one). A SEND with SOCK_SEND_LENT on a session without an area, with no
 * offer standing, or whose offset or length is not within the offer is
 * refused with SOCK_EINVAL, nothing taken (past the buffer: SOCK_EFAULT,
 * as any call's). Bytes not taken are the client's again.
 */
/* 192 KiB before the area: a RECV copies or lends at most what fits there
 * (less the POSIX server's slice table), and with 64 KiB a 128 KiB read
 * took two calls, or, as the server makes one a read, returned 60 KiB:
 * Debian's iperf3 received at 0.74 of the Linux guest's rate (1.21
 * before the area; `make bench`, 2026-12-03). */
#define SOCK_SEND_AREA_AT   (192u << 10)
#define SOCK_SEND_AREA_TAIL (64u << 10)
_Static_assert(SOCK_SEND_AREA_AT + SOCK_SEND_AREA_TAIL < (1u << SOCK_BUFFER_SEND_LOG2) / 2,
	       "a send area of at least half the buffer");
#define SOCK_MAX_SESSIONS    32
#define SOCK_MAX_SOCKETS     160 /* per session (a listener's accepted connections
				    are its session's: iperf3 -P 128 holds 130) */
#define SOCK_POLL_ALL_WORDS  (SOCK_MAX_SOCKETS / 16)   /* SOCK_POLL_ALL's reply */

/* Error numbers (Linux's values). */
#define SOCK_EIO           5    /* the IPC to the netstack failed (client side) */
#define SOCK_EBADF         9
#define SOCK_EAGAIN        11
#define SOCK_ENOMEM        12
#define SOCK_EFAULT        14
#define SOCK_EBUSY         16
#define SOCK_EINVAL        22
#define SOCK_EMFILE        24
#define SOCK_EPIPE         32
#define SOCK_ENOSYS        38
#define SOCK_ENONET        64
#define SOCK_EPROTO        71
#define SOCK_EMSGSIZE      90
#define SOCK_EPROTOTYPE    91
#define SOCK_ENOPROTOOPT   92
#define SOCK_EOPNOTSUPP    95
#define SOCK_EADDRINUSE    98
#define SOCK_EADDRNOTAVAIL 99
#define SOCK_ENETUNREACH   101
#define SOCK_ECONNABORTED  103
#define SOCK_ECONNRESET    104
#define SOCK_ENOBUFS       105
#define SOCK_EISCONN       106
#define SOCK_ENOTCONN      107
#define SOCK_ETIMEDOUT     110
#define SOCK_ECONNREFUSED  111
#define SOCK_EHOSTDOWN     112
#define SOCK_EHOSTUNREACH  113
#define SOCK_EALREADY      114
#define SOCK_EINPROGRESS   115

#endif
