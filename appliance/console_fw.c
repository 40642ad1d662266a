/*
 * The console's firewall commands (docs/console.md): `rules` (the rules in
 * force with their counters), `conntrack [flush]` (the connection table)
 * and `reload [FILE]`, each through the management protocol
 * (proto/netmgmt.h) on console_net.c's worker thread: the job below runs
 * there, filling what the main thread prints once it has answered.
 */
#include "console.h"

#include "lib/netmgmt_client.h"

#define RULES_SHOWN 512         /* rules listed (the configuration holds up to 2048) */
#define CT_SHOWN 40             /* connections listed: the rest are counted */

static const char *const chain_names[] = { "input", "forward", "output", "prerouting",
					   "postrouting" };
#define NCHAINS (sizeof(chain_names) / sizeof(chain_names[0]))

/* What the worker read (the main thread's once it answered). */
static struct {
	unsigned nrules;                /* rules read, at most RULES_SHOWN */
	bool more_rules;
	struct net_fw_rule rules[RULES_SHOWN];
	struct net_fw_rule policy[NCHAINS];
	bool have_policy[NCHAINS];
	long err;
	struct net_ct_stats stats;
	unsigned nct;
	uint64_t ct_more;
	struct net_ct_entry ct[CT_SHOWN];
	bool flush;
	uint64_t flushed;
	char file[32];
	struct net_fw_reload reload;
} fw;

/* ---- the worker's jobs ---- */

static void rules_job(cap_slot_t mgmt)
{
	struct net_fw_rule r;

	fw.nrules = 0;
	fw.more_rules = false;
	memset(fw.have_policy, 0, sizeof(fw.have_policy));
	for (unsigned i = 0; (fw.err = netmgmt_fw_rule(mgmt, i, &r)) == 0; i++) {
		if (r.flags & NET_FW_POLICY) {
			if (r.chain < NCHAINS) {
				fw.policy[r.chain] = r;
				fw.have_policy[r.chain] = true;
			}
		} else if (fw.nrules < RULES_SHOWN) {
			fw.rules[fw.nrules++] = r;
		} else {
			fw.more_rules = true;
		}
	}
	if (fw.err == -ERR_RANGE)
		fw.err = 0;
}

static void conntrack_job(cap_slot_t mgmt)
{
	uint64_t cursor = 0;

	fw.nct = 0;
	fw.ct_more = 0;
	if (fw.flush) {
		struct net_ct_stats before;
		fw.flushed = netmgmt_ct_stats(mgmt, &before) == 0 ? before.ct_count : 0;
		if ((fw.err = netmgmt_ct_flush(mgmt)))
			return;
	}
	if ((fw.err = netmgmt_ct_stats(mgmt, &fw.stats)))
		return;
	while (fw.nct < CT_SHOWN && netmgmt_ct_entry(mgmt, cursor, &fw.ct[fw.nct]) == 0)
		cursor = fw.ct[fw.nct++].next;
	if (fw.stats.ct_count > fw.nct)
		fw.ct_more = fw.stats.ct_count - fw.nct;
}

static void reload_job(cap_slot_t mgmt)
{
	fw.err = netmgmt_fw_reload(mgmt, fw.file, &fw.reload);
}

/* ---- the commands ---- */

static void print_rule(const struct net_fw_rule *r)
{
	char packets[32], bytes[16];

	if (r->flags & NET_FW_COUNTED)
		printf("  line %u: %s  [%s, %s]\n", r->line, r->text,
		       fmt_count(packets, sizeof(packets), r->packets, "packet", "packets"),
		       fmt_bytes(bytes, sizeof(bytes), r->bytes));
	else
		printf("  line %u: %s\n", r->line, r->text);
}

