/* Name service client: find servers by name (served by init). */
#ifndef MICA_LIB_NAMES_H
#define MICA_LIB_NAMES_H

#include "uapi/cap.h"

/* Publish the capability in slot under name (at most 24 bytes). */
long ns_register(const char *name, cap_slot_t cap);

/* The same, as a private name: only programs whose manifest has a
 * `lookup NAME` line for it may look it up (NS_REGISTER_PRIVATE). */
long ns_register_private(const char *name, cap_slot_t cap);

/* Copy the capability registered as name into the empty slot dest,
 * waiting until somebody registers it. */
long ns_lookup(const char *name, cap_slot_t dest);

/* The same without waiting: -ERR_WOULD_BLOCK when nobody registered the
 * name. *generation (if not NULL) gets the registration's generation,
 * which changes whenever the server is a new one (restarted). */
long ns_lookup_now(const char *name, cap_slot_t dest, uint64_t *generation);

/* Have init signal the notification in slot notif (a badged copy: its
 * bits are what arrives) whenever name is registered or removed (its
 * program ended). The watch lasts as long as the caller runs. */
long ns_watch(const char *name, cap_slot_t notif);

#endif
