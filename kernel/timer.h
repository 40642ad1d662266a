/* The kernel clock (the TSC, calibrated at boot) and the periodic local
 * APIC timer interrupt that wakes timeouts and the scheduler. */
#ifndef MICA_TIMER_H
#define MICA_TIMER_H

#include <stdint.h>

#include "uapi/clock.h"

#define TIMER_HZ 100

/* Calibrate and start the periodic tick. */
void timer_init(void);

/* Timer interrupts handled since timer_init: the scheduler's count, which
 * falls behind real time when an emulator drops interrupts. */
uint64_t timer_ticks(void);
/* The clock: nanoseconds since timer_init from the TSC (clock_from_tsc,
 * uapi/clock.h), and the same in milliseconds; 0 before. Monotonic. */
uint64_t timer_uptime_ns(void);
uint64_t timer_uptime_ms(void);

/* Time-stamp counter cycles in nanoseconds, at the rate measured against
 * the PIT by timer_init (0 before, or if the counter did not count). */
uint64_t timer_cycles_to_ns(uint64_t cycles);

#endif
