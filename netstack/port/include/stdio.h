/* <stdio.h> for lwIP in the freestanding netstack: printf from libmica. */
#ifndef MICA_NETSTACK_STDIO_H
#define MICA_NETSTACK_STDIO_H
#include <stddef.h>
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...);
#endif
