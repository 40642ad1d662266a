/*
 * One cyclic timer's schedule, caught up when its caller is late (pure
 * logic, unit-tested on the host; timers.c drives lwIP's cyclic timers
 * with it). lwIP 2.1.3's own cyclic timers start again from "now" when
 * they are called more than an interval late, and its TCP timer always
 * does, so a loop that is late loses their ticks: TCP's retransmission
 * and TIME-WAIT timers (counted in ticks) stretch. Here every tick that
 * was due is called, up to a bound. docs/netstack.md, "The loop".
 */
#ifndef MICA_NETSTACK_TIMER_DUE_H
#define MICA_NETSTACK_TIMER_DUE_H

#include <stdint.h>

struct timer_due {
	uint32_t due_ms;        /* the next call's time (a wrapping millisecond clock) */
	uint32_t interval_ms;   /* > 0 */
};

/* What a timer_due_take gave. */
struct timer_calls {
	unsigned calls;         /* to make now, in order */
	unsigned late;          /* of those, due an interval or more before now */
	unsigned lost;          /* ticks given up: older than behind_max_ms */
};

/* The calls of t due at now (due_ms at or before now), at most `most`
 * of them (the rest stay due: the next take makes them); ticks more
 * than behind_max_ms old are given up. Moves t->due_ms on past what it
 * returns. */
static inline struct timer_calls timer_due_take(struct timer_due *t, uint32_t now, unsigned most,
						uint32_t behind_max_ms)
{
	struct timer_calls c = { 0, 0, 0 };
	int32_t behind = (int32_t)(now - t->due_ms);

	if (behind < 0)
		return c;
	uint32_t due = (uint32_t)behind / t->interval_ms + 1;   /* ticks at or before now */
	uint32_t keep = behind_max_ms / t->interval_ms + 1;
	if (due > keep) {
		c.lost = due - keep;
		t->due_ms += c.lost * t->interval_ms;
		due = keep;
	}
	c.calls = due < most ? due : most;
	for (unsigned i = 0; i < c.calls; i++)
		if (now - (t->due_ms + i * t->interval_ms) >= t->interval_ms)
			c.late++;
	t->due_ms += c.calls * t->interval_ms;
	return c;
}

/* Milliseconds from now until t is due (0: due now). */
static inline uint32_t timer_due_in(const struct timer_due *t, uint32_t now)
{
	int32_t d = (int32_t)(t->due_ms - now);
	return d > 0 ? (uint32_t)d : 0;
}

#endif
