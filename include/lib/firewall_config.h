/*
 * The firewall's part of the appliance configuration: filter chains, NAT
 * chains, named sets and connection-tracking settings, in nftables' model
 * (grammar and examples in docs/firewall.md). Pure logic
 * (lib/firewall_config.c), called by lib/appliance_config.c for the
 * keywords `set`, `chain` and `conntrack`; unit-tested on the host with
 * every error.
 *
 *   set NAME { ADDR[/LEN], ... }  |  set NAME { PORT[-PORT], ... }
 *   chain input|forward|output { [policy accept|drop]  RULE... }
 *   chain prerouting { MATCH... dnat to ADDR[:PORT] | accept }
 *   chain postrouting { MATCH... masquerade | snat to ADDR | accept }
 *   conntrack max ENTRIES
 *   conntrack timeout tcp|udp|icmp STATE SECONDS
 *
 * A RULE is matches, then statements, then at most one verdict:
 *   iif NAME  oif NAME  ip protocol tcp|udp|icmp
 *   ip saddr|daddr [!=] ADDR[/LEN]|@SET|{ ... }
 *   tcp|udp sport|dport [!=] PORT|PORT-PORT|@SET|{ ... }
 *   icmp type NAME|{ ... }   tcp flags F[,F...] [/ F[,F...]]
 *   ct state new|established|related|invalid[,...]
 *   counter   limit rate [over] N/second|minute|hour|day [burst N [packets]]
 *   log [prefix TEXT]
 *   accept | drop | reject [with tcp reset | with icmp type NAME]
 *
 * Addresses in sets are kept as ranges in host byte order; everything
 * else as the packet metadata carries it (netstack/firewall.h).
 */
#ifndef MICA_LIB_FIREWALL_CONFIG_H
#define MICA_LIB_FIREWALL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config_parser.h"
#include "lib/ct_timeouts.h"

#define FW_MAX_RULES 2048       /* all chains together */
#define FW_MAX_SETS 64          /* named sets */
#define FW_MAX_RANGES 8192      /* elements of all sets, named and in rules */
#define FW_MAX_STATEMENTS 4     /* counter, limit, log per rule */
#define FW_LOG_PREFIX_MAX 31
#define FW_SET_NAME_MAX 23
#define FW_NO_IFACE 0xff
#define FW_CT_MAX_DEFAULT 65536
#define FW_CT_MAX_LIMIT (1U << 24)
#define FW_LIMIT_BURST_DEFAULT 5        /* packets, as nftables' */

enum fw_chain { FW_INPUT, FW_FORWARD, FW_OUTPUT, FW_PREROUTING, FW_POSTROUTING, FW_CHAINS };

enum fw_verdict {
	FW_CONTINUE,            /* no verdict: the next rule */
	FW_ACCEPT,
	FW_DROP,
	FW_REJECT,
	FW_MASQUERADE,          /* postrouting: source to the out interface's address */
	FW_SNAT,                /* postrouting: source to nat_addr */
	FW_DNAT,                /* prerouting: destination to nat_addr[:nat_port] */
};

/* How a reject answers. */
enum fw_reject {
	FW_REJECT_DEFAULT,      /* TCP: a reset; else ICMP port unreachable */
	FW_REJECT_TCP_RESET,
	FW_REJECT_ICMP,         /* ICMP destination unreachable with reject_code */
};

enum fw_statement { FW_STMT_COUNTER = 1, FW_STMT_LIMIT, FW_STMT_LOG };

/* ct state bits: 1 << enum ct_state (netstack/conntrack.h). */
#define FW_CT_NEW 0x1
#define FW_CT_ESTABLISHED 0x2
#define FW_CT_RELATED 0x4
#define FW_CT_INVALID 0x8

/* A match against a set of ranges: ranges[first .. first + count), sorted
 * and disjoint. count 0: no such match. */
struct fw_set_match {
	uint16_t first, count;
	bool negate;            /* "!=" */
};

