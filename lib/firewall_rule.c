/* The firewall's rules: matches, statements and verdicts
 * (include/lib/firewall_config.h; the grammar in docs/firewall.md). */
#include "firewall_parse.h"
#include "lib/inet.h"
#include "lib/string.h"

/* Which matches a rule has (each at most once). */
enum {
	M_IIF = 1 << 0, M_OIF = 1 << 1, M_PROTO = 1 << 2, M_SADDR = 1 << 3, M_DADDR = 1 << 4,
	M_SPORT = 1 << 5, M_DPORT = 1 << 6, M_ICMP = 1 << 7, M_FLAGS = 1 << 8, M_CT = 1 << 9,
};

struct rule_parser {
	struct fw_parser *p;
	struct fw_rule r;
	unsigned seen;
	const char *proto_from;         /* the words that fixed r.proto, for messages */
};

static const char *const verdict_names[] = {
	[FW_CONTINUE] = "continue", [FW_ACCEPT] = "accept", [FW_DROP] = "drop", [FW_REJECT] = "reject",
	[FW_MASQUERADE] = "masquerade", [FW_SNAT] = "snat", [FW_DNAT] = "dnat",
};

const char *fw_verdict_name(enum fw_verdict v)
{
	return (unsigned)v < sizeof(verdict_names) / sizeof(verdict_names[0]) ? verdict_names[v] : "?";
}

/* The rule matches protocol proto from now (said by the words from). */
static bool set_proto(struct rule_parser *rp, uint8_t proto, const char *from,
		      const struct config_token *at)
{
	if (rp->r.proto && rp->r.proto != proto)
		return config_fail_at(rp->p->ps, at, "'%s' contradicts '%s' in the same rule", from, rp->proto_from);
	rp->r.proto = proto;
	rp->proto_from = from;
	return true;
}

/* Mark match m seen at token at (named what); an error if twice. */
static bool once(struct rule_parser *rp, unsigned m, const char *what, const struct config_token *at)
{
	if (rp->seen & m)
		return config_fail_at(rp->p->ps, at, "'%s' given twice in one rule", what);
	rp->seen |= m;
	return true;
}

static bool take_iface(struct rule_parser *rp, uint8_t *iface)
{
	struct config_parser *ps = rp->p->ps;
	const struct appliance_config *c = rp->p->c;

	if (ps->token.kind != CONFIG_TOKEN_WORD)
		return CONFIG_FAIL(ps, "expected an interface name");
	for (unsigned i = 0; i < c->ninterfaces; i++)
		if (!strcmp(c->interfaces[i].name, ps->token.text)) {
			*iface = (uint8_t)i;
			return config_next(ps);
		}
	return CONFIG_FAIL(ps, "unknown interface '%s' (declare it above with 'interface %s { ... }')",
			   ps->token.text, ps->token.text);
}

/* iif NAME | oif NAME */
static bool match_iface(struct rule_parser *rp, bool in, const struct config_token *at)
{
	enum fw_chain ch = (enum fw_chain)rp->r.chain;

	if (!once(rp, in ? M_IIF : M_OIF, in ? "iif" : "oif", at))
		return false;
	if (in && ch == FW_OUTPUT)
		return config_fail_at(rp->p->ps, at, "'iif' in chain output: packets the appliance sends have no "
				      "input interface");
	if (!in && (ch == FW_INPUT || ch == FW_PREROUTING))
		return config_fail_at(rp->p->ps, at, "'oif' in chain %s: its packets have no output interface yet",
				      fw_chain_name(ch));
	return take_iface(rp, in ? &rp->r.iif : &rp->r.oif);
}

static bool take_negation(struct config_parser *ps, struct fw_set_match *m)
{
	m->negate = config_at_word(ps, "!=");
	return !m->negate || config_next(ps);
}

/* ip saddr|daddr|protocol ... */
static bool match_ip(struct rule_parser *rp, const struct config_token *at)
{
	struct config_parser *ps = rp->p->ps;
	bool src = config_at_word(ps, "saddr");

	if (config_at_word(ps, "protocol")) {
		struct config_token value;
		if (!once(rp, M_PROTO, "ip protocol", at) || !config_next(ps))
			return false;
		value = ps->token;
		uint8_t proto = config_at_word(ps, "tcp") ? 6 : config_at_word(ps, "udp") ? 17
							   : config_at_word(ps, "icmp") ? 1 : 0;
		if (!proto)
			return CONFIG_FAIL(ps, "expected tcp, udp or icmp after 'ip protocol'");
		return set_proto(rp, proto, proto == 6 ? "ip protocol tcp" : proto == 17 ? "ip protocol udp"
										  : "ip protocol icmp", &value) &&
		       config_next(ps);
	}
	if (!src && !config_at_word(ps, "daddr"))
		return CONFIG_FAIL(ps, "expected saddr, daddr or protocol after 'ip'");
	struct fw_set_match *m = src ? &rp->r.saddr : &rp->r.daddr;
	return once(rp, src ? M_SADDR : M_DADDR, src ? "ip saddr" : "ip daddr", at) && config_next(ps) &&
	       take_negation(ps, m) && fw_parse_values(rp->p, FW_VALUE_ADDRESS, m);
}

