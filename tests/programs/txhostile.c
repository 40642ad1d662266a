/*
 * txhostile: a hostile client of one NIC driver, standing in for a
 * netstack that lies (tests/system/test_tso.py). It attaches to the
 * driver named by `nic=` like any client, then pushes to tx-ready, in
 * this order: TSO4 frames that are each wrong in one way (BAD_CASES
 * below: a segment size out of range, the checksum elsewhere than TCP's
 * field, an IPv4 length past the frame, not IPv4, headers past the first
 * descriptor, segments longer than a frame, a fragment, no payload) and a
 * chain one descriptor longer than NETQ_CHAIN_MAX; a
 * good TSO4 aggregate (a header-only first descriptor and two payload
 * buffers: 3000 bytes in segments of 1000) and a plain frame, both to
 * `dst=` (the test's tap, 12 hex digits); and last a chain whose end never
 * comes. Then it waits (5 s at most) for tx-done to bring back every
 * descriptor it pushed and reads the driver's counters. One line each:
 *
 *   txhostile: offloads 0x..
 *   txhostile: pushed N bad frames, M descriptors in all
 *   txhostile: driver tx_errors T, descriptors back B of M
 *   txhostile: done
 *
 * The bad frames' TCP source port is BAD_PORT, so the test can tell that
 * none of them reached the wire.
 */
#include "lib/inet_csum.h"
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netq_client.h"
#include "lib/netq_csum.h"
#include "proto/nameservice.h"
#include "proto/program.h"

#define POOL_LOG2 16            /* 32 buffers */
#define BAD_PORT  6666
#define GOOD_PORT 7777

static uint8_t *pool;
static uint8_t src_mac[6], dst_mac[6];

static uint8_t *buf(unsigned i) { return pool + i * NETQ_BUF_SIZE; }
static uint32_t buf_offset(unsigned i) { return NETQ_POOL_OFFSET + i * NETQ_BUF_SIZE; }

/* An Ethernet/IPv4/TCP header for a datagram of ip_total bytes into f,
 * TCP header thl bytes (options: no-operation), flags ACK|PSH; returns the
 * headers' length. The IPv4 checksum is filled; TCP's field is left for
 * netq_csum_leave. */
static unsigned headers(uint8_t *f, unsigned ip_total, unsigned thl, uint16_t sport)
{
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	inet_put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *tcp = ip + 20;
	memset(ip, 0, 20 + thl);
	ip[0] = 0x45;
	inet_put16(ip + 2, (uint16_t)ip_total);
	inet_put16(ip + 4, 0x1234);
	inet_put16(ip + 6, 0x4000);     /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x09\x00\x02\x0a\x09\x00\x01", 8);
	inet_put16(ip + 10, inet_fold(inet_sum(ip, 20, 0)));
	inet_put16(tcp, sport);
	inet_put16(tcp + 2, 5001);
	memcpy(tcp + 4, "\x10\x00\x00\x00", 4);
	tcp[12] = (uint8_t)(thl / 4 << 4);
	tcp[13] = 0x18;                 /* ACK PSH */
	inet_put16(tcp + 14, 65535);
	for (unsigned i = 20; i < thl; i++)
		tcp[i] = 1;
	return 14 + 20 + thl;
}

/* A TSO4 frame of payload bytes in buffer b (one descriptor), segments of
 * seg bytes, with the checksum left partial as netq asks; *d its
 * descriptor. */
static void tso_frame(unsigned b, unsigned payload, unsigned thl, uint16_t seg,
		      struct netq_desc *d)
{
	uint8_t *f = buf(b);
	unsigned hl = headers(f, 20 + thl + payload, thl, BAD_PORT);
	for (unsigned i = 0; i < payload; i++)
		f[hl + i] = (uint8_t)i;
	*d = (struct netq_desc){ .offset = buf_offset(b), .len = (uint16_t)(hl + payload) };
	struct netq_l4 l4;
	if (netq_frame_l4(f, d->len, &l4))
		netq_csum_leave(f, &l4, d);
	d->flags |= NETQ_F_TSO4;
	d->seg_size = seg;
}

