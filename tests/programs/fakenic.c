/*
 * fakenic: a NIC driver without a NIC, to test the netstack's side of the
 * driver protocol (proto/netq.h) where a real driver cannot be made to
 * misbehave exactly: it registers as a driver (args name=eth0), takes
 * NETQ_ATTACH, and plays a host at 10.9.0.1 behind the "wire" by writing
 * frames into the buffers the netstack gave it (the netstack must be
 * 10.9.0.2).
 *
 * First run: ARP and ping exchanges; then descriptors the netstack must
 * refuse and count (wild offsets, bad lengths, buffers it holds itself,
 * buffers given back twice, indices far ahead, chains of buffers that
 * are too long, cut off at the ring's end or carry a nonsense segment
 * size, and a good ping over two buffers); then the netstack's
 * counters (NETMGMT_IF_INFO) must match exactly what this side did; then it
 * keeps two sent frames and crashes, saying how many buffers the netstack
 * must reclaim. Second run (init restarts it): a different MAC address;
 * the netstack must re-attach, its buffer accounting must be exact, and
 * the exchanges must work again. Every check prints one line; the last
 * is `fakenic: all checks passed` or `fakenic: FAILED ...`.
 *
 * With `calls=mute` (args name=eth0 calls=mute): after the attach it takes every call
 * and answers none but NETQ_ATTACH's (a driver hung while serving a call,
 * or a hostile one); the netstack must go on without its counters.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netq_client.h"
#include "lib/netmgmt_client.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"

#define HELD_MAX 128            /* rx-free buffers this side keeps */

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t peer_ip[4] = { 10, 9, 0, 1 }, stack_ip[4] = { 10, 9, 0, 2 };
static uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static uint8_t *area;
static struct netq_area geom;
static cap_slot_t endpoint, reply, wake, stack_notif, net = CAP_SLOT_NONE;
static uint32_t held[HELD_MAX];
static unsigned nheld;
static bool failed;

static struct netq_ring *ring(enum netq_ring_id id)
{
	return netq_ring(area, id);
}

static void check(bool ok, const char *what)
{
	printf("fakenic: %s: %s\n", what, ok ? "ok" : "FAILED");
	failed |= !ok;
}

static void sleep_ms(unsigned ms)
{
	sys_notify_timer(wake, 2, (uint64_t)sys_clock() + (uint64_t)ms * 1000000);
	sys_notify_wait(wake, 0);
}

static void kick(void)
{
	sys_notify_signal(stack_notif, NETQ_SIGNAL_QUEUE);
}

/* Serve calls until NETQ_ATTACH arrives: map the area, answer our MAC. */
static void serve_attach(void)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m;

	b->recv_window = fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2);
	for (;;) {
		b->recv_cap_slot = stack_notif;
		if (ipc_recv(endpoint, reply, &m) != 0 || ipc_tag_label(m.tag) == IPC_LABEL_NOTIFY)
			continue;
		if (ipc_tag_label(m.tag) != NETQ_ATTACH || !b->recv_cap_count || !b->recv_pages) {
			m = msg_make(ERR_NO_SYSCALL, 0);
			ipc_reply(reply, &m);
			continue;
		}
		area = (uint8_t *)NETQ_DRIVER_AREA;
		memcpy(&geom, area, sizeof(geom));
		const char *why = netq_area_check(&geom, 1UL << m.w[1]);
		check(!why, why ? why : "the area's header");
		m = msg_make(0, 4);
		for (int i = 0; i < 6; i++)
			m.w[0] |= (uint64_t)our_mac[i] << (8 * i);
		m.w[1] = 1;
		m.w[2] = 0;
		m.w[3] = NETQ_OFFLOAD_RX_CSUM | NETQ_OFFLOAD_RX_TSO4;  /* chains may come */
		m.tag = ipc_tag(0, 4, 1);
		b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		b->items[0][1] = wake;
		ipc_reply(reply, &m);
		b->recv_cap_slot = CAP_SLOT_NONE;
		return;
	}
}

