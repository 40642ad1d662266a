/* The rules' index (netstack/firewall_index.c): a packet's verdict,
 * deciding rule, log rule and every counter are those of the chain walked
 * rule by rule, and a chain of many rules leaves few to try. */
#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "lib/appliance_config.h"
#include "unit.h"

static struct appliance_config c;
static struct firewall indexed, walked;
static char text[256 * 1024];

#define IFACES "interface lan { device any; address 192.168.1.1/24 }\ninterface wan { device any; address dhcp }\n"

static bool load(void)
{
	struct config_error err;

	if (!appliance_config_parse(text, strlen(text), &c, &err)) {
		printf("  %u:%u: %s\n%s", err.line, err.column, err.message, text);
		return false;
	}
	firewall_init(&indexed, &c.firewall, 0);
	firewall_init(&walked, &c.firewall, 0);
	for (unsigned k = 0; k < FW_CHAINS; k++)
		walked.index.chain[k].field = FW_INDEX_NONE;
	return true;
}

/* Addresses and ports from small pools, so that rules and packets meet. */
static unsigned pick(unsigned n)
{
	return (unsigned)rand() % n;
}

static const char *addr(void)
{
	static char buf[4][32];
	static unsigned k;
	char *b = buf[k++ % 4];
	static const char *const nets[] = { "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3",
					    "192.168.1.0/24", "192.168.1.7", "0.0.0.0/0", "172.16.0.0/12" };

	snprintf(b, 32, "%s", nets[pick(8)]);
	return b;
}

static size_t random_rule(char *t, size_t room, bool nat)
{
	size_t n = 0;

	if (pick(3) == 0)
		n += (size_t)snprintf(t + n, room - n, "iif %s ", pick(2) ? "lan" : "wan");
	if (pick(2))
		n += (size_t)snprintf(t + n, room - n, "ip saddr %s%s ", pick(5) ? "" : "!= ", addr());
	if (pick(2))
		n += (size_t)snprintf(t + n, room - n, "ip daddr %s{ %s, %s } ", pick(5) ? "" : "!= ",
				      addr(), addr());
	const char *l4 = pick(2) ? "tcp" : "udp";
	if (pick(2)) {
		unsigned lo = pick(100), hi = lo + pick(3) * pick(40);
		n += (size_t)snprintf(t + n, room - n, "%s dport %s{ %u-%u, %u } ", l4, pick(6) ? "" : "!= ", lo,
				      hi, pick(100));
	}
	if (pick(3) == 0)
		n += (size_t)snprintf(t + n, room - n, "%s sport %u-%u ", l4, pick(50), 50 + pick(50));
	if (pick(4) == 0)
		n += (size_t)snprintf(t + n, room - n, "ct state %s ", pick(2) ? "new" : "established,related");
	bool statement = false;
	if (!nat && pick(3) == 0) {
		n += (size_t)snprintf(t + n, room - n, "counter ");
		statement = true;
	}
	if (!nat && pick(6) == 0) {
		n += (size_t)snprintf(t + n, room - n, "limit rate %u/second burst 2 packets ", 1 + pick(3));
		statement = true;
	}
	if (!nat && pick(6) == 0) {
		n += (size_t)snprintf(t + n, room - n, "log ");
		statement = true;
	}
	static const char *const filter[] = { "accept", "drop", "reject", "" };
	const char *verdict = nat ? (pick(2) ? "masquerade" : "accept") : filter[pick(4)];
	n += (size_t)snprintf(t + n, room - n, "%s\n", verdict[0] || statement ? verdict : "log");
	return n;
}

static struct fw_packet random_packet(void)
{
	static const uint32_t addrs[] = { 0x0a000001, 0x0a010203, 0x0a010204, 0x0a010001, 0xc0a80107,
					  0xc0a80108, 0xac100005, 0x08080808 };
	uint8_t protos[] = { 6, 17, 1 };

