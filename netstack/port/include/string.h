/* <string.h> for lwIP in the freestanding netstack: libmica's functions. */
#ifndef MICA_NETSTACK_STRING_H
#define MICA_NETSTACK_STRING_H
#include "lib/string.h"
#endif
