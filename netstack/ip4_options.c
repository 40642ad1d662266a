/*
 * IPv4 header options against RFC 791 (and RFC 2113 for router alert);
 * the checks are Linux's (ip_options_compile). See ip4_options.h.
 */
#include "ip4_options.h"

#include <stdbool.h>

enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_RR = 7,                     /* record route */
	OPT_TS = 68,                    /* timestamp */
	OPT_SECURITY = 130,
	OPT_LSRR = 131,                 /* loose source and record route */
	OPT_STREAM_ID = 136,
	OPT_SSRR = 137,                 /* strict source and record route */
	OPT_ROUTER_ALERT = 148,
};

/* An option with a pointer to its next slot (o[2], counted from the
 * option's first byte, 1-based) and slots of slot bytes from first on:
 * the pointer is at a slot, or past the last (the option is full). */
static bool pointer_ok(const uint8_t *o, unsigned first, unsigned slot)
{
	unsigned len = o[1], ptr = o[2];

	if (len < first - 1 || ptr < first)
		return false;
	return ptr > len || ptr + slot - 1 <= len;
}

enum ip4_options_verdict ip4_options_check(const uint8_t *opt, unsigned len)
{
	bool rr = false, ts = false, source_route = false;

	for (unsigned i = 0; i < len;) {
		const uint8_t *o = opt + i;
		if (o[0] == OPT_EOL)
			break;
		if (o[0] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[1] < 2 || o[1] > len - i)
			return IP4_OPTIONS_MALFORMED;
		bool ok = true;
		switch (o[0]) {
		case OPT_RR:
			ok = !rr && pointer_ok(o, 4, 4);
			rr = true;
			break;
		case OPT_LSRR:
		case OPT_SSRR:
			ok = !source_route && pointer_ok(o, 4, 4);
			source_route = true;
			break;
		case OPT_TS: {
			unsigned flag = o[1] >= 4 ? o[3] & 0xF : 0;
			ok = !ts && (flag == 0 || flag == 1 || flag == 3) &&
			     pointer_ok(o, 5, flag == 0 ? 4 : 8);
			ts = true;
			break;
		}
		case OPT_SECURITY:
			ok = o[1] == 11;
			break;
		case OPT_STREAM_ID:
		case OPT_ROUTER_ALERT:
			ok = o[1] == 4;
			break;
		}
		if (!ok)
			return IP4_OPTIONS_MALFORMED;
		i += o[1];
	}
	return source_route ? IP4_OPTIONS_SOURCE_ROUTE : IP4_OPTIONS_OK;
}