	return (struct fw_packet){ .iif = (uint8_t)pick(2), .oif = (uint8_t)pick(2),
				   .saddr = __builtin_bswap32(addrs[pick(8)]),
				   .daddr = __builtin_bswap32(addrs[pick(8)]), .proto = protos[pick(3)],
				   .sport = (uint16_t)pick(110), .dport = (uint16_t)pick(150),
				   .ct_state = (enum ct_state)pick(4), .len = 40 + pick(1000) };
}

TEST(firewall_index_decides_as_the_walk)
{
	unsigned chains_indexed = 0;

	srand(1414);
	for (int set = 0; set < 60; set++) {
		size_t n = (size_t)snprintf(text, sizeof(text), IFACES "chain forward {\n policy %s\n",
					    pick(2) ? "drop" : "accept");
		unsigned rules = 1 + pick(set < 30 ? 12 : 200);
		for (unsigned i = 0; i < rules; i++)
			n += random_rule(text + n, sizeof(text) - n, false);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "}\nchain postrouting {\n");
		for (unsigned i = 0; i < 1 + pick(8); i++)
			n += random_rule(text + n, sizeof(text) - n, true);
		snprintf(text + n, sizeof(text) - n, "}\n");
		CHECK(load());
		chains_indexed += (indexed.index.chain[FW_FORWARD].field != FW_INDEX_NONE) +
				  (indexed.index.chain[FW_POSTROUTING].field != FW_INDEX_NONE);
		for (int k = 0; k < 3000; k++) {
			struct fw_packet p = random_packet();
			enum fw_chain chain = pick(4) ? FW_FORWARD : FW_POSTROUTING;
			struct fw_result a, b;
			uint64_t now = (uint64_t)k * 7;
			firewall_eval(&indexed, chain, &p, now, &a);
			firewall_eval(&walked, chain, &p, now, &b);
			CHECK_EQ(a.verdict, b.verdict);
			CHECK_EQ(a.rule, b.rule);
			CHECK_EQ(a.log_rule, b.log_rule);
			CHECK_EQ(a.reject_with, b.reject_with);
		}
		CHECK(!memcmp(indexed.state, walked.state, sizeof(indexed.state)));
		CHECK(!memcmp(indexed.policy_packets, walked.policy_packets, sizeof(indexed.policy_packets)));
	}
	CHECK(chains_indexed >= 30);
}

/* bench/run_firewall.py's rules-1000: a thousand rules that never match,
 * each on its own /24, then established and lan to wan. */
TEST(firewall_index_many_rules_few_tried)
{
	size_t n = (size_t)snprintf(text, sizeof(text), IFACES "chain forward {\n policy drop\n");

	for (unsigned i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " iif lan oif wan ip daddr 172.%u.%u.0/24 drop\n",
				      16 + i / 256 % 16, i % 256);
	snprintf(text + n, sizeof(text) - n, " ct state established,related accept\n iif lan oif wan accept\n}\n");
	CHECK(load());
	const struct fw_chain_index *ci = &indexed.index.chain[FW_FORWARD];
	CHECK_EQ(ci->field, FW_INDEX_DADDR);
	CHECK_EQ(ci->wild_count, 2);
	CHECK_EQ(ci->most, 3);
	struct fw_packet p = { .iif = 0, .oif = 1, .saddr = 0x0201a8c0, .daddr = 0x0200630a, .proto = 6,
			       .sport = 40000, .dport = 5001, .ct_state = CT_ESTABLISHED, .len = 1500 };
	struct fw_result r;
	firewall_eval(&indexed, FW_FORWARD, &p, 0, &r);
	CHECK_EQ(r.verdict, FW_ACCEPT);
	CHECK_EQ(r.rule, 1000);
	p.daddr = __builtin_bswap32(0xac1103c8);        /* 172.17.3.200: rule 256 + 3 */
	firewall_eval(&indexed, FW_FORWARD, &p, 0, &r);
	CHECK_EQ(r.verdict, FW_DROP);
	CHECK_EQ(r.rule, 259);
}

