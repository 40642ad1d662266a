/* The firewall's evaluator: netstack/firewall.h. */
#include "firewall.h"

#include "lib/string.h"

_Static_assert(FW_CT_NEW == 1U << CT_NEW && FW_CT_ESTABLISHED == 1U << CT_ESTABLISHED &&
		       FW_CT_RELATED == 1U << CT_RELATED && FW_CT_INVALID == 1U << CT_INVALID,
	       "ct state bits follow enum ct_state");

void firewall_init(struct firewall *fw, const struct firewall_config *cfg, uint64_t now)
{
	memset(fw, 0, sizeof(*fw));
	fw->cfg = cfg;
	for (unsigned i = 0; i < cfg->nrules; i++) {
		const struct fw_rule *r = &cfg->rules[i];
		fw->state[i].tokens = (uint64_t)r->limit_burst * r->limit_unit_ms;
		fw->state[i].last_ms = now;
	}
	fw_index_build(&fw->index, cfg);
}

static bool set_matches(const struct firewall_config *cfg, const struct fw_set_match *m, uint32_t v)
{
	return !m->count || fw_ranges_contain(cfg, m->first, m->count, v) != m->negate;
}

bool firewall_rule_matches(const struct firewall_config *cfg, const struct fw_rule *r, const struct fw_packet *p)
{
	if ((r->iif != FW_NO_IFACE && r->iif != p->iif) || (r->oif != FW_NO_IFACE && r->oif != p->oif))
		return false;
	if (r->proto && r->proto != p->proto)
		return false;
	if (r->ct_states && !(r->ct_states >> p->ct_state & 1))
		return false;
	if ((p->tcp_flags & r->tcp_flags_mask) != r->tcp_flags_value)
		return false;
	if (!set_matches(cfg, &r->saddr, __builtin_bswap32(p->saddr)) ||
	    !set_matches(cfg, &r->daddr, __builtin_bswap32(p->daddr)))
		return false;
	if (!set_matches(cfg, &r->sport, p->sport) || !set_matches(cfg, &r->dport, p->dport))
		return false;
	return set_matches(cfg, &r->icmp_type, p->icmp_type);
}

/*
 * A token bucket: one packet costs unit_ms tokens, rate * elapsed ms come
 * in, it holds burst packets' worth. Whether this packet is within the
 * rate (and then it takes its tokens).
 */
static bool within_limit(const struct fw_rule *r, struct fw_rule_state *s, uint64_t now)
{
	uint64_t cap = (uint64_t)r->limit_burst * r->limit_unit_ms;

	if (now > s->last_ms) {
		uint64_t elapsed = now - s->last_ms;
		uint64_t add = elapsed > cap / r->limit_rate ? cap : elapsed * r->limit_rate;
		s->tokens = s->tokens + add > cap ? cap : s->tokens + add;
		s->last_ms = now;
	}
	if (s->tokens < r->limit_unit_ms)
		return false;
	s->tokens -= r->limit_unit_ms;
	return true;
}

/* Run rule i's statements on p; false if a limit stops the rule. */
static bool run_statements(struct firewall *fw, unsigned i, const struct fw_packet *p, uint64_t now,
			   struct fw_result *res)
{
	const struct fw_rule *r = &fw->cfg->rules[i];

	for (unsigned k = 0; k < FW_MAX_STATEMENTS && r->statements[k]; k++) {
		switch (r->statements[k]) {
		case FW_STMT_COUNTER:
			fw->state[i].packets++;
			fw->state[i].bytes += p->len;
			break;
		case FW_STMT_LIMIT:
			if (within_limit(r, &fw->state[i], now) == (bool)r->limit_over)
				return false;
			break;
		case FW_STMT_LOG:
			if (res->log_rule < 0)
				res->log_rule = (int)i;
			break;
		}
	}
	return true;
}

/* Try rule i on p: true when it decides (res says how). */
static bool decides(struct firewall *fw, unsigned i, const struct fw_packet *p, uint64_t now,
		    struct fw_result *res)
{
	const struct fw_rule *r = &fw->cfg->rules[i];

	if (!firewall_rule_matches(fw->cfg, r, p) || !run_statements(fw, i, p, now, res) ||
	    r->verdict == FW_CONTINUE)
		return false;
	res->verdict = (enum fw_verdict)r->verdict;
	res->rule = (int)i;
	if (r->verdict == FW_REJECT) {
		res->reject_with = r->reject_with;
		res->reject_code = r->reject_code;
		if (r->reject_with == FW_REJECT_DEFAULT) {
			res->reject_with = p->proto == CT_PROTO_TCP ? FW_REJECT_TCP_RESET : FW_REJECT_ICMP;
			res->reject_code = 3;   /* port unreachable */
		}
	}
	return true;
}

/* Whether a rule of chain c decides p, trying only those the index
 * leaves: p's interval's and the wildcards, merged in rule order. */
static bool indexed_decides(struct firewall *fw, enum fw_chain c, const struct fw_packet *p,
			    uint64_t now, struct fw_result *res)
{
	const struct fw_index *x = &fw->index;
	const struct fw_chain_index *ci = &x->chain[c];
	unsigned k = ci->first + fw_index_interval(x->lo + ci->first, ci->intervals,
						    fw_index_value((enum fw_index_field)ci->field, p));
	const uint16_t *a = x->entries + x->first[k], *b = x->entries + ci->wild_first;
	unsigned na = x->count[k], nb = ci->wild_count;

	while (na || nb) {
		unsigned i;
		if (nb && (!na || *b < *a)) {
			i = *b++;
			nb--;
		} else {
			i = *a++;
			na--;
		}
		if (decides(fw, i, p, now, res))
			return true;
	}
	return false;
}

void firewall_eval(struct firewall *fw, enum fw_chain chain, const struct fw_packet *p, uint64_t now,
		   struct fw_result *res)
{
	const struct firewall_config *cfg = fw->cfg;

	*res = (struct fw_result){ .verdict = FW_ACCEPT, .rule = -1, .log_rule = -1 };
	if (!cfg->present || (unsigned)chain >= FW_CHAINS)
		return;
	if (fw->index.chain[chain].field != FW_INDEX_NONE) {
		if (indexed_decides(fw, chain, p, now, res))
			return;
	} else {
		unsigned first = cfg->chain_first[chain], end = first + cfg->chain_count[chain];
		for (unsigned i = first; i < end; i++)
			if (decides(fw, i, p, now, res))
				return;
	}
	res->verdict = (enum fw_verdict)cfg->policy[chain];
	fw->policy_packets[chain]++;
	fw->policy_bytes[chain] += p->len;
}
