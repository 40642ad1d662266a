/* Local APIC (timer, end of interrupt) and IOAPIC (device interrupt lines). */
#ifndef MICA_APIC_H
#define MICA_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Mask the legacy 8259 PICs, enable the local APIC. */
void lapic_init(void);
void lapic_eoi(void);

/* The PIT window of one calibration run (the PIT's 16-bit count allows
 * up to 54 ms). */
#define LAPIC_CALIBRATE_MS 50

/* Measure the APIC timer against the PIT over three windows of
 * LAPIC_CALIBRATE_MS; returns timer ticks per ms (with the divider
 * lapic_timer_start uses), and the time-stamp counter's cycles in one
 * window into *tsc_cycles (0 if it did not count). */
uint32_t lapic_timer_calibrate(uint64_t *tsc_cycles);

/* Periodic interrupts on VEC_TIMER every `count` timer ticks. */
void lapic_timer_start(uint32_t count);
/* The timer's current count: from `count` down to 0, then reloaded. */
uint32_t lapic_timer_current(void);
/* Whether an interrupt on vector is requested but not yet taken (IRR). */
bool lapic_pending(unsigned vector);
/* Whether the local APIC is serving an interrupt on vector (ISR): it
 * waits for an EOI before it delivers any of equal or lower priority
 * (Intel SDM vol. 3, 11.8.4). */
bool lapic_in_service(unsigned vector);
/* Send this CPU an interrupt on vector (fixed delivery, the "self"
 * shorthand; Intel SDM vol. 3, 11.6.1). */
void lapic_self_ipi(unsigned vector);

/* Find and mask every IOAPIC input. */
void ioapic_init(void);

/* Number of IOAPIC inputs (global system interrupts 0..n-1). */
unsigned ioapic_inputs(void);

/* Route input gsi to vector on the boot CPU; level/low per the device. */
void ioapic_route(unsigned gsi, unsigned vector, int level_triggered, int active_low);
void ioapic_mask(unsigned gsi, int masked);

#endif
