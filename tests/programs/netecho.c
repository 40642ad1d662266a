/*
 * netecho: a native client of the netstack's socket service, for tests.
 * One thread and one session per role:
 *
 *   TCP echo server on port 7: up to ECHO_CONNS connections at a time each
 *     get back what they send until they close (one that stalls, not
 *     reading what comes back, holds up no other); more wait to be
 *     accepted;
 *   UDP echo server on port 7: every datagram goes back to its sender,
 *     except one sent to a broadcast or multicast address or from a
 *     service's port (udp_refused): those are dropped and counted;
 *   TCP client (args client=A.B.C.D:PORT): connects (retrying each second),
 *     echoes what the server sends until it closes, says how much, and
 *     starts again;
 *   statistics on TCP port 9000: each connection gets one line of the
 *     netstack's counters, read over its management protocol
 *     (NETMGMT_IF_INFO, NETMGMT_PROTO_STATS): `eth0.rx_packets=N ...` for
 *     every interface, then `link_recv=N ...`, in the order of the tables
 *     in proto/netmgmt.h;
 *   control on TCP port 9001 (tests of driver restarts): each connection
 *     sends one line, `kill PROGRAM` (init's INIT_KILL: needs control=yes
 *     in the manifest) or `fault DRIVER N` (NETQ_FAULT N to the driver
 *     registered as DRIVER), and gets back `ok` or `error N`.
 */
#include "lib/config_parser.h"
#include "lib/fmt.h"
#include "lib/inet.h"
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netmgmt_client.h"
#include "lib/netsock.h"
#include "proto/init.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"

#define BUF_LOG2     16
#define BUF_WINDOW   (PROGRAM_OWN_BASE + (2UL << 30))  /* past NETQ_DRIVER_AREA */
#define STACK_SIZE   (64 * 1024)

enum role { TCP_ECHO, UDP_ECHO, TCP_CLIENT, STATS, CONTROL, ROLES };
static const char *const role_names[ROLES] = { "tcp-echo", "udp-echo", "tcp-client", "stats",
					       "control" };

static struct net_session sessions[ROLES];
static cap_slot_t net, mgmt, timer_notif, echo_notif;
static uint32_t client_addr;
static uint16_t client_port;
static uint8_t data[ROLES][1 << BUF_LOG2];

/* An error of role r: rate-limited per role, since some repeat in a loop
 * (every datagram's, once the netstack is gone). */
static void fail(enum role r, const char *what, long err)
{
	static struct ratelimit limits[ROLES];

	printf_limit(&limits[r], "netecho: %s: %s: error %ld\n", role_names[r], what, -err);
}

static void sleep_ms(unsigned ms)
{
	sys_notify_timer(timer_notif, 1, (uint64_t)sys_clock() + (uint64_t)ms * 1000000);
	sys_notify_wait(timer_notif, 0);
}

/* After an error that comes back at once (the netstack is gone, or not
 * there yet): wait *ms, twice the last wait, from BACKOFF_FIRST_MS up to
 * BACKOFF_MAX_MS, so a loop on it neither spins nor floods the log.
 * *ms = 0 after a success starts again from the shortest. */
#define BACKOFF_FIRST_MS 10
#define BACKOFF_MAX_MS   1000

static void back_off(unsigned *ms)
{
	*ms = !*ms ? BACKOFF_FIRST_MS : *ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : *ms * 2;
	sleep_ms(*ms);
}