/* Take up to n buffers from rx-free (waiting a little for them). */
static void take_rx_free(unsigned n)
{
	struct netq_desc d;

	for (int tries = 0; n && tries < 100; tries++) {
		while (n && nheld < HELD_MAX && netq_pop(ring(NETQ_RX_FREE), &d)) {
			held[nheld++] = d.offset;
			n--;
		}
		if (n)
			sleep_ms(10);
	}
	kick();                 /* room in rx-free: the netstack refills it */
}

/* Wait until the netstack has filled rx-free again (it keeps it full
 * while it has more than half the pool), so that its counts stand still. */
static void wait_rx_free_full(void)
{
	for (int tries = 0; tries < 200 && netq_count(ring(NETQ_RX_FREE)) < NETQ_RING_SIZE; tries++) {
		kick();
		sleep_ms(10);
	}
}

/* Wait until the netstack has taken everything from a ring we fill. */
static void wait_consumed(struct netq_ring *r)
{
	for (int tries = 0; tries < 200 && netq_space(r) < NETQ_RING_SIZE; tries++) {
		kick();
		sleep_ms(10);
	}
}

static uint32_t take_held(void)
{
	return held[--nheld];
}

static uint16_t ip_sum(const uint8_t *p, unsigned len)
{
	uint32_t s = 0;

	for (unsigned i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A frame from the peer into our buffers, to rx-ready: in one, or (with
 * split_next, if long enough) its first NETQ_CHAIN_HEAD_MIN bytes in one
 * and the rest in another, a chain. */
static bool split_next;
static unsigned ping_payload = 32;

static void deliver(const uint8_t *frame, unsigned len)
{
	unsigned split = split_next && len > NETQ_CHAIN_HEAD_MIN ? NETQ_CHAIN_HEAD_MIN : 0;
	struct netq_desc d[2] = { { .offset = take_held(), .len = (uint16_t)(split ? split : len) } };

	memcpy(area + d[0].offset, frame, d[0].len);
	if (split) {
		d[0].flags = NETQ_F_MORE;
		d[1] = (struct netq_desc){ .offset = take_held(), .len = (uint16_t)(len - split) };
		memcpy(area + d[1].offset, frame + split, d[1].len);
	}
	netq_push_chain(ring(NETQ_RX_READY), d, split ? 2 : 1);
	kick();
}

static void send_arp_request(void)
{
	uint8_t f[60] = { 0 };

	memset(f, 0xFF, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, peer_mac, 6);
	memcpy(f + 28, peer_ip, 4);
	memcpy(f + 38, stack_ip, 4);
	deliver(f, sizeof(f));
}

static void send_ping(uint16_t seq)
{
	uint8_t f[14 + 20 + 8 + 600] = { 0 };
	unsigned len = 14 + 20 + 8 + ping_payload;
	uint8_t *ip = f + 14, *icmp = ip + 20;

	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	put16(ip + 4, seq);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, peer_ip, 4);
	memcpy(ip + 16, stack_ip, 4);
	put16(ip + 10, ip_sum(ip, 20));
	icmp[0] = 8;
	put16(icmp + 4, 0x1234);
	put16(icmp + 6, seq);
	for (unsigned i = 0; i < ping_payload; i++)
		icmp[8 + i] = (uint8_t)('a' + i % 26);
	put16(icmp + 2, ip_sum(icmp, 8 + ping_payload));
	deliver(f, len);
}

enum frame_kind { FRAME_OTHER, FRAME_ARP_REPLY, FRAME_PING_REPLY };

static enum frame_kind classify(const uint8_t *f, unsigned len)
{
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
	    !memcmp(f + 28, stack_ip, 4) && !memcmp(f, peer_mac, 6))
		return FRAME_ARP_REPLY;
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 0 &&
	    !memcmp(f + 30, peer_ip, 4) && !memcmp(f, peer_mac, 6))
		return FRAME_PING_REPLY;
	return FRAME_OTHER;
}

