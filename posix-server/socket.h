/*
 * Sockets of the POSIX server (docs/posix.md, "Sockets"): AF_INET and
 * AF_INET6 (IPv4-mapped only) TCP and UDP sockets through the netstack's
 * socket service (proto/socket.h), and AF_UNIX stream pairs inside the
 * server. socket_net.c holds the link to the netstack — a few shared
 * sessions, never one call that waits —, socket.c the sockets and their
 * readiness, socket_io.c sending and receiving, socket_addr.c addresses;
 * socket_peek.c what was received and not read (MSG_PEEK, FIONREAD);
 * socket_unix.c socketpair; sys_socket.c, sys_socket_msg.c and
 * sys_sockopt.c the system calls.
 *
 * Every call to the netstack carries SOCK_NONBLOCK: the server never
 * waits for the netstack. A call that cannot finish returns
 * SYSCALL_BLOCK and is made again when the sessions' notification (bound
 * to the server's thread, bit SOCKET_NOTIFY_READY) says a socket may
 * have changed, or when init says the netstack's name changed
 * (SOCKET_NOTIFY_NET: it ended or a new one started).
 */
#ifndef MICA_POSIX_SOCKET_H
#define MICA_POSIX_SOCKET_H

#include "file.h"
#include "linux_socket.h"
#include "posix.h"
#include "proto/socket.h"

#define SOCKET_SESSIONS     2           /* sessions with the netstack, opened as needed */
#define SOCKET_MAX          (SOCKET_SESSIONS * SOCK_MAX_SOCKETS)
/* An account's AF_INET sockets at most (then EMFILE; share.c): iperf3
 * -P 128's 130 and some, and a quarter of the netstack's 192 TCP and UDP
 * pcbs (netstack/port/lwipopts.h) left for the others. */
#define SOCKET_NET_SHARE    144
#define SOCKET_NOTIFY_READY 0x2         /* bits of the server's notification */
#define SOCKET_NOTIFY_NET   0x4
#define UNIX_PATH_MAX       108         /* sockaddr_un's sun_path */

/* An IPv4 endpoint (network byte order address, host order port). */
struct sock_addr {
	uint32_t addr;
	uint16_t port;
};

struct psock {
	bool used;
	int account;                    /* charged to (share.c) */
	bool dead;                      /* its session ended (the netstack went) */
	bool listening, connecting, connected, bound;
	bool embryo;                /* AF_UNIX seqpacket: made by a connect, not accepted yet */
	bool shut_rd, shut_wr;
	uint8_t type;                   /* LINUX_SOCK_STREAM, LINUX_SOCK_DGRAM */
	uint16_t family;                /* LINUX_AF_INET, LINUX_AF_INET6 */
	uint8_t session;                /* which of the server's sessions */
	int id;                         /* the netstack's socket number */
	int err;                        /* SO_ERROR to report (an errno), 0: none */
	int connect_waiter;             /* pid whose blocking connect waits on it, or 0 */
	/* Options kept here (the netstack has no such knobs). */
	int reuseaddr, reuseport, keepalive, nodelay, broadcast, v6only, tos, ttl, tclass;
	int rcvbuf, sndbuf, maxseg, keepidle, keepintvl, keepcnt;
	struct linux_linger linger;
	struct linux_timeval rcvtimeo, sndtimeo;   /* {0, 0}: for ever; sec SOCKET_TIMEO_NOWAIT:
						      not at all (a negative time was set) */
	/* Received and not read yet (socket_peek.c): a stream's first
	 * stash_len bytes (MSG_PEEK, FIONREAD) from stash_from, or UDP
	 * datagrams (struct sock_dgram and bytes) from stash_off to
	 * stash_len. */
	bool stashed, stash_dgram;
	uint32_t stash_off, stash_len;
	struct sock_addr stash_from;
	/* The netstack's SOCK_POLL bits (from SOCK_POLL_ALL, or a stream's
	 * RECV or a UDP socket's SOCK_RECV_MANY: the bits after it), until a
	 * notification or a call on the socket may have changed them. The
	 * netstack signals data that comes only when it last said the socket
	 * was not readable, so POLLIN kept here stays true until a read. */
	bool poll_valid;
	unsigned poll_bits;
	bool every_edge;                /* SOCK_OPT_EVERY_EDGE given (socket_every_edge) */
	/* A listener its process closed, still listening until linger_until
	 * (ns of the clock) or sooner (socket_linger.c): no file holds it. */
	bool lingering;
	uint64_t linger_until;
	/* A stream's room in the netstack's send buffer as its last SEND
	 * left it, until a notification or a poll that says writable: how
	 * much a send stages (socket.c), so that a write that finds the
	 * buffer full copies little for nothing. */
	bool tx_room_known;
	uint32_t tx_room;
	/* UDP: its last send went straight to batch_to (the connected peer:
	 * 0, 0) and succeeded, so the next ones there may be batched
	 * (socket_batch.c). */
	bool batch_ok;
	struct sock_addr batch_to;
	/* AF_UNIX (socketpair, connect, accept): the pipes it reads and
	 * writes, files[rx], files[tx] (-1: none, or shut). */
	int rx, tx;
	/* AF_UNIX names (socket_unix.c): its own and its peer's, as
	 * sockaddr_un's bytes after the family (a path and its NUL, or an
	 * abstract name led by a 0 byte; length 0: unnamed); the tmpfs node
	 * a path name made (-1: none); the peer's pid (SO_PEERCRED); a
	 * listener's backlog (a TCP one's: as its SOCK_LISTEN had it). */
	uint8_t name_len, peer_len;
	char name[UNIX_PATH_MAX], peer[UNIX_PATH_MAX];
	int name_node;
	int peer_pid;
	int backlog;
	/* Readiness edges of its own (epoll's EPOLLET, socket_edges): news
	 * for readers (a datagram queued), for writers (a peer gone). */
	uint32_t edges[2];
};

