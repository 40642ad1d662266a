/* Local APIC (timer, end of interrupt) and IOAPIC (device interrupt lines). */
#ifndef MICA_APIC_H
#define MICA_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Mask the legacy 8259 PICs, enable the local APIC. */
void lapic_init(void);
void lapic_eoi(void);

/* Count down from 2^32 - 1 with the divider lapic_timer_start uses
 * (16), masked, for calibrate.c to read; lapic_timer_stop stops it. */
void lapic_timer_free_run(void);
void lapic_timer_stop(void);

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
