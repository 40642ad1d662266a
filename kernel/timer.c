#include "timer.h"
#include "apic.h"
#include "cpu.h"
#include "klog.h"
#include "notification.h"
#include "sched.h"
#include "decode.h"
#include "syscall.h"
#include "task.h"
#include "trap.h"
#include "uaccess.h"

#include "uapi/errors.h"

#define NS_PER_TICK (1000000000ULL / TIMER_HZ)

static volatile uint64_t ticks;
static struct clock_params params;      /* fixed by timer_init */

static void timer_tick(struct trap_frame *frame, void *ctx)
{
	(void)ctx;
	ticks++;
	notification_timer_expire(timer_uptime_ns());
	if (current)
		sched_tick((frame->cs & 3) == 3);
}

void timer_init(void)
{
	uint64_t tsc_cycles;
	uint32_t per_ms = lapic_timer_calibrate(&tsc_cycles);

	if (per_ms == 0)
		panic("timer: local APIC timer does not count");
	if (tsc_cycles == 0)
		panic("timer: time-stamp counter does not count");
	uint32_t period = per_ms * (1000 / TIMER_HZ);
	params.mult = ((uint64_t)LAPIC_CALIBRATE_MS * 1000000ULL << MICA_CLOCK_SHIFT) / tsc_cycles;
	params.tsc_per_ms = tsc_cycles / LAPIC_CALIBRATE_MS;
	params.tick_ns = NS_PER_TICK;
	irq_set_handler(VEC_TIMER, timer_tick, 0);
	params.tsc_base = rdtsc();
	lapic_timer_start(period);
	kinfo("timer: local APIC timer %u ticks/ms (divider 16), %u Hz; TSC %lu cycles/ms\n",
	      per_ms, TIMER_HZ, params.tsc_per_ms);
}

uint64_t timer_cycles_to_ns(uint64_t cycles)
{
	return (uint64_t)(((unsigned __int128)cycles * params.mult) >> MICA_CLOCK_SHIFT);
}

uint64_t timer_ticks(void)
{
	return ticks;
}

uint64_t timer_uptime_ms(void)
{
	return timer_uptime_ns() / 1000000;
}

/*
 * The TSC since timer_init, at the rate calibrated against the PIT: the
 * clock keeps real time when an emulator drops timer interrupts, which
 * the tick count does not. One CPU and a counter that only counts up make
 * it monotonic. 0 before timer_init.
 */
uint64_t timer_uptime_ns(void)
{
	if (!params.mult)
		return 0;
	return clock_from_tsc(&params, rdtsc());
}

long sys_clock(void)
{
	return (long)timer_uptime_ns();
}

long sys_clock_params(uint64_t out)
{
	if (copy_to_user(current->task, out, &params, sizeof(params)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}