void cmd_rules(char **arg)
{
	(void)arg;
	if (!net_ask_more("rules", rules_job))
		return;
	if (fw.err) {
		printf("console: rules: %s\n", mica_strerror(fw.err));
		return;
	}
	if (!fw.nrules && !fw.have_policy[0]) {
		printf("console: rules: the netstack has no firewall (no configuration file)\n");
		return;
	}
	bool shown = false;
	for (unsigned c = 0; c < NCHAINS; c++) {
		const struct net_fw_rule *p = &fw.policy[c];
		bool any = false;
		for (unsigned i = 0; i < fw.nrules && !any; i++)
			any = fw.rules[i].chain == c;
		if (!any && (!fw.have_policy[c] || !p->line))
			continue;
		shown = true;
		if (c < 3) {
			char packets[32], bytes[16];
			printf("chain %s (line %u): %s  [%s, %s]\n", chain_names[c], p->line, p->text,
			       fmt_count(packets, sizeof(packets), p->packets, "packet", "packets"),
			       fmt_bytes(bytes, sizeof(bytes), p->bytes));
		} else {
			printf("chain %s (line %u)\n", chain_names[c], p->line);
		}
		for (unsigned i = 0; i < fw.nrules; i++)
			if (fw.rules[i].chain == c)
				print_rule(&fw.rules[i]);
	}
	if (!shown)
		printf("console: rules: the configuration has no chain: no filter rules, every packet "
		       "is accepted (policy accept)\n");
	if (fw.more_rules)
		printf("console: rules: the first %u shown\n", RULES_SHOWN);
}

void cmd_conntrack(char **arg)
{
	const struct net_ct_stats *s = &fw.stats;
	char count[32], size[16];

	if (arg[0] && strcmp(arg[0], "flush")) {
		printf("console: conntrack: expected flush, not '%s'\n", arg[0]);
		return;
	}
	fw.flush = arg[0] != NULL;
	bool ready = net_ask_more("conntrack", conntrack_job);
	fw.flush = false;
	if (!ready)
		return;
	if (fw.err) {
		printf("console: conntrack: %s\n", net_change_error(fw.err));
		return;
	}
	if (arg[0])
		printf("console: conntrack: flushed %s\n",
		       fmt_count(count, sizeof(count), fw.flushed, "connection", "connections"));
	if (!s->ct_max) {
		printf("console: conntrack: no connection table (the configuration has no chain)\n");
		return;
	}
	printf("conntrack: %s of %lu (%s)\n",
	       fmt_count(count, sizeof(count), s->ct_count, "connection", "connections"), s->ct_max,
	       fmt_bytes(size, sizeof(size), s->ct_memory));
	printf("    added %lu, expired %lu, early dropped %lu, refused_full %lu, invalid %lu, "
	       "removed %lu\n", s->ct_inserted, s->ct_expired, s->ct_early_dropped,
	       s->ct_refused_full, s->ct_invalid, s->ct_removed);
	printf("    nat: translated %lu, ports_exhausted %lu, clashes %lu, malformed %lu\n",
	       s->nat_translated, s->nat_ports_exhausted, s->nat_clashes, s->nat_malformed);
	printf("    firewall: %lu rules from %.31s; dropped %lu, rejected %lu, table_full %lu, "
	       "nat_failed %lu, fragments_dropped %lu, malformed %lu\n", s->fw_rules, s->file,
	       s->fw_dropped, s->fw_rejected, s->fw_table_full, s->fw_nat_failed,
	       s->fw_fragments_dropped, s->fw_malformed);
	for (unsigned i = 0; i < fw.nct; i++)
		printf("%s\n", fw.ct[i].text);
	if (fw.ct_more)
		printf("    (%lu more not shown)\n", fw.ct_more);
}

void cmd_reload(char **arg)
{
	fw.file[0] = 0;
	if (arg[0]) {
		if (strlen(arg[0]) >= sizeof(fw.file)) {
			printf("console: reload: '%s': a file name has at most %u characters\n",
			       arg[0], (unsigned)sizeof(fw.file) - 1);
			return;
		}
		memcpy(fw.file, arg[0], strlen(arg[0]) + 1);
	}
	if (!net_ask_more("reload", reload_job))
		return;
	if (fw.err)
		printf("console: reload: %s\n", net_change_error(fw.err));
	else if (fw.reload.err)
		printf("console: reload: %.191s; the rules in force stay\n", fw.reload.message);
	else
		printf("console: reload: %.191s\n", fw.reload.message);
}
