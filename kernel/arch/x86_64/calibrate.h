/* The time-stamp counter's rate and the local APIC timer's, measured at
 * boot against the PIT (the one clock of known rate: 1193182 Hz). */
#ifndef MICA_CALIBRATE_H
#define MICA_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>

/* The PIT's input clock, Hz (QEMU's PIT_FREQ; the 8254's 14.31818 MHz / 12). */
#define PIT_HZ 1193182u

/* Windows the calibration wants, and at most tries (each up to 55 ms). */
#define CALIBRATE_WINDOWS     3
#define CALIBRATE_MAX_WINDOWS 8

struct calibration {
	uint64_t tsc_hz;        /* TSC cycles a second: median of the windows */
	uint32_t apic_per_ms;   /* APIC timer ticks a ms, divider 16: median */
	uint32_t windows;       /* windows used (at most CALIBRATE_WINDOWS) */
	uint32_t tried;         /* windows tried (at most CALIBRATE_MAX_WINDOWS) */
	uint32_t spread_ppm;    /* (fastest - slowest) / median TSC rate, 10^-6 */
	uint32_t window_us;     /* the shortest window used, microseconds */
	uint64_t bracket;       /* widest reading accepted, TSC cycles */
	uint64_t rejected;      /* readings refused as too wide */
};

/*
 * Measure both rates against PIT channel 2 (speaker gate of port 0x61),
 * with the APIC timer counting down masked (divider 16); leaves the APIC
 * timer stopped. Each window is two readings that each take the PIT's
 * count (latched by the read-back command, 8254 datasheet "Read-Back
 * Command") and the APIC timer's count between two TSC reads; the PIT
 * ticks elapsed between the readings are the time. A reading whose TSC
 * reads lie far apart (the CPU, or an emulator's vCPU thread, was held up
 * inside it) is taken again, so a delay between the guest's reads costs
 * nothing but time. Returns false when no window could be measured (the
 * PIT, TSC or APIC timer does not count); *out then holds what was seen.
 */
bool clock_calibrate(struct calibration *out);

#endif
