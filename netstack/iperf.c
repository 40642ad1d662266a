/*
 * The netstack's iperf 2 server and client over TCP (iperf.h).
 *
 * A test is a TCP connection: the client sends iperf 2's 24-byte header
 * (flags, threads, port, buffer length, window, amount; network order)
 * and then data until its time is up, and closes. The server counts every
 * byte (the header too, as iperf 2's own server does in its total) and
 * reports when the connection ends. Nothing the peer sends is parsed
 * beyond the header's flags, so no byte sequence can trip it; byte counts
 * are 64-bit.
 *
 * lwIP ships such a server (apps/lwiperf), but it asserts on a segment
 * chain whose first pbuf is shorter than the header at a 128 KiB boundary,
 * which a remote host can arrange (docs/netstack.md, "Hardening").
 *
 * The slots are shared fairly: one host has at most IPERF_PER_SOURCE of
 * them (a test past that is reset after its handshake); when all are
 * taken a newcomer ends the least active server test (fewest bytes in its
 * last two periods of 10 s) rather than being refused; and a test that
 * moves fewer than IPERF_FLOOR bytes in a period of 10 s is ended, so a
 * trickle of bytes cannot hold a slot.
 */
#include "iperf.h"

#include "netstack.h"
#include "rcv_window.h"

#include "lib/fmt.h"
#include "lib/mica.h"
#include "lwip/mem.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define IPERF_CONNS 8                   /* tests at once, client included */
#define IPERF_PER_SOURCE (IPERF_CONNS / 4)      /* server tests from one host at once */
#define IPERF_HEADER 24                 /* iperf 2's client_hdr_v1 */
#define IPERF_PERIOD_POLLS 20           /* a period: 10 s of tcp_poll at 500 ms */
#define IPERF_FLOOR (8 * 1024)          /* bytes a test must move in each period */
#define IPERF_FLAG_RUN_BACK 0x80000000u /* the client wants a test back (-r, -d) */

struct iperf_conn {
	struct tcp_pcb *pcb;            /* NULL: the slot is free */
	bool client;
	uint64_t bytes;                 /* received (server) or acknowledged (client) */
	uint32_t started_ms;
	unsigned seconds;               /* client: how long to send */
	uint32_t until_ms;              /* client: when to stop */
	uint64_t period_bytes;          /* moved in the current period */
	uint64_t last_period_bytes;     /* in the one before; IPERF_FLOOR for a new test */
	unsigned period_polls;
	uint8_t header[IPERF_HEADER];   /* server: the first bytes, for the flags */
	struct rcv_window rw;           /* server: the window by the buffers segments take */
	ip_addr_t peer;
	u16_t peer_port;
};

static struct iperf_conn conns[IPERF_CONNS];

/* What the client sends: the digits iperf 2 sends, in a buffer lwIP
 * references rather than copies (PBUF_ROM: never written again, never
 * freed). It lies in lwIP's heap, taken once, so that where the heap is
 * DMA memory the segments go to the driver by reference, their headers
 * and these bytes as a chain (tx_heap.c); else in the program's memory. */
#define PATTERN 8192
static uint8_t pattern_static[PATTERN];
static uint8_t *pattern;

static void report(struct iperf_conn *c, const char *how)
{
	uint32_t ms = sys_now() - c->started_ms;
	unsigned long kbps = ms ? (unsigned long)(c->bytes * 8 / ms) : 0;

	printf_limited("netstack: iperf: %s with %s:%u, %lu bytes in %u ms, %lu kbit/s\n", how,
		       ipaddr_ntoa(&c->peer), c->peer_port, (unsigned long)c->bytes, ms, kbps);
}

/* Report, forget the connection's callbacks and free its slot; the pcb is
 * closed, or aborted when closing fails for memory: then ERR_ABRT, which
 * the lwIP callback that called this must return. */
static err_t finish(struct iperf_conn *c, const char *how)
{
	struct tcp_pcb *pcb = c->pcb;

	report(c, how);
	c->pcb = NULL;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	rcv_window_release(&c->rw, pcb);        /* else lwIP resets it */
	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	tcp_abort(pcb);
	return ERR_ABRT;
}

