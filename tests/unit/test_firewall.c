#include <stdlib.h>
#include <string.h>

#include "firewall.h"
#include "lib/appliance_config.h"
#include "unit.h"

static struct appliance_config c;
static struct firewall fw;

#define IFACES "interface lan { device any; address 192.168.1.1/24 }\ninterface wan { device any; address dhcp }\n"
enum { LAN, WAN };

static bool load(const char *rules)
{
	static char text[80 * 1024];
	struct config_error err;

	snprintf(text, sizeof(text), IFACES "%s", rules);
	if (!appliance_config_parse(text, strlen(text), &c, &err)) {
		printf("  %u:%u: %s\n", err.line, err.column, err.message);
		return false;
	}
	firewall_init(&fw, &c.firewall, 0);
	return true;
}

static uint32_t ip(unsigned a, unsigned b, unsigned cc, unsigned d)
{
	return a | b << 8 | cc << 16 | d << 24;
}

static struct fw_packet tcp(uint8_t iif, uint32_t src, uint32_t dst, uint16_t dport, uint8_t flags)
{
	return (struct fw_packet){ .iif = iif, .oif = FW_NO_IFACE, .saddr = src, .daddr = dst, .proto = 6,
				   .sport = 40000, .dport = dport, .tcp_flags = flags, .ct_state = CT_NEW,
				   .len = 60 };
}

static enum fw_verdict eval(enum fw_chain chain, const struct fw_packet *p, uint64_t now, struct fw_result *r)
{
	firewall_eval(&fw, chain, p, now, r);
	return r->verdict;
}

TEST(firewall_no_chains_accepts)
{
	struct fw_result r;
	struct fw_packet p = tcp(WAN, ip(1, 2, 3, 4), ip(192, 168, 1, 1), 22, TCP_SYN);

	CHECK(load(""));
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, -1);
}