static bool parse_mac(const char *hex, uint8_t *mac)
{
	for (int i = 0; i < 12; i++) {
		char c = hex[i];
		unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
		if (v > 15)
			return false;
		mac[i / 2] = (uint8_t)(mac[i / 2] << 4 | v);
	}
	return true;
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	char name[NS_NAME_MAX + 1], dst[16];
	uint64_t pool_phys, rings_phys;
	struct netq_link link;
	long err;

	if (!program_arg(pi->args, "nic", name, sizeof(name)) ||
	    !program_arg(pi->args, "dst", dst, sizeof(dst)) || !parse_mac(dst, dst_mac)) {
		printf("txhostile: args nic=NAME dst=MAC (12 hex digits)\n");
		return 1;
	}
	cap_slot_t driver = slot_alloc(), driver_notif = slot_alloc(), wake = slot_alloc();
	uint8_t *rings = dma_alloc(NETQ_RINGS_SIZE, &rings_phys);
	pool = dma_alloc(1UL << POOL_LOG2, &pool_phys);
	if (!rings || !pool || sys_obj_create(CAP_NOTIFICATION, wake, 0) < 0 ||
	    (err = ns_lookup(name, driver)) < 0) {
		printf("txhostile: cannot set up (dma= in the manifest, the driver's name)\n");
		return 1;
	}
	netq_area_init(rings, POOL_LOG2);
	struct netq_memory mem = { .rings = rings, .pool = pool, .pool_phys = pool_phys,
				   .pool_log2 = POOL_LOG2 };
	if ((err = netq_attach(driver, &mem, wake, 1, driver_notif, &link)) < 0) {
		printf("txhostile: cannot attach: %s\n", mica_strerror(err));
		return 1;
	}
	memcpy(src_mac, link.mac, 6);
	printf("txhostile: offloads 0x%x\n", link.offloads);
	struct netq_ring *tx = netq_ring(rings, NETQ_TX_READY), *done = netq_ring(rings, NETQ_TX_DONE);
	struct netq_desc d[4];
	unsigned bad = 0, pushed = 0, b = 0;

	/* Each wrong in one way, one buffer each (the first descriptor of a
	 * two-descriptor chain where the case needs one). */
	tso_frame(b++, 1500, 20, NETQ_SEG_MAX + 1, &d[0]);     /* segment size out of range */
	bad += netq_push(tx, d[0]);
	tso_frame(b++, 1500, 20, 1000, &d[0]);
	d[0].csum_offset = 6;                                   /* not TCP's checksum field */
	bad += netq_push(tx, d[0]);
	tso_frame(b++, 1500, 20, 1000, &d[0]);
	inet_put16(buf(b - 1) + 16, 1500 + 40 + 100);           /* IPv4 length past the frame */
	bad += netq_push(tx, d[0]);
	tso_frame(b++, 1500, 20, 1000, &d[0]);
	inet_put16(buf(b - 1) + 12, 0x86DD);                    /* not IPv4 */
	bad += netq_push(tx, d[0]);
	tso_frame(b++, 1500, 20, 1000, &d[0]);
	buf(b - 1)[14 + 6] |= 0x20;                             /* a fragment (MF) */
	bad += netq_push(tx, d[0]);
	tso_frame(b++, 1400, 60, NETQ_SEG_MAX, &d[0]);          /* 14 + 20 + 60 + 1464 > 1514 */
	bad += netq_push(tx, d[0]);
	tso_frame(b++, 0, 20, 1000, &d[0]);                     /* no payload */
	bad += netq_push(tx, d[0]);
	/* Headers past the first descriptor: 66 bytes of them, 54 in it. */
	tso_frame(b++, 1500, 32, 1000, &d[0]);
	d[1] = (struct netq_desc){ .offset = d[0].offset + 54, .len = (uint16_t)(d[0].len - 54) };
	d[0].len = 54;
	d[0].flags |= NETQ_F_MORE;
	bad += netq_push_chain(tx, d, 2);
	pushed = bad + 1;
	/* A chain one descriptor too long: slices of one buffer. */
	struct netq_desc longc[NETQ_CHAIN_MAX + 1];
	headers(buf(b), 20 + 20 + (NETQ_CHAIN_MAX + 1) * 40 - 54, 20, BAD_PORT);
	for (unsigned i = 0; i <= NETQ_CHAIN_MAX; i++)
		longc[i] = (struct netq_desc){ .offset = buf_offset(b) + i * 40, .len = 40,
					       .flags = i < NETQ_CHAIN_MAX ? NETQ_F_MORE : 0 };
	longc[0].len = 54;
	for (unsigned i = 1; i <= NETQ_CHAIN_MAX; i++)
		longc[i].offset += 14;
	b++;
	bad += netq_push_chain(tx, longc, NETQ_CHAIN_MAX + 1);
	pushed += NETQ_CHAIN_MAX + 1;

	/* The good aggregate: headers alone in one buffer, the payload in
	 * two more, as the netstack's zero-copy cut lays a segment out. */
	uint8_t *h = buf(b);
	unsigned hl = headers(h, 20 + 20 + 3000, 20, GOOD_PORT);
	for (unsigned i = 0; i < 3000; i++)
		(i < 1500 ? buf(b + 1) : buf(b + 2))[i % 1500] = (uint8_t)(i * 7);
	d[0] = (struct netq_desc){ .offset = buf_offset(b), .len = (uint16_t)hl, .flags = NETQ_F_MORE };
	struct netq_l4 l4 = { .ip = 14, .l4 = 34, .csum = 50, .end = (uint16_t)(hl + 3000),
			      .proto = 6 };
	netq_csum_leave(h, &l4, &d[0]);
	d[0].flags |= NETQ_F_TSO4;
	d[0].seg_size = 1000;
	d[1] = (struct netq_desc){ .offset = buf_offset(b + 1), .len = 1500, .flags = NETQ_F_MORE };
	d[2] = (struct netq_desc){ .offset = buf_offset(b + 2), .len = 1500 };
	netq_push_chain(tx, d, 3);
	pushed += 3;
	b += 3;
	/* A plain frame after them: the NIC still sends. */
	headers(buf(b), 40 + 6, 20, GOOD_PORT + 1);
	netq_push(tx, (struct netq_desc){ .offset = buf_offset(b++), .len = 60 });
	pushed++;
	/* Last, a chain whose end never comes. */
	tso_frame(b++, 1500, 20, 1000, &d[0]);
	d[0].flags |= NETQ_F_MORE;
	netq_push(tx, d[0]);
	bad++;
	pushed++;
	printf("txhostile: pushed %u bad frames, %u descriptors in all\n", bad, pushed);
	if (netq_wake_needed(tx))
		sys_notify_signal(driver_notif, NETQ_SIGNAL_QUEUE);

	unsigned back = 0;
	uint64_t deadline = (uint64_t)sys_clock() + 5000000000ULL;
	while (back < pushed && (uint64_t)sys_clock() < deadline) {
		struct netq_desc r;
		while (netq_pop(done, &r))
			back++;
		if (netq_space_wake_needed(done))
			sys_notify_signal(driver_notif, NETQ_SIGNAL_QUEUE);
		sys_notify_timer(wake, 2, (uint64_t)sys_clock() + 10000000);
		sys_notify_wait(wake, 0);
	}
	struct netq_stats s = { 0 };
	netq_get_stats(driver, &s);
	printf("txhostile: driver tx_errors %lu, descriptors back %u of %u\n", s.tx_errors, back,
	       pushed);
	printf("txhostile: done\n");
	for (;;)
		sys_notify_wait(wake, 0);
}
