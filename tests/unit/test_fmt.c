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

TEST(fmt_counts_and_sizes)
{
	char b[32];

	CHECK(!strcmp(fmt_count(b, sizeof(b), 0, "restart", "restarts"), "0 restarts"));
	CHECK(!strcmp(fmt_count(b, sizeof(b), 1, "restart", "restarts"), "1 restart"));
	CHECK(!strcmp(fmt_count(b, sizeof(b), 2, "interface", "interfaces"), "2 interfaces"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 0), "0 B"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 1023), "1023 B"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 1024), "1 KiB"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 1536), "1.5 KiB"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 4096 * 1024), "4 MiB"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), (192ULL << 20) + 4096), "192 MiB"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 3ULL << 40), "3 TiB"));
	CHECK(!strcmp(fmt_bytes(b, sizeof(b), 5ULL << 50), "5120 TiB"));
	CHECK(!strcmp(fmt_bytes(b, 6, 1536), "1.5 K"));
}
