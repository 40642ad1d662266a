/*
 * lwIP's MEMCPY in the netstack (netstack/port/lwipopts.h): every frame
 * sent is copied into a pool buffer (iface.c), and every TCP byte written
 * is copied into a segment, so the copy is on the data path twice. It is
 * the C library's memcpy (lib/string.c), which moves 32 bytes a round.
 * Not used for overlapping copies (MEMMOVE is not).
 */
#ifndef MICA_NETSTACK_COPY_H
#define MICA_NETSTACK_COPY_H

#include <stddef.h>

#include "lib/string.h"

static inline void *netstack_copy(void *dst, const void *src, size_t n)
{
	return memcpy(dst, src, n);
}

#endif
