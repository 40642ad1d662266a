/* The POSIX server's NETLINK_ROUTE dumps (posix-server/netlink_route.c):
 * made a datagram at a time as the reader reads (Linux's netlink_dump),
 * so a dump longer than one datagram never holds more of the queue than
 * one, and nothing of it is lost; NLMSG_DONE comes alone at the end; a
 * second dump while one is read is EBUSY. The netstack's tables and the
 * socket's queue are fakes here (netinfo.c and netlink.c need IPC). */
#include <stdlib.h>
#include <string.h>

#include "netinfo.h"
#include "netlink.h"
#include "unit.h"

#define NLMSG_ERROR   2
#define NLMSG_DONE    3
#define NLM_F_REQUEST 0x1
#define NLM_F_DUMP    0x300
#define RTM_NEWROUTE  24
#define RTM_GETROUTE  26
#define RTM_GETLINK   18

struct netinfo netinfo;

bool netinfo_if(unsigned i, struct netinfo_if *out)
{
	if (i > 0)
		return false;
	*out = (struct netinfo_if){ .index = 2, .name = "eth0", .addr = 0x0201010a,
				    .mask = 0x00ffffff, .mtu = 1500, .flags = 1 };
	return true;
}

bool netinfo_if_by_index(int index, struct netinfo_if *out)
{
	return index == 2 && netinfo_if(0, out);
}

bool netinfo_if_by_name(const char *name, struct netinfo_if *out)
{
	return !strcmp(name, "eth0") && netinfo_if(0, out);
}

bool netinfo_route_if(const struct net_route *r, struct netinfo_if *out)
{
	(void)r;
	return netinfo_if(0, out);
}

/* The socket's queue: datagrams as netlink.c's would take them, in a
 * fake that holds at most `room` of them. */
#define QUEUE_MAX 64
static uint8_t *queued[QUEUE_MAX];
static uint32_t queued_len[QUEUE_MAX];
static unsigned head, tail, room = QUEUE_MAX;

bool netlink_queue_put(struct nlq *q, uint8_t *buf, uint32_t n)
{
	if (tail - head >= room)
		return false;
	queued[tail % QUEUE_MAX] = malloc(n);
	memcpy(queued[tail % QUEUE_MAX], buf, n);
	queued_len[tail % QUEUE_MAX] = n;
	tail++;
	q->count++;
	q->news++;
	q->bytes += n;
	return true;
}

/* A receive: the oldest datagram's messages' types counted into types
 * (by type, NLMSG_DONE and NLMSG_ERROR's too), its length returned;
 * the dump told, as netlink_recv does. 0: none queued. */
static uint32_t receive(struct nlq *q, unsigned types[64], int32_t *error)
{
	if (head == tail)
		return 0;
	uint8_t *d = queued[head % QUEUE_MAX];
	uint32_t n = queued_len[head % QUEUE_MAX];
	for (uint32_t at = 0; at + sizeof(struct nlmsghdr) <= n;) {
		struct nlmsghdr h;
		memcpy(&h, d + at, sizeof(h));
		if (h.len < sizeof(h))
			break;
		types[h.type < 64 ? h.type : 63]++;
		if (h.type == NLMSG_ERROR)
			memcpy(error, d + at + sizeof(h), 4);
		at += (h.len + 3) & ~3U;
	}
	free(d);
	head++;
	q->count--;
	q->bytes -= n;
	netlink_dump_read(q);
	return n;
}

static void request(struct nlq *q, uint16_t type, uint32_t seq)
{
	struct { struct nlmsghdr h; uint8_t family, pad[3]; } req = {
		{ sizeof(req), type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0 }, 0, { 0 } };

	netlink_answer(q, (const uint8_t *)&req, sizeof(req));
}

static void routes(unsigned n)
{
	memset(&netinfo, 0, sizeof(netinfo));
	netinfo.nifs = 1;
	netinfo.nroutes = n;
	for (unsigned i = 0; i < n; i++)
		netinfo.routes[i] = (struct net_route){ (10 + i) | 0x0000a8c0U << 8, 0x00ffffff,
						       0x0101010a, -1, i, NET_ROUTE_STATIC };
	head = tail = 0;
	room = QUEUE_MAX;
}

TEST(netlink_dump_longer_than_a_datagram_made_as_read)
{
	struct nlq q = { 0 };
	unsigned types[64] = { 0 }, datagrams = 0;
	int32_t error = 0;

	routes(NETINFO_ROUTES);
	request(&q, RTM_GETROUTE, 7);
	CHECK_EQ(tail - head, 1);       /* only the first datagram so far */
	CHECK(q.dumping);
	CHECK(queued_len[0] <= NL_CHUNK);
	while (receive(&q, types, &error)) {
		datagrams++;
		CHECK(tail - head <= 1);        /* never more than the next one */
		CHECK(datagrams < 100);
	}
	CHECK(datagrams >= 3);          /* 64 routes: two datagrams and more, then DONE */
	CHECK_EQ(types[RTM_NEWROUTE], NETINFO_ROUTES);
	CHECK_EQ(types[NLMSG_DONE], 1);
	CHECK(!q.dumping);
}

TEST(netlink_dump_survives_a_queue_of_one_datagram)
{
	struct nlq q = { 0 };
	unsigned types[64] = { 0 };
	int32_t error = 0;

	/* Built whole at once, the second datagram would not fit. */
	routes(NETINFO_ROUTES);
	room = 1;
	request(&q, RTM_GETROUTE, 8);
	CHECK(!q.overrun);
	while (receive(&q, types, &error))
		CHECK(!q.overrun);
	CHECK_EQ(types[RTM_NEWROUTE], NETINFO_ROUTES);
	CHECK_EQ(types[NLMSG_DONE], 1);
}

TEST(netlink_dump_while_one_is_read_is_ebusy)
{
	struct nlq q = { 0 };
	unsigned types[64] = { 0 };
	int32_t error = 0;

	routes(NETINFO_ROUTES);
	request(&q, RTM_GETROUTE, 9);
	request(&q, RTM_GETLINK, 10);
	/* The first datagram, then the EBUSY error, then the rest. */
	receive(&q, types, &error);
	CHECK_EQ(types[NLMSG_ERROR], 0);
	receive(&q, types, &error);
	CHECK_EQ(types[NLMSG_ERROR], 1);
	CHECK_EQ(error, -16);           /* EBUSY */
	while (receive(&q, types, &error))
		;
	CHECK_EQ(types[RTM_NEWROUTE], NETINFO_ROUTES);
	CHECK_EQ(types[NLMSG_DONE], 1);
	/* Over: a new dump is taken. */
	request(&q, RTM_GETROUTE, 11);
	CHECK(q.dumping);
	while (receive(&q, types, &error))
		;
	CHECK_EQ(types[NLMSG_DONE], 2);
}

TEST(netlink_dump_of_nothing_is_done_at_once)
{
	struct nlq q = { 0 };
	unsigned types[64] = { 0 };
	int32_t error = 0;

	routes(0);
	request(&q, RTM_GETROUTE, 12);
	CHECK(!q.dumping);
	CHECK_EQ(tail - head, 1);
	receive(&q, types, &error);
	CHECK_EQ(types[NLMSG_DONE], 1);
	CHECK_EQ(types[RTM_NEWROUTE], 0);
}