/* lwIP freed the pcb already (reset, or aborted for memory). */
static void conn_error(void *arg, err_t err)
{
	struct iperf_conn *c = arg;

	if (!c || !c->pcb)
		return;
	c->pcb = NULL;
	report(c, err == ERR_RST ? "aborted by the peer" : "aborted here");
}

static err_t server_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct iperf_conn *c = arg;

	if (!p)
		return finish(c, "server done");
	if (c->bytes < IPERF_HEADER) {
		u16_t n = pbuf_copy_partial(p, c->header + c->bytes,
					    (u16_t)(IPERF_HEADER - c->bytes), 0);
		if (c->bytes + n == IPERF_HEADER && (c->header[0] << 24 & IPERF_FLAG_RUN_BACK))
			printf_limited("netstack: iperf: %s asked for a test back (-r, -d): "
				       "not served; this direction only\n", ipaddr_ntoa(&c->peer));
	}
	c->bytes += p->tot_len;
	c->period_bytes += p->tot_len;
	rcv_window_measure(&c->rw, p);
	rcv_window_recved(&c->rw, pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static struct iperf_conn *slot(void)
{
	for (unsigned i = 0; i < IPERF_CONNS; i++)
		if (!conns[i].pcb)
			return &conns[i];
	return NULL;
}

/* Every 500 ms: at the end of each period, a test that moved less than
 * IPERF_FLOOR in it ends. */
static err_t conn_poll(void *arg, struct tcp_pcb *pcb);

static void conn_start(struct iperf_conn *c, struct tcp_pcb *pcb, bool client)
{
	*c = (struct iperf_conn){ .pcb = pcb, .client = client, .started_ms = sys_now(),
				  .peer_port = pcb->remote_port, .last_period_bytes = IPERF_FLOOR };
	ip_addr_copy(c->peer, pcb->remote_ip);
	tcp_arg(pcb, c);
	tcp_err(pcb, conn_error);
	tcp_poll(pcb, conn_poll, 1);
}

/* How much a test moved lately: its current period and the one before. */
static uint64_t activity(const struct iperf_conn *c)
{
	return c->period_bytes + c->last_period_bytes;
}

/* End a server test to make room (the peer gets a reset). */
static void evict(struct iperf_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	report(c, "aborted here (the least active test, for a newcomer)");
	c->pcb = NULL;
	tcp_arg(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_abort(pcb);
}

/* A slot for a new server test from pcb's host: a free one, unless the
 * host has its share already (*same: its tests); else the least active
 * server test's. NULL when it gets none. */
static struct iperf_conn *server_slot(const struct tcp_pcb *pcb, unsigned *same_host)
{
	struct iperf_conn *free_slot = NULL, *least = NULL;
	unsigned same = 0;

	for (unsigned i = 0; i < IPERF_CONNS; i++) {
		struct iperf_conn *c = &conns[i];
		if (!c->pcb) {
			free_slot = free_slot ? free_slot : c;
		} else if (!c->client) {
			same += ip_addr_cmp(&c->peer, &pcb->remote_ip);
			if (!least || activity(c) < activity(least))
				least = c;
		}
	}
	*same_host = same;
	if (same >= IPERF_PER_SOURCE)
		return NULL;
	if (free_slot || !least)
		return free_slot;
	evict(least);
	return least;
}

static err_t server_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct iperf_conn *c;
	unsigned same;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (!(c = server_slot(pcb, &same))) {
		if (same >= IPERF_PER_SOURCE)
			printf_limited("netstack: iperf: refused a test from %s (reset): it has %u "
				       "already, the most one host may have\n",
				       ipaddr_ntoa(&pcb->remote_ip), same);
		else
			printf_limited("netstack: iperf: refused a test from %s (reset): every slot "
				       "is the netstack's own client's\n", ipaddr_ntoa(&pcb->remote_ip));
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	conn_start(c, pcb, false);
	tcp_recv(pcb, server_recv);
	return ERR_OK;
}

bool iperf_server_start(u16_t port)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4), *listener;

	if (!pcb)
		return false;
	if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK || !(listener = tcp_listen(pcb))) {
		tcp_abort(pcb);
		return false;
	}
	tcp_accept(listener, server_accept);
	return true;
}

