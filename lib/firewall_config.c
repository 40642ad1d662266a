/* The firewall's grammar: include/lib/firewall_config.h (the top level:
 * sets, chains, conntrack settings, value lists); the rules are in
 * lib/firewall_rule.c. */
#include "lib/firewall_config.h"

#include "firewall_parse.h"
#include "lib/appliance_config.h"
#include "lib/fmt.h"
#include "lib/inet.h"
#include "lib/string.h"

static const char *const chain_names[FW_CHAINS] = {
	[FW_INPUT] = "input", [FW_FORWARD] = "forward", [FW_OUTPUT] = "output",
	[FW_PREROUTING] = "prerouting", [FW_POSTROUTING] = "postrouting",
};

const char *fw_chain_name(enum fw_chain c)
{
	return (unsigned)c < FW_CHAINS ? chain_names[c] : "?";
}

void firewall_config_init(struct firewall_config *fw)
{
	*fw = (struct firewall_config){ .ct_max = FW_CT_MAX_DEFAULT };
	for (unsigned c = 0; c < FW_CHAINS; c++)
		fw->policy[c] = FW_ACCEPT;
}

bool firewall_config_keyword(const char *key)
{
	return !strcmp(key, "set") || !strcmp(key, "chain") || !strcmp(key, "conntrack");
}

/* Sort ranges[first..first+*count) by lo (Shell's sort: no recursion, no
 * memory) and merge those that overlap or touch; *count shrinks. */
static void sort_and_merge(struct fw_range *r, uint16_t *count)
{
	unsigned n = *count, out = 0;

	for (unsigned gap = n / 2; gap > 0; gap /= 2)
		for (unsigned i = gap; i < n; i++)
			for (unsigned j = i; j >= gap && r[j - gap].lo > r[j].lo; j -= gap) {
				struct fw_range t = r[j];
				r[j] = r[j - gap];
				r[j - gap] = t;
			}
	for (unsigned i = 0; i < n; i++) {
		if (out && (r[i].lo <= r[out - 1].hi || r[i].lo - 1 == r[out - 1].hi)) {
			if (r[i].hi > r[out - 1].hi)
				r[out - 1].hi = r[i].hi;
		} else {
			r[out++] = r[i];
		}
	}
	*count = (uint16_t)out;
}

