/* Name service client: find servers by name (served by init). */
#ifndef MICA_LIB_NAMES_H
#define MICA_LIB_NAMES_H

#include "uapi/cap.h"

/* Publish the capability in slot under name (at most 24 bytes). */
long ns_register(const char *name, cap_slot_t cap);

/* Copy the capability registered as name into the empty slot dest,
 * waiting until somebody registers it. */
long ns_lookup(const char *name, cap_slot_t dest);

#endif