extern struct psock socks[SOCKET_MAX];

/* A user buffer: one (base, len), or count iovecs at user address va
 * (already checked readable by the caller); or, when kernel is not
 * NULL, single->len bytes of the server's own at kernel (sendfile, a
 * send; splice, a receive too). */
struct uio {
	const struct linux_iovec *single;
	uint64_t va, count;
	uint8_t *kernel;
};

/* ---- socket_net.c: the link to the netstack ---- */

/* A session with room for one more socket: its index, or -errno
 * (-ENETDOWN: no netstack now); socket_session_count says how many of
 * ours it holds. */
long socket_session_take(unsigned skip);
void socket_session_count(int session, int delta);
/* One call on s's session (label, words in, words out): 0 or -errno
 * (Linux's). The netstack gone: its sockets are dead, -ECONNRESET. */
long socket_call(struct psock *s, uint64_t label, uint64_t *w, unsigned n, uint64_t *out,
		 unsigned nout);
/* The netstack's pool (read-only) when s's session lends, and its size;
 * NULL when it copies (socket_net.c). */
const uint8_t *socket_pool(const struct psock *s, uint64_t *size);
/* s's session's buffer and the size of its part for staged copies (the
 * layout: socket_net.c's head comment). */
uint8_t *socket_buffer(const struct psock *s, uint64_t *size);
/* s's session's UDP batch's area (BATCH_BYTES) and its offset in the buffer. */
uint8_t *socket_batch_buffer(const struct psock *s, uint64_t *at);
/* The send area's run the latest TCP SEND reply offered (proto/socket.h,
 * SOCK_SEND_LENT): its length (0: none) and *at its offset in the buffer. */
uint32_t socket_send_offer(const struct psock *s, uint32_t *at);
/* A TCP SEND reply's [2] [3] (the offer), kept if inside the send area. */
void socket_send_offered(const struct psock *s, const uint64_t *out);
/* syscount=1: bytes the netstack took by reference (SOCK_SEND_LENT). */
void socket_count_lent(uint64_t bytes);
/* syscount=1: bytes of a stream's writes copied into the session buffer
 * (more than were sent when what a SEND did not take is staged again). */
void socket_count_staged(uint64_t bytes);
/* The server's notification came with bits (main.c). */
void socket_notified(uint64_t bits);
/* syscount=1: a line of the netstack calls made and readiness signals
 * taken since the last (every process's), at p's end. */
