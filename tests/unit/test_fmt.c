#include <stdint.h>
#include <string.h>

#include "lib/fmt.h"
#include "unit.h"

/* These tests feed odd formats on purpose. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-extra-args"

#define EXPECT(expected, ...)                                   \
	do {                                                    \
		char buf_[128];                                 \
		fmt_snprintf(buf_, sizeof(buf_), __VA_ARGS__);  \
		if (strcmp(buf_, expected)) {                   \
			char what_[300];                        \
			snprintf(what_, sizeof(what_), "\"%s\" != \"%s\"", buf_, expected); \
			unit_fail(__FILE__, __LINE__, what_);   \
			return;                                 \
		}                                               \
	} while (0)

TEST(fmt_integers)
{
	EXPECT("42 -7 0", "%d %i %u", 42, -7, 0u);
	EXPECT("-9223372036854775808", "%ld", (long)INT64_MIN);
	EXPECT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
	EXPECT("ff FF 0xff 17", "%x %X %#x %o", 255u, 255u, 255u, 15u);
	EXPECT("123", "%zu", (size_t)123);
}

TEST(fmt_width_and_flags)
{
	EXPECT("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
	EXPECT("0000beef", "%08x", 0xbeefu);
	EXPECT("   ab", "%*s", 5, "ab");
	EXPECT("-0042", "%05d", -42);
}

TEST(fmt_string_precision)
{
	EXPECT("abc|ab   |", "%.3s|%-5.*s|", "abcdef", 2, "abcdef");
	EXPECT("xy", "%.10s", "xy");
}

TEST(fmt_strings_chars_pointers)
{
	EXPECT("x=(null) c=Z", "x=%s c=%c", (char *)NULL, 'Z');
	EXPECT("0x1000", "%p", (void *)0x1000);
	EXPECT("100%", "100%%");
}

TEST(fmt_unknown_conversion_is_literal)
{
	EXPECT("a %q b", "a %q b");
	EXPECT("end %", "end %");
}

TEST(fmt_snprintf_truncates_and_reports_length)
{
	char buf[4];

	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%s", "abcdef"), 6);
	CHECK(!strcmp(buf, "abc"));
	CHECK_EQ(fmt_snprintf(buf, 0, "xyz"), 3);
}