/* Send all of len bytes: 0, or the error (negative). */
static long send_all(const struct net_session *s, int sock, const uint8_t *p, size_t len)
{
	while (len) {
		long n = sock_send(s, sock, p, len, 0, 0);
		if (n < 0)
			return n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The end of an echoed connection: `connection done, N bytes echoed`, or
 * `connection failed (error E) after N bytes echoed`. */
static void echo_report(enum role r, uint64_t echoed, long err)
{
	char n[48];

	fmt_count(n, sizeof(n), echoed, "byte echoed", "bytes echoed");
	if (err)
		printf_limited("netecho: %s: connection failed (error %ld) after %s\n", role_names[r],
			       -err, n);
	else
		printf_limited("netecho: %s: connection done, %s\n", role_names[r], n);
}

/* Echo a stream until its end: 0, or the error (negative); *echoed the
 * bytes echoed either way. */
static long echo_stream(const struct net_session *s, int sock, uint8_t *buf, uint64_t *echoed)
{
	*echoed = 0;
	for (;;) {
		long n = sock_recv(s, sock, buf, 1 << BUF_LOG2, NULL, NULL), err;
		if (n <= 0)
			return n;
		if ((err = send_all(s, sock, buf, (size_t)n)) < 0)
			return err;
		*echoed += (uint64_t)n;
	}
}

static int listener(enum role r, uint16_t port)
{
	const struct net_session *s = &sessions[r];
	long l = sock_open(s, SOCK_STREAM), e;

	if (l < 0 || (e = sock_bind(s, (int)l, 0, port)) < 0 || (e = sock_listen(s, (int)l, 4)) < 0) {
		fail(r, "listen", l < 0 ? l : e);
		return -1;
	}
	return (int)l;
}

/* The TCP echo's connections: each has its slice of the session buffer,
 * which holds what it received until all of it went back. */
#define ECHO_CONNS 8
#define ECHO_SLICE ((1UL << BUF_LOG2) / ECHO_CONNS)

struct echo_conn {
	long sock;                      /* -1: a free slot */
	uint64_t pending, sent;         /* in its slice: received, sent back */
	uint64_t echoed;                /* bytes sent back */
};

/* err: 0 at the end of the stream, else the error (negative). */
static void echo_done(const struct net_session *s, struct echo_conn *c, long err)
{
	echo_report(TCP_ECHO, c->echoed, err);
	sock_close(s, (int)c->sock);
	c->sock = -1;
}

/* One step of a connection, never waiting: send back what is pending, or
 * receive more. True if anything happened. */
static bool echo_step(const struct net_session *s, struct echo_conn *c, uint64_t slice)
{
	uint64_t out[3];
	long err;

	if (c->sent < c->pending) {
		uint64_t w[6] = { (uint64_t)c->sock, slice + c->sent, c->pending - c->sent,
				  SOCK_NONBLOCK, 0, 0 };
		if ((err = net_call(s, SOCK_SEND, w, 6, out, 1)) == -SOCK_EAGAIN)
			return false;
		if (err) {
			echo_done(s, c, err);
		} else {
			c->sent += out[0];
			c->echoed += out[0];
			if (c->sent == c->pending)
				c->sent = c->pending = 0;
		}
		return true;
	}
	uint64_t w[4] = { (uint64_t)c->sock, slice, ECHO_SLICE, SOCK_NONBLOCK };
	if ((err = net_call(s, SOCK_RECV, w, 4, out, 3)) == -SOCK_EAGAIN)
		return false;
	if (err || !out[0])
		echo_done(s, c, err);
	else
		c->pending = out[0];
	return true;
}

static void tcp_echo(uint64_t unused)
{
	const struct net_session *s = &sessions[TCP_ECHO];
	int l = listener(TCP_ECHO, 7);
	struct echo_conn conns[ECHO_CONNS];
	unsigned wait = 0;

	for (int i = 0; i < ECHO_CONNS; i++)
		conns[i].sock = -1;
	while (l >= 0) {
		bool moved = false;
		for (int i = 0; i < ECHO_CONNS; i++) {
			if (conns[i].sock >= 0) {
				moved |= echo_step(s, &conns[i], (uint64_t)i * ECHO_SLICE);
				continue;
			}
			uint64_t w[2] = { (uint64_t)l, SOCK_NONBLOCK }, out[3];
			long err = net_call(s, SOCK_ACCEPT, w, 2, out, 3);
			if (err == 0) {
				conns[i] = (struct echo_conn){ .sock = (long)out[0] };
				moved = true;
				wait = 0;
			} else if (err != -SOCK_EAGAIN) {
				fail(TCP_ECHO, "accept", err);
				back_off(&wait);
				moved = true;   /* waited: try again from the first */
				break;
			}
		}
		/* Nothing could move: wait for the netstack's readiness signal
		 * (or a second, should one be missed). */
		if (!moved) {
			sys_notify_timer(echo_notif, 2, (uint64_t)sys_clock() + 1000000000ULL);
			sys_notify_wait(echo_notif, 0);
		}
	}
	sys_thread_exit(1);
}

/* Source ports whose datagrams get no echo: those below 1024, where the
 * services that answer every datagram live (echo 7, daytime 13, qotd 17,
 * chargen 19, time 37, DNS 53, NTP 123, ...: two of them answering each
 * other never stop, CVE-1999-0103, and one forged datagram starts them),
 * and NFS's 2049, which trusts a client by its source port. This is
 * OpenBSD inetd's rule (dg_badinput in usr.sbin/inetd/inetd.c, Debian's
 * openbsd-inetd; BusyBox's inetd refuses below 1024 too). */
#define ECHO_FIRST_PORT 1024
#define ECHO_PORT_NFS   2049

enum udp_refusal { TO_BROADCAST, FROM_SERVICE_PORT, REFUSALS };

/* Why a datagram gets no echo, or REFUSALS when it gets one. A datagram
 * to a broadcast or multicast address would draw an echo from every echo
 * server on the link to one (perhaps forged) sender. */
static enum udp_refusal udp_refused(const struct sock_dgram_info *in)
{
	if (in->flags & SOCK_RECV_BROADCAST)
		return TO_BROADCAST;
	if (in->port < ECHO_FIRST_PORT || in->port == ECHO_PORT_NFS)
		return FROM_SERVICE_PORT;
	return REFUSALS;
}

/* Count a datagram dropped for why; say so, rate-limited. */
static void udp_drop(enum udp_refusal why, const struct sock_dgram_info *in)
{
	static const char *const reasons[REFUSALS] = {
		"sent to a broadcast or multicast address",
		"from a service's port (below 1024, or NFS's 2049)",
	};
	static uint64_t dropped[REFUSALS];
	static struct ratelimit limits[REFUSALS];
	char from[16], to[16], n[48];

	dropped[why]++;
	config_format_ipv4(from, sizeof(from), in->addr);
	config_format_ipv4(to, sizeof(to), in->to);
	printf_limit(&limits[why], "netecho: udp-echo: no echo to %s:%u (to %s): %s; %s\n", from,
		     in->port, to, reasons[why],
		     fmt_count(n, sizeof(n), dropped[why], "such datagram dropped",
			       "such datagrams dropped"));
}

static void udp_echo(uint64_t unused)
{
	const struct net_session *s = &sessions[UDP_ECHO];
	long u = sock_open(s, SOCK_DGRAM), e;

	if (u < 0 || (e = sock_bind(s, (int)u, 0, 7)) < 0) {
		fail(UDP_ECHO, "bind", u < 0 ? u : e);
		sys_thread_exit(1);
	}
	for (unsigned wait = 0;;) {
		struct sock_dgram_info in;
		long n = sock_recv_dgram(s, (int)u, data[UDP_ECHO], 1 << BUF_LOG2, &in);
		if (n < 0) {
			fail(UDP_ECHO, "receive", n);
			back_off(&wait);
			continue;
		}
		wait = 0;
		enum udp_refusal why = udp_refused(&in);
		if (why != REFUSALS) {
			udp_drop(why, &in);
			continue;
		}
		n = sock_send(s, (int)u, data[UDP_ECHO], (size_t)n, in.addr, in.port);
		if (n < 0)
			fail(UDP_ECHO, "echo", n);
	}
}

static void tcp_client(uint64_t unused)
{
	const struct net_session *s = &sessions[TCP_CLIENT];

	for (;;) {
		long c = sock_open(s, SOCK_STREAM);
		if (c < 0) {
			fail(TCP_CLIENT, "socket", c);
			sys_thread_exit(1);
		}
		long e = sock_connect(s, (int)c, client_addr, client_port);
		if (e == 0) {
			uint64_t echoed;
			long err = echo_stream(s, (int)c, data[TCP_CLIENT], &echoed);
			echo_report(TCP_CLIENT, echoed, err);
		}
		sock_close(s, (int)c);
		sleep_ms(e == 0 ? 100 : 1000);
	}
}

static void stats(uint64_t unused)
{
	const struct net_session *s = &sessions[STATS];
	int l = listener(STATS, 9000);
	char *line = (char *)data[STATS];
	unsigned wait = 0;

	while (l >= 0) {
		long c = sock_accept(s, l, NULL, NULL);
		if (c < 0) {
			back_off(&wait);
			continue;
		}
		wait = 0;
		size_t len = 0;
		struct net_if_info info;
		for (unsigned i = 0; netmgmt_if_info(mgmt, i, &info) == 0; i++) {
			static const char *const names[] = { NET_IF_COUNTERS(NETMGMT_NAME_OF) };
			const uint64_t *w = (const uint64_t *)&info.count;
			for (unsigned k = 0; k < NET_IF_COUNTERS_WORDS; k++)
				len += (size_t)fmt_snprintf(line + len, sizeof(data[STATS]) - len, "%s.%s=%lu ",
							    info.name, names[k], w[k]);
		}
		struct net_proto_stats p;
		if (netmgmt_proto_stats(mgmt, &p) == 0) {
			static const char *const names[] = {
				NET_PROTO_COUNTERS(NETMGMT_NAME_OF, NETMGMT_NAME_OF)
			};
			const uint64_t *w = (const uint64_t *)&p;
			for (unsigned i = 0; i < NET_PROTO_STATS_WORDS; i++)
				len += (size_t)fmt_snprintf(line + len, sizeof(data[STATS]) - len, "%s=%lu ",
							    names[i], w[i]);
		}
		line[len++] = '\n';
		send_all(s, (int)c, (const uint8_t *)line, len);
		sock_close(s, (int)c);
	}
	sys_thread_exit(1);
}

/* `kill PROGRAM`: init kills it (and restarts it, as its policy says). */
static long control_kill(const char *name)
{
	struct msg m;

	return init_control(INIT_KILL, name, 0, &m);
}

/* `fault DRIVER N`: NETQ_FAULT N to the driver. The answer comes when the
 * driver goes on, or (ERR_DELETED) when it dies of it. */
static long control_fault(const char *name, uint64_t kind)
{
	cap_slot_t driver = slot_alloc();
	long err = ns_lookup_now(name, driver, NULL);

	if (err == 0) {
		struct msg m = msg_make(NETQ_FAULT, 1);
		m.w[0] = kind;
		err = ipc_call(driver, &m);
		if (!err)
			err = -(long)ipc_tag_label(m.tag);
		if (err == -ERR_DELETED)
			err = 0;        /* it died, as asked */
	}
	sys_cap_delete(driver);
	slot_free(driver);
	return err;
}

static void control(uint64_t unused)
{
	const struct net_session *s = &sessions[CONTROL];
	int l = listener(CONTROL, 9001);
	char *line = (char *)data[CONTROL];
	unsigned wait = 0;

	while (l >= 0) {
		long c = sock_accept(s, l, NULL, NULL);
		if (c < 0) {
			back_off(&wait);
			continue;
		}
		wait = 0;
		size_t len = 0;
		long n;
		line[0] = 0;
		while (len < 63 && !strchr(line, '\n') &&
		       (n = sock_recv(s, (int)c, line + len, 63 - len, NULL, NULL)) > 0) {
			len += (size_t)n;
			line[len] = 0;
		}
		char *end = strchr(line, '\n');
		if (end)
			*end = 0;
		long err = -ERR_INVALID_ARG;
		char *arg = strchr(line, ' ');
		if (arg) {
			*arg++ = 0;
			char *kind = strchr(arg, ' ');
			if (kind)
				*kind++ = 0;
			printf_limited("netecho: control: %s %s%s%s\n", line, arg, kind ? " " : "",
				       kind ? kind : "");
			if (!strcmp(line, "kill"))
				err = control_kill(arg);
			else if (!strcmp(line, "fault") && kind)
				err = control_fault(arg, (uint64_t)(kind[0] - '0'));
		}
		len = err ? (size_t)fmt_snprintf(line, 64, "error %ld\n", -err)
			  : (size_t)fmt_snprintf(line, 64, "ok\n");
		send_all(s, (int)c, (const uint8_t *)line, len);
		sock_close(s, (int)c);
	}
	sys_thread_exit(1);
}

static uint16_t parse_port(const char *s)
{
	unsigned v = 0;

	for (; *s >= '0' && *s <= '9' && v <= 65535; s++)
		v = v * 10 + (unsigned)(*s - '0');
	return *s || v > 65535 ? 0 : (uint16_t)v;
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	static void (*const bodies[ROLES])(uint64_t) = { tcp_echo, udp_echo, tcp_client, stats,
							 control };
	char client[32];
	long err;

	if (program_arg(pi->args, "client", client, sizeof(client))) {
		char *colon = strchr(client, ':');
		if (!colon || !inet_parse_ipv4(client, (size_t)(colon - client), &client_addr) ||
		    !(client_port = parse_port(colon + 1))) {
			printf("netecho: client=%s: expected A.B.C.D:PORT\n", client);
			return 1;
		}
	}
	net = slot_alloc();
	mgmt = slot_alloc();
	timer_notif = slot_alloc();
	echo_notif = slot_alloc();
	if ((err = ns_lookup(SOCK_SERVICE_NAME, net)) < 0 ||
	    (err = ns_lookup(NETMGMT_RO_NAME, mgmt)) < 0 ||
	    (err = sys_obj_create(CAP_NOTIFICATION, timer_notif, 0)) < 0 ||
	    (err = sys_obj_create(CAP_NOTIFICATION, echo_notif, 0)) < 0) {
		printf("netecho: no netstack: %s\n", mica_strerror(err));
		return 1;
	}
	for (int r = 0; r < ROLES; r++) {
		if (r == TCP_CLIENT && !client_addr)
			continue;
		void *va = (void *)(BUF_WINDOW + ((uint64_t)r << BUF_LOG2));
		if ((err = net_session_open(&sessions[r], net, va, BUF_LOG2,
					    r == TCP_ECHO ? echo_notif : CAP_SLOT_NONE)) < 0) {
			fail(r, "session", err);
			return 1;
		}
		if ((err = program_thread(bodies[r], 0, STACK_SIZE, role_names[r])) < 0) {
			fail(r, "thread", err);
			return 1;
		}
	}
	printf("netecho: echo on TCP and UDP port 7, statistics on TCP port 9000, control on "
	       "9001%s\n",
	       client_addr ? ", client started" : "");
	/* The first thread must live on: its end would be the program's. */
	cap_slot_t idle = slot_alloc();
	sys_obj_create(CAP_NOTIFICATION, idle, 0);
	for (;;)
		sys_notify_wait(idle, 0);
}