const char *const fw_tcp_flag_names[8] = { "fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr" };
const char *const fw_ct_state_names[4] = { "new", "established", "related", "invalid" };

/* NAME[,NAME...] of names[0..n) as bits 1 << index into *bits; else the
 * error "expected WANTED" (for TCP flags, with a hint for 'syn/ack'). */
static bool take_name_bits(struct config_parser *ps, const char *const *names, unsigned n, uint8_t *bits,
			   const char *wanted)
{
	*bits = 0;
	for (;;) {
		unsigned k;
		for (k = 0; k < n && !config_at_word(ps, names[k]); k++)
			;
		if (k == n)
			return CONFIG_FAIL(ps, "expected %s%s", wanted,
					   names == fw_tcp_flag_names && strchr(ps->token.text, '/')
						   ? ": write 'syn / syn,ack' with spaces" : "");
		*bits |= (uint8_t)(1U << k);
		if (!config_next(ps))
			return false;
		if (ps->token.kind != CONFIG_TOKEN_COMMA)
			return true;
		if (!config_next(ps))
			return false;
	}
}

static bool take_flags(struct config_parser *ps, uint8_t *bits)
{
	return take_name_bits(ps, fw_tcp_flag_names, 8, bits,
			      "a TCP flag (fin, syn, rst, psh, ack, urg, ecn, cwr)");
}

/* tcp|udp sport|dport ..., tcp flags ..., icmp type ... */
static bool match_l4(struct rule_parser *rp, const struct config_token *at)
{
	struct config_parser *ps = rp->p->ps;
	uint8_t proto = !strcmp(at->text, "tcp") ? 6 : !strcmp(at->text, "udp") ? 17 : 1;

	if (proto == 1) {
		if (!config_at_word(ps, "type"))
			return CONFIG_FAIL(ps, "expected 'type' after 'icmp'");
		return once(rp, M_ICMP, "icmp type", at) && set_proto(rp, 1, "icmp type", at) && config_next(ps) &&
		       fw_parse_values(rp->p, FW_VALUE_ICMP, &rp->r.icmp_type);
	}
	if (proto == 6 && config_at_word(ps, "flags")) {
		if (!once(rp, M_FLAGS, "tcp flags", at) || !set_proto(rp, 6, "tcp flags", at) || !config_next(ps) ||
		    !take_flags(ps, &rp->r.tcp_flags_value))
			return false;
		rp->r.tcp_flags_mask = rp->r.tcp_flags_value;
		if (!config_at_word(ps, "/"))
			return true;
		struct config_token mask_at;
		if (!config_next(ps))
			return false;
		mask_at = ps->token;
		if (!take_flags(ps, &rp->r.tcp_flags_mask))
			return false;
		if (rp->r.tcp_flags_value & ~rp->r.tcp_flags_mask)
			return config_fail_at(ps, &mask_at, "the flags before '/' must be among those after it");
		return true;
	}
	bool src = config_at_word(ps, "sport");
	if (!src && !config_at_word(ps, "dport"))
		return CONFIG_FAIL(ps, "expected sport, dport%s after '%s'", proto == 6 ? " or flags" : "", at->text);
	struct fw_set_match *m = src ? &rp->r.sport : &rp->r.dport;
	const char *name = proto == 6 ? (src ? "tcp sport" : "tcp dport") : (src ? "udp sport" : "udp dport");
	return once(rp, src ? M_SPORT : M_DPORT, name, at) && set_proto(rp, proto, name, at) && config_next(ps) &&
	       take_negation(ps, m) && fw_parse_values(rp->p, FW_VALUE_PORT, m);
}

/* ct state STATE[,STATE...] */
static bool match_ct(struct rule_parser *rp, const struct config_token *at)
{
	struct config_parser *ps = rp->p->ps;

	if (!config_at_word(ps, "state"))
		return CONFIG_FAIL(ps, "expected 'state' after 'ct'");
	return once(rp, M_CT, "ct state", at) && config_next(ps) &&
	       take_name_bits(ps, fw_ct_state_names, 4, &rp->r.ct_states, "a state: new, established, related or invalid");
}