TEST(firewall_matches_and_policy)
{
	struct fw_result r;

	CHECK(load("set admins { 192.168.1.10, 10.0.0.0/8 }\nset ssh { 22, 2222 }\n"
		   "chain input {\n policy drop\n"
		   " ct state established,related accept\n"                                 /* 0 */
		   " iif lan ip saddr @admins tcp dport @ssh counter accept\n"              /* 1 */
		   " iif wan tcp flags syn / syn,ack tcp dport 1-1023 reject\n"             /* 2 */
		   " ip saddr != 192.168.1.0/24 udp dport 53 reject with icmp type admin-prohibited\n" /* 3 */
		   " icmp type { echo-request, time-exceeded } counter accept\n"           /* 4 */
		   " ip protocol udp ip daddr 192.168.1.255 drop\n"                         /* 5 */
		   "}\n"
		   "chain forward { iif lan oif wan accept; oif lan drop }\n"));
	struct fw_packet p = tcp(LAN, ip(192, 168, 1, 10), ip(192, 168, 1, 1), 22, TCP_SYN);
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, 1);
	p.saddr = ip(10, 200, 3, 4);
	p.dport = 2222;
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_ACCEPT);
	CHECK_EQ(fw.state[1].packets, 2);
	CHECK_EQ(fw.state[1].bytes, 120);
	p.dport = 2223;                         /* not in the set: the policy */
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_DROP);
	CHECK_EQ(r.rule, -1);
	CHECK_EQ(fw.policy_packets[FW_INPUT], 1);
	p.dport = 22;
	p.saddr = ip(11, 0, 0, 1);
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_DROP);
	p.iif = WAN;                            /* wrong interface for rule 1 */
	p.saddr = ip(192, 168, 1, 10);
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_REJECT);
	CHECK_EQ(r.rule, 2);
	CHECK_EQ(r.reject_with, FW_REJECT_TCP_RESET);
	p.tcp_flags = TCP_SYN | TCP_ACK;        /* flags: syn without ack only */
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_DROP);
	p.ct_state = CT_ESTABLISHED;
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, 0);

	struct fw_packet u = { .iif = WAN, .oif = FW_NO_IFACE, .saddr = ip(8, 8, 8, 8), .daddr = ip(192, 168, 1, 1),
			       .proto = 17, .sport = 5353, .dport = 53, .ct_state = CT_NEW, .len = 100 };
	CHECK_EQ(eval(FW_INPUT, &u, 0, &r), FW_REJECT);
	CHECK_EQ(r.rule, 3);
	CHECK_EQ(r.reject_with, FW_REJECT_ICMP);
	CHECK_EQ(r.reject_code, 13);
	u.saddr = ip(192, 168, 1, 77);          /* != the LAN: not for rule 3 */
	CHECK_EQ(eval(FW_INPUT, &u, 0, &r), FW_DROP);
	CHECK_EQ(r.rule, -1);
	u.daddr = ip(192, 168, 1, 255);
	CHECK_EQ(eval(FW_INPUT, &u, 0, &r), FW_DROP);
	CHECK_EQ(r.rule, 5);

	struct fw_packet icmp = { .iif = WAN, .oif = FW_NO_IFACE, .proto = 1, .icmp_type = 8, .ct_state = CT_NEW };
	CHECK_EQ(eval(FW_INPUT, &icmp, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, 4);
	icmp.icmp_type = 11;
	CHECK_EQ(eval(FW_INPUT, &icmp, 0, &r), FW_ACCEPT);
	icmp.icmp_type = 0;
	CHECK_EQ(eval(FW_INPUT, &icmp, 0, &r), FW_DROP);

	struct fw_packet f = tcp(LAN, ip(192, 168, 1, 10), ip(1, 1, 1, 1), 443, TCP_SYN);
	f.oif = WAN;
	CHECK_EQ(eval(FW_FORWARD, &f, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, 6);
	f.iif = WAN;
	f.oif = LAN;
	CHECK_EQ(eval(FW_FORWARD, &f, 0, &r), FW_DROP);
	CHECK_EQ(r.rule, 7);
	f.oif = WAN;                            /* neither rule: forward's policy accept */
	CHECK_EQ(eval(FW_FORWARD, &f, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, -1);
	/* A chain not declared accepts. */
	CHECK_EQ(eval(FW_OUTPUT, &f, 0, &r), FW_ACCEPT);
}

TEST(firewall_reject_defaults)
{
	struct fw_result r;

	CHECK(load("chain input { reject }\n"));
	struct fw_packet t = tcp(WAN, ip(1, 2, 3, 4), ip(192, 168, 1, 1), 22, TCP_SYN);
	CHECK_EQ(eval(FW_INPUT, &t, 0, &r), FW_REJECT);
	CHECK_EQ(r.reject_with, FW_REJECT_TCP_RESET);
	t.proto = 17;
	CHECK_EQ(eval(FW_INPUT, &t, 0, &r), FW_REJECT);
	CHECK_EQ(r.reject_with, FW_REJECT_ICMP);
	CHECK_EQ(r.reject_code, 3);
}

TEST(firewall_limit_counter_log_in_order)
{
	struct fw_result r;

	/* 2 per second, a bucket of 3; counted before the limit. */
	CHECK(load("chain input { policy drop; counter limit rate 2/second burst 3 packets log prefix \"ok\" accept }\n"));
	struct fw_packet p = tcp(WAN, ip(1, 2, 3, 4), ip(192, 168, 1, 1), 80, TCP_SYN);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_ACCEPT);
		CHECK_EQ(r.log_rule, 0);
	}
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_DROP);  /* the bucket is empty */
	CHECK_EQ(r.log_rule, -1);
	CHECK_EQ(eval(FW_INPUT, &p, 499, &r), FW_DROP);
	CHECK_EQ(eval(FW_INPUT, &p, 500, &r), FW_ACCEPT); /* one token per 500 ms */
	CHECK_EQ(eval(FW_INPUT, &p, 500, &r), FW_DROP);
	CHECK_EQ(eval(FW_INPUT, &p, 1000000, &r), FW_ACCEPT); /* a long pause fills it, no more */
	CHECK_EQ(eval(FW_INPUT, &p, 1000000, &r), FW_ACCEPT);
	CHECK_EQ(eval(FW_INPUT, &p, 1000000, &r), FW_ACCEPT);
	CHECK_EQ(eval(FW_INPUT, &p, 1000000, &r), FW_DROP);
	CHECK_EQ(fw.state[0].packets, 11);
	CHECK(!strcmp(c.firewall.rules[0].log_prefix, "ok"));

	/* over: the rule matches above the rate. */
	CHECK(load("chain input { limit rate over 1/minute burst 1 packets drop; log }\n"));
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.log_rule, 1);                /* the log-only rule, then the policy */
	CHECK_EQ(eval(FW_INPUT, &p, 0, &r), FW_DROP);
	CHECK_EQ(eval(FW_INPUT, &p, 60000, &r), FW_ACCEPT);
	/* Huge rates and pauses do not overflow the bucket. */
	CHECK(load("chain input { limit rate 1000000/day burst 1000000 packets accept; drop }\n"));
	CHECK_EQ(eval(FW_INPUT, &p, ~0ULL >> 1, &r), FW_ACCEPT);
}

