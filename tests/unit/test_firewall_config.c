#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/appliance_config.h"
#include "unit.h"

static struct appliance_config c;
static struct config_error err;

/* Two interfaces on lines 1 and 2; the firewall text starts on line 3. */
#define IFACES "interface lan { device any; address 192.168.1.1/24 }\ninterface wan { device any; address dhcp }\n"

static bool parse(const char *text)
{
	return appliance_config_parse(text, strlen(text), &c, &err);
}

static const struct fw_rule *rule(unsigned i)
{
	return &c.firewall.rules[i];
}

TEST(firewall_config_example)
{
	static const char text[] = IFACES
		"set admins { 192.168.1.11, 192.168.1.10, 10.0.0.0/8, 10.1.0.0/16 }\n"
		"set web { 443, 80, 8000-8080, 8080-8090 }\n"
		"conntrack max 1000; conntrack timeout tcp established 3600\n"
		"chain input {\n"
		"    policy drop\n"
		"    ct state established,related accept\n"
		"    iif lan ip saddr @admins tcp dport @web counter accept\n"
		"    iif wan tcp flags syn / syn,ack limit rate over 5/minute burst 2 packets log prefix \"syn flood:\" drop\n"
		"    ip daddr != { 192.168.1.1, 192.168.1.255 } icmp type { echo-request, 3 } reject with icmp type admin-prohibited\n"
		"}\n"
		"chain forward { policy accept; udp sport 53 log; iif wan oif lan reject }\n"
		"chain prerouting { iif wan tcp dport 8080 dnat to 192.168.1.20:80; iif wan udp dport 53 dnat to 192.168.1.2 }\n"
		"chain postrouting { iif lan oif wan ip saddr 192.168.1.0/24 masquerade\n oif lan snat to 192.168.1.1; accept }\n";
	const struct firewall_config *fw = &c.firewall;

	CHECK(parse(text));
	CHECK(fw->present);
	CHECK_EQ(fw->ct_max, 1000);
	CHECK_EQ(fw->ct_timeout[CT_T_TCP_ESTABLISHED], 3600);
	CHECK_EQ(fw->ct_timeout[CT_T_UDP_REPLIED], 0);
	CHECK_EQ(fw->nsets, 2);
	/* Sorted and merged: 10.0.0.0/8 holds 10.1.0.0/16; 8000-8090 is one. */
	CHECK_EQ(fw->sets[0].count, 2);
	CHECK_EQ(fw->ranges[fw->sets[0].first].lo, 0x0a000000);
	CHECK_EQ(fw->ranges[fw->sets[0].first].hi, 0x0affffff);
	CHECK_EQ(fw->ranges[fw->sets[0].first + 1].lo, 0xc0a8010a);     /* .10 and .11 touch */
	CHECK_EQ(fw->ranges[fw->sets[0].first + 1].hi, 0xc0a8010b);
	CHECK_EQ(fw->sets[1].count, 3);
	CHECK_EQ(fw->ranges[fw->sets[1].first + 2].lo, 8000);
	CHECK_EQ(fw->ranges[fw->sets[1].first + 2].hi, 8090);
	CHECK_EQ(fw->policy[FW_INPUT], FW_DROP);
	CHECK_EQ(fw->policy[FW_FORWARD], FW_ACCEPT);
	CHECK_EQ(fw->policy[FW_OUTPUT], FW_ACCEPT);
	CHECK_EQ(fw->chain_count[FW_INPUT], 4);
	CHECK_EQ(fw->chain_first[FW_FORWARD], 4);
	CHECK_EQ(fw->chain_count[FW_FORWARD], 2);
	CHECK_EQ(fw->chain_count[FW_PREROUTING], 2);
	CHECK_EQ(fw->chain_count[FW_POSTROUTING], 3);
	CHECK_EQ(fw->nrules, 11);
	CHECK_EQ(rule(0)->ct_states, FW_CT_ESTABLISHED | FW_CT_RELATED);
	CHECK_EQ(rule(0)->verdict, FW_ACCEPT);
	CHECK_EQ(rule(0)->line, 8);
	CHECK_EQ(rule(1)->iif, 0);
	CHECK_EQ(rule(1)->oif, FW_NO_IFACE);
	CHECK_EQ(rule(1)->proto, 6);
	CHECK_EQ(rule(1)->saddr.first, fw->sets[0].first);
	CHECK_EQ(rule(1)->dport.count, 3);
	CHECK_EQ(rule(1)->statements[0], FW_STMT_COUNTER);
	CHECK_EQ(rule(2)->iif, 1);
	CHECK_EQ(rule(2)->tcp_flags_value, 0x02);
	CHECK_EQ(rule(2)->tcp_flags_mask, 0x12);
	CHECK_EQ(rule(2)->statements[0], FW_STMT_LIMIT);
	CHECK_EQ(rule(2)->statements[1], FW_STMT_LOG);
	CHECK_EQ(rule(2)->limit_over, 1);
	CHECK_EQ(rule(2)->limit_rate, 5);
	CHECK_EQ(rule(2)->limit_unit_ms, 60000);
	CHECK_EQ(rule(2)->limit_burst, 2);
	CHECK(!strcmp(rule(2)->log_prefix, "syn flood:"));
	CHECK_EQ(rule(2)->verdict, FW_DROP);
	CHECK(rule(3)->daddr.negate);
	CHECK_EQ(rule(3)->daddr.count, 2);
	CHECK_EQ(rule(3)->icmp_type.count, 2);
	CHECK_EQ(rule(3)->proto, 1);
	CHECK_EQ(rule(3)->reject_with, FW_REJECT_ICMP);
	CHECK_EQ(rule(3)->reject_code, 13);
	CHECK_EQ(rule(4)->verdict, FW_CONTINUE);
	CHECK_EQ(rule(4)->statements[0], FW_STMT_LOG);
	CHECK_EQ(rule(4)->log_prefix[0], 0);
	CHECK_EQ(rule(5)->reject_with, FW_REJECT_DEFAULT);
	CHECK_EQ(rule(6)->verdict, FW_DNAT);
	CHECK_EQ(rule(6)->nat_addr, 0x1401a8c0);
	CHECK_EQ(rule(6)->nat_port, 80);
	CHECK_EQ(rule(7)->nat_port, 0);
	CHECK_EQ(rule(8)->verdict, FW_MASQUERADE);
	CHECK_EQ(rule(8)->oif, 1);
	CHECK_EQ(rule(8)->iif, 0);
	CHECK_EQ(rule(9)->verdict, FW_SNAT);
	CHECK_EQ(rule(9)->nat_addr, 0x0101a8c0);
	CHECK_EQ(rule(10)->verdict, FW_ACCEPT);
}