/* limit rate [over] N/UNIT [burst N [packets]] */
static bool statement_limit(struct rule_parser *rp)
{
	static const struct {
		const char *name;
		uint32_t ms;
	} units[] = { { "second", 1000 }, { "minute", 60000 }, { "hour", 3600000 }, { "day", 86400000 } };
	struct config_parser *ps = rp->p->ps;
	unsigned long v;

	if (!config_at_word(ps, "rate"))
		return CONFIG_FAIL(ps, "expected 'rate' after 'limit'");
	if (!config_next(ps))
		return false;
	if (config_at_word(ps, "over")) {
		rp->r.limit_over = 1;
		if (!config_next(ps))
			return false;
	}
	const char *w = ps->token.text, *slash = strchr(w, '/');
	char n[CONFIG_WORD_MAX + 1];
	unsigned k = 0;
	if (slash) {
		memcpy(n, w, (size_t)(slash - w));
		n[slash - w] = 0;
		for (; k < 4 && strcmp(slash + 1, units[k].name); k++)
			;
	}
	if (ps->token.kind != CONFIG_TOKEN_WORD || !slash || k == 4 || !config_parse_uint(n, 1000000, &v) || !v)
		return CONFIG_FAIL(ps, "expected a rate N/second, N/minute, N/hour or N/day (N 1..1000000)");
	rp->r.limit_rate = (uint32_t)v;
	rp->r.limit_unit_ms = units[k].ms;
	rp->r.limit_burst = FW_LIMIT_BURST_DEFAULT;
	if (!config_next(ps))
		return false;
	if (!config_at_word(ps, "burst"))
		return true;
	if (!config_next(ps))
		return false;
	if (ps->token.kind != CONFIG_TOKEN_WORD || !config_parse_uint(ps->token.text, 1000000, &v) || !v)
		return CONFIG_FAIL(ps, "expected a burst of 1..1000000 packets");
	rp->r.limit_burst = (uint32_t)v;
	if (!config_next(ps))
		return false;
	return !config_at_word(ps, "packets") || config_next(ps);
}

/* log [prefix WORD | prefix "WORDS ..."] */
static bool statement_log(struct rule_parser *rp)
{
	struct config_parser *ps = rp->p->ps;
	char *out = rp->r.log_prefix;
	size_t n = 0;

	if (!config_at_word(ps, "prefix"))
		return true;
	if (!config_next(ps))
		return false;
	struct config_token at = ps->token;
	if (at.kind != CONFIG_TOKEN_WORD)
		return CONFIG_FAIL(ps, "expected the prefix's text after 'prefix'");
	bool quoted = at.text[0] == '"';
	for (bool first = true;; first = false) {
		const char *w = ps->token.text + (first && quoted);
		size_t len = strlen(w);
		bool closes = quoted && len && w[len - 1] == '"';
		len -= closes;
		if (n + !first + len > FW_LOG_PREFIX_MAX)
			return config_fail_at(ps, &at, "a log prefix has at most %u characters", FW_LOG_PREFIX_MAX);
		if (!first)
			out[n++] = ' ';
		memcpy(out + n, w, len);
		n += len;
		out[n] = 0;
		if (strchr(out, '"'))
			return config_fail_at(ps, &at, "a '\"' inside the log prefix");
		if (!config_next(ps))
			return false;
		if (!quoted || closes)
			return true;
		if (ps->token.kind != CONFIG_TOKEN_WORD)
			return config_fail_at(ps, &at, "no '\"' ends the log prefix on its line");
	}
}

static const struct {
	const char *name;
	uint8_t code;
} reject_types[] = {
	{ "net-unreachable", 0 }, { "host-unreachable", 1 }, { "prot-unreachable", 2 },
	{ "port-unreachable", 3 }, { "net-prohibited", 9 }, { "host-prohibited", 10 },
	{ "admin-prohibited", 13 },
};

const char *fw_reject_name(uint8_t code)
{
	for (unsigned k = 0; k < sizeof(reject_types) / sizeof(reject_types[0]); k++)
		if (reject_types[k].code == code)
			return reject_types[k].name;
	return "port-unreachable";
}