/* Take frames from tx-ready until one of the kind arrives (1 s at most);
 * every frame goes back through tx-done, except that one if keep. Returns
 * its descriptor's offset, or 0. */
static uint32_t wait_frame(enum frame_kind want, bool keep)
{
	struct netq_desc d;

	for (int tries = 0; tries < 100; tries++) {
		while (netq_pop(ring(NETQ_TX_READY), &d)) {
			bool ours = netq_desc_valid(&geom, d, false) &&
				    classify(area + d.offset, d.len) == want;
			if (!ours || !keep) {
				netq_push(ring(NETQ_TX_DONE), (struct netq_desc){ .offset = d.offset });
				kick();
			}
			if (ours)
				return d.offset;
		}
		kick();
		sleep_ms(10);
	}
	return 0;
}

/* Return every frame waiting in tx-ready. */
static void drain_tx(void)
{
	struct netq_desc d;

	while (netq_pop(ring(NETQ_TX_READY), &d))
		netq_push(ring(NETQ_TX_DONE), (struct netq_desc){ .offset = d.offset });
	kick();
}

static bool in_rx_free(uint32_t off)
{
	struct netq_desc d;

	for (unsigned i = 0; netq_peek(ring(NETQ_RX_FREE), i, &d); i++)
		if (d.offset == off)
			return true;
	return false;
}

static bool is_held(uint32_t off)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] == off)
			return true;
	return false;
}

/* ARP, then a ping, answered; the answers go back through tx-done (and,
 * when dup, once more: a descriptor the netstack must refuse). Returns the
 * number of refused descriptors it pushed. */
static unsigned exchanges(const char *when, bool dup)
{
	send_arp_request();
	uint32_t arp = wait_frame(FRAME_ARP_REPLY, false);
	send_ping(1);
	uint32_t ping = wait_frame(FRAME_PING_REPLY, false);
	char what[96];
	fmt_snprintf(what, sizeof(what), "ARP and ping answered (%s)", when);
	check(arp && ping, what);
	if (!dup || !arp || !ping)
		return 0;
	netq_push(ring(NETQ_TX_DONE), (struct netq_desc){ .offset = arp });
	netq_push(ring(NETQ_TX_DONE), (struct netq_desc){ .offset = ping });
	kick();
	return 2;
}

/* A chain of n of our buffers, len bytes each, pushed at once: the first
 * with flags and seg_size; `open`: the last says MORE too; meta_at: a
 * later descriptor carrying a segment size (0: none). */
static void push_chain(unsigned n, uint16_t len, uint16_t flags, uint16_t seg, bool open,
		       unsigned meta_at)
{
	struct netq_desc d[NETQ_CHAIN_MAX + 1];

	for (unsigned i = 0; i < n; i++)
		d[i] = (struct netq_desc){ .offset = take_held(), .len = len,
					   .flags = i + 1 < n || open ? NETQ_F_MORE : 0,
					   .seg_size = i == meta_at ? 1448 : 0 };
	d[0].flags |= flags;
	d[0].seg_size = seg;
	netq_push_chain(ring(NETQ_RX_READY), d, n);
	wait_consumed(ring(NETQ_RX_READY));
}

/* Chains the netstack must refuse, each counted once; returns how many. */
static unsigned bad_chains(void)
{
	const uint16_t agg = NETQ_F_TSO4 | NETQ_F_CSUM_VALID;

	push_chain(2, 60, 0, 0, true, 0);               /* MORE at the ring's end */
	push_chain(NETQ_CHAIN_MAX + 1, 100, agg, 1448, false, 0);      /* too long */
	push_chain(3, 2000, agg, 1, false, 0);          /* a segment size below the least */
	push_chain(3, 2000, agg, 1448, false, 2);       /* a segment size on a later one */
	push_chain(3, 2000, NETQ_F_TSO4, 1448, false, 0);       /* nobody vouched for its sums */
	push_chain(2, 1000, 0, 0, false, 0);            /* 2000 bytes and not an aggregate */
	push_chain(1, 60, 0, 1448, false, 0);           /* a segment size without TSO4 */
	push_chain(2, 100, 0, 0, false, 0);             /* headers maybe split: first too short */
	return 8;
}