TEST(firewall_config_absent_by_default)
{
	CHECK(parse(IFACES));
	CHECK(!c.firewall.present);
	CHECK_EQ(c.firewall.ct_max, FW_CT_MAX_DEFAULT);
	CHECK(parse(IFACES "conntrack max 10\n"));
	CHECK(!c.firewall.present);
	CHECK(parse(IFACES "chain output { }\n"));
	CHECK(c.firewall.present);
	CHECK_EQ(c.firewall.policy[FW_OUTPUT], FW_ACCEPT);
}

/* Every error: the text after IFACES, where (line, column) and what. */
/* docs/firewall.md's example (the first block after "Examples:") parses. */
TEST(firewall_config_doc_example_parses)
{
	static char doc[64 * 1024], text[8192];
	FILE *f = fopen("docs/firewall.md", "r");
	size_t n = f ? fread(doc, 1, sizeof(doc) - 1, f) : 0;

	if (f)
		fclose(f);
	CHECK(n > 0);
	doc[n] = 0;
	const char *at = strstr(doc, "Examples:\n\n```\n");
	CHECK(at);
	if (!at)
		return;
	at += strlen("Examples:\n\n```\n");
	const char *end = strstr(at, "```");
	CHECK(end);
	if (!end)
		return;
	snprintf(text, sizeof(text), IFACES "%.*s", (int)(end - at), at);
	bool ok = parse(text);
	if (!ok)
		printf("  %u:%u: %s\n", err.line, err.column, err.message);
	CHECK(ok);
	CHECK(c.firewall.nrules >= 10);
}

/* A long unknown word: the message is whole (it ends with its ')'). */
TEST(firewall_config_unknown_word_message_whole)
{
	static const char *const chains[] = { "input", "postrouting" };

	for (unsigned i = 0; i < 2; i++) {
		char text[512];
		snprintf(text, sizeof(text), IFACES "chain %s { %s }\n", chains[i],
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu");
		CHECK(!parse(text));
		size_t len = strlen(err.message);
		CHECK(len > 0 && len < sizeof(err.message) - 1 && err.message[len - 1] == ')');
		CHECK(strstr(err.message, "unknown word 'abcdefghijklmnopqrstuvwx' in a rule"));
	}
}

static const struct {
	const char *text;
	unsigned line, column;
	const char *want;
} errors[] = {
#include "firewall_config_errors.inc"
};

TEST(firewall_config_errors)
{
	char text[4096];
	unsigned wrong = 0;

	for (unsigned i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		snprintf(text, sizeof(text), IFACES "%s", errors[i].text);
		bool ok = !parse(text) && err.line == errors[i].line && err.column == errors[i].column &&
			  strstr(err.message, errors[i].want);
		if (!ok) {
			printf("  case %u: %s\n  got %u:%u: %s\n", i, errors[i].text, err.line, err.column,
			       err.message);
			wrong++;
		}
	}
	CHECK_EQ(wrong, 0);
}

/* The limits: rules, set elements, sets. */
TEST(firewall_config_limits)
{
	static char text[256 * 1024];
	size_t n = (size_t)snprintf(text, sizeof(text), IFACES "chain input {\n");

	for (unsigned i = 0; i <= FW_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "tcp dport %u accept\n", i);
	snprintf(text + n, sizeof(text) - n, "}\n");
	CHECK(!parse(text));
	CHECK_EQ(err.line, 3 + FW_MAX_RULES + 1);
	CHECK(strstr(err.message, "at most 2048 rules"));

	n = (size_t)snprintf(text, sizeof(text), IFACES "set big { 0");
	for (unsigned i = 1; i <= FW_MAX_RANGES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", %u", i * 2);
	snprintf(text + n, sizeof(text) - n, " }\n");
	CHECK(!parse(text));
	CHECK(strstr(err.message, "more than 8192 set elements"));

	n = (size_t)snprintf(text, sizeof(text), IFACES);
	for (unsigned i = 0; i <= FW_MAX_SETS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "set s%u { %u }\n", i, i);
	CHECK(!parse(text));
	CHECK_EQ(err.line, 3 + FW_MAX_SETS);
	CHECK(strstr(err.message, "at most 64 sets"));
}