void socket_count_report(const struct process *p);
/* Watch the netstack's name (main.c, at the start). */
void socket_init(void);

/* ---- socket_batch.c: UDP datagrams sent in batches ---- */

#define BATCH_BYTES (64UL * 1024)       /* a session buffer's last bytes: its batch */

/* Batches held (socket_batch_call, socket_batch_block: the dispatcher
 * calls them only when some are). */
extern unsigned socket_batched;
/* s's datagram of total bytes (u) to *to (NULL: the connected peer)
 * kept in its session's batch, answered as sent: total, -EFAULT, or 0
 * when it must go straight (socket_batch.c says which may wait). */
long socket_batch_add(struct process *p, struct psock *s, const struct uio *u, uint64_t total,
		      const struct sock_addr *to);
/* The session's batch to the netstack now (socket_call, before any
 * other call on the session). */
void socket_batch_flush(unsigned session);
/* The netstack went: the batches with it. */
void socket_batch_drop(void);
/* p's call (r) about to be made; p's call waits: p's batches go unless
 * the call leaves them (socket_batch.c). */
void socket_batch_call(struct process *p, const struct user_regs *r);
void socket_batch_block(struct process *p);
/* The earliest time a batch must go (0: none), and those due at now sent
 * (the server's timer). */
uint64_t socket_batch_first(void);
void socket_batch_expire(uint64_t now);

/* ---- socket_addr.c ---- */

/* The socket behind descriptor fd (and its description in *fp): NULL
 * with *err -EBADF or -ENOTSOCK. */
struct psock *socket_fd(struct process *p, uint64_t fd, struct file **fp, long *err);
/* The sockaddr at user address va (len bytes) for s: an IPv4 endpoint in
 * *a. *unspec: it was AF_UNSPEC (a datagram socket's disconnect). 0,
 * -EINVAL, -EFAULT, -EAFNOSUPPORT, or -EADDRNOTAVAIL (an IPv6 address
 * that is not IPv4-mapped: there is no IPv6 here). */
long socket_addr_in(struct process *p, const struct psock *s, uint64_t va, uint64_t len,
		    struct sock_addr *a, bool *unspec);
/* a as s's kind of sockaddr at user address va, its length at lenva (in:
 * the room, out: the whole length, as Linux). va 0: nothing. */
long socket_addr_out(struct process *p, const struct psock *s, uint64_t va, uint64_t lenva,
		     const struct sock_addr *a);

/* ---- socket.c ---- */

/* Every socket of the netstack's is dead (it went). */
void socket_all_dead(void);
/* The netstack's readiness answers kept are stale. */
void socket_polls_stale(void);
/* The netstack's SOCK_POLL bits for s, as an answer just gave them. */
void socket_poll_known(struct psock *s, unsigned bits);

/* A TCP listener closed and opened again on the same port
 * (socket_linger.c). socket_linger: s, a listener being closed by its
 * account's process, lingers instead (true: not to be closed now).
 * socket_linger_adopt: s, bound and about to listen with backlog (as
 * SOCK_LISTEN's), takes over a lingering listener of its account and
 * session bound to the same address and port with the same backlog
 * (true: s listens now, with what that one queued).
 * socket_linger_end: the lingering listeners of account, and those whose
 * time has passed at now (0: none), closed. socket_linger_first: the
 * earliest time one must be closed (ns of the clock; 0: none lingers),
 * for the server's timer (timer.c's signal_timer_arm). */
bool socket_linger(struct psock *s);
bool socket_linger_adopt(struct psock *s, int backlog);
void socket_linger_end(int account, uint64_t now);
uint64_t socket_linger_first(void);
/* f (any file) is watched by an edge-triggered epoll: if it is one of
 * the netstack's sockets (TCP, UDP), ask it to signal every arrival of
 * data, segment or datagram (once: SOCK_OPT_EVERY_EDGE), so that each is
 * an edge (net_edges), as Linux reports each. */
void socket_every_edge(const struct file *f);
/* Try every waiting call again. */
void socket_wake_all(void);

