/* The firewall's clock for packets: netstack/filter_clock.h. */
#include "filter_clock.h"

void filter_clock_set(struct filter_clock *c, uint64_t tsc, uint64_t ms)
{
	if (!c->cal_tsc || tsc < c->cal_tsc || ms < c->cal_ms) {
		c->cal_tsc = tsc;               /* the first read, or the counter went back */
		c->cal_ms = ms;
		c->stale_ticks = 0;
	} else if (ms - c->cal_ms >= FILTER_CLOCK_CALIBRATE_MS) {
		uint64_t per_ms = (tsc - c->cal_tsc) / (ms - c->cal_ms);
		c->stale_ticks = per_ms * FILTER_CLOCK_STALE_US / 1000;
		c->cal_tsc = tsc;
		c->cal_ms = ms;
	}
	c->tsc = tsc;
	c->ms = ms;
}
