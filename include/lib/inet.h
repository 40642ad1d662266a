/* IPv4 address text, shared by the netstack and its clients (lib/inet.c). */
#ifndef MICA_LIB_INET_H
#define MICA_LIB_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first len characters of s as "a.b.c.d" into *addr (network byte
 * order); false if they are anything else. */
bool inet_parse_ipv4(const char *s, size_t len, uint32_t *addr);

#endif
