#include "filter_clock.h"
#include "unit.h"

/* A counter of 1000 ticks a millisecond, the clock read at each step. */
TEST(filter_clock_reads_until_the_rate_is_known)
{
	struct filter_clock c = { 0 };

	CHECK(!filter_clock_fresh(&c, 5));
	filter_clock_set(&c, 1000, 1);
	CHECK(!filter_clock_fresh(&c, 1001));     /* no rate yet: read */
	filter_clock_set(&c, 30000, 30);
	CHECK(!filter_clock_fresh(&c, 30001));    /* 29 ms: not enough to learn from */
	filter_clock_set(&c, 65000, 65);
	CHECK_EQ(c.stale_ticks, 1000 * FILTER_CLOCK_STALE_US / 1000);
	CHECK(filter_clock_fresh(&c, 65000));
	CHECK(filter_clock_fresh(&c, 65000 + c.stale_ticks - 1));
	CHECK(!filter_clock_fresh(&c, 65000 + c.stale_ticks));
	CHECK_EQ(c.ms, 65);
}

TEST(filter_clock_counter_going_back_is_read)
{
	struct filter_clock c = { 0 };

	filter_clock_set(&c, 1000, 1);
	filter_clock_set(&c, 101000, 101);
	CHECK(filter_clock_fresh(&c, 101100));
	CHECK(!filter_clock_fresh(&c, 100999));   /* back: another processor's, or reset */
	filter_clock_set(&c, 500, 102);          /* starts learning again */
	CHECK_EQ(c.stale_ticks, 0);
	CHECK(!filter_clock_fresh(&c, 501));
	CHECK_EQ(c.ms, 102);
}

TEST(filter_clock_rate_follows_the_counter)
{
	struct filter_clock c = { 0 };

	filter_clock_set(&c, 1, 10);
	filter_clock_set(&c, 1 + 3000000ULL * 100, 110);   /* 3 GHz */
	CHECK_EQ(c.stale_ticks, 3000000ULL * FILTER_CLOCK_STALE_US / 1000);
	filter_clock_set(&c, 1 + 3000000ULL * 100 + 1000000ULL * 100, 210);   /* then 1 GHz */
	CHECK_EQ(c.stale_ticks, 1000000ULL * FILTER_CLOCK_STALE_US / 1000);
}