/* The socket behind f, or NULL when f is not one. */
struct psock *socket_of(const struct file *f);
/* A new socket of type (LINUX_SOCK_*) and family on a descriptor of p
 * (flags: SOCK_NONBLOCK, SOCK_CLOEXEC); the netstack's socket number id
 * (session) when it exists already (accept), else -1 to open one. The
 * descriptor or -errno. */
long socket_make(struct process *p, int type, uint16_t family, int session, int id,
		 uint64_t flags);
/* The same without a descriptor: the new socket's open file description
 * (its one reference the caller's), or -errno. */
long socket_make_file(int type, uint16_t family, int session, int id, uint64_t flags);
/* The error SO_ERROR reports now (taken: reported once). */
int socket_take_error(struct psock *s);
/* What a poll of socket f sees now (LINUX_POLL* bits). */
unsigned socket_poll(const struct file *f);
/* Its readiness edges so far (epoll's EPOLLET, as pipe_edges): an
 * AF_UNIX socket's from its pipes and queue; a netstack socket's are
 * the netstack's notifications, which do not say which socket changed. */
void socket_edges(const struct file *f, uint32_t edges[2]);
/* f, a socket, is closed (its last descriptor went). */
void socket_closed(const struct file *f);
/* FIONREAD of socket f: bytes (what the stash holds once filled). */
long socket_fionread(const struct file *f);

/* ---- socket_io.c ---- */

/* Send what u holds on f (MSG_* flags; to: a datagram's destination or
 * NULL). Bytes sent, SYSCALL_BLOCK, or -errno (EPIPE with SIGPIPE unless
 * MSG_NOSIGNAL). */
long socket_send(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		 const struct sock_addr *to);
/* Receive into u (MSG_* flags): bytes, 0 at the end of the stream,
 * SYSCALL_BLOCK or -errno; from: the sender; *truncated: a datagram
 * longer than u (then *whole its length). */
long socket_recv(struct process *p, struct file *f, const struct uio *u, uint64_t flags,
		 struct sock_addr *from, bool *truncated, uint64_t *whole);
/* SO_RCVTIMEO, SO_SNDTIMEO set to a negative time: a blocking call does
 * not wait at all (Linux's timeout of 0 jiffies); read back as 0. */
#define SOCKET_TIMEO_NOWAIT (-1)
/* A blocking socket call's result r under its SO_RCVTIMEO or
 * SO_SNDTIMEO limit (none: 0): past the limit, what a write moved or
 * -EAGAIN, as Linux. */
long socket_timed(struct process *p, const struct linux_timeval *limit, long r);
/* read/write/readv/writev on a socket (sys_io.c). */
long socket_io(struct process *p, struct file *f, const struct uio *u, bool write);
/* Bytes a user buffer holds in all; -EINVAL past SSIZE_MAX. */
long uio_total(struct process *p, const struct uio *u);
/* Copy n bytes between buf and the user buffer u from its byte skip on
 * (out: into u). 0 or -EFAULT. */
long uio_copy(struct process *p, const struct uio *u, uint64_t skip, uint8_t *buf, uint64_t n,
	      bool out);
/* A write that cannot go: EPIPE, and SIGPIPE unless MSG_NOSIGNAL. */
long socket_broken(struct process *p, uint64_t flags);
/* Whether a call on f with these MSG_* flags must not wait. */
bool socket_nonblocking(const struct file *f, uint64_t flags);

/* ---- socket_unix.c: AF_UNIX stream sockets of socketpair ---- */

long unix_send(struct process *p, struct file *f, struct psock *s, const struct uio *u,
	       uint64_t flags);
long unix_recv(struct process *p, struct file *f, struct psock *s, const struct uio *u,
	       uint64_t flags);
unsigned unix_poll(const struct psock *s);
void unix_closed(struct psock *s);
/* bind, listen, connect, accept of AF_UNIX stream sockets with names
 * (a path: a socket node in tmpfs; or abstract): 0 (accept: the
 * descriptor), SYSCALL_BLOCK, or -errno as Linux's unix(7). */