TEST(firewall_nat_chains)
{
	struct fw_result r;

	CHECK(load("chain prerouting { iif wan tcp dport 8080 dnat to 192.168.1.20:80 }\n"
		   "chain postrouting { oif wan ip daddr 10.0.0.0/8 accept; oif wan masquerade }\n"));
	struct fw_packet p = tcp(WAN, ip(1, 2, 3, 4), ip(203, 0, 113, 1), 8080, TCP_SYN);
	CHECK_EQ(eval(FW_PREROUTING, &p, 0, &r), FW_DNAT);
	CHECK_EQ(c.firewall.rules[r.rule].nat_port, 80);
	p.dport = 8081;
	CHECK_EQ(eval(FW_PREROUTING, &p, 0, &r), FW_ACCEPT);
	struct fw_packet o = tcp(LAN, ip(192, 168, 1, 10), ip(1, 1, 1, 1), 443, TCP_SYN);
	o.oif = WAN;
	CHECK_EQ(eval(FW_POSTROUTING, &o, 0, &r), FW_MASQUERADE);
	o.daddr = ip(10, 1, 1, 1);
	CHECK_EQ(eval(FW_POSTROUTING, &o, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, 1);
	o.oif = LAN;
	o.daddr = ip(1, 1, 1, 1);
	CHECK_EQ(eval(FW_POSTROUTING, &o, 0, &r), FW_ACCEPT);
	CHECK_EQ(r.rule, -1);
}

/* A large set is a binary search: every member and its neighbours. */
TEST(firewall_large_set)
{
	static char text[64 * 1024];
	struct fw_result r;
	size_t n = (size_t)snprintf(text, sizeof(text), "set many { 1");

	for (unsigned i = 1; i < 2000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ", %u", (i * 7919) % 60000 * 1 + 1);
	snprintf(text + n, sizeof(text) - n, " }\nchain input { policy drop; tcp dport @many accept }\n");
	CHECK(load(text));
	struct fw_packet p = tcp(WAN, ip(1, 2, 3, 4), ip(192, 168, 1, 1), 0, TCP_SYN);
	unsigned accepted = 0;
	for (unsigned port = 0; port <= 65535; port++) {
		p.dport = (uint16_t)port;
		bool member = port == 1;
		for (unsigned i = 1; i < 2000 && !member; i++)
			member = port == (i * 7919) % 60000 + 1;
		CHECK_EQ(eval(FW_INPUT, &p, 0, &r) == FW_ACCEPT, member);
		accepted += member;
	}
	CHECK_EQ(accepted, 2000);
}
