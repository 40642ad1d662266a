/*
 * The firewall's evaluator: given a packet's metadata at one of the
 * decision points (the chains of include/lib/firewall_config.h), the
 * verdict of the first rule that decides, else the chain's policy. Pure
 * logic (firewall.c): no system calls, time passed in; unit-tested on the
 * host. The router calls it at input, forward and output (filter) and at
 * prerouting and postrouting (NAT: the verdict names the translation,
 * which nat.h performs). docs/firewall.md describes the semantics.
 *
 * Cost: a chain is indexed on one field (firewall_index.c), so a packet
 * tries only the rules whose ranges on that field hold its value and the
 * rules without such a range, in the chain's order; a chain the index
 * does not shorten is walked. Each address or port set is a binary search
 * over its sorted ranges, so a set of thousands costs ~12 compares.
 */
#ifndef MICA_NETSTACK_FIREWALL_H
#define MICA_NETSTACK_FIREWALL_H

#include <stdbool.h>
#include <stdint.h>

#include "conntrack.h"
#include "lib/firewall_config.h"

/* What the rules look at. */
struct fw_packet {
	uint8_t iif, oif;               /* interface index; FW_NO_IFACE where there is none */
	uint32_t saddr, daddr;          /* network order */
	uint8_t proto;                  /* IP protocol */
	uint16_t sport, dport;          /* TCP, UDP: host order */
	uint8_t icmp_type, icmp_code;
	uint8_t tcp_flags;
	enum ct_state ct_state;         /* from conntrack_classify() */
	uint32_t len;                   /* IP datagram bytes, for the counters */
};

/* A rule's run-time state: its counter and its token bucket. */
struct fw_rule_state {
	uint64_t packets, bytes;        /* counted where the rule's `counter` stands */
	uint64_t tokens;                /* limit: in packets * limit_unit_ms */
	uint64_t last_ms;               /* when the bucket was last filled */
};

/* The field a chain is indexed on. */
enum fw_index_field { FW_INDEX_NONE, FW_INDEX_SADDR, FW_INDEX_DADDR, FW_INDEX_SPORT, FW_INDEX_DPORT };

#define FW_INDEX_BOUNDS 8192            /* intervals, all chains */
#define FW_INDEX_ENTRIES 16384          /* rules listed in them, all chains */

struct fw_chain_index {
	uint8_t field;                  /* enum fw_index_field; NONE: every rule is tried */
	uint16_t first, intervals;      /* its intervals: [first, first + intervals) */
	uint16_t wild_first, wild_count;        /* entries[]: the rules that match any value */
	uint16_t most;                  /* the most rules a packet tries */
};

/*
 * Interval k holds the values lo[k] .. lo[k + 1] - 1 (the chain's last up
 * to the largest); its rules are entries[first[k] .. first[k] + count[k]),
 * rule numbers (cfg->rules) in order. Built by firewall_init.
 */
struct fw_index {
	struct fw_chain_index chain[FW_CHAINS];
	uint16_t nbounds, nentries;     /* used, all chains */
	uint32_t lo[FW_INDEX_BOUNDS];   /* addresses in host order, or ports */
	uint16_t first[FW_INDEX_BOUNDS], count[FW_INDEX_BOUNDS];
	uint16_t entries[FW_INDEX_ENTRIES];
};

struct firewall {
	const struct firewall_config *cfg;
	struct fw_rule_state state[FW_MAX_RULES];
	uint64_t policy_packets[FW_CHAINS], policy_bytes[FW_CHAINS];   /* decided by the policy */
	struct fw_index index;
};

/* What a chain decided. */
struct fw_result {
	enum fw_verdict verdict;        /* never FW_CONTINUE */
	int rule;                       /* the deciding rule's index in cfg->rules; -1: the policy */
	int log_rule;                   /* the first rule whose `log` the packet reached; -1: none */
	uint8_t reject_with;            /* FW_REJECT: enum fw_reject, resolved (never DEFAULT) */
	uint8_t reject_code;            /* FW_REJECT_ICMP: the destination unreachable code */
};

/* Use cfg (which must outlive fw) from now on: counters zero, buckets
 * full, the chains indexed. */
void firewall_init(struct firewall *fw, const struct firewall_config *cfg, uint64_t now);

/*
 * Run chain for p at time now (ms). Filter chains give FW_ACCEPT, FW_DROP
 * or FW_REJECT; NAT chains FW_ACCEPT (no translation) or the translation.
 * A configuration without chains accepts everything. Counts, and takes
 * tokens from the limits the packet reaches; log is only reported (the
 * caller logs, rate-limited). The caller answers a reject only where an
 * answer is allowed: never to an ICMP error, a broadcast or multicast
 * destination, or a later fragment (RFC 1122 3.2.2, RFC 1812 4.3.2.7).
 */
void firewall_eval(struct firewall *fw, enum fw_chain chain, const struct fw_packet *p, uint64_t now,
		   struct fw_result *r);

/* Whether rule matches p (its matches only: no statements, no state). */
bool firewall_rule_matches(const struct firewall_config *cfg, const struct fw_rule *rule,
			   const struct fw_packet *p);

/* firewall_index.c: index every chain of cfg in x (firewall_init does);
 * then, inline: a packet's value of a field (host order); the interval of
 * lo[0..n) (lo[0] = 0, ascending) that holds v. */
void fw_index_build(struct fw_index *x, const struct firewall_config *cfg);
static inline uint32_t fw_index_value(enum fw_index_field f, const struct fw_packet *p)
{
	switch (f) {
	case FW_INDEX_SADDR:
		return __builtin_bswap32(p->saddr);
	case FW_INDEX_DADDR:
		return __builtin_bswap32(p->daddr);
	case FW_INDEX_SPORT:
		return p->sport;
	default:
		return p->dport;
	}
}

static inline unsigned fw_index_interval(const uint32_t *lo, unsigned n, uint32_t v)
{
	unsigned a = 0, b = n;          /* lo[a] <= v, and v < lo[b] (lo[n]: past the end) */

	while (b - a > 1) {
		unsigned mid = (a + b) / 2;
		if (lo[mid] <= v)
			a = mid;
		else
			b = mid;
	}
	return a;
}

#endif
