#include "timer.h"
#include "apic.h"
#include "calibrate.h"
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
	struct calibration cal;

	if (!clock_calibrate(&cal))
		panic("timer: no PIT window measured the TSC and APIC timer (%u tried, TSC %lu Hz, "
		      "APIC %u ticks/ms)", cal.tried, cal.tsc_hz, cal.apic_per_ms);
	uint32_t period = cal.apic_per_ms * (1000 / TIMER_HZ);
	params.mult = (1000000000ULL << MICA_CLOCK_SHIFT) / cal.tsc_hz;
	params.tsc_per_ms = (cal.tsc_hz + 500) / 1000;
	params.tick_ns = NS_PER_TICK;
	irq_set_handler(VEC_TIMER, timer_tick, 0);
	params.tsc_base = rdtsc();
	lapic_timer_start(period);
	kinfo("timer: local APIC timer %u ticks/ms (divider 16), %u Hz; TSC %lu cycles/ms\n",
	      cal.apic_per_ms, TIMER_HZ, params.tsc_per_ms);
	kinfo("timer: calibrated against the PIT: median of %u windows (%u tried, >= %u us), "
	      "spread %u ppm, readings within %lu TSC cycles (%lu taken again)\n",
	      cal.windows, cal.tried, cal.window_us, cal.spread_ppm, cal.bracket, cal.rejected);
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