/* ---- the client ---- */

/* Queue data while there is room and time; close when the time is up and
 * everything sent was acknowledged. */
static err_t client_send(struct iperf_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	if ((s32_t)(sys_now() - c->until_ms) >= 0) {
		if (!pcb->unsent && !pcb->unacked)
			return finish(c, "client done");
		return ERR_OK;
	}
	for (;;) {      /* until the send buffer or queue is full */
		u16_t room = tcp_sndbuf(pcb);
		if (room > PATTERN)
			room = PATTERN;
		if (!room || tcp_write(pcb, pattern, room, TCP_WRITE_FLAG_MORE) != ERR_OK)
			break;
	}
	tcp_output(pcb);
	return ERR_OK;
}

static err_t client_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct iperf_conn *c = arg;

	c->bytes += len;
	c->period_bytes += len;
	return client_send(c);
}

/* The server may send; nothing of it is read. */
static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct iperf_conn *c = arg;

	if (!p)
		return finish(c, "client done (closed by the server)");
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void put32(uint8_t *at, uint32_t v)
{
	at[0] = (uint8_t)(v >> 24);
	at[1] = (uint8_t)(v >> 16);
	at[2] = (uint8_t)(v >> 8);
	at[3] = (uint8_t)v;
}

static err_t client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct iperf_conn *c = arg;
	static uint8_t header[IPERF_HEADER];

	if (err != ERR_OK)
		return err;
	c->started_ms = sys_now();
	c->until_ms = c->started_ms + c->seconds * 1000;
	put32(header + 4, 1);                   /* one thread */
	put32(header + 8, pcb->remote_port);
	put32(header + 20, (uint32_t)-(int32_t)(c->seconds * 100));    /* time, in 10 ms */
	if (tcp_write(pcb, header, IPERF_HEADER, TCP_WRITE_FLAG_COPY) != ERR_OK)
		return finish(c, "aborted here (send error)");
	return client_send(c);
}

bool iperf_client_start(const ip_addr_t *server, u16_t port, unsigned seconds)
{
	struct iperf_conn *c = slot();
	struct tcp_pcb *pcb;

	if (!c || !(pcb = tcp_new_ip_type(IPADDR_TYPE_V4)))
		return false;
	if (!pattern) {
		if (!(pattern = mem_malloc(PATTERN)))
			pattern = pattern_static;
		for (unsigned i = 0; i < PATTERN; i++)
			pattern[i] = (uint8_t)('0' + i % 10);
	}
	conn_start(c, pcb, true);
	ip_addr_copy(c->peer, *server);
	c->peer_port = port;
	c->seconds = seconds;
	tcp_sent(pcb, client_sent);
	tcp_recv(pcb, client_recv);
	if (tcp_connect(pcb, server, port, client_connected) != ERR_OK) {
		c->pcb = NULL;
		tcp_abort(pcb);
		return false;
	}
	return true;
}

static err_t conn_poll(void *arg, struct tcp_pcb *pcb)
{
	struct iperf_conn *c = arg;

	if (!c)
		return ERR_OK;
	if (++c->period_polls >= IPERF_PERIOD_POLLS) {
		if (c->period_bytes < IPERF_FLOOR) {
			static char how[64];
			char n[16];
			fmt_snprintf(how, sizeof(how), "aborted here (%s in 10 s, under 8 KiB)",
				     fmt_bytes(n, sizeof(n), c->period_bytes));
			return finish(c, how);
		}
		c->last_period_bytes = c->period_bytes;
		c->period_bytes = 0;
		c->period_polls = 0;
	}
	if (c->client && pcb->state == ESTABLISHED)
		return client_send(c);
	return ERR_OK;
}
