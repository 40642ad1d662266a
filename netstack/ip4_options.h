/*
 * The options of an IPv4 header, checked against RFC 791's format
 * (ip4_options.c, pure: unit-tested on the host). What the netstack does
 * with each verdict: docs/netstack.md, "Hardening".
 */
#ifndef MICA_NETSTACK_IP4_OPTIONS_H
#define MICA_NETSTACK_IP4_OPTIONS_H

#include <stdint.h>

enum ip4_options_verdict {
	IP4_OPTIONS_OK,                 /* none, or well-formed ones */
	IP4_OPTIONS_MALFORMED,          /* see ip4_options_check */
	IP4_OPTIONS_SOURCE_ROUTE,       /* well-formed, and loose or strict source routing */
};

/* The len bytes of options after a header's first 20 (len = IHL * 4 - 20).
 * Malformed: an option other than end-of-list and no-operation without
 * its length byte, a length below 2 or past the header; record route,
 * timestamp or source route shorter than their fixed part, with a
 * pointer before their first slot, or a slot cut by the option's end, a
 * timestamp flag RFC 791 does not have, or one of them twice (a second
 * source route of either kind too); security (11 bytes), stream ID and
 * router alert (4) of another length. Bytes after end-of-list are
 * padding and not read. */
enum ip4_options_verdict ip4_options_check(const uint8_t *opt, unsigned len);

#endif
