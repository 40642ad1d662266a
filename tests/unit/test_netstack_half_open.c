#include "half_open.h"
#include "unit.h"

/* A listener with backlog 16 and nothing else going on. */
static struct half_open_counts quiet(void)
{
	return (struct half_open_counts){ .backlog = 16 };
}

TEST(half_open_keeps_everyone_below_the_bounds)
{
	struct half_open_counts c = quiet();
	c.from_source = 3;
	c.listener = c.pending = 15;
	c.all = 31;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_KEEP);
}

TEST(half_open_evicts_at_each_bound)
{
	struct half_open_counts c = quiet();
	c.from_source = 4;
	c.listener = c.pending = c.all = 4;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_SOURCE);
	c = quiet();
	c.listener = c.pending = c.all = 16;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_LISTENER);
	/* A smaller backlog is the listener's bound. */
	c = quiet();
	c.backlog = 2;
	c.listener = c.pending = c.all = 2;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_LISTENER);
	/* All listeners' bound: the oldest of all goes, this listener's or not. */
	c = quiet();
	c.all = 32;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_ALL);
	c.listener = c.pending = 1;
	c.oldest_is_listeners = true;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_ALL);
}

TEST(half_open_evicts_nobody_for_a_syn_lwip_drops_anyway)
{
	/* All listeners' bound, with this listener's backlog full of
	 * established connections not yet accepted: the oldest half-open is
	 * another listener's, and evicting it would not let the SYN in (lwIP
	 * drops it, as Linux with a full accept queue). */
	struct half_open_counts c = quiet();
	c.all = 32;
	c.pending = 16;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_KEEP);
	/* Its own half-open is the oldest: that one makes room. */
	c.listener = 1;
	c.oldest_is_listeners = true;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_LISTENER);
	/* Below the bound, the backlog full of half-open ones: the oldest
	 * of them goes, and lwIP takes the SYN. */
	c = quiet();
	c.backlog = 4;
	c.listener = c.pending = c.all = 4;
	CHECK_EQ(half_open_choose(&c), HALF_OPEN_LISTENER);
}
