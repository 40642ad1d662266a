/*
 * Native client of the netstack's socket service (proto/socket.h): a
 * session with its shared buffer, and one call per socket operation.
 * Every call returns >= 0 on success or a negative SOCK_E* error number
 * (-SOCK_EIO when the IPC itself failed). Data is staged through the
 * session buffer; one call at a time per session.
 */
#ifndef MICA_LIB_NETSOCK_H
#define MICA_LIB_NETSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "proto/socket.h"
#include "uapi/cap.h"

struct net_session {
	cap_slot_t cap;         /* the session (a badged endpoint) */
	uint8_t *buf;           /* the shared buffer, mapped by the netstack */
	size_t size;
	cap_slot_t token;       /* a notification made for the session when the
				   caller gave none (CAP_SLOT_NONE otherwise) */
};

/* Open a session through the "net" endpoint net, with a buffer of 2^log2
 * bytes placed at buf_va (aligned to its size, unused); notif, unless
 * CAP_SLOT_NONE, is signalled when a socket may have become ready. The
 * netstack ends the session when that notification dies (with the task
 * that made it: the client's death, docs/netstack.md); with
 * CAP_SLOT_NONE a notification of the caller's own is made and given. */
long net_session_open(struct net_session *s, cap_slot_t net, void *buf_va, unsigned log2,
		      cap_slot_t notif);
/* The same through SOCK_LEND_NAME's endpoint lend (a private name: the
 * manifest's `lookup net-lend`): a lending session, whose reply also maps
 * the netstack's packet pool read-only at pool_va (aligned to
 * SOCK_LEND_POOL_MAX). window is the receive window (an fpage) the buffer
 * and the pool land in: a region kept for the netstack's pages alone, the
 * smallest that holds both, since the netstack may map anything anywhere
 * inside it (-SOCK_EINVAL if it does not hold both); *pool_log2 gets the
 * pool's size. -SOCK_EFAULT when the session, the buffer or the whole
 * pool did not arrive (what arrived of the buffer is unmapped). */
long net_session_open_lend(struct net_session *s, cap_slot_t lend, void *buf_va, unsigned log2,
			   cap_slot_t notif, void *pool_va, uint64_t window, unsigned *pool_log2);
long net_session_end(struct net_session *s);

/* One call: label and n words in, up to nout words back in out. */
long net_call(const struct net_session *s, uint64_t label, const uint64_t *w, unsigned n,
	      uint64_t *out, unsigned nout);

long sock_open(const struct net_session *s, int type);
long sock_bind(const struct net_session *s, int sock, uint32_t addr, uint16_t port);
long sock_listen(const struct net_session *s, int sock, unsigned backlog);
long sock_accept(const struct net_session *s, int sock, uint32_t *addr, uint16_t *port);
long sock_connect(const struct net_session *s, int sock, uint32_t addr, uint16_t port);
/* Send up to len bytes of data (at most the buffer size); returns how
 * many the netstack took. addr/port: UDP destination, or 0 for the peer. */
long sock_send(const struct net_session *s, int sock, const void *data, size_t len,
	       uint32_t addr, uint16_t port);
/* Receive up to len bytes into data; 0 is the end of the stream. */
long sock_recv(const struct net_session *s, int sock, void *data, size_t len, uint32_t *addr,
	       uint16_t *port);

/* A UDP datagram's sender and where it was sent (SOCK_RECV's words). */
struct sock_dgram_info {
	uint32_t addr;          /* the sender (network byte order) */
	uint16_t port;
	uint32_t to;            /* the address it was sent to (network byte order) */
	unsigned flags;         /* SOCK_RECV_BROADCAST: to a broadcast or multicast address */
};

/* Receive one datagram (cut to len) into data, and what info says. */
long sock_recv_dgram(const struct net_session *s, int sock, void *data, size_t len,
		     struct sock_dgram_info *info);
long sock_close(const struct net_session *s, int sock);

#endif
