/*
 * The memory functions move 32 bytes a round in 64-bit words, then single
 * words, then bytes: under QEMU's TCG every guest instruction costs, and
 * each step of a `rep movs` is a pass through QEMU's dispatch of its own,
 * so a round of four loads and four stores costs about half what four
 * steps of `rep movsq` do and an eighth of what 32 byte steps did. They
 * run on every frame the netstack copies and every address-space switch
 * that reloads the kernel's 8 KiB I/O bitmap. The compiler is told not to
 * turn these loops into calls of the functions they are.
 */
#include "lib/string.h"

#include <stdint.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t v = 0x0101010101010101ULL * (unsigned char)c;

	for (; n >= 32; d += 32, n -= 32) {
		__builtin_memcpy(d, &v, 8);
		__builtin_memcpy(d + 8, &v, 8);
		__builtin_memcpy(d + 16, &v, 8);
		__builtin_memcpy(d + 24, &v, 8);
	}
	for (; n >= 8; d += 8, n -= 8)
		__builtin_memcpy(d, &v, 8);
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

/* Each round loads its 32 bytes before it stores any, so a copy to a lower
 * address that overlaps its source is right too (memmove uses it). */
NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	uint64_t a, b, c, e;

	for (; n >= 32; d += 32, s += 32, n -= 32) {
		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + 8, 8);
		__builtin_memcpy(&c, s + 16, 8);
		__builtin_memcpy(&e, s + 24, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + 8, &b, 8);
		__builtin_memcpy(d + 16, &c, 8);
		__builtin_memcpy(d + 24, &e, 8);
	}
	for (; n >= 8; d += 8, s += 8, n -= 8) {
		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(d, &a, 8);
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

/* Overlapping with dst above src: from the end down, eight bytes a step,
 * each read before it is written. */
NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	uint64_t w;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n % 8) {
		n--;
		d[n] = s[n];
	}
	while (n) {
		n -= 8;
		__builtin_memcpy(&w, s + n, 8);
		__builtin_memcpy(d + n, &w, 8);
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}
