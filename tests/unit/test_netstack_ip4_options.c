#include <stdint.h>

#include "ip4_options.h"
#include "unit.h"

#define CHECK_OPTS(verdict, ...)                                                 \
	do {                                                                     \
		const uint8_t o_[] = { __VA_ARGS__ };                            \
		CHECK_EQ(ip4_options_check(o_, sizeof(o_)), verdict);            \
	} while (0)

TEST(ip4_options_well_formed)
{
	CHECK_EQ(ip4_options_check(NULL, 0), IP4_OPTIONS_OK);
	CHECK_OPTS(IP4_OPTIONS_OK, 1, 1, 1, 0);                         /* NOPs, EOL */
	CHECK_OPTS(IP4_OPTIONS_OK, 0, 0xFF, 0xFF, 0xFF);                /* padding after EOL */
	CHECK_OPTS(IP4_OPTIONS_OK, 7, 7, 4, 0, 0, 0, 0, 0);             /* RR, one slot */
	CHECK_OPTS(IP4_OPTIONS_OK, 7, 7, 8, 1, 2, 3, 4, 0);             /* RR, full */
	CHECK_OPTS(IP4_OPTIONS_OK, 68, 8, 5, 0, 0, 0, 0, 0);            /* TS, times only */
	CHECK_OPTS(IP4_OPTIONS_OK, 68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0); /* TS, with addresses */
	CHECK_OPTS(IP4_OPTIONS_OK, 148, 4, 0, 0);                       /* router alert */
	CHECK_OPTS(IP4_OPTIONS_OK, 130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0); /* security */
	CHECK_OPTS(IP4_OPTIONS_OK, 25, 2, 1, 0);                        /* unknown, well-formed */
	CHECK_OPTS(IP4_OPTIONS_OK, 7, 7, 4, 0, 0, 0, 0, 68, 4, 5, 0);   /* RR and TS */
}

TEST(ip4_options_source_route)
{
	CHECK_OPTS(IP4_OPTIONS_SOURCE_ROUTE, 131, 7, 4, 10, 1, 0, 9, 0);  /* loose */
	CHECK_OPTS(IP4_OPTIONS_SOURCE_ROUTE, 1, 137, 7, 8, 10, 1, 0, 9);  /* strict, used */
	/* A malformed one is malformed, not a source route. */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 131, 7, 3, 10, 1, 0, 9, 0);
}

TEST(ip4_options_malformed_lengths)
{
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 7, 0, 0, 0);                  /* length 0 */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 25, 1, 0, 0);                 /* length 1 */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 25, 5, 0, 0);                 /* past the header */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 1, 1, 1, 25);                 /* no length byte */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 25, 2, 25, 4, 0);             /* the second past it */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 7, 2, 0, 0);                  /* RR without a pointer */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 68, 3, 5, 0);                 /* TS without flags */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 148, 3, 0, 0);                /* router alert */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 136, 2, 0, 0);                /* stream ID */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 130, 4, 0, 0);                /* security */
}

TEST(ip4_options_malformed_pointers_and_repeats)
{
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 7, 7, 3, 0, 0, 0, 0, 0);      /* before the first slot */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 7, 7, 5, 0, 0, 0, 0, 0);      /* a slot cut by the end */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 68, 8, 4, 0, 0, 0, 0, 0);     /* TS: before its slots */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 68, 8, 5, 1, 0, 0, 0, 0);     /* 8-byte slot in 8 bytes */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 68, 8, 5, 2, 0, 0, 0, 0);     /* flag 2 */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 7, 3, 4, 7, 3, 4, 0);         /* RR twice */
	CHECK_OPTS(IP4_OPTIONS_MALFORMED, 131, 3, 4, 137, 3, 4, 0, 0);  /* two source routes */
}
