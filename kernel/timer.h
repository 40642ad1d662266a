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

#endif