/* reject [with tcp reset | with icmp type NAME] */
static bool verdict_reject(struct rule_parser *rp, const struct config_token *at)
{
	struct config_parser *ps = rp->p->ps;

	if (!config_at_word(ps, "with"))
		return true;
	if (!config_next(ps))
		return false;
	if (config_at_word(ps, "tcp")) {
		if (!config_next(ps))
			return false;
		if (!config_at_word(ps, "reset"))
			return CONFIG_FAIL(ps, "expected 'reset' after 'reject with tcp'");
		if (rp->r.proto != 6)
			return config_fail_at(ps, at, "'reject with tcp reset' needs a TCP match first "
					      "(tcp dport ... or ip protocol tcp)");
		rp->r.reject_with = FW_REJECT_TCP_RESET;
		return config_next(ps);
	}
	if (!config_at_word(ps, "icmp"))
		return CONFIG_FAIL(ps, "expected 'tcp reset' or 'icmp type NAME' after 'reject with'");
	if (!config_next(ps))
		return false;
	if (!config_at_word(ps, "type"))
		return CONFIG_FAIL(ps, "expected 'type' after 'reject with icmp'");
	if (!config_next(ps))
		return false;
	for (unsigned k = 0; k < sizeof(reject_types) / sizeof(reject_types[0]); k++)
		if (config_at_word(ps, reject_types[k].name)) {
			rp->r.reject_with = FW_REJECT_ICMP;
			rp->r.reject_code = reject_types[k].code;
			return config_next(ps);
		}
	return CONFIG_FAIL(ps, "unknown reject type '%s' (port-unreachable, host-unreachable, net-unreachable, "
			   "prot-unreachable, net-prohibited, host-prohibited, admin-prohibited)", ps->token.text);
}

/* snat to ADDR | dnat to ADDR[:PORT] */
static bool verdict_nat(struct rule_parser *rp, const struct config_token *at)
{
	struct config_parser *ps = rp->p->ps;
	bool dnat = rp->r.verdict == FW_DNAT;

	if (!config_at_word(ps, "to"))
		return CONFIG_FAIL(ps, "expected 'to %s' after '%s'", dnat ? "ADDR[:PORT]" : "ADDR", at->text);
	if (!config_next(ps))
		return false;
	const char *w = ps->token.text, *colon = strchr(w, ':');
	unsigned long port = 0;
	uint32_t a;
	size_t len = colon ? (size_t)(colon - w) : strlen(w);
	if (ps->token.kind != CONFIG_TOKEN_WORD || !inet_parse_ipv4(w, len, &a) ||
	    (colon && (!dnat || !config_parse_uint(colon + 1, 65535, &port) || !port)))
		return CONFIG_FAIL(ps, "expected %s after '%s to'", dnat ? "ADDR or ADDR:PORT (port 1..65535)" : "ADDR",
				   at->text);
	unsigned first = a & 0xff;
	if (first == 0 || first == 127 || first >= 224)
		return CONFIG_FAIL(ps, "%.*s is not a unicast host address", (int)len, w);
	if (port && rp->r.proto != 6 && rp->r.proto != 17)
		return CONFIG_FAIL(ps, "a port to translate to needs a TCP or UDP match first (tcp dport ...)");
	rp->r.nat_addr = a;
	rp->r.nat_port = (uint16_t)port;
	return config_next(ps);
}

/* The verdict at token at, if it is one; *known false if the word is none. */
static bool verdict(struct rule_parser *rp, const struct config_token *at, bool *known)
{
	static const struct {
		const char *name;
		uint8_t verdict;
		uint8_t chains;         /* bit per enum fw_chain */
	} verdicts[] = {
		{ "accept", FW_ACCEPT, 0x1f }, { "drop", FW_DROP, 0x07 }, { "reject", FW_REJECT, 0x07 },
		{ "masquerade", FW_MASQUERADE, 1 << FW_POSTROUTING }, { "snat", FW_SNAT, 1 << FW_POSTROUTING },
		{ "dnat", FW_DNAT, 1 << FW_PREROUTING },
	};
	struct config_parser *ps = rp->p->ps;
	unsigned k;

	for (k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]) && strcmp(at->text, verdicts[k].name); k++)
		;
	*known = k < sizeof(verdicts) / sizeof(verdicts[0]);
	if (!*known)
		return false;
	if (!(verdicts[k].chains >> rp->r.chain & 1))
		return config_fail_at(ps, at, "'%s' does not belong in chain %s (%s)", at->text,
				      fw_chain_name((enum fw_chain)rp->r.chain),
				      verdicts[k].chains == 0x07 ? "filter chains: input, forward, output"
				      : verdicts[k].verdict == FW_DNAT ? "chain prerouting"
								       : "chain postrouting");
	if (rp->r.verdict)
		return config_fail_at(ps, at, "a second verdict '%s' (a rule ends at its verdict)", at->text);
	rp->r.verdict = verdicts[k].verdict;
	if (!config_next(ps))
		return false;
	if (rp->r.verdict == FW_REJECT)
		return verdict_reject(rp, at);
	if (rp->r.verdict == FW_SNAT || rp->r.verdict == FW_DNAT)
		return verdict_nat(rp, at);
	return true;
}