long unix_bind(struct process *p, struct psock *s, uint64_t va, uint64_t len);
long unix_listen(struct process *p, struct psock *s, int backlog);
long unix_connect(struct process *p, struct file *f, struct psock *s, uint64_t va, uint64_t len);
long unix_accept(struct process *p, struct file *f, struct psock *s, uint64_t addr,
		 uint64_t lenva, uint64_t flags);
/* s's name (peer: its peer's) as a sockaddr_un at user address va, its
 * length at lenva (the room in, the whole length out). */
long unix_name_out(struct process *p, const struct psock *s, bool peer, uint64_t va,
		   uint64_t lenva);
/* shutdown: how is SHUT_RD, SHUT_WR or SHUT_RDWR. */
void unix_shutdown(struct psock *s, uint64_t how);

/* (socket_unix.c) The sockaddr_un at user address va (len bytes) into
 * name (UNIX_PATH_MAX bytes): the length of its bytes after the family
 * (0: the family alone; a path keeps one NUL), or -EINVAL, -EFAULT. */
long unix_name_in(struct process *p, uint64_t va, uint64_t len, char *name);
/* The socket (socks[] index) bound to name (n bytes, as unix_name_in
 * gives): the index, or -ECONNREFUSED (none), -ENOENT and the other
 * errors of a path's lookup. */
long unix_find(struct process *p, const char *name, long n);
/* name (len bytes after the family) as a sockaddr_un at user address
 * va, its whole length at lenva (the room in). va 0: nothing. */
long unix_addr_out(struct process *p, const char *name, unsigned len, uint64_t va,
		   uint64_t lenva);

/* ---- socket_dgram.c: AF_UNIX datagram and seqpacket sockets ---- */

/* Whether s is an AF_UNIX SOCK_DGRAM or SOCK_SEQPACKET socket. */
bool unix_dgram(const struct psock *s);
/* s, an AF_UNIX datagram socket, was made: its queue empty. */
void unix_dgram_made(struct psock *s);
/* Send u as one message from s: to the socket named at user address va
 * (len bytes), or (va 0) to its connected peer. Bytes sent,
 * SYSCALL_BLOCK (no room, blocking), or -errno as Linux's: EAGAIN,
 * EMSGSIZE, ENOTCONN, ECONNREFUSED, ENOENT, EPROTOTYPE, EPERM, EPIPE,
 * EINVAL, EFAULT, ENOMEM. */
long unix_dgram_send(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		     uint64_t flags, uint64_t va, uint64_t len);
/* Receive one message into u (MSG_PEEK: keep it): bytes, 0 (shut for
 * reading and empty), SYSCALL_BLOCK, -EAGAIN, -EFAULT; its sender's
 * name (*name_len bytes, 0: unnamed) into name (UNIX_PATH_MAX bytes);
 * *truncated when cut, *whole its length. */
long unix_dgram_recv(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		     uint64_t flags, char *name, unsigned *name_len, bool *truncated,
		     uint64_t *whole);
/* recvfrom and recvmsg: unix_dgram_recv under SO_RCVTIMEO, the
 * sender's name at va (its length at lenva: 0 for an unnamed sender, as
 * Linux), and for recvmsg (msg: the msghdr's address, else 0) its
 * controllen 0 and msg_flags (MSG_TRUNC). Bytes (MSG_TRUNC: the whole
 * length), SYSCALL_BLOCK or -errno. */
long unix_dgram_recv_named(struct process *p, struct file *f, struct psock *s, const struct uio *u,
			   uint64_t flags, uint64_t va, uint64_t lenva, uint64_t msg);
/* The next message's length (FIONREAD), 0 when none. */
long unix_dgram_next(const struct psock *s);
/* What a poll of s sees now; its readiness edges (socket_edges). */
unsigned unix_dgram_poll(const struct psock *s);
void unix_dgram_edges(const struct psock *s, uint32_t edges[2]);
/* connect: the peer named at va (AF_UNSPEC: none). 0 or -errno. */
long unix_dgram_connect(struct process *p, struct psock *s, uint64_t va, uint64_t len);
/* s is closed: its queue goes, and the sockets connected to it hear. */
void unix_dgram_closed(struct psock *s);
/* socketpair(AF_UNIX, type: SOCK_DGRAM or SOCK_SEQPACKET): two sockets
 * connected to each other (flags: SOCK_NONBLOCK, SOCK_CLOEXEC), their
 * descriptors at user address va. 0 or -errno. */
