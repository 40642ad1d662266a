/*
 * Name service protocol (served by init on the endpoint every program it
 * starts finds in slot PROGRAM_INIT_SLOT of its capability table; the
 * labels are in proto/init.h).
 *
 * Names are up to 24 bytes, carried NUL-padded in words 0..2.
 *
 *   NS_REGISTER  words: name; item: one capability (IPC_ITEM_CAP).
 *                reply label: 0, or an ERR_* code (ERR_SLOT_IN_USE: the
 *                name is taken; ERR_INVALID_ARG: no capability came;
 *                ERR_NO_MEMORY: the table or the program's share is full).
 *                [3] flags: NS_REGISTER_PRIVATE: only the programs whose
 *                manifest has a `lookup NAME` line for it may look it up
 *                (others get ERR_NO_RIGHTS; docs/manifest.md): for a
 *                capability that must not reach every program.
 *   NS_LOOKUP    words: name, [3] flags (NS_LOOKUP_NOWAIT). The reply
 *                carries the capability (set ipc_buffer.recv_cap_slot
 *                first); label 0; word 0: the registration's generation
 *                (a number init never gives twice, so a client can tell a
 *                restarted server from the one it knew). A name nobody
 *                registered yet is answered when somebody does (deferred
 *                reply), so a client may look a server up before it runs;
 *                with NS_LOOKUP_NOWAIT it is answered ERR_WOULD_BLOCK.
 *   NS_WATCH     words: name; item: a notification capability (badged by
 *                the caller with the bits it wants). init signals it each
 *                time the name is registered or removed, until the caller
 *                ends. ERR_NO_MEMORY: the watch table is full;
 *                ERR_NO_RIGHTS: a registered private name the caller may
 *                not look up (a private name registered after the watch
 *                is told only to watchers that may look it up).
 *
 * Each program may hold at most a quarter of each of init's tables (8 of
 * 32 names, 4 of 16 waiting lookups, 8 of 32 watches); past that it is
 * refused as if the table were full (ERR_NO_MEMORY; ERR_BUSY for a
 * lookup), and init logs which share it reached.
 *
 * A name belongs to the program that registered it: when that program
 * ends (exit, crash, kill), init removes the name and signals its
 * watchers, and the restarted program registers it again.
 */
#ifndef MICA_PROTO_NAMESERVICE_H
#define MICA_PROTO_NAMESERVICE_H

#include <stdint.h>

#include "proto/init.h"

#define NS_NAME_WORDS 3
#define NS_NAME_MAX  (NS_NAME_WORDS * 8)

#define NS_LOOKUP_NOWAIT 0x1
#define NS_REGISTER_PRIVATE 0x1

#endif
