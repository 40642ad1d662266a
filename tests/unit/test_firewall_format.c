#include <stdlib.h>
#include <string.h>

#include "lib/appliance_config.h"
#include "unit.h"

static struct appliance_config a, b;

#define IFACES "interface lan { device any; address 192.168.1.1/24 }\ninterface wan { device any; address dhcp }\n"
#define SETS "set admins { 192.168.1.10, 192.168.1.11, 10.0.0.0/8 }\nset web { 80, 443, 8000-8080 }\n"

static const char *const rules[] = {
	"input", "ct state established,related accept",
	"input", "ct state invalid counter drop",
	"input", "iif lan ip saddr @admins tcp dport @web counter accept",
	"input", "iif wan tcp flags syn / syn,ack limit rate over 5/minute burst 2 packets log prefix \"syn flood\" drop",
	"input", "tcp flags fin,psh,urg drop",
	"input", "ip daddr != { 192.168.1.1, 192.168.1.255 } icmp type { echo-request, 3, 42 } reject with icmp type admin-prohibited",
	"input", "ip saddr { 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6 } udp sport != 53 reject",
	"input", "ip saddr 0.0.0.0/0 ip protocol udp log",
	"input", "ip saddr 172.16.0.0/12 ip protocol icmp limit rate 100/day accept",
	"input", "tcp dport 22 reject with tcp reset",
	"forward", "iif lan oif wan udp dport { 137-139, 445 } counter reject",
	"forward", "iif wan oif lan ct state new tcp dport 80 ip daddr 192.168.1.20 accept",
	"prerouting", "iif wan tcp dport 8080 dnat to 192.168.1.20:80",
	"prerouting", "iif wan udp dport 53 dnat to 192.168.1.2",
	"postrouting", "iif lan oif wan ip saddr 192.168.1.0/24 masquerade",
	"postrouting", "oif lan snat to 192.168.1.1",
	"postrouting", "accept",
};
#define NRULES (sizeof(rules) / sizeof(rules[0]) / 2)

/* The rules in chains, each rule's text from text_of(i). */
static void assemble(char *out, size_t size, const char *(*text_of)(unsigned))
{
	static const char *const chains[] = { "input", "forward", "prerouting", "postrouting" };
	size_t n = (size_t)snprintf(out, size, IFACES SETS);

	for (unsigned c = 0; c < 4; c++) {
		n += (size_t)snprintf(out + n, size - n, "chain %s {\n", chains[c]);
		for (unsigned i = 0; i < NRULES; i++)
			if (!strcmp(rules[2 * i], chains[c]))
				n += (size_t)snprintf(out + n, size - n, "    %s\n", text_of(i));
		n += (size_t)snprintf(out + n, size - n, "}\n");
	}
}

static const char *original(unsigned i)
{
	return rules[2 * i + 1];
}

static char formatted[NRULES][512];

static const char *reformatted(unsigned i)
{
	return formatted[i];
}

static bool same_set(const struct firewall_config *x, const struct fw_set_match *m,
		     const struct firewall_config *y, const struct fw_set_match *n)
{
	return m->count == n->count && m->negate == n->negate &&
	       !memcmp(x->ranges + m->first, y->ranges + n->first, m->count * sizeof(struct fw_range));
}

static bool same_rule(const struct fw_rule *r, const struct fw_rule *s)
{
	const struct firewall_config *x = &a.firewall, *y = &b.firewall;

	return r->chain == s->chain && r->verdict == s->verdict && r->iif == s->iif && r->oif == s->oif &&
	       r->proto == s->proto && r->ct_states == s->ct_states && r->tcp_flags_mask == s->tcp_flags_mask &&
	       r->tcp_flags_value == s->tcp_flags_value && !memcmp(r->statements, s->statements, FW_MAX_STATEMENTS) &&
	       r->limit_over == s->limit_over && r->limit_rate == s->limit_rate &&
	       r->limit_unit_ms == s->limit_unit_ms && r->limit_burst == s->limit_burst &&
	       r->reject_with == s->reject_with && r->reject_code == s->reject_code && r->nat_addr == s->nat_addr &&
	       r->nat_port == s->nat_port && !strcmp(r->log_prefix, s->log_prefix) &&
	       same_set(x, &r->saddr, y, &s->saddr) && same_set(x, &r->daddr, y, &s->daddr) &&
	       same_set(x, &r->sport, y, &s->sport) && same_set(x, &r->dport, y, &s->dport) &&
	       same_set(x, &r->icmp_type, y, &s->icmp_type);
}

TEST(firewall_format_round_trip)
{
	static char text[16384];
	struct config_error err;

	assemble(text, sizeof(text), original);
	CHECK(appliance_config_parse(text, strlen(text), &a, &err));
	CHECK_EQ(a.firewall.nrules, NRULES);
	for (unsigned i = 0; i < NRULES; i++)
		fw_format_rule(formatted[i], sizeof(formatted[i]), &a, i);
	/* Sets by name; addresses as prefixes; limits with their burst. */
	CHECK(!strcmp(formatted[2], "iif lan ip saddr @admins tcp dport @web counter accept"));
	CHECK(!strcmp(formatted[3], "iif wan tcp flags syn / syn,ack limit rate over 5/minute burst 2 packets "
				    "log prefix \"syn flood\" drop"));
	CHECK(!strcmp(formatted[6], "ip saddr { 10.0.0.3, 10.0.0.4/31, 10.0.0.6 } udp sport != 53 reject"));
	CHECK(!strcmp(formatted[8], "ip protocol icmp ip saddr 172.16.0.0/12 limit rate 100/day burst 5 packets accept"));
	CHECK(!strcmp(formatted[12], "iif wan tcp dport 8080 dnat to 192.168.1.20:80"));
	assemble(text, sizeof(text), reformatted);
	if (!appliance_config_parse(text, strlen(text), &b, &err)) {
		printf("  %u:%u: %s\n", err.line, err.column, err.message);
		CHECK(false);
	}
	CHECK_EQ(b.firewall.nrules, NRULES);
	for (unsigned i = 0; i < NRULES; i++) {
		if (!same_rule(&a.firewall.rules[i], &b.firewall.rules[i]))
			printf("  rule %u: %s\n  became: %s\n", i, rules[2 * i + 1], formatted[i]);
		CHECK(same_rule(&a.firewall.rules[i], &b.firewall.rules[i]));
	}
}

TEST(firewall_format_cuts_long_rules)
{
	char buf[24];
	struct config_error err;
	static const char text[] = IFACES "chain input { ip saddr { 10.0.0.1, 10.0.0.3, 10.0.0.5 } accept }\n";

	CHECK(appliance_config_parse(text, strlen(text), &a, &err));
	fw_format_rule(buf, sizeof(buf), &a, 0);
	size_t n = strlen(buf);
	CHECK(n >= sizeof(buf) - 2 && n < sizeof(buf));        /* full, less the leading space */
	CHECK(!strcmp(buf + n - 3, "..."));
	CHECK(!strcmp(buf, "ip saddr { 10.0.0.1..."));
}
