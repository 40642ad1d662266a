/*
 * Inside the POSIX server's AF_NETLINK sockets (netlink.c: the sockets
 * and their receive queues; netlink_route.c: NETLINK_ROUTE's answers):
 * a socket's queue and what the two files call of each other.
 */
#ifndef MICA_POSIX_NETLINK_H
#define MICA_POSIX_NETLINK_H

#include "posix.h"

#define NL_QUEUE       (64UL * 1024)    /* bytes a socket's receive queue holds */
#define NL_PAGES       (NL_QUEUE / PAGE_SIZE)
#define NL_CHUNK       3776             /* a dump's datagram: Linux's NLMSG_GOODSIZE, about */

struct nlmsghdr {
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};

struct nlq {
	void *pages[NL_PAGES];
	uint64_t head, bytes;           /* the oldest record's ring offset, bytes held */
	unsigned count;                 /* datagrams held */
	int32_t port;                   /* nl_pid; 0: not bound yet */
	uint32_t groups;
	uint32_t news;                  /* datagrams queued so far (epoll's edges) */
	bool overrun;                   /* an answer was dropped: ENOBUFS next */
	/* A dump being read (Linux's cb_running): what it asked (dump_kind,
	 * RTM_GET*; dump_inet: of a family that has any), where the next
	 * datagram begins (dump_pos: the index of the interface, route or
	 * neighbour), its request's dump_seq. Made a datagram at a time as
	 * receives come, then its NLMSG_DONE (netlink_dump_read). */
	bool dumping, dump_inet;
	uint16_t dump_kind;
	uint32_t dump_pos, dump_seq;
};

/* (netlink.c) Queue the datagram buf (n bytes): false when it does not
 * fit. */
bool netlink_queue_put(struct nlq *q, uint8_t *buf, uint32_t n);
/* (netlink_route.c) Answer the requests of a send (total bytes at msgs,
 * 4-byte aligned) into q, as Linux's netlink_rcv_skb. */
void netlink_answer(struct nlq *q, const uint8_t *msgs, uint64_t total);
/* (netlink_route.c) A receive took or peeked at a datagram of q: a dump being read
 * queues its next datagram, or when nothing is left its NLMSG_DONE
 * (and ends), if q is at most half full (Linux's netlink_recvmsg). */
void netlink_dump_read(struct nlq *q);

#endif
