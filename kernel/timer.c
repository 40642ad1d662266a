#include "timer.h"
#include "apic.h"
#include "klog.h"
#include "notification.h"
#include "sched.h"
#include "syscall.h"
#include "trap.h"

#define NS_PER_TICK (1000000000ULL / TIMER_HZ)

static volatile uint64_t ticks;
static uint32_t period;         /* APIC timer counts per tick */
static uint64_t last_ns;        /* the latest time timer_uptime_ns returned */
static uint64_t tsc_ns_mult;    /* ns per TSC cycle, times 2^32 */

static void timer_tick(struct trap_frame *frame, void *ctx)
{
	(void)frame;
	(void)ctx;
	ticks++;
	notification_timer_expire(timer_uptime_ns());
	if (current)
		sched_tick();
}

void timer_init(void)
{
	uint64_t tsc_per_ms;
	uint32_t per_ms = lapic_timer_calibrate(&tsc_per_ms);

	if (per_ms == 0)
		panic("timer: local APIC timer does not count");
	period = per_ms * (1000 / TIMER_HZ);
	if (tsc_per_ms)
		tsc_ns_mult = (1000000ULL << 32) / tsc_per_ms;
	irq_set_handler(VEC_TIMER, timer_tick, 0);
	lapic_timer_start(period);
	kinfo("timer: local APIC timer %u ticks/ms (divider 16), %u Hz; TSC %lu cycles/ms\n",
	      per_ms, TIMER_HZ, tsc_per_ms);
}

uint64_t timer_cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * tsc_ns_mult) >> 32);
}

uint64_t timer_ticks(void)
{
	return ticks;
}

uint64_t timer_uptime_ms(void)
{
	return ticks * (1000 / TIMER_HZ);
}

/*
 * Ticks handled, plus the part of the current tick the APIC timer has
 * counted down. Called with interrupts off (always, in the kernel). A tick
 * that has expired but is not handled yet shows as a reloaded count with
 * its interrupt pending in the IRR: then it is counted too. The IRR is
 * read on both sides of the count so that an expiry in between is seen
 * (read again); IRR only goes from 0 to 1 while interrupts are off. Ticks
 * lost while interrupts were off for longer than one period, or merged
 * by an emulator, could still make the result step back; the last value
 * returned is the floor, so the clock never goes backwards.
 */
uint64_t timer_uptime_ns(void)
{
	if (!period)
		return ticks * NS_PER_TICK;
	bool due;
	uint32_t count;
	do {
		due = lapic_pending(VEC_TIMER);
		count = lapic_timer_current();
	} while (due != lapic_pending(VEC_TIMER));
	uint32_t elapsed = count <= period ? period - count : 0;
	uint64_t ns = (ticks + due) * NS_PER_TICK + (uint64_t)elapsed * NS_PER_TICK / period;
	if (ns < last_ns)
		return last_ns;
	last_ns = ns;
	return ns;
}

long sys_clock(void)
{
	return (long)timer_uptime_ns();
}
