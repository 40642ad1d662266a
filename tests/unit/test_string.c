/*
 * lib/string.c's memory functions against byte-at-a-time references, at
 * every small length, alignment and overlap. The file is compiled here
 * under other names, beside the host's C library.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define memset mica_memset
#define memcpy mica_memcpy
#define memmove mica_memmove
#define memcmp mica_memcmp
#define strlen mica_strlen
#define strnlen mica_strnlen
#define strcmp mica_strcmp
#define strncmp mica_strncmp
#define strchr mica_strchr
#define strrchr mica_strrchr
#include "../../lib/string.c"
#include "string_undef.inc"

#include "unit.h"

#define SIZE 96

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + 1);
}

TEST(string_memset_every_length_and_alignment)
{
	uint8_t buf[SIZE], want[SIZE];

	for (size_t at = 0; at < 16; at++)
		for (size_t n = 0; at + n <= SIZE; n++) {
			fill(buf, SIZE, (unsigned)n);
			fill(want, SIZE, (unsigned)n);
			for (size_t i = 0; i < n; i++)
				want[at + i] = 0xA5;
			CHECK(mica_memset(buf + at, 0x1A5, n) == buf + at);     /* as unsigned char */
			CHECK(!memcmp(buf, want, SIZE));
		}
}

TEST(string_memcpy_every_length_and_alignment)
{
	uint8_t src[SIZE], buf[SIZE], want[SIZE];

	fill(src, SIZE, 3);
	for (size_t from = 0; from < 9; from++)
		for (size_t at = 0; at < 9; at++)
			for (size_t n = 0; from + n <= SIZE && at + n <= SIZE; n++) {
				fill(buf, SIZE, 5);
				fill(want, SIZE, 5);
				for (size_t i = 0; i < n; i++)
					want[at + i] = src[from + i];
				CHECK(mica_memcpy(buf + at, src + from, n) == buf + at);
				CHECK(!memcmp(buf, want, SIZE));
			}
}

/* Every overlap, both ways, against a copy through a separate buffer. */
TEST(string_memmove_every_overlap)
{
	uint8_t buf[SIZE], want[SIZE], tmp[SIZE];

	for (size_t from = 0; from < 40; from++)
		for (size_t at = 0; at < 40; at++)
			for (size_t n = 0; from + n <= SIZE && at + n <= SIZE; n += 1 + n / 8) {
				fill(buf, SIZE, 9);
				fill(want, SIZE, 9);
				for (size_t i = 0; i < n; i++)
					tmp[i] = want[from + i];
				for (size_t i = 0; i < n; i++)
					want[at + i] = tmp[i];
				CHECK(mica_memmove(buf + at, buf + from, n) == buf + at);
				CHECK(!memcmp(buf, want, SIZE));
			}
}

TEST(string_large_copies)
{
	size_t n = 8192 + 5;
	uint8_t *a = malloc(n), *b = malloc(n);

	CHECK(a && b);
	fill(a, n, 1);
	mica_memset(b, 0xFF, n);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(b[i], 0xFF);
	mica_memcpy(b, a, n);
	CHECK(!memcmp(a, b, n));
	mica_memmove(a + 3, a, n - 3);
	CHECK(!memcmp(a + 3, b, n - 3));
	mica_memmove(a, a + 3, n - 3);          /* downward: memcpy's rep movsq */
	CHECK(!memcmp(a, b, n - 3));
	free(a);
	free(b);
}

#include "string_collide.inc"

TEST(string_memcpy_between_colliding_pages)
{
	const char *wrong = colliding_copies(mica_memcpy);

	CHECK(!wrong);
}

TEST(string_memcmp_sign_and_first_difference)
{
	const char *wrong = compares(mica_memcmp);

	CHECK(!wrong);
}
