/*
 * lwIP's MEMCPY in the netstack (netstack/port/lwipopts.h): every frame
 * sent is copied into a pool buffer (iface.c), and every TCP byte written
 * is copied into a segment, so the copy is on the data path twice. The C
 * library's memcpy moves a byte per round; under TCG every round costs
 * the same whatever it moves, so this moves eight (rep movsq), then the
 * rest (rep movsb). Not used for overlapping copies (MEMMOVE is not).
 */
#ifndef MICA_NETSTACK_COPY_H
#define MICA_NETSTACK_COPY_H

#include <stddef.h>

static inline void *netstack_copy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t words = n / 8, rest = n % 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(rest) : : "memory");
	return dst;
}

#endif
