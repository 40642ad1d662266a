/* The kernel clock: periodic local APIC timer interrupts. */
#ifndef MICA_TIMER_H
#define MICA_TIMER_H

#include <stdint.h>

#define TIMER_HZ 100

/* Calibrate and start the periodic tick. */
void timer_init(void);

/* Ticks since timer_init, and the same in milliseconds (0 before). */
uint64_t timer_ticks(void);
uint64_t timer_uptime_ms(void);
uint64_t timer_uptime_ns(void);

/* Time-stamp counter cycles in nanoseconds, at the rate measured against
 * the PIT by timer_init (0 before, or if the counter did not count). */
uint64_t timer_cycles_to_ns(uint64_t cycles);

#endif