/* Many rules on one large named set share its bounds (8 x 1500 listed
 * of the 16384 there is room for); a port list per
 * rule indexes by port. */
TEST(firewall_index_shared_set_and_ports)
{
	size_t n = (size_t)snprintf(text, sizeof(text), IFACES "set big {");

	for (unsigned i = 0; i < 1500; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s 10.%u.%u.1", i ? "," : "", i / 256, i % 256);
	n += (size_t)snprintf(text + n, sizeof(text) - n, " }\nchain input {\n policy drop\n");
	for (unsigned i = 0; i < 8; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " iif %s ip saddr @big counter drop\n",
				      i % 2 ? "lan" : "wan");
	n += (size_t)snprintf(text + n, sizeof(text) - n, " accept\n}\nchain forward {\n policy drop\n");
	for (unsigned i = 0; i < 500; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " tcp dport { %u, %u } accept\n", 1000 + i,
				      3000 + 2 * i);
	snprintf(text + n, sizeof(text) - n, "}\n");
	CHECK(load());
	CHECK_EQ(indexed.index.chain[FW_INPUT].field, FW_INDEX_SADDR);
	CHECK_EQ(indexed.index.chain[FW_INPUT].most, 9);
	CHECK_EQ(indexed.index.chain[FW_FORWARD].field, FW_INDEX_DPORT);
	CHECK_EQ(indexed.index.chain[FW_FORWARD].most, 1);
	struct fw_packet p = { .iif = 0, .saddr = __builtin_bswap32(0x0a030201), .proto = 6, .dport = 3998,
			       .ct_state = CT_NEW, .len = 60 };
	struct fw_result r;
	firewall_eval(&indexed, FW_INPUT, &p, 0, &r);
	CHECK_EQ(r.rule, 1);                            /* 10.3.2.1 is element 770 */
	p.saddr = __builtin_bswap32(0x0a060201);        /* not in the set */
	firewall_eval(&indexed, FW_INPUT, &p, 0, &r);
	CHECK_EQ(r.rule, 8);
	firewall_eval(&indexed, FW_FORWARD, &p, 0, &r);
	CHECK_EQ(r.rule, 9 + 499);
	p.dport = 3999;
	firewall_eval(&indexed, FW_FORWARD, &p, 0, &r);
	CHECK_EQ(r.verdict, FW_DROP);
	CHECK_EQ(r.rule, -1);
}

/* Rules with nothing to index on, and short chains, are walked. */
TEST(firewall_index_leaves_what_it_cannot_shorten)
{
	snprintf(text, sizeof(text), IFACES "chain input { policy drop\n ct state established accept\n"
		 " iif lan accept\n ip protocol icmp accept\n ip daddr != 10.0.0.0/8 drop\n counter\n}\n"
		 "chain forward { ip daddr 10.0.0.1 accept; ip daddr 10.0.0.2 accept }\n");
	CHECK(load());
	CHECK_EQ(indexed.index.chain[FW_INPUT].field, FW_INDEX_NONE);
	CHECK_EQ(indexed.index.chain[FW_INPUT].most, 5);
	CHECK_EQ(indexed.index.chain[FW_FORWARD].field, FW_INDEX_NONE);
}

TEST(firewall_index_interval_search)
{
	static const uint32_t lo[] = { 0, 10, 20, 0xffffffff };

	CHECK_EQ(fw_index_interval(lo, 4, 0), 0);
	CHECK_EQ(fw_index_interval(lo, 4, 9), 0);
	CHECK_EQ(fw_index_interval(lo, 4, 10), 1);
	CHECK_EQ(fw_index_interval(lo, 4, 19), 1);
	CHECK_EQ(fw_index_interval(lo, 4, 20), 2);
	CHECK_EQ(fw_index_interval(lo, 4, 0xfffffffe), 2);
	CHECK_EQ(fw_index_interval(lo, 4, 0xffffffff), 3);
	CHECK_EQ(fw_index_interval(lo, 1, 12345), 0);
}