struct fw_rule {
	uint32_t line;
	uint8_t chain;                  /* enum fw_chain */
	uint8_t verdict;                /* enum fw_verdict */
	uint8_t iif, oif;               /* interface index or FW_NO_IFACE */
	uint8_t proto;                  /* IP protocol; 0: any */
	uint8_t ct_states;              /* FW_CT_* bits; 0: any */
	uint8_t tcp_flags_mask, tcp_flags_value;        /* (flags & mask) == value */
	struct fw_set_match saddr, daddr, sport, dport, icmp_type;
	uint8_t statements[FW_MAX_STATEMENTS];  /* enum fw_statement, in order; 0 ends */
	uint8_t limit_over;             /* limit rate over: matches above the rate */
	uint32_t limit_rate;            /* packets per limit_unit_ms */
	uint32_t limit_unit_ms;
	uint32_t limit_burst;           /* packets the bucket holds */
	uint8_t reject_with, reject_code;
	uint16_t nat_port;              /* dnat: host order; 0 keeps the port */
	uint32_t nat_addr;              /* snat, dnat: network order */
	char log_prefix[FW_LOG_PREFIX_MAX + 1];
};

struct fw_range {
	uint32_t lo, hi;                /* inclusive; addresses in host order */
};

enum fw_set_kind { FW_SET_ADDRESSES, FW_SET_PORTS };

struct fw_named_set {
	char name[FW_SET_NAME_MAX + 1];
	uint8_t kind;                   /* enum fw_set_kind */
	uint16_t first, count;          /* into ranges */
	uint32_t line;
};

struct firewall_config {
	bool present;                   /* the file has a chain: filter and NAT apply */
	uint8_t policy[FW_CHAINS];      /* FW_ACCEPT (default) or FW_DROP */
	uint32_t chain_line[FW_CHAINS]; /* where declared; 0: not */
	uint16_t chain_first[FW_CHAINS], chain_count[FW_CHAINS];       /* its rules */
	uint32_t ct_max;                /* entries; default FW_CT_MAX_DEFAULT */
	uint32_t ct_max_line;           /* where set; 0: not */
	uint32_t ct_timeout[CT_TIMEOUT_CLASSES];        /* seconds; 0: Linux's default */
	unsigned nrules, nsets, nranges;
	struct fw_rule rules[FW_MAX_RULES];
	struct fw_named_set sets[FW_MAX_SETS];
	struct fw_range ranges[FW_MAX_RANGES];
};

struct appliance_config;

/* Empty: no chains (everything accepted), defaults. */
void firewall_config_init(struct firewall_config *fw);

/*
 * Whether key is one of this grammar's top-level keywords (set, chain,
 * conntrack).
 */
bool firewall_config_keyword(const char *key);

/*
 * Parse the statement that starts with keyword key (already read; the
 * parser is at the next token) into c->firewall, using c's interfaces
 * declared so far. Returns false with the error recorded in ps.
 */
bool firewall_config_statement(struct config_parser *ps, const struct config_token *key,
			       struct appliance_config *c);

/* Whether the ranges [first, first + count) hold v (binary search; inline,
 * as the rules ask it for every packet). */
static inline bool fw_ranges_contain(const struct firewall_config *fw, uint16_t first, uint16_t count,
				     uint32_t v)
{
	const struct fw_range *r = fw->ranges + first;
	unsigned lo = 0, hi = count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (v < r[mid].lo)
			hi = mid;
		else if (v > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * Rule i of c->firewall as the file says it (lib/firewall_format.c),
 * without its chain, line or counters: parsing the text gives the same
 * rule (a set by its name; address lists as the prefixes they cover).
 * Cut with "..." when longer than size. Returns buf.
 */
char *fw_format_rule(char *buf, size_t size, const struct appliance_config *c, unsigned i);

/* Names as the file spells them. */
const char *fw_chain_name(enum fw_chain c);
const char *fw_verdict_name(enum fw_verdict v);

#endif