/* Descriptors the netstack must refuse; returns how many were pushed. */
static unsigned scribble(void)
{
	struct netq_ring *rx = ring(NETQ_RX_READY), *done = ring(NETQ_TX_DONE);
	unsigned bad = 0;

	/* Outside the pool. */
	netq_push(rx, (struct netq_desc){ .offset = 0, .len = 60 });
	netq_push(rx, (struct netq_desc){ .offset = 0xFFFFFFF0u, .len = 60 });
	netq_push(rx, (struct netq_desc){ .offset = geom.pool_offset + geom.pool_size + 4096,
					  .len = 60 });
	bad += 3;
	/* Buffers we hold, with bad lengths: refused, but given back. */
	uint32_t returned = take_held();
	netq_push(rx, (struct netq_desc){ .offset = returned });
	netq_push(rx, (struct netq_desc){ .offset = take_held(), .len = 2049 });
	netq_push(rx, (struct netq_desc){ .offset = take_held() + 2000, .len = 100 });
	netq_push(rx, (struct netq_desc){ .offset = take_held(), .len = 10 });
	bad += 4;
	/* Well formed, naming a buffer the netstack holds: one it never gave
	 * us, and one we just gave back. */
	uint32_t foreign = 0;
	for (uint32_t i = geom.nbufs; i-- > 0 && !foreign;) {
		uint32_t off = geom.pool_offset + i * NETQ_BUF_SIZE;
		if (!is_held(off) && !in_rx_free(off))
			foreign = off;
	}
	netq_push(rx, (struct netq_desc){ .offset = foreign, .len = 60 });
	netq_push(rx, (struct netq_desc){ .offset = returned, .len = 60 });
	bad += 2;
	/* tx-done: a buffer that was never sent, and a wild offset. */
	netq_push(done, (struct netq_desc){ .offset = held[0] });
	netq_push(done, (struct netq_desc){ .offset = 12345 });
	bad += 2;
	wait_consumed(rx);
	wait_consumed(done);
	/* Indices far ahead of what a ring can hold: a hostile producer,
	 * so written here by hand, not through the queue library. */
	__atomic_store_n(&rx->head, rx->tail + 100000, __ATOMIC_RELEASE);
	__atomic_store_n(&done->head, done->tail + 100000, __ATOMIC_RELEASE);
	bad += 2;
	wait_consumed(rx);
	wait_consumed(done);
	return bad;
}

/* The netstack's view of eth0 (NETMGMT_IF_INFO), compared with ours. */
static void compare_counters(const char *when, long want_bad, uint64_t want_restarts)
{
	struct net_if_info info;
	char what[96];

	wait_rx_free_full();
	if (net == CAP_SLOT_NONE) {
		net = slot_alloc();
		ns_lookup(NETMGMT_RO_NAME, net);
	}
	long err = netmgmt_if_info(net, 0, &info);
	const struct net_if_counters *c = &info.count;
	uint64_t posted = nheld + netq_count(ring(NETQ_RX_FREE));
	printf("fakenic: %s: bad_desc=%lu attached=%lu driver_restarts=%lu bufs_reclaimed=%lu "
	       "bufs_total=%lu bufs_free=%lu bufs_rx_posted=%lu (ours %lu) bufs_tx=%lu bufs_lwip=%lu\n",
	       when, c->bad_desc, c->attached, c->driver_restarts, c->bufs_reclaimed, c->bufs_total,
	       c->bufs_free, c->bufs_rx_posted, posted, c->bufs_tx, c->bufs_lwip);
	if (want_bad >= 0) {
		fmt_snprintf(what, sizeof(what), "%s: every bad descriptor refused and counted", when);
		check(err == 0 && c->bad_desc == (uint64_t)want_bad, what);
	}
	fmt_snprintf(what, sizeof(what), "%s: the netstack's buffer accounting matches", when);
	check(err == 0 && c->attached == 1 && c->driver_restarts == want_restarts &&
	      c->bufs_total == geom.nbufs && c->bufs_rx_posted == posted && c->bufs_tx == 0 &&
	      c->bufs_lwip == 0 && c->bufs_free + c->bufs_rx_posted == c->bufs_total, what);
}

