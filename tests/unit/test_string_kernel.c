/*
 * lib/string.c as the kernel builds it, without SSE (-mgeneral-regs-only
 * defines no __SSE2__): its memcpy between pages that may share an entry
 * of QEMU's TLB moves rounds through four registers instead of sixteen
 * SSE ones. Compiled here under other names, beside the host's C library.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#undef __SSE2__
#define memset kernel_memset
#define memcpy kernel_memcpy
#define memmove kernel_memmove
#define memcmp kernel_memcmp
#define strlen kernel_strlen
#define strnlen kernel_strnlen
#define strcmp kernel_strcmp
#define strncmp kernel_strncmp
#define strchr kernel_strchr
#define strrchr kernel_strrchr
#include "../../lib/string.c"
#include "string_undef.inc"

#include "unit.h"

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + 1);
}

#include "string_collide.inc"

TEST(string_kernel_memcpy_between_colliding_pages)
{
	const char *wrong = colliding_copies(kernel_memcpy);

	CHECK(!wrong);
}

TEST(string_kernel_memcmp_sign_and_first_difference)
{
	const char *wrong = compares(kernel_memcmp);

	CHECK(!wrong);
}

TEST(string_kernel_memset_and_memmove)
{
	uint8_t buf[600];

	fill(buf, sizeof(buf), 1);
	CHECK(kernel_memset(buf + 3, 0x5A, 517) == buf + 3);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], i >= 3 && i < 520 ? 0x5A : (uint8_t)(131 + i * 7 + 1));
	fill(buf, sizeof(buf), 2);
	CHECK(kernel_memmove(buf, buf + 5, 590) == buf);
	for (size_t i = 0; i < 590; i++)
		CHECK_EQ(buf[i], (uint8_t)(2 * 131 + (i + 5) * 7 + 1));
}
