/* The log rate limiter (lib/ratelimit.c): burst, refill, held counts. */
#include <string.h>

#include "unit.h"
#include "lib/ratelimit.h"

#define SEC RATELIMIT_INTERVAL_NS

TEST(ratelimit_burst_then_one_per_interval)
{
	struct ratelimit rl = { 0 };
	uint32_t held = 99;
	unsigned passed = 0;

	/* A flood of 1000 lines within one instant: the burst passes. */
	for (int i = 0; i < 1000; i++)
		passed += ratelimit_pass(&rl, 5 * SEC, &held);
	CHECK_EQ(passed, RATELIMIT_BURST);
	CHECK_EQ(held, 0);
	/* Half an interval later: still nothing. */
	CHECK(!ratelimit_pass(&rl, 5 * SEC + SEC / 2, &held));
	/* One interval later one line passes, told of the 991 held back. */
	CHECK(ratelimit_pass(&rl, 6 * SEC, &held));
	CHECK_EQ(held, 1000 - RATELIMIT_BURST + 1);
	CHECK(!ratelimit_pass(&rl, 6 * SEC + 1, &held));
	/* A flood over 100 intervals gets one line per interval. */
	passed = 0;
	for (uint64_t t = 6 * SEC + 2; t < 107 * SEC; t += SEC / 1000)
		passed += ratelimit_pass(&rl, t, &held);
	CHECK_EQ(passed, 100);
	CHECK_EQ(held, 999);
}

TEST(ratelimit_quiet_site_gets_its_burst_back)
{
	struct ratelimit rl = { 0 };
	uint32_t held;
	unsigned passed = 0;

	for (int i = 0; i < 20; i++)
		ratelimit_pass(&rl, 0, &held);
	/* Three intervals: three lines, not more. */
	for (int i = 0; i < 20; i++)
		passed += ratelimit_pass(&rl, 3 * SEC, &held);
	CHECK_EQ(passed, 3);
	/* Long quiet: the whole burst, never more. */
	passed = 0;
	for (int i = 0; i < 20; i++)
		passed += ratelimit_pass(&rl, 1000 * SEC, &held);
	CHECK_EQ(passed, RATELIMIT_BURST);
	/* A clock that seems to go back lets nothing extra through. */
	CHECK(!ratelimit_pass(&rl, 999 * SEC, &held));
}

TEST(ratelimit_summary_names_the_prefix)
{
	char buf[96];

	CHECK(!strcmp(ratelimit_summary(buf, sizeof(buf), "netecho: udp-echo: echo: error 12\n", 5),
		      "netecho: (last message repeated 5 times)\n"));
	CHECK(!strcmp(ratelimit_summary(buf, sizeof(buf), "a:b: c", 1),
		      "a:b: (last message repeated 1 time)\n"));
	CHECK(!strcmp(ratelimit_summary(buf, sizeof(buf), "no prefix", 2),
		      "(last message repeated 2 times)\n"));
	ratelimit_summary(buf, 8, "netecho: x", 123456);
	CHECK_EQ(strlen(buf), 7);
}

TEST(ratelimit_force_always_passes_and_reports)
{
	struct ratelimit rl = { 0 };
	uint32_t held;

	for (int i = 0; i < RATELIMIT_BURST + 4; i++)
		ratelimit_pass(&rl, 0, &held);
	CHECK_EQ(ratelimit_force(&rl, 0), 4);
	CHECK(!ratelimit_pass(&rl, 0, &held));
	/* With budget left it takes from it, and says what was held. */
	CHECK_EQ(ratelimit_force(&rl, 2 * RATELIMIT_INTERVAL_NS), 1);
	CHECK(ratelimit_pass(&rl, 2 * RATELIMIT_INTERVAL_NS, &held));
	CHECK_EQ(held, 0);
	CHECK(!ratelimit_pass(&rl, 2 * RATELIMIT_INTERVAL_NS, &held));
}

TEST(token_bucket_burst_then_rate_up_to_the_burst)
{
	struct token_bucket b = { 0 };
	unsigned taken = 0;

	/* Full at the first use: the burst, then nothing in the same instant. */
	for (int i = 0; i < 100; i++)
		taken += token_take(&b, 3 * SEC, 10, 5);
	CHECK_EQ(taken, 5);
	/* 10 a second: a tenth of a second gives one, less gives none. */
	CHECK(!token_take(&b, 3 * SEC + SEC / 20, 10, 5));
	CHECK(token_take(&b, 3 * SEC + SEC / 10, 10, 5));
	CHECK(!token_take(&b, 3 * SEC + SEC / 10, 10, 5));
	/* A long quiet time refills to the burst, not past it. */
	taken = 0;
	for (int i = 0; i < 100; i++)
		taken += token_take(&b, 1000 * SEC, 10, 5);
	CHECK_EQ(taken, 5);
	/* A steady flood for 10 s more gets the rate: 100, none held over. */
	taken = 0;
	for (uint64_t t = 1000 * SEC + 1; t <= 1010 * SEC + 1; t += SEC / 1000)
		taken += token_take(&b, t, 10, 5);
	CHECK_EQ(taken, 100);
}
