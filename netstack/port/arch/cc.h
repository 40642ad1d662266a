/*
 * lwIP's compiler and platform glue for Mica (lwIP's arch/cc.h): the
 * netstack is a freestanding user program linked with libmica, so the
 * headers lwIP would take from a C library are replaced here.
 */
#ifndef MICA_NETSTACK_ARCH_CC_H
#define MICA_NETSTACK_ARCH_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN

/* No <inttypes.h> or <ctype.h> in the freestanding build. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H    1
#define LWIP_NO_LIMITS_H   1
#define INT_MAX            __INT_MAX__
#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
void netstack_assert_failed(const char *what, const char *file, int line)
	__attribute__((noreturn));
#define LWIP_PLATFORM_ASSERT(x) netstack_assert_failed((x), __FILE__, __LINE__)

/* Byte order as the compiler's builtins (one instruction each), not
 * lwIP's out-of-line functions in def.c: called several times a frame. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

uint32_t netstack_random(void);
#define LWIP_RAND() netstack_random()

#endif
