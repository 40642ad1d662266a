/*
 * Which half-open connection (SYN_RCVD) a SYN for a listener evicts
 * (guard.c; pure logic, unit-tested on the host). lwIP 2.1.3 has no SYN
 * cookies, and a listener's backlog (lwIP's accepts_pending against
 * backlog) counts its half-open connections with its established ones
 * not yet accepted, so a few SYNs from spoofed sources would shut it
 * until they time out. The guard bounds half-open connections per
 * source and listener, per listener and in all; a SYN past a bound
 * evicts the oldest half-open connection there (the guard finds it by
 * the time its ISN carries: idgen_tcp_isn_clock) and never an
 * established one. docs/netstack.md, "Hardening".
 */
#ifndef MICA_NETSTACK_HALF_OPEN_H
#define MICA_NETSTACK_HALF_OPEN_H

#include <stdbool.h>

#define HALF_OPEN_PER_LISTENER 16       /* connections in SYN_RCVD */
#define HALF_OPEN_PER_SOURCE   4        /* ... from one address, per listener */
#define HALF_OPEN_MAX          32       /* ... in all, of MEMP_NUM_TCP_PCB (192) */

/* What the guard sees when a SYN for a listener arrives. */
struct half_open_counts {
	unsigned from_source;   /* half-open on the listener from the SYN's source */
	unsigned listener;      /* half-open on the listener */
	unsigned all;           /* half-open on every listener */
	unsigned pending;       /* the listener's backlog in use: its half-open and its
				 * established connections not yet accepted */
	unsigned backlog;       /* the listener's backlog */
	bool oldest_is_listeners;       /* the oldest half-open of all is the listener's */
};

/* HALF_OPEN_KEEP: nothing is evicted; else the oldest half-open from the
 * source (on the listener), of the listener, or of all. */
enum half_open_evict { HALF_OPEN_KEEP, HALF_OPEN_SOURCE, HALF_OPEN_LISTENER, HALF_OPEN_ALL };

/* The eviction a SYN makes: at a bound (the listener's backlog full
 * counts as its bound when it has half-open connections), the oldest
 * there goes, but only when lwIP then takes the SYN: when the backlog
 * stays full (of established connections not yet accepted, or the
 * victim is another listener's), lwIP drops the SYN as Linux does while
 * its accept queue is full (the peer sends it again), and nobody is
 * evicted for it. */
static inline enum half_open_evict half_open_choose(const struct half_open_counts *c)
{
	enum half_open_evict e =
		c->from_source >= HALF_OPEN_PER_SOURCE ? HALF_OPEN_SOURCE :
		c->listener >= HALF_OPEN_PER_LISTENER ||
		(c->listener && c->pending >= c->backlog) ? HALF_OPEN_LISTENER :
		c->all >= HALF_OPEN_MAX ? HALF_OPEN_ALL : HALF_OPEN_KEEP;
	bool frees_backlog = e == HALF_OPEN_SOURCE || e == HALF_OPEN_LISTENER ||
			     (e == HALF_OPEN_ALL && c->oldest_is_listeners);

	if (e != HALF_OPEN_KEEP && c->pending >= c->backlog + frees_backlog)
		return HALF_OPEN_KEEP;
	return e;
}

#endif