/* `calls=mute`: take calls, answer none; each kept reply object stays ours. */
static void serve_mute(void)
{
	struct msg m;

	printf("fakenic: mute: taking calls and answering none\n");
	for (unsigned kept = 0;;) {
		if (ipc_recv(endpoint, reply, &m) != 0 || ipc_tag_label(m.tag) == IPC_LABEL_NOTIFY)
			continue;
		printf("fakenic: mute: call %lu taken, not answered (%u kept)\n",
		       ipc_tag_label(m.tag), ++kept);
		reply = slot_alloc();
		if (reply == CAP_SLOT_NONE || sys_obj_create(CAP_REPLY, reply, 0) < 0) {
			for (;;)
				sleep_ms(1000);
		}
	}
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	char name[NS_NAME_MAX + 1];
	long err;

	if (!program_arg(pi->args, "name", name, sizeof(name)))
		memcpy(name, pi->name, sizeof(name) - 1);
	endpoint = slot_alloc();
	reply = slot_alloc();
	wake = slot_alloc();
	stack_notif = slot_alloc();
	if ((err = sys_obj_create(CAP_ENDPOINT, endpoint, 0)) < 0 ||
	    (err = sys_obj_create(CAP_REPLY, reply, 0)) < 0 ||
	    (err = sys_obj_create(CAP_NOTIFICATION, wake, 0)) < 0 ||
	    (err = ns_register_private(name, endpoint)) < 0) {
		printf("fakenic: setting up: %s\n", mica_strerror(err));
		return 1;
	}
	if (pi->restarts)
		our_mac[5] = 0x03;      /* a different NIC: the netstack must notice */
	printf("fakenic: run %lu registered as %s\n", pi->restarts + 1, name);
	serve_attach();
	char calls[8];
	if (program_arg(pi->args, "calls", calls, sizeof(calls)) && !strcmp(calls, "mute"))
		serve_mute();
	take_rx_free(HELD_MAX);
	drain_tx();             /* a gratuitous ARP, maybe */

	if (pi->restarts == 0) {
		unsigned bad = exchanges("first driver", true);
		wait_rx_free_full();
		bad += scribble();
		exchanges("after the bad descriptors", false);
		bad += bad_chains();
		split_next = true;
		ping_payload = 600;
		exchanges("a ping over two buffers, after the bad chains", false);
		split_next = false;
		ping_payload = 32;
		compare_counters("first driver", (long)bad, 0);
		printf("fakenic: expect %u refused descriptors\n", bad);
		/* Two frames stay unreturned (a copy and one sent in place). */
		send_arp_request();
		bool kept = wait_frame(FRAME_ARP_REPLY, true) != 0;
		send_ping(2);
		kept &= wait_frame(FRAME_PING_REPLY, true) != 0;
		check(kept, "two sent frames kept");
		wait_rx_free_full();
		printf("fakenic: crashing; the netstack must reclaim %u buffers\n",
		       nheld + netq_count(ring(NETQ_RX_FREE)) + 2);
		__asm__ volatile("movl $1, 0x10" ::: "memory");   /* unmapped: a page fault */
	}
	exchanges("second driver", false);
	compare_counters("second driver", -1, 1);
	printf(failed ? "fakenic: FAILED\n" : "fakenic: all checks passed\n");
	/* Stay, so the name stays. */
	for (;;)
		sleep_ms(1000);
}
