/*
 * The firewall's clock for packets (filter.c): milliseconds of the
 * monotonic clock, read again only when the processor's time-stamp
 * counter says that FILTER_CLOCK_STALE_US may have passed since the last
 * read. A read is a system call that reads the local APIC's timer
 * (sys_clock: about 3 µs under QEMU's TCG, a quarter of what forwarding a
 * datagram through the firewall cost, and a point where the kernel may
 * run another thread first); the tracker's timeouts (seconds) and the
 * rules' limits (a token bucket: late time refills it in larger steps, at
 * the same rate) need no more than a millisecond.
 *
 * The counter's rate is learned from the reads (over at least
 * FILTER_CLOCK_CALIBRATE_MS); until it is known, and whenever the counter
 * seems to have gone back, the caller reads. The time returned is always
 * one the clock gave, so it never goes backwards; it is late by at most
 * about FILTER_CLOCK_STALE_US (by the rate learned last). Pure logic,
 * unit-tested on the host.
 */
#ifndef MICA_NETSTACK_FILTER_CLOCK_H
#define MICA_NETSTACK_FILTER_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define FILTER_CLOCK_STALE_US 1000
#define FILTER_CLOCK_CALIBRATE_MS 64

struct filter_clock {
	uint64_t tsc, ms;               /* the last read, and the counter then */
	uint64_t cal_tsc, cal_ms;       /* the read the rate is measured from */
	uint64_t stale_ticks;           /* counter ticks in FILTER_CLOCK_STALE_US; 0: unknown */
};

/* Whether the last read still serves with the counter at tsc (inline:
 * every packet asks). */
static inline bool filter_clock_fresh(const struct filter_clock *c, uint64_t tsc)
{
	return c->stale_ticks && tsc >= c->tsc && tsc - c->tsc < c->stale_ticks;
}

/* The clock read ms at counter value tsc: remember it, learn the rate. */
void filter_clock_set(struct filter_clock *c, uint64_t tsc, uint64_t ms);

#endif
