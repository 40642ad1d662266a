/*
 * sendlent: a socket client that sends by reference (proto/socket.h,
 * SOCK_SEND_LENT) wrongly and rightly, for tests/system/test_tx_lend.py.
 * On a session of 2^SOCK_BUFFER_SEND_LOG2 bytes it listens on TCP port
 * 7200 and, once the namespace connects:
 *
 * - a SEND_LENT before any offer, then (an offer standing) one at the
 *   offer's offset + 1, one a byte longer than the offer, one past the
 *   buffer and one in the buffer's last SOCK_SEND_AREA_TAIL bytes: each
 *   must be refused with SOCK_EINVAL, nothing taken;
 * - TOTAL bytes of pattern(), each piece written into the offered run
 *   and sent by reference (copied from the buffer's start when no run is
 *   offered);
 * - then TAIL bytes sent by reference and overwritten at once with 0xEE,
 *   while lwIP may still be sending them: only this stream's bytes may
 *   change;
 * - two more sessions of that size: the netstack has TX_LEND_AREAS (2)
 *   send areas, so the second is refused with SOCK_EBUSY;
 *
 * and prints one line with what it saw. With `hold=yes` it opens two
 * sessions of that size (`hold=yes`), which take both send areas, says so and waits
 * for ever (another client's sessions then copy).
 */
#include "lib/args.h"
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netsock.h"
#include "proto/program.h"
#include "proto/socket.h"

#define LOG2   SOCK_BUFFER_SEND_LOG2
#define WINDOW (PROGRAM_OWN_BASE + (4UL << 30))
#define PORT   7200
#define TOTAL  (8UL << 20)
#define TAIL   (256UL << 10)

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

/* One SEND of len bytes at off with flags (waiting for room): 0 or the
 * error; out[0] taken, out[2] and out[3] the offer. */
static long send_at(const struct net_session *s, long c, uint64_t off, uint64_t len,
		    uint64_t flags, uint64_t *out)
{
	uint64_t w[6] = { (uint64_t)c, off, len, flags, 0, 0 };

	out[0] = out[2] = out[3] = 0;
	return net_call(s, SOCK_SEND, w, 6, out, 4);
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	static struct net_session s, more[2];
	cap_slot_t net = slot_alloc();
	uint64_t out[4], sent = 0, lent = 0;
	long err, bad[5];
	char word[8];

	if ((err = ns_lookup(SOCK_SERVICE_NAME, net)) < 0 ||
	    (err = net_session_open(&s, net, (void *)WINDOW, LOG2, CAP_SLOT_NONE)) < 0) {
		printf("sendlent: FAILED to open a session: %ld\n", err);
		return 1;
	}
	if (program_arg(pi->args, "hold", word, sizeof(word))) {
		cap_slot_t idle = slot_alloc();
		err = net_session_open(&more[0], net, (void *)(WINDOW + (1UL << LOG2)), LOG2,
				       CAP_SLOT_NONE);
		printf("sendlent: holding two send areas: %ld\n", err);
		sys_obj_create(CAP_NOTIFICATION, idle, 0);
		for (;;)
			sys_notify_wait(idle, 0);
	}
	long l = sock_open(&s, SOCK_STREAM), c;
	if (l < 0 || sock_bind(&s, (int)l, 0, PORT) < 0 || sock_listen(&s, (int)l, 1) < 0) {
		printf("sendlent: FAILED to listen\n");
		return 1;
	}
	printf("sendlent: listening on %u\n", PORT);
	if ((c = sock_accept(&s, (int)l, NULL, NULL)) < 0) {
		printf("sendlent: FAILED to accept: %ld\n", c);
		return 1;
	}
	uint8_t *buf = s.buf;
	bad[0] = send_at(&s, c, SOCK_SEND_AREA_AT, 4096, SOCK_SEND_LENT, out);
	/* A copied piece brings the first offer. */
	for (uint64_t i = 0; i < 4096; i++)
		buf[i] = pattern(i);
	if ((err = send_at(&s, c, 0, 4096, 0, out)) < 0 || out[0] != 4096 || !out[3]) {
		printf("sendlent: FAILED: a copied send: %ld took %lu, offer %lu\n", err, out[0],
		       out[3]);
		return 1;
	}
	sent = out[0];
	uint64_t at = out[2], len = out[3], o[4];
	bad[1] = send_at(&s, c, at + 1, len - 1, SOCK_SEND_LENT, o);
	bad[2] = send_at(&s, c, at, len + 1, SOCK_SEND_LENT, o);
	bad[3] = send_at(&s, c, s.size, 4096, SOCK_SEND_LENT, o);
	bad[4] = send_at(&s, c, s.size - SOCK_SEND_AREA_TAIL, 4096, SOCK_SEND_LENT, o);
	bool offer_sane = at >= SOCK_SEND_AREA_AT && len <= s.size - SOCK_SEND_AREA_TAIL - at;

	while (sent < TOTAL + TAIL) {
		bool by_ref = len > 0;
		uint64_t base = by_ref ? at : 0, room = by_ref ? len : SOCK_SEND_AREA_AT;
		uint64_t n = TOTAL + TAIL - sent < room ? TOTAL + TAIL - sent : room;
		if (sent < TOTAL && n > TOTAL - sent)
			n = TOTAL - sent;
		for (uint64_t i = 0; i < n; i++)
			buf[base + i] = pattern(sent + i);
		if ((err = send_at(&s, c, base, n, by_ref ? SOCK_SEND_LENT : 0, out)) < 0) {
			printf("sendlent: FAILED: a send at %lu of %lu: %ld\n", base, n, err);
			return 1;
		}
		if (by_ref && sent >= TOTAL)
			memset(buf + base, 0xEE, n);    /* the hostile part: after the send */
		sent += out[0];
		lent += by_ref ? out[0] : 0;
		at = out[2];
		len = out[3];
	}
	sock_close(&s, (int)c);
	long second = net_session_open(&more[0], net, (void *)(WINDOW + (1UL << LOG2)), LOG2,
				       CAP_SLOT_NONE);
	long third = net_session_open(&more[1], net, (void *)(WINDOW + (2UL << LOG2)), LOG2,
				      CAP_SLOT_NONE);
	printf("sendlent: bad sends refused %ld %ld %ld %ld %ld; offer %s; sent %lu bytes, %lu by "
	       "reference; more 1 MiB sessions: %ld %ld\n", -bad[0], -bad[1], -bad[2], -bad[3],
	       -bad[4], offer_sane ? "inside the area" : "OUTSIDE the area", sent, lent, second,
	       third);
	if (!second)
		net_session_end(&more[0]);
	if (!third)
		net_session_end(&more[1]);
	net_session_end(&s);
	return 0;
}
