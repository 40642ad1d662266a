/*
 * The firewall in the netstack (docs/firewall.md): the rules in force,
 * the connection table and NAT's counters (filter.c), judged at the
 * decision points (decide.c), shown and reloaded through the management
 * protocol (filter_mgmt.c). Only the netstack's one thread touches them.
 *
 * A configuration without a chain turns all of it off: every packet
 * passes untracked, as before the firewall (filter.on false).
 */
#ifndef MICA_NETSTACK_FILTER_H
#define MICA_NETSTACK_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conntrack.h"
#include "filter_clock.h"
#include "firewall.h"
#include "lib/appliance_config.h"
#include "uapi/cap.h"
#include "nat.h"

struct netif;

/* The filter's own counters: name, meaning. */
#define FILTER_COUNTERS(X)                                                              \
	X(dropped, "packets dropped by a rule or a policy")                             \
	X(rejected, "packets rejected (a reset or an ICMP error sent, if the rate allowed)") \
	X(table_full, "new connections dropped: no room in the connection table")       \
	X(nat_failed, "new connections dropped: no NAT port or address, or a clash")    \
	X(fragments_dropped, "later fragments whose first fragment was not seen or not let through") \
	X(malformed, "datagrams whose headers are shorter than they say (dropped)")

struct filter_counters {
#define FILTER_COUNTER_FIELD(name, text) uint64_t name;
	FILTER_COUNTERS(FILTER_COUNTER_FIELD)
#undef FILTER_COUNTER_FIELD
};

struct filter_state {
	bool on;                                /* the configuration has a chain */
	bool closed;                            /* no table: nothing passes (said at start) */
	const struct appliance_config *cfg;     /* the rules in force */
	struct firewall *fw;                    /* their counters and buckets */
	struct conntrack ct;
	struct nat_counters nat;
	struct filter_counters count;
	char file[32];                          /* the file the rules came from */
	uint64_t loaded_ms;                     /* when */
};
extern struct filter_state filter;

/* Milliseconds of the monotonic clock, as the tracker counts: late by at
 * most about a millisecond, read again only that often
 * (filter_clock.h; inline, as every packet asks). */
extern struct filter_clock filter_clock;
uint64_t filter_clock_read(uint64_t tsc);
static inline uint64_t filter_now(void)
{
	uint64_t tsc = __builtin_ia32_rdtsc();

	return filter_clock_fresh(&filter_clock, tsc) ? filter_clock.ms : filter_clock_read(tsc);
}

/* At start, with the configuration read from file: its rules from now on
 * (c is copied), the table sized by it. A table that cannot be had closes
 * the filter (said on the console). */
void filter_init(const struct appliance_config *c, const char *file);

/*
 * Read the configuration again from file (one of the program's files; the
 * one it started with when file is empty) and put its rules, sets and
 * timeouts in force at once; the connection table and its translations
 * stay. Returns 0, with what changed in msg; or a negative ERR_* with why
 * in msg (a parse error as FILE:LINE:COLUMN: message), the rules in force
 * untouched.
 */
long filter_reload(const char *file, char *msg, size_t size);

/* Now and then (the loop calls it): expired connections go, at most a
 * bounded number a call; connections masqueraded to an address an
 * interface no longer has go. */
void filter_housekeeping(void);

/* filter_frag.c: a first fragment (source, destination, IP ID and
 * protocol as it arrived) went through at now, to be translated to
 * target; whether the later fragment at ip (its IPv4 header) follows one
 * (and to what target). */
void filter_frag_remember(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto, uint64_t now,
			  const struct ct_tuple *target);
bool filter_frag_follow(const uint8_t *ip, uint64_t now, struct ct_tuple *target);

/* A TCP reset from local:local_port to remote:remote_port (addresses in
 * network order) with seq and ack, sent as lwIP's own (filter_reset.c);
 * true while it is being sent (the output point lets it go unjudged). */
void filter_send_reset(uint32_t local, uint32_t remote, uint16_t local_port, uint16_t remote_port,
		       uint32_t seq, uint32_t ack);
bool filter_reset_sending(void);

/* A management request about the firewall (filter_mgmt.c,
 * proto/netmgmt.h): answered, true; false when the label is not one. */
struct msg;
bool filter_mgmt_request(struct msg *m, cap_slot_t reply);

#endif
