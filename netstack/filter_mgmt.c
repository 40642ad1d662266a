/*
 * The firewall's part of the management protocol (proto/netmgmt.h,
 * docs/netmgmt.md): its rules with their counters, a reload, the
 * connection table's counters and connections, a flush. Answered at once.
 */
#include "netstack.h"
#include "filter.h"

static uint64_t fw_rule(uint64_t index, struct net_fw_rule *out)
{
	const struct firewall_config *fc = &filter.cfg->firewall;

	*out = (struct net_fw_rule){ 0 };
	if (index < fc->nrules) {
		const struct fw_rule *r = &fc->rules[index];
		const struct fw_rule_state *s = &filter.fw->state[index];
		out->chain = r->chain;
		out->line = r->line;
		for (unsigned k = 0; k < FW_MAX_STATEMENTS && r->statements[k]; k++)
			out->flags |= r->statements[k] == FW_STMT_COUNTER ? NET_FW_COUNTED : 0;
		out->packets = s->packets;
		out->bytes = s->bytes;
		fw_format_rule(out->text, sizeof(out->text), filter.cfg, (unsigned)index);
		return 0;
	}
	uint64_t chain = index - fc->nrules;
	if (chain >= FW_CHAINS)
		return ERR_RANGE;
	out->chain = (uint32_t)chain;
	out->line = fc->chain_line[chain];
	out->flags = NET_FW_POLICY | NET_FW_COUNTED;
	out->packets = filter.fw->policy_packets[chain];
	out->bytes = filter.fw->policy_bytes[chain];
	fmt_snprintf(out->text, sizeof(out->text), "policy %s",
		     fw_verdict_name((enum fw_verdict)fc->policy[chain]));
	return 0;
}

static void ct_stats(struct net_ct_stats *s)
{
	const struct ct_counters *c = &filter.ct.counters;

	if (filter.ct.max)
		conntrack_expire(&filter.ct, filter_now(), ~0U);
	*s = (struct net_ct_stats){
		.ct_count = filter.ct.count, .ct_max = filter.ct.max,
		.ct_memory = filter.ct.max ? conntrack_memory_size(filter.ct.max) : 0,
		.ct_inserted = c->inserted, .ct_expired = c->expired,
		.ct_early_dropped = c->early_dropped, .ct_refused_full = c->refused_full,
		.ct_invalid = c->invalid, .ct_removed = c->removed,
		.nat_translated = filter.nat.translated, .nat_ports_exhausted = filter.nat.ports_exhausted,
		.nat_clashes = filter.nat.clashes, .nat_malformed = filter.nat.malformed,
		.fw_rules = filter.cfg ? filter.cfg->firewall.nrules : 0,
		.fw_dropped = filter.count.dropped, .fw_rejected = filter.count.rejected,
		.fw_table_full = filter.count.table_full, .fw_nat_failed = filter.count.nat_failed,
		.fw_fragments_dropped = filter.count.fragments_dropped,
		.fw_malformed = filter.count.malformed,
	};
	memcpy(s->file, filter.file, sizeof(s->file) - 1);
}

static uint64_t ct_get(uint64_t cursor, struct net_ct_entry *out)
{
	uint32_t at = cursor > filter.ct.max ? filter.ct.max : (uint32_t)cursor;
	uint64_t now = filter_now();
	struct ct_entry *e;

	if (!filter.ct.max)
		return ERR_RANGE;
	if (!at)
		conntrack_expire(&filter.ct, now, ~0U);
	while ((e = conntrack_next(&filter.ct, &at)) && e->expires <= now)
		;
	if (!e)
		return ERR_RANGE;
	out->next = at;
	conntrack_format_entry(out->text, sizeof(out->text), e, now);
	return 0;
}

bool filter_mgmt_request(struct msg *m, cap_slot_t reply)
{
	union {
		struct net_fw_rule rule;
		struct net_fw_reload reload;
		struct net_ct_stats stats;
		struct net_ct_entry entry;
		uint64_t w[IPC_MAX_WORDS];
	} out;
	uint64_t w[4];

	msg_to_words(m, w, 4);
	switch (ipc_tag_label(m->tag)) {
	case NETMGMT_FW_RULE:
		if (!filter.cfg) {
			service_answer(reply, ERR_RANGE, NULL, 0);
			return true;
		}
		service_answer(reply, fw_rule(w[0], &out.rule), out.w, NET_FW_RULE_WORDS);
		return true;
	case NETMGMT_FW_RELOAD: {
		char name[33];
		memcpy(name, w, 32);
		name[32] = 0;
		out.reload = (struct net_fw_reload){ 0 };
		if (!filter.cfg) {
			out.reload.err = -ERR_INVALID_ARG;
			fmt_snprintf(out.reload.message, sizeof(out.reload.message),
				     "the netstack runs without a configuration file%s",
				     filter.file[0] ? " (it was wrong at start: see the log)" : "");
		} else {
			out.reload.err = filter_reload(name, out.reload.message, sizeof(out.reload.message));
		}
		service_answer(reply, 0, out.w, NET_FW_RELOAD_WORDS);
		return true;
	}
	case NETMGMT_CT_STATS:
		ct_stats(&out.stats);
		service_answer(reply, 0, out.w, NET_CT_STATS_WORDS);
		return true;
	case NETMGMT_CT_GET:
		service_answer(reply, ct_get(w[0], &out.entry), out.w, NET_CT_ENTRY_WORDS);
		return true;
	case NETMGMT_CT_FLUSH:
		if (filter.ct.max)
			conntrack_flush(&filter.ct);
		service_answer(reply, 0, NULL, 0);
		return true;
	default:
		return false;
	}
}
