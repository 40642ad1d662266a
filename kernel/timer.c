#include "timer.h"
#include "apic.h"
#include "klog.h"
#include "notification.h"
#include "sched.h"
#include "trap.h"

static volatile uint64_t ticks;

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
	uint32_t per_ms = lapic_timer_calibrate();

	if (per_ms == 0)
		panic("timer: local APIC timer does not count");
	irq_set_handler(VEC_TIMER, timer_tick, 0);
	lapic_timer_start(per_ms * (1000 / TIMER_HZ));
	kinfo("timer: local APIC timer %u ticks/ms (divider 16), %u Hz\n",
	      per_ms, TIMER_HZ);
}

uint64_t timer_ticks(void)
{
	return ticks;
}

uint64_t timer_uptime_ms(void)
{
	return ticks * (1000 / TIMER_HZ);
}

uint64_t timer_uptime_ns(void)
{
	return ticks * (1000000000ULL / TIMER_HZ);
}
