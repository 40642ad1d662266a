/*
 * memset and memcpy are `rep stosq` and `rep movsq` and a byte tail: under
 * QEMU 7.2's TCG a step of `rep movsq` costs about half what a 64-bit load
 * and store of a loop do (0.21 against 0.42 ms a MiB in a POSIX process,
 * at every size from 64 bytes to 16 KiB).
 *
 * Except where the source's and the destination's pages may take one
 * entry of QEMU's software TLB, which is direct-mapped: indexed by the
 * page number modulo its size, a power of two of at least 64 entries
 * (QEMU resizes it as it is used; CPU_TLB_DYN_MIN_BITS). A copy that goes
 * back and forth between two such pages takes one out of the entry for
 * the other at every access, so the copy costs 3.1 ms a MiB as `rep
 * movsq` and 1.45 as a loop of four loads and four stores. When the page
 * numbers' difference is 0 modulo 64 (or becomes so within the copy),
 * the copy moves its bytes in rounds that load 256 of them into the 16
 * SSE registers before storing any (0.55..0.67 ms a MiB so), or in the
 * kernel, which has no SSE (-mgeneral-regs-only), 32 in four registers.
 * (The POSIX server's memcpy of iperf3's writes into a netstack session
 * was 29% of the virtual CPU's samples with the loop; docs/posix.md,
 * "iperf3", session 19.)
 *
 * Each round loads its bytes before it stores any, and `rep movsq` goes
 * upward, so a copy to a lower address that overlaps its source is right
 * too (memmove uses it). The compiler is told not to turn the loops into
 * calls of the functions they are.
 */
#include "lib/string.h"

#include <stdint.h>

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

#define TLB_PAGE_SHIFT 12
#define TLB_MIN_ENTRIES 64

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t v = 0x0101010101010101ULL * (unsigned char)c;
	size_t words = n / 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
	for (n %= 8; n; n--)
		*d++ = (unsigned char)c;
	return dst;
}

/* Whether a byte of the copy and its source may lie in two pages that share
 * an entry of QEMU's TLB: along the copy their page numbers differ by D or
 * D + 1, D the difference of the first bytes' addresses over the page size
 * rounded down; two pages share an entry when they differ by a nonzero
 * multiple of the entries. */
static int pages_may_collide(const void *dst, const void *src)
{
	int64_t d = (int64_t)((uintptr_t)dst - (uintptr_t)src) >> TLB_PAGE_SHIFT;

	return (d != 0 && d % TLB_MIN_ENTRIES == 0) || (d != -1 && (d + 1) % TLB_MIN_ENTRIES == 0);
}

/* The kernel saves a thread's SSE registers only at a switch, so its
 * copies must not touch them (-mgeneral-regs-only leaves __SSE2__
 * undefined; -mcmodel=kernel defines __code_model_kernel__). */
#if defined(__SSE2__) && defined(__code_model_kernel__)
#error "lib/string.c in the kernel with SSE: its copies would change the user's xmm registers"
#endif

#ifdef __SSE2__
#define COLLIDING_ROUND 256

/* n bytes, a multiple of COLLIDING_ROUND: each round through xmm0..xmm15. */
static void copy_rounds(unsigned char *d, const unsigned char *s, size_t n)
{
	__asm__ volatile(
		"1:\n\t"
		"movdqu (%1), %%xmm0\n\t"     "movdqu 16(%1), %%xmm1\n\t"
		"movdqu 32(%1), %%xmm2\n\t"   "movdqu 48(%1), %%xmm3\n\t"
		"movdqu 64(%1), %%xmm4\n\t"   "movdqu 80(%1), %%xmm5\n\t"
		"movdqu 96(%1), %%xmm6\n\t"   "movdqu 112(%1), %%xmm7\n\t"
		"movdqu 128(%1), %%xmm8\n\t"  "movdqu 144(%1), %%xmm9\n\t"
		"movdqu 160(%1), %%xmm10\n\t" "movdqu 176(%1), %%xmm11\n\t"
		"movdqu 192(%1), %%xmm12\n\t" "movdqu 208(%1), %%xmm13\n\t"
		"movdqu 224(%1), %%xmm14\n\t" "movdqu 240(%1), %%xmm15\n\t"
		"movdqu %%xmm0, (%0)\n\t"     "movdqu %%xmm1, 16(%0)\n\t"
		"movdqu %%xmm2, 32(%0)\n\t"   "movdqu %%xmm3, 48(%0)\n\t"
		"movdqu %%xmm4, 64(%0)\n\t"   "movdqu %%xmm5, 80(%0)\n\t"
		"movdqu %%xmm6, 96(%0)\n\t"   "movdqu %%xmm7, 112(%0)\n\t"
		"movdqu %%xmm8, 128(%0)\n\t"  "movdqu %%xmm9, 144(%0)\n\t"
		"movdqu %%xmm10, 160(%0)\n\t" "movdqu %%xmm11, 176(%0)\n\t"
		"movdqu %%xmm12, 192(%0)\n\t" "movdqu %%xmm13, 208(%0)\n\t"
		"movdqu %%xmm14, 224(%0)\n\t" "movdqu %%xmm15, 240(%0)\n\t"
		"add $256, %0\n\t"
		"add $256, %1\n\t"
		"sub $256, %2\n\t"
		"jnz 1b"
		: "+r"(d), "+r"(s), "+r"(n)
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}
#else
#define COLLIDING_ROUND 32

/* n bytes, a multiple of COLLIDING_ROUND: each round through four registers. */
NO_LIBCALL static void copy_rounds(unsigned char *d, const unsigned char *s, size_t n)
{
	uint64_t a, b, c, e;

	for (; n; d += 32, s += 32, n -= 32) {
		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + 8, 8);
		__builtin_memcpy(&c, s + 16, 8);
		__builtin_memcpy(&e, s + 24, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + 8, &b, 8);
		__builtin_memcpy(d + 16, &c, 8);
		__builtin_memcpy(d + 24, &e, 8);
	}
}
#endif

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n >= COLLIDING_ROUND && pages_may_collide(d, s)) {
		size_t rounds = n - n % COLLIDING_ROUND;

		copy_rounds(d, s, rounds);
		d += rounds;
		s += rounds;
		n -= rounds;
	}
	size_t words = n / 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	for (n %= 8; n; n--)
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

/* Eight bytes a step while they agree, then the bytes from the first
 * word that does not. (Equality of a few bytes known at compile time is
 * cheaper as __builtin_memcmp, which the compiler inlines even here.) */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n >= 8; n -= 8, x += 8, y += 8) {
		uint64_t u, v;

		__builtin_memcpy(&u, x, 8);
		__builtin_memcpy(&v, y, 8);
		if (u != v)
			break;
	}
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
