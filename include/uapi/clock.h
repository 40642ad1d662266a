/*
 * The kernel clock as a function of the time-stamp counter, shared by the
 * kernel (`clock`), and user code that reads the clock without a system
 * call (the POSIX server's vDSO): `clock_params` (docs/abi.md) hands out
 * the parameters, and everyone computes the time with the same function,
 * so a reading in user space equals what `clock` would have returned at
 * the same counter value.
 */
#ifndef MICA_UAPI_CLOCK_H
#define MICA_UAPI_CLOCK_H

#include <stdint.h>

/* The fixed-point shift of clock_params.mult. */
#define MICA_CLOCK_SHIFT 32

/* clock_params result. Fixed from the calibration at boot onwards. */
struct clock_params {
	uint64_t tsc_base;      /* the counter's value at clock 0 */
	uint64_t mult;          /* nanoseconds per counter cycle, << MICA_CLOCK_SHIFT */
	uint64_t tsc_per_ms;    /* cycles per millisecond, as calibrated (rounded) */
	uint64_t tick_ns;       /* the scheduler's tick period, nanoseconds */
};

/* The clock in nanoseconds at counter value tsc (>= tsc_base). */
static inline uint64_t clock_from_tsc(const struct clock_params *p, uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)(tsc - p->tsc_base) * p->mult) >> MICA_CLOCK_SHIFT);
}

#endif
