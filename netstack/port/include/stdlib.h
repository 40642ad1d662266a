/* <stdlib.h> for lwIP in the freestanding netstack (netif.c uses atoi). */
#ifndef MICA_NETSTACK_STDLIB_H
#define MICA_NETSTACK_STDLIB_H
int atoi(const char *s);
#endif
