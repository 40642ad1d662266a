/*
 * lwIP's cyclic timers (TCP's, reassembly's, ARP's, DHCP's), called as
 * many times as they were due when the loop comes late (timer_due.h),
 * instead of lwIP's own scheduling, which starts a late timer again from
 * now and so loses its ticks. lwIP's sources stay as shipped: the link
 * wraps sys_timeouts_init (which would schedule the cyclic timers in
 * lwIP's list) and tcp_timer_needed (which starts TCP's when a
 * connection appears), and the loop calls timers_run where it called
 * sys_check_timeouts; the one-shot timeouts (sys_timeout) stay lwIP's.
 * With them comes the look for frames a driver holds too long
 * (tx_heap_expire). docs/netstack.md, "The loop".
 */
#include "netstack.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "timer_due.h"

/* Calls per timer per round of the loop (more wait for the next round,
 * which comes at once: timers_sleeptime is 0), and how far behind a
 * timer may fall before its oldest ticks are given up (a loop stopped
 * for longer, e.g. a debugger). */
#define TIMERS_PER_ROUND 8
#define TIMERS_BEHIND_MAX_MS 10000

void __real_sys_timeouts_init(void);
void __wrap_sys_timeouts_init(void);
void __real_tcp_timer_needed(void);
void __wrap_tcp_timer_needed(void);

#define CYCLIC_MAX 8
static struct timer_due due[CYCLIC_MAX];
static bool running[CYCLIC_MAX];
static int tcp_index = -1;
static struct timers_counters counters;

/* lwip_init's: nothing is put in lwIP's list; timers_start schedules. */
void __wrap_sys_timeouts_init(void)
{
}

/* A connection appeared (TCP_REG): TCP's timer runs while any exists. */
void __wrap_tcp_timer_needed(void)
{
	if (tcp_index < 0 || running[tcp_index] || !(tcp_active_pcbs || tcp_tw_pcbs))
		return;
	running[tcp_index] = true;
	due[tcp_index] = (struct timer_due){ sys_now() + TCP_TMR_INTERVAL, TCP_TMR_INTERVAL };
}

void timers_start(void)
{
	uint32_t now = sys_now();

	LWIP_ASSERT("timers.c: more cyclic timers than it keeps", lwip_num_cyclic_timers <= CYCLIC_MAX);
	for (int i = 0; i < lwip_num_cyclic_timers && i < CYCLIC_MAX; i++) {
		due[i] = (struct timer_due){ now + lwip_cyclic_timers[i].interval_ms,
					     lwip_cyclic_timers[i].interval_ms };
		if (lwip_cyclic_timers[i].handler == tcp_tmr)
			tcp_index = i;          /* started on demand, as lwIP's */
		else
			running[i] = true;
	}
	__wrap_tcp_timer_needed();
}

void timers_run(void)
{
	bool ticked = false;

	sys_check_timeouts();
	for (int i = 0; i < lwip_num_cyclic_timers && i < CYCLIC_MAX; i++) {
		if (!running[i])
			continue;
		struct timer_calls c = timer_due_take(&due[i], sys_now(), TIMERS_PER_ROUND,
						      TIMERS_BEHIND_MAX_MS);
		ticked |= c.calls > 0;
		counters.late += c.late;
		counters.lost += c.lost;
		for (unsigned k = 0; k < c.calls; k++) {
			if (i == tcp_index)
				rcv_window_acks_flush();        /* before the fast timer drops them */
			lwip_cyclic_timers[i].handler();
			if (i == tcp_index && !(tcp_active_pcbs || tcp_tw_pcbs)) {
				running[i] = false;     /* as lwIP's tcpip_tcp_timer */
				break;
			}
		}
	}
	/* With them (ARP's runs always, each second), the look for frames
	 * a driver keeps too long (tx_heap.c). */
	for (unsigned i = 0; ticked && i < nifaces; i++)
		tx_heap_expire(&ifaces[i], sys_now());
}

uint32_t timers_sleeptime(void)
{
	uint32_t wait = sys_timeouts_sleeptime(), now = sys_now();

	for (int i = 0; i < lwip_num_cyclic_timers && i < CYCLIC_MAX; i++)
		if (running[i] && timer_due_in(&due[i], now) < wait)
			wait = timer_due_in(&due[i], now);
	return wait;
}

const struct timers_counters *timers_counters(void)
{
	return &counters;
}
