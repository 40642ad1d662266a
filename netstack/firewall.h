/*
 * The firewall's evaluator: given a packet's metadata at one of the
 * decision points (the chains of include/lib/firewall_config.h), the
 * verdict of the first rule that decides, else the chain's policy. Pure
 * logic (firewall.c): no system calls, time passed in; unit-tested on the
 * host. The router calls it at input, forward and output (filter) and at
 * prerouting and postrouting (NAT: the verdict names the translation,
 * which nat.h performs). docs/firewall.md describes the semantics.
 *
 * Cost: linear in the chain's rules; each address or port set is a binary
 * search over its sorted ranges, so a set of thousands costs ~12 compares.
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

struct firewall {
	const struct firewall_config *cfg;
	struct fw_rule_state state[FW_MAX_RULES];
	uint64_t policy_packets[FW_CHAINS], policy_bytes[FW_CHAINS];   /* decided by the policy */
};

/* What a chain decided. */
struct fw_result {
	enum fw_verdict verdict;        /* never FW_CONTINUE */
	int rule;                       /* the deciding rule's index in cfg->rules; -1: the policy */
	int log_rule;                   /* the first rule whose `log` the packet reached; -1: none */
	uint8_t reject_with;            /* FW_REJECT: enum fw_reject, resolved (never DEFAULT) */
	uint8_t reject_code;            /* FW_REJECT_ICMP: the destination unreachable code */
};

/* Use cfg (which must outlive fw) from now on: counters zero, buckets full. */
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

#endif
