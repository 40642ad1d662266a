#include "timer_due.h"
#include "unit.h"

TEST(timer_due_calls_nothing_before_its_time)
{
	struct timer_due t = { 1000, 250 };
	struct timer_calls c = timer_due_take(&t, 999, 8, 10000);
	CHECK_EQ(c.calls, 0);
	CHECK_EQ(t.due_ms, 1000);
	CHECK_EQ(timer_due_in(&t, 900), 100);
	CHECK_EQ(timer_due_in(&t, 1200), 0);
}

TEST(timer_due_on_time_is_one_call_not_late)
{
	struct timer_due t = { 1000, 250 };
	struct timer_calls c = timer_due_take(&t, 1009, 8, 10000);
	CHECK_EQ(c.calls, 1);
	CHECK_EQ(c.late, 0);
	CHECK_EQ(t.due_ms, 1250);       /* not 1259: no drift */
}

/* lwIP's own scheduling made one call here and started again from now:
 * four of TCP's ticks lost. */
TEST(timer_due_catches_up_every_tick_it_missed)
{
	struct timer_due t = { 1000, 250 };
	struct timer_calls c = timer_due_take(&t, 2000, 8, 10000);
	CHECK_EQ(c.calls, 5);           /* 1000, 1250, 1500, 1750, 2000 */
	CHECK_EQ(c.late, 4);
	CHECK_EQ(c.lost, 0);
	CHECK_EQ(t.due_ms, 2250);
}

TEST(timer_due_bounds_a_round_and_leaves_the_rest_due)
{
	struct timer_due t = { 1000, 250 };
	struct timer_calls c = timer_due_take(&t, 4000, 8, 10000);    /* 13 due */
	CHECK_EQ(c.calls, 8);
	CHECK_EQ(timer_due_in(&t, 4000), 0);
	c = timer_due_take(&t, 4000, 8, 10000);
	CHECK_EQ(c.calls, 5);
	CHECK_EQ(t.due_ms, 4250);
}

TEST(timer_due_gives_up_ticks_past_the_bound)
{
	struct timer_due t = { 1000, 250 };
	struct timer_calls c = timer_due_take(&t, 21000, 100, 10000);  /* 81 due, 41 kept */
	CHECK_EQ(c.lost, 40);
	CHECK_EQ(c.calls, 41);
	CHECK_EQ(t.due_ms, 21250);
}

TEST(timer_due_survives_the_clock_wrapping)
{
	struct timer_due t = { 0xFFFFFF00u, 250 };
	struct timer_calls c = timer_due_take(&t, 0x00000100u, 8, 10000);   /* 512 ms later */
	CHECK_EQ(c.calls, 3);
	CHECK_EQ(t.due_ms, 0xFFFFFF00u + 750);
}
