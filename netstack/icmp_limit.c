/*
 * The rate limit on the ICMP errors the netstack sends as an endpoint
 * (docs/netstack.md, "Hardening"): lwIP answers a datagram to a closed
 * UDP port or of an unknown protocol with destination unreachable
 * (icmp_dest_unreach) and a reassembly that timed out with time exceeded
 * (icmp_time_exceeded), every time. Linux limits the same messages
 * (icmp(7): icmp_ratelimit, icmp_msgs_per_sec, icmp_msgs_burst): one token
 * bucket for all of them, ICMP_LIMIT_RATE a second with a burst of
 * ICMP_LIMIT_BURST, and one for each destination, a message every
 * ICMP_PEER_INTERVAL_MS with a burst of ICMP_PEER_BURST (inet_peer_xrlim_allow,
 * XRLIM_BURST_FACTOR). A message over either is not sent, and counted
 * (icmp_limited). A message about a datagram that came through the
 * loopback (to 127/8 or one of our own addresses: loopback.c) goes back
 * through it and takes nothing from a destination's bucket, as Linux's
 * icmpv4_xrlim_allow does not limit a message whose route is the
 * loopback device; the bucket for all still counts it (Linux's
 * icmp_global_allow comes first, for every destination).
 *
 * The two lwIP functions are reached through the linker's --wrap (the
 * Makefile's netstack link): lwIP's sources stay as Debian ships them.
 * The forwarding path's ICMP errors have their own bucket (forward.c).
 */
#include "netstack.h"

#include "lwip/icmp.h"
#include "lwip/prot/ip4.h"

#define ICMP_LIMIT_RATE 1000            /* messages a second, in all */
#define ICMP_LIMIT_BURST 50
#define ICMP_PEER_INTERVAL_MS 1000      /* a message to one destination every ... */
#define ICMP_PEER_BURST 6               /* ... with a burst of this many */
#define ICMP_PEERS 16                   /* destinations remembered (least recent goes) */

void __real_icmp_dest_unreach(struct pbuf *p, enum icmp_dur_type t);
void __real_icmp_time_exceeded(struct pbuf *p, enum icmp_te_type t);
void __wrap_icmp_dest_unreach(struct pbuf *p, enum icmp_dur_type t);
void __wrap_icmp_time_exceeded(struct pbuf *p, enum icmp_te_type t);

static struct token_bucket global;

static struct peer {
	uint32_t addr;          /* network order; 0: free */
	uint64_t last_ns;       /* its tokens counted up to here */
	uint64_t tokens_ms;     /* at most ICMP_PEER_BURST * ICMP_PEER_INTERVAL_MS */
} peers[ICMP_PEERS];

static uint64_t limited;

/* The destination's bucket: its own, or the least recently used one
 * taken for it (a new destination starts with a full burst, as Linux's
 * new inet_peer does). */
static struct peer *peer_of(uint32_t addr, uint64_t now)
{
	struct peer *oldest = &peers[0];

	for (unsigned i = 0; i < ICMP_PEERS; i++) {
		if (peers[i].addr == addr)
			return &peers[i];
		if (!peers[i].addr || peers[i].last_ns < oldest->last_ns)
			oldest = &peers[i];
		if (!peers[i].addr)
			break;
	}
	oldest->addr = addr;
	oldest->last_ns = now;
	oldest->tokens_ms = ICMP_PEER_BURST * ICMP_PEER_INTERVAL_MS;
	return oldest;
}

static bool peer_token(uint32_t addr, uint64_t now)
{
	struct peer *q = peer_of(addr, now);
	uint64_t cap = ICMP_PEER_BURST * ICMP_PEER_INTERVAL_MS;

	q->tokens_ms += (now - q->last_ns) / 1000000ULL;
	if (q->tokens_ms > cap)
		q->tokens_ms = cap;
	q->last_ns = now;
	if (q->tokens_ms < ICMP_PEER_INTERVAL_MS)
		return false;
	q->tokens_ms -= ICMP_PEER_INTERVAL_MS;
	return true;
}

/* May an ICMP error about the datagram at p (its IPv4 header first) go? */
static bool may_send(const struct pbuf *p)
{
	uint64_t now = (uint64_t)sys_clock();
	uint32_t dest = 0;

	if (p->len >= IP_HLEN)
		dest = ((const struct ip_hdr *)p->payload)->src.addr;
	/* The destination's bucket, then the one for all (a message the
	 * first refuses takes nothing from the second). */
	if ((!loopback_delivering && !peer_token(dest, now)) ||
	    !token_take(&global, now, ICMP_LIMIT_RATE, ICMP_LIMIT_BURST)) {
		limited++;
		return false;
	}
	return true;
}

void __wrap_icmp_dest_unreach(struct pbuf *p, enum icmp_dur_type t)
{
	if (may_send(p))
		__real_icmp_dest_unreach(p, t);
}

void __wrap_icmp_time_exceeded(struct pbuf *p, enum icmp_te_type t)
{
	/* Not for a datagram reassembly.c drops (as Linux, without a word). */
	if (!reassembly_dropping() && may_send(p))
		__real_icmp_time_exceeded(p, t);
}

uint64_t icmp_limited(void)
{
	return limited;
}
