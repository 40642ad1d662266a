#include "frag_fit.h"
#include "unit.h"

/* Held: [0,24) and [24,48) (one run), [64,80) (another). */
static const struct frag_range held[] = { { 0, 24 }, { 24, 48 }, { 64, 80 } };
#define N (sizeof(held) / sizeof(held[0]))

TEST(frag_fit_takes_what_fills_a_gap_or_comes_first)
{
	CHECK_EQ(frag_fit(held, 0, false, 0, 0, 24, false), FRAG_NEW);
	CHECK_EQ(frag_fit(held, N, false, 0, 48, 64, false), FRAG_NEW);
	CHECK_EQ(frag_fit(held, N, false, 0, 80, 96, true), FRAG_NEW);
	CHECK_EQ(frag_fit(held, N, false, 0, 88, 96, false), FRAG_NEW);
}

TEST(frag_fit_drops_a_duplicate_alone)
{
	CHECK_EQ(frag_fit(held, N, false, 0, 0, 24, false), FRAG_DUPLICATE);
	/* inside a run, across two of its fragments: still a duplicate (Linux) */
	CHECK_EQ(frag_fit(held, N, false, 0, 8, 40, false), FRAG_DUPLICATE);
	CHECK_EQ(frag_fit(held, N, false, 0, 64, 72, false), FRAG_DUPLICATE);
}

TEST(frag_fit_drops_the_datagram_for_an_overlap)
{
	/* what lwIP kept the first of: the second overlaps the first's end */
	CHECK_EQ(frag_fit(held, N, false, 0, 40, 56, false), FRAG_OVERLAP);
	CHECK_EQ(frag_fit(held, N, false, 0, 56, 72, false), FRAG_OVERLAP);
	/* across a gap, over two runs */
	CHECK_EQ(frag_fit(held, N, false, 0, 40, 72, false), FRAG_OVERLAP);
	/* covering a run whole */
	CHECK_EQ(frag_fit(held, N, false, 0, 56, 88, false), FRAG_OVERLAP);
}

TEST(frag_fit_drops_the_datagram_when_its_end_disagrees)
{
	CHECK_EQ(frag_fit(held, N, false, 0, 48, 48, false), FRAG_OVERLAP);     /* empty */
	CHECK_EQ(frag_fit(held, N, false, 0, 48, 56, true), FRAG_OVERLAP);      /* last, data after it */
	CHECK_EQ(frag_fit(held, N, true, 96, 96, 104, true), FRAG_OVERLAP);     /* a second last */
	CHECK_EQ(frag_fit(held, N, true, 96, 88, 104, false), FRAG_OVERLAP);    /* past the end */
	CHECK_EQ(frag_fit(held, N, true, 96, 80, 96, true), FRAG_NEW);         /* the same last again... */
	CHECK_EQ(frag_fit(held, N, true, 80, 48, 64, false), FRAG_NEW);        /* up to the end */
}