static bool statement(struct rule_parser *rp, const struct config_token *at, bool *known)
{
	static const char *const names[] = { [FW_STMT_COUNTER] = "counter", [FW_STMT_LIMIT] = "limit",
					     [FW_STMT_LOG] = "log" };
	struct config_parser *ps = rp->p->ps;
	unsigned k, n;

	for (k = FW_STMT_COUNTER; k <= FW_STMT_LOG && strcmp(at->text, names[k]); k++)
		;
	*known = k <= FW_STMT_LOG;
	if (!*known)
		return false;
	if (rp->r.verdict)
		return config_fail_at(ps, at, "'%s' after the verdict (statements come before it)", at->text);
	if (rp->r.chain >= FW_PREROUTING)
		return config_fail_at(ps, at, "'%s' in a NAT chain (count, limit and log in the filter chains)",
				      at->text);
	for (n = 0; n < FW_MAX_STATEMENTS && rp->r.statements[n]; n++)
		if (rp->r.statements[n] == k)
			return config_fail_at(ps, at, "'%s' given twice in one rule", at->text);
	rp->r.statements[n] = (uint8_t)k;
	if (!config_next(ps))
		return false;
	if (k == FW_STMT_LIMIT)
		return statement_limit(rp);
	if (k == FW_STMT_LOG)
		return statement_log(rp);
	return true;
}

bool fw_parse_rule(struct fw_parser *p, enum fw_chain chain, unsigned line)
{
	struct firewall_config *fw = &p->c->firewall;
	struct config_parser *ps = p->ps;
	struct rule_parser rp = { .p = p, .r = { .line = line, .chain = (uint8_t)chain,
						  .iif = FW_NO_IFACE, .oif = FW_NO_IFACE } };
	bool matches_done = false;

	if (fw->nrules == FW_MAX_RULES)
		return CONFIG_FAIL(ps, "at most %u rules", FW_MAX_RULES);
	if (ps->token.kind != CONFIG_TOKEN_WORD)
		return CONFIG_FAIL(ps, "unexpected '%s' (a rule starts with a match, a statement or a verdict)",
				   ps->token.text);
	while (ps->token.kind == CONFIG_TOKEN_WORD) {
		struct config_token at = ps->token;
		bool known, ok;
		if (!strcmp(at.text, "iif") || !strcmp(at.text, "oif") || !strcmp(at.text, "ip") ||
		    !strcmp(at.text, "tcp") || !strcmp(at.text, "udp") || !strcmp(at.text, "icmp") ||
		    !strcmp(at.text, "ct")) {
			if (matches_done)
				return CONFIG_FAIL(ps, "the match '%s' after %s (matches come first)", at.text,
						   rp.r.verdict ? "the verdict" : "a statement");
			if (!config_next(ps))
				return false;
			if (!strcmp(at.text, "iif") || !strcmp(at.text, "oif"))
				ok = match_iface(&rp, at.text[0] == 'i', &at);
			else if (!strcmp(at.text, "ip"))
				ok = match_ip(&rp, &at);
			else if (!strcmp(at.text, "ct"))
				ok = match_ct(&rp, &at);
			else
				ok = match_l4(&rp, &at);
			if (!ok)
				return false;
			continue;
		}
		matches_done = true;
		if (!statement(&rp, &at, &known) && (known || ps->failed))
			return false;
		if (known)
			continue;
		if (!verdict(&rp, &at, &known) && (known || ps->failed))
			return false;
		if (!known)
			return CONFIG_FAIL(ps, "unknown word '%.24s' in a rule (matches: iif oif ip tcp udp "
					   "icmp ct; statements: counter limit log; verdicts: %s)", at.text,
					   chain >= FW_PREROUTING ? "accept masquerade snat dnat"
								  : "accept drop reject");
	}
	if (chain >= FW_PREROUTING && !rp.r.verdict)
		return CONFIG_FAIL(ps, "a NAT rule ends with %s", chain == FW_PREROUTING ? "'dnat to ...' or 'accept'"
											 : "'masquerade', 'snat to ...' or "
											   "'accept'");
	if (!rp.r.verdict && !rp.r.statements[0])
		return CONFIG_FAIL(ps, "a rule needs a statement (counter, limit, log) or a verdict (accept, drop, "
				   "reject)");
	fw->rules[fw->nrules++] = rp.r;
	return config_end_of_statement(ps, true);
}
