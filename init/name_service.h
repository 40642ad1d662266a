/* init's name service (name_service.c). Programs are known by their index. */
#ifndef MICA_INIT_NAME_SERVICE_H
#define MICA_INIT_NAME_SERVICE_H

#include <stdbool.h>

#include "lib/ipc.h"

/* One request on init's endpoint (NS_REGISTER, NS_LOOKUP, NS_WATCH) of
 * program `owner`, received with the reply object *reply. Returns the
 * answer's label when it is to be sent with *reply now; *deferred: the
 * answer went already or waits (a lookup of a name not yet registered
 * keeps *reply, which is then replaced by a fresh reply object). */
long name_request(int owner, struct msg *m, cap_slot_t *reply, bool *deferred);

/* The program holding the name (NS_NAME_WORDS words, zero-padded), or
 * -1 when nobody does. */
int name_owner(const uint64_t *name);

/* Program `owner` ended: its names, waiting lookups and watches go; the
 * names' watchers are signalled. */
void names_release(int owner);

#endif
