#include <string.h>

#include "cmdline.h"
#include "unit.h"

TEST(cmdline_get_finds_values)
{
	char v[32];

	CHECK(cmdline_get("loglevel=3 kfault=pf", "kfault", v, sizeof(v)));
	CHECK(!strcmp(v, "pf"));
	CHECK(cmdline_get("tftp://10.0.2.2/kernel loglevel=1", "loglevel", v, sizeof(v)));
	CHECK(!strcmp(v, "1"));
}

TEST(cmdline_get_needs_whole_key)
{
	char v[32];

	CHECK(!cmdline_get("loglevelx=3", "loglevel", v, sizeof(v)));
	CHECK(!cmdline_get("", "loglevel", v, sizeof(v)));
	CHECK(cmdline_get("  quiet  ", "quiet", v, sizeof(v)));
	CHECK(!strcmp(v, ""));
}

TEST(cmdline_get_truncates)
{
	char v[4];

	CHECK(cmdline_get("name=abcdefgh", "name", v, sizeof(v)));
	CHECK(!strcmp(v, "abc"));
}

TEST(cmdline_word_splits_on_blanks)
{
	char w[16];

	CHECK(cmdline_word("  a\tbb  ccc ", 2, w, sizeof(w)));
	CHECK(!strcmp(w, "ccc"));
	CHECK(!cmdline_word("  a\tbb  ccc ", 3, w, sizeof(w)));
}
