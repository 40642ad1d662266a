/*
 * Boot-time calibration of the TSC and the local APIC timer against the
 * PIT. Under an emulator (QEMU's TCG) the TSC and the PIT both follow the
 * host's time, so two readings taken together are exact; what goes wrong
 * is a delay between the guest's reads, when the host does not run the
 * vCPU thread. Every reading is therefore bracketed by two TSC reads and
 * taken again when the bracket is wide, and the time is the PIT ticks
 * elapsed between two readings, not "until the count expired" (which the
 * guest sees late by however long it was held up).
 */
#include "calibrate.h"
#include "apic.h"
#include "cpu.h"

#define PIT_CH2      0x42
#define PIT_COMMAND  0x43
#define PIT_GATE     0x61          /* bit 0 gate of channel 2, bit 1 speaker */
#define PIT_CH2_MODE0 0xB0         /* channel 2, lo/hi byte, mode 0, binary */
#define PIT_READBACK_CH2 0xC8      /* read-back: latch status and count of 2 */
#define PIT_STATUS_OUT 0x80

/* A window's count runs 65536 ticks (54.9 ms); it ends at the first good
 * reading past WINDOW_TICKS, or counts if at least MIN_TICKS were seen
 * before the count ran out. */
#define WINDOW_TICKS (PIT_HZ * 45 / 1000)
#define MIN_TICKS    (PIT_HZ * 20 / 1000)
/* Readings before the first window, to learn how tight a bracket can be. */
#define WARMUP_READINGS 32
/* Bounds on a window that never ends (a PIT that does not count): in
 * readings, and in TSC cycles (2^31: 0.8 s at 2.6 GHz, and room for a
 * 45 ms window at any TSC rate below 40 GHz), so that eight such windows
 * hold the boot up for seconds, not the minutes 2^22 readings of five
 * port accesses each can take under emulation. */
#define MAX_READINGS (1u << 22)
#define MAX_WINDOW_TSC (1ull << 31)

struct reading {
	uint64_t tsc;       /* the middle of the bracket */
	uint64_t width;     /* TSC cycles between the bracket's two reads */
	uint32_t apic;      /* the APIC timer's current count */
	uint32_t ticks;     /* PIT ticks since the window's count was loaded */
	bool expired;       /* the PIT's OUT is high: the count ran out */
};

static inline uint64_t rdtsc_ordered(void)
{
	__asm__ volatile("lfence" ::: "memory");
	return rdtsc();
}

static void take_reading(struct reading *r)
{
	uint64_t before = rdtsc_ordered();
	outb(PIT_COMMAND, PIT_READBACK_CH2);
	uint32_t apic = lapic_timer_current();
	uint64_t after = rdtsc_ordered();
	uint8_t status = inb(PIT_CH2);
	uint8_t lo = inb(PIT_CH2);
	uint8_t hi = inb(PIT_CH2);

	r->width = after - before;
	r->tsc = before + r->width / 2;
	r->apic = apic;
	r->ticks = (0x10000u - (lo | (uint32_t)hi << 8)) & 0xFFFFu;
	r->expired = status & PIT_STATUS_OUT;
}

/* Load channel 2 with 65536 in mode 0 (OUT low until the count runs out). */
static void pit_start(void)
{
	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01);
	outb(PIT_COMMAND, PIT_CH2_MODE0);
	outb(PIT_CH2, 0);
	outb(PIT_CH2, 0);
}

/* A bracket is good when it is within 2^slack times the tightest seen
 * (4 at first, doubled after each window lost): a vCPU thread held up by
 * the host takes milliseconds, a reading well under a microsecond. */
static bool tight_enough(uint64_t width, uint64_t tightest, unsigned slack)
{
	return width <= (tightest << slack);
}

/*
 * One window: the first good reading once the count runs, and the last
 * good one before it ran out, stopping at the first past WINDOW_TICKS.
 * True when they are MIN_TICKS apart or more.
 */
static bool window(struct reading *start, struct reading *end, uint64_t *tightest,
		   unsigned slack, uint64_t *rejected)
{
	bool started = false, ended = false;

	pit_start();
	uint64_t began = rdtsc_ordered();
	for (uint32_t n = 0; n < MAX_READINGS; n++) {
		struct reading r;

		take_reading(&r);
		if (r.width < *tightest)
			*tightest = r.width;
		if (r.expired || r.tsc - began > MAX_WINDOW_TSC)
			break;
		if (!tight_enough(r.width, *tightest, slack)) {
			(*rejected)++;
			continue;
		}
		if (!started || r.ticks < start->ticks) {
			/* (Going back: the count had not been loaded yet.) */
			*start = r;
			started = true;
			ended = false;
			continue;
		}
		*end = r;
		ended = true;
		if (r.ticks - start->ticks >= WINDOW_TICKS)
			break;
	}
	return started && ended && end->ticks - start->ticks >= MIN_TICKS;
}

static void sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

bool clock_calibrate(struct calibration *out)
{
	uint64_t tsc_hz[CALIBRATE_WINDOWS], apic_per_ms[CALIBRATE_WINDOWS];
	uint64_t tightest = UINT64_MAX;
	unsigned slack = 2;              /* 4 times the tightest */
	uint32_t shortest = UINT32_MAX;
	struct reading r;

	*out = (struct calibration){ 0 };
	lapic_timer_free_run();
	pit_start();
	for (int i = 0; i < WARMUP_READINGS; i++) {
		take_reading(&r);
		if (r.width < tightest)
			tightest = r.width;
	}
	while (out->windows < CALIBRATE_WINDOWS && out->tried < CALIBRATE_MAX_WINDOWS) {
		struct reading start = { 0 }, end = { 0 };

		out->tried++;
		if (!window(&start, &end, &tightest, slack, &out->rejected) ||
		    end.tsc <= start.tsc || start.apic <= end.apic) {
			slack++;                 /* a host too busy: accept wider */
			continue;
		}
		uint32_t ticks = end.ticks - start.ticks;
		unsigned k = out->windows++;
		tsc_hz[k] = (end.tsc - start.tsc) * PIT_HZ / ticks;
		apic_per_ms[k] = ((uint64_t)(start.apic - end.apic) * PIT_HZ + ticks * 500ull) /
				 (ticks * 1000ull);
		if (start.width > out->bracket)
			out->bracket = start.width;
		if (end.width > out->bracket)
			out->bracket = end.width;
		if (ticks < shortest)
			shortest = ticks;
	}
	lapic_timer_stop();
	if (out->windows == 0)
		return false;
	unsigned n = out->windows;
	sort(tsc_hz, n);
	sort(apic_per_ms, n);
	out->tsc_hz = tsc_hz[n / 2];
	out->apic_per_ms = (uint32_t)apic_per_ms[n / 2];
	out->spread_ppm = (uint32_t)((tsc_hz[n - 1] - tsc_hz[0]) * 1000000 / out->tsc_hz);
	out->window_us = (uint32_t)((uint64_t)shortest * 1000000 / PIT_HZ);
	return out->tsc_hz != 0 && out->apic_per_ms != 0;
}