bool fw_valid_name(const char *name, size_t max)
{
	size_t n = strlen(name);

	if (n == 0 || n > max || !(name[0] >= 'a' && name[0] <= 'z'))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static const struct {
	const char *name;
	uint8_t type;
} icmp_types[] = {
	{ "echo-reply", 0 }, { "destination-unreachable", 3 }, { "source-quench", 4 }, { "redirect", 5 },
	{ "echo-request", 8 }, { "router-advertisement", 9 }, { "router-solicitation", 10 },
	{ "time-exceeded", 11 }, { "parameter-problem", 12 }, { "timestamp-request", 13 },
	{ "timestamp-reply", 14 },
};

const char *fw_icmp_type_name(uint8_t type)
{
	for (unsigned k = 0; k < sizeof(icmp_types) / sizeof(icmp_types[0]); k++)
		if (icmp_types[k].type == type)
			return icmp_types[k].name;
	return 0;
}

/* One element of a list, of the kind wanted, as a range; at the word. */
static bool parse_element(struct config_parser *ps, enum fw_value kind, struct fw_range *out)
{
	const char *w = ps->token.text;
	unsigned long lo, hi;

	if (ps->token.kind != CONFIG_TOKEN_WORD)
		return CONFIG_FAIL(ps, "expected %s", fw_value_wanted(kind));
	if (kind == FW_VALUE_ADDRESS) {
		uint32_t a;
		unsigned len;
		char net[16];
		if (!config_parse_prefix(w, true, &a, &len))
			return CONFIG_FAIL(ps, "'%s' is not an address A.B.C.D or prefix A.B.C.D/LEN", w);
		uint32_t mask = config_prefix_mask(len);
		if (a & ~mask) {
			config_format_ipv4(net, sizeof(net), a & mask);
			return CONFIG_FAIL(ps, "%s has host bits set (the network is %s/%u)", w, net, len);
		}
		out->lo = __builtin_bswap32(a);
		out->hi = out->lo | ~__builtin_bswap32(mask);
	} else if (kind == FW_VALUE_PORT) {
		const char *dash = strchr(w, '-');
		char first[CONFIG_WORD_MAX + 1];
		size_t n = dash ? (size_t)(dash - w) : strlen(w);
		memcpy(first, w, n);
		first[n] = 0;
		if (!config_parse_uint(first, 65535, &lo) || (dash && !config_parse_uint(dash + 1, 65535, &hi)))
			return CONFIG_FAIL(ps, "'%s' is not a port 0..65535 or a range N-M", w);
		if (!dash)
			hi = lo;
		if (hi < lo)
			return CONFIG_FAIL(ps, "the range %s runs backwards", w);
		out->lo = (uint32_t)lo;
		out->hi = (uint32_t)hi;
	} else {
		unsigned k;
		for (k = 0; k < sizeof(icmp_types) / sizeof(icmp_types[0]) && strcmp(w, icmp_types[k].name); k++)
			;
		if (k < sizeof(icmp_types) / sizeof(icmp_types[0]))
			lo = icmp_types[k].type;
		else if (!config_parse_uint(w, 255, &lo))
			return CONFIG_FAIL(ps, "unknown ICMP type '%s' (echo-request, echo-reply, "
					   "destination-unreachable, time-exceeded, ... or 0..255)", w);
		out->lo = out->hi = (uint32_t)lo;
	}
	return config_next(ps);
}

const char *fw_value_wanted(enum fw_value kind)
{
	return kind == FW_VALUE_ADDRESS ? "an address or prefix"
	       : kind == FW_VALUE_PORT  ? "a port or range N-M"
					: "an ICMP type";
}

static bool take_range(struct fw_parser *p, enum fw_value kind, uint16_t *count)
{
	struct firewall_config *fw = &p->c->firewall;

	if (fw->nranges == FW_MAX_RANGES)
		return CONFIG_FAIL(p->ps, "more than %u set elements in the file", FW_MAX_RANGES);
	if (!parse_element(p->ps, kind, &fw->ranges[fw->nranges]))
		return false;
	fw->nranges++;
	(*count)++;
	return true;
}

/* { ELEMENT, ELEMENT ... } at '{', over lines; the elements are appended
 * to the ranges, sorted and merged. *kind FW_VALUE_SET_ELEMENT: the first
 * element says which (an address has a dot), and *kind says it after. */
static bool parse_list(struct fw_parser *p, enum fw_value *kind, uint16_t *first, uint16_t *count)
{
	struct firewall_config *fw = &p->c->firewall;
	struct config_token open = p->ps->token;

	*first = (uint16_t)fw->nranges;
	*count = 0;
	if (!config_next(p->ps))
		return false;
	for (;;) {
		while (p->ps->token.kind == CONFIG_TOKEN_NEWLINE)
			if (!config_next(p->ps))
				return false;
		if (p->ps->token.kind == CONFIG_TOKEN_END)
			return config_fail_at(p->ps, &open, "no '}' closes this list");
		if (p->ps->token.kind == CONFIG_TOKEN_CLOSE && *count == 0)
			return CONFIG_FAIL(p->ps, "an empty list");
		if (*kind == FW_VALUE_SET_ELEMENT)
			*kind = strchr(p->ps->token.text, '.') ? FW_VALUE_ADDRESS : FW_VALUE_PORT;
		if (!take_range(p, *kind, count))
			return false;
		while (p->ps->token.kind == CONFIG_TOKEN_NEWLINE)
			if (!config_next(p->ps))
				return false;
		if (p->ps->token.kind == CONFIG_TOKEN_CLOSE)
			break;
		if (p->ps->token.kind == CONFIG_TOKEN_END)
			return config_fail_at(p->ps, &open, "no '}' closes this list");
		if (p->ps->token.kind != CONFIG_TOKEN_COMMA)
			return CONFIG_FAIL(p->ps, "expected ',' or '}' in the list");
		if (!config_next(p->ps))
			return false;
	}
	sort_and_merge(fw->ranges + *first, count);
	fw->nranges = *first + *count;
	return config_next(p->ps);
}

bool fw_parse_values(struct fw_parser *p, enum fw_value kind, struct fw_set_match *m)
{
	struct firewall_config *fw = &p->c->firewall;
	const char *w = p->ps->token.text;

	if (p->ps->token.kind == CONFIG_TOKEN_OPEN)
		return parse_list(p, &kind, &m->first, &m->count);
	if (p->ps->token.kind == CONFIG_TOKEN_WORD && w[0] == '@') {
		for (unsigned k = 0; k < fw->nsets; k++) {
			const struct fw_named_set *s = &fw->sets[k];
			if (strcmp(s->name, w + 1))
				continue;
			if ((kind == FW_VALUE_ADDRESS) != (s->kind == FW_SET_ADDRESSES) || kind == FW_VALUE_ICMP)
				return CONFIG_FAIL(p->ps, "set %s holds %s, not %s", s->name,
						   s->kind == FW_SET_ADDRESSES ? "addresses" : "ports",
						   fw_value_wanted(kind));
			m->first = s->first;
			m->count = s->count;
			return config_next(p->ps);
		}
		return CONFIG_FAIL(p->ps, "unknown set '%s' (declare it above with 'set %s { ... }')", w + 1, w + 1);
	}
	m->first = (uint16_t)fw->nranges;
	m->count = 0;
	return take_range(p, kind, &m->count);
}

/* set NAME { ELEMENT, ... } */
static bool parse_set(struct fw_parser *p, unsigned line)
{
	struct firewall_config *fw = &p->c->firewall;
	struct config_token at = p->ps->token;
	struct fw_named_set s = { .line = line };

	if (!config_take_word(p->ps, s.name, sizeof(s.name), "a set name after 'set'"))
		return false;
	if (!fw_valid_name(s.name, FW_SET_NAME_MAX))
		return config_fail_at(p->ps, &at, "'%s' is not a set name (a-z first, then a-z 0-9 - _, at most %u)",
				      s.name, FW_SET_NAME_MAX);
	for (unsigned k = 0; k < fw->nsets; k++)
		if (!strcmp(fw->sets[k].name, s.name))
			return config_fail_at(p->ps, &at, "set %s is declared twice (first on line %u)", s.name,
					      fw->sets[k].line);
	if (fw->nsets == FW_MAX_SETS)
		return config_fail_at(p->ps, &at, "at most %u sets", FW_MAX_SETS);
	if (p->ps->token.kind != CONFIG_TOKEN_OPEN)
		return CONFIG_FAIL(p->ps, "expected '{' after 'set %s'", s.name);
	enum fw_value kind = FW_VALUE_SET_ELEMENT;
	if (!parse_list(p, &kind, &s.first, &s.count))
		return false;
	s.kind = kind == FW_VALUE_ADDRESS ? FW_SET_ADDRESSES : FW_SET_PORTS;
	fw->sets[fw->nsets++] = s;
	return config_end_of_statement(p->ps, false);
}

/* chain NAME { [policy accept|drop] RULE... } */
static bool parse_chain(struct fw_parser *p)
{
	struct firewall_config *fw = &p->c->firewall;
	struct config_token at = p->ps->token;
	unsigned chain, policy_line = 0;

	for (chain = 0; chain < FW_CHAINS && !config_at_word(p->ps, chain_names[chain]); chain++)
		;
	if (chain == FW_CHAINS)
		return CONFIG_FAIL(p->ps, "unknown chain '%s' (input, forward, output, prerouting or postrouting)",
				   p->ps->token.text);
	if (fw->chain_line[chain])
		return CONFIG_FAIL(p->ps, "chain %s is declared twice (first on line %u)", chain_names[chain],
				   fw->chain_line[chain]);
	fw->chain_line[chain] = at.line;
	fw->chain_first[chain] = (uint16_t)fw->nrules;
	fw->present = true;
	if (!config_next(p->ps))
		return false;
	if (p->ps->token.kind != CONFIG_TOKEN_OPEN)
		return CONFIG_FAIL(p->ps, "expected '{' after 'chain %s'", chain_names[chain]);
	if (!config_next(p->ps))
		return false;
	while (p->ps->token.kind != CONFIG_TOKEN_CLOSE) {
		struct config_token key = p->ps->token;
		if (key.kind == CONFIG_TOKEN_NEWLINE) {
			if (!config_next(p->ps))
				return false;
			continue;
		}
		if (key.kind == CONFIG_TOKEN_END)
			return config_fail_at(p->ps, &at, "chain %s: no '}' closes its block", chain_names[chain]);
		if (config_at_word(p->ps, "policy")) {
			if (chain >= FW_PREROUTING)
				return CONFIG_FAIL(p->ps, "a NAT chain has no policy (what no rule translates "
						   "passes unchanged)");
			if (policy_line)
				return CONFIG_FAIL(p->ps, "'policy' given twice (first on line %u)", policy_line);
			policy_line = key.line;
			if (!config_next(p->ps))
				return false;
			if (!config_at_word(p->ps, "accept") && !config_at_word(p->ps, "drop"))
				return CONFIG_FAIL(p->ps, "expected 'accept' or 'drop' after 'policy'");
			fw->policy[chain] = config_at_word(p->ps, "accept") ? FW_ACCEPT : FW_DROP;
			if (!config_next(p->ps) || !config_end_of_statement(p->ps, true))
				return false;
			continue;
		}
		if (!fw_parse_rule(p, (enum fw_chain)chain, key.line))
			return false;
		fw->chain_count[chain]++;
	}
	return config_next(p->ps) && config_end_of_statement(p->ps, false);
}

static bool parse_seconds(struct config_parser *ps, unsigned long max, unsigned long *v, const char *what)
{
	if (ps->token.kind != CONFIG_TOKEN_WORD || !config_parse_uint(ps->token.text, max, v) || *v == 0)
		return CONFIG_FAIL(ps, "expected %s, 1 to %lu", what, max);
	return config_next(ps);
}

/* conntrack max N | conntrack timeout PROTO STATE SECONDS */
static bool parse_conntrack(struct fw_parser *p)
{
	static const char *const names[] = {
#define CT_TIMEOUT_NAME(name, text, seconds) text,
		CT_TIMEOUTS(CT_TIMEOUT_NAME)
#undef CT_TIMEOUT_NAME
	};
	struct firewall_config *fw = &p->c->firewall;
	struct config_parser *ps = p->ps;
	unsigned long v;
	char name[2 * CONFIG_WORD_MAX + 2];

	if (config_at_word(ps, "max")) {
		if (fw->ct_max_line)
			return CONFIG_FAIL(ps, "'conntrack max' given twice (first on line %u)", fw->ct_max_line);
		fw->ct_max_line = ps->token.line;
		if (!config_next(ps) || !parse_seconds(ps, FW_CT_MAX_LIMIT, &v, "a number of connections"))
			return false;
		fw->ct_max = (uint32_t)v;
		return config_end_of_statement(ps, false);
	}
	if (!config_at_word(ps, "timeout"))
		return CONFIG_FAIL(ps, "expected 'max' or 'timeout' after 'conntrack'");
	if (!config_next(ps))
		return false;
	struct config_token at = ps->token;
	char proto[CONFIG_WORD_MAX + 1], state[CONFIG_WORD_MAX + 1];
	if (!config_take_word(ps, proto, sizeof(proto), "tcp, udp or icmp") ||
	    !config_take_word(ps, state, sizeof(state), "a state (e.g. established, unreplied)"))
		return false;
	fmt_snprintf(name, sizeof(name), "%s %s", proto, state);
	unsigned c;
	for (c = 0; c < CT_TIMEOUT_CLASSES && strcmp(names[c], name); c++)
		;
	if (c == CT_TIMEOUT_CLASSES)
		return config_fail_at(ps, &at, "no timeout '%s' (tcp syn_sent, syn_recv, established, fin_wait, "
				      "close_wait, last_ack, time_wait, close; udp or icmp unreplied, replied)", name);
	if (fw->ct_timeout[c])
		return config_fail_at(ps, &at, "timeout '%s' given twice", name);
	if (!parse_seconds(ps, 30UL * 86400, &v, "seconds"))
		return false;
	fw->ct_timeout[c] = (uint32_t)v;
	return config_end_of_statement(ps, false);
}

bool firewall_config_statement(struct config_parser *ps, const struct config_token *key,
			       struct appliance_config *c)
{
	struct fw_parser p = { .ps = ps, .c = c };

	if (!strcmp(key->text, "set"))
		return parse_set(&p, key->line);
	if (!strcmp(key->text, "chain"))
		return parse_chain(&p);
	return parse_conntrack(&p);
}