long unix_dgram_pair(struct process *p, int type, uint64_t flags, uint64_t va);
/* a and b, datagram or seqpacket sockets, connected to each other. */
void unix_dgram_join(struct psock *a, struct psock *b);
/* shutdown (how: SHUT_RD, SHUT_WR, SHUT_RDWR); a seqpacket socket's
 * peer hears it, as Linux's unix_shutdown. */
void unix_dgram_shutdown(struct psock *s, uint64_t how);

/* Whether s is the netstack's (AF_INET, AF_INET6), not the server's own. */
static inline bool socket_netstack(const struct psock *s)
{
	return s->family == LINUX_AF_INET || s->family == LINUX_AF_INET6;
}

/* ---- netlink.c: AF_NETLINK NETLINK_ROUTE sockets (reading) ---- */

bool netlink(const struct psock *s);
/* s, an AF_NETLINK socket, was made: no port id, its queue empty. */
void netlink_made(struct psock *s);
/* bind and connect (a sockaddr_nl at va, len bytes), getsockname and
 * getpeername (peer): 0 or -errno as Linux's netlink(7). */
long netlink_bind(struct process *p, struct psock *s, uint64_t va, uint64_t len);
long netlink_connect(struct process *p, struct psock *s, uint64_t va, uint64_t len);
long netlink_name(struct process *p, struct psock *s, bool peer, uint64_t va, uint64_t lenva);
/* Send u's requests (to the sockaddr_nl at va, len bytes; va 0: the
 * kernel's): its bytes, SYSCALL_BLOCK (waiting for the netstack's
 * answer), or -errno. */
long netlink_send(struct process *p, struct psock *s, const struct uio *u, uint64_t flags,
		  uint64_t va, uint64_t len);
/* Receive one datagram into u: as unix_dgram_recv_named (the sender's
 * sockaddr_nl at va, its length at lenva; msg: the msghdr's address for
 * recvmsg, else 0), SO_RCVTIMEO the caller's (socket_timed). */
long netlink_recv(struct process *p, struct file *f, struct psock *s, const struct uio *u,
		  uint64_t flags, uint64_t va, uint64_t lenva, uint64_t msg);
/* SOL_NETLINK options: 0 or -ENOPROTOOPT, -EINVAL, -EFAULT. */
long netlink_setsockopt(struct process *p, uint64_t level, uint64_t name, uint64_t va,
			uint64_t len);
long netlink_getsockopt(struct process *p, uint64_t level, uint64_t name, uint64_t va,
			uint64_t lenva);
unsigned netlink_poll(const struct psock *s);
void netlink_edges(const struct psock *s, uint32_t edges[2]);
/* The next datagram's length (FIONREAD), 0 when none. */
long netlink_fionread(const struct psock *s);
void netlink_closed(struct psock *s);

/* ---- netif_ioctl.c: the interface ioctls of netdevice(7) ---- */

/* Whether req is one of them (SIOCGIF*, SIOCSIF*, SIOCADDRT, SIOCDELRT). */
bool netif_ioctl_request(uint64_t req);
/* req on a socket: 0, SYSCALL_BLOCK (waiting for the netstack's answer)
 * or -errno (ENODEV, EADDRNOTAVAIL, EPERM for the SIOCS* calls, EFAULT). */
long netif_ioctl(struct process *p, uint64_t req, uint64_t arg);

/* ---- socket_peek.c ---- */

/* Fill s's stash (its slot in the table) from the netstack, if empty:
 * a stream's bytes held (0 at its end), a UDP socket's next datagram's
 * length, or -errno (-EAGAIN: nothing yet). */
long stash_fill(struct psock *s, unsigned slot);
/* Give up to total bytes of the stash to u (peek: keep them): bytes; a
 * datagram's sender in *from, *truncated and *whole as socket_recv's. */
long stash_take(struct process *p, struct psock *s, unsigned slot, const struct uio *u,
		uint64_t total, bool peek, struct sock_addr *from, bool *truncated, uint64_t *whole);

#endif
