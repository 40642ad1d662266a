/* What the network and a user's file can hand the firewall: random bytes
 * and mangled files. Under the unit tests' AddressSanitizer a read or
 * write out of bounds fails the run; nothing may crash or loop. */
#include <stdlib.h>
#include <string.h>

#include "lib/appliance_config.h"
#include "nat.h"
#include "unit.h"

TEST(firewall_fuzz_packets)
{
	static uint64_t memory[(64 * sizeof(struct ct_entry) + 128 * 4) / 8 + 1];
	static const uint8_t key[16] = { 3 };
	struct conntrack ct;
	struct ct_match m;

	CHECK_EQ(conntrack_init(&ct, memory, sizeof(memory), 64, key), 0);
	srand(14);
	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)(rand() % 96);
		uint8_t *pkt = malloc(len ? len : 1);   /* exactly len: ASan sees overruns */
		for (size_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)rand();
		if (len && rand() % 2)
			pkt[0] = (uint8_t)(0x40 | (pkt[0] & 0xf));
		if (len > 9 && rand() % 2)
			pkt[9] = (uint8_t)(rand() % 3 == 0 ? 1 : rand() % 2 ? 6 : 17);
		struct ct_packet p = { .tuple = { (uint32_t)rand() & 3, (uint32_t)rand() & 3, (uint16_t)(rand() % 4),
						  (uint16_t)(rand() % 4), (uint8_t)(rand() % 3 == 0 ? 1 : 6) },
				       .tcp_flags = (uint8_t)rand(), .seq = (uint32_t)rand(), .ack = (uint32_t)rand(),
				       .window = (uint16_t)rand(), .wscale = (uint8_t)rand(), .payload = (uint16_t)rand(),
				       .icmp_type = (uint8_t)(rand() % 14), .quote = pkt, .quote_len = len };
		conntrack_classify(&ct, &p, (uint64_t)round, &m);
		if (m.state == CT_NEW)
			conntrack_confirm(&ct, &p, 0, (uint64_t)round, 0);
		struct ct_tuple t = p.tuple;
		t.proto = len > 9 ? pkt[9] : 6;
		nat_rewrite(pkt, len, &t);
		if (m.entry)
			nat_rewrite_icmp_error(pkt, len, m.entry, m.dir);
		conntrack_expire(&ct, (uint64_t)round, 4);
		free(pkt);
	}
	CHECK(ct.count <= 64);
}

TEST(firewall_fuzz_configuration)
{
	static struct appliance_config c;
	static const char base[] =
		"interface lan { device any; address 192.168.1.1/24 }\ninterface wan { device any; address dhcp }\n"
		"set a { 10.0.0.0/8, 192.168.1.10 }\nset p { 22, 80-90 }\nconntrack max 100\n"
		"chain input { policy drop; ct state established,related accept\n"
		" iif lan ip saddr @a tcp dport @p tcp flags syn / syn,ack counter limit rate 5/second burst 3 packets "
		"log prefix \"x y\" reject with tcp reset\n icmp type { echo-request, 3 } accept }\n"
		"chain prerouting { iif wan tcp dport 8080 dnat to 192.168.1.2:80 }\n"
		"chain postrouting { oif wan masquerade }\n";
	static const char junk[] = "{},;#\"/!=@-:.\n 0a";
	char text[sizeof(base)];
	struct config_error err;

	srand(15);
	for (int round = 0; round < 20000; round++) {
		memcpy(text, base, sizeof(base));
		for (int k = rand() % 4; k >= 0; k--)
			text[rand() % (sizeof(base) - 1)] = junk[rand() % (sizeof(junk) - 1)];
		size_t len = (size_t)rand() % sizeof(base);
		char *copy = malloc(len ? len : 1);
		memcpy(copy, text, len);
		if (!appliance_config_parse(copy, len, &c, &err))
			CHECK(err.line >= 1 && err.message[0]);
		free(copy);
	}
}

/* Random segments near a real connection's windows, in every state. */
TEST(firewall_fuzz_tcp_states)
{
	static uint64_t memory[(8 * sizeof(struct ct_entry) + 16 * 4) / 8 + 1];
	static const uint8_t key[16] = { 4 };
	struct conntrack ct;
	struct ct_match m;
	unsigned seen_states = 0;

	CHECK_EQ(conntrack_init(&ct, memory, sizeof(memory), 8, key), 0);
	srand(16);
	for (int conn = 0; conn < 2000; conn++) {
		uint32_t isn[2] = { (uint32_t)rand(), (uint32_t)rand() };
		struct ct_tuple t[2] = { { 1, 2, 1000, 80, CT_PROTO_TCP }, { 2, 1, 80, 1000, CT_PROTO_TCP } };
		struct ct_packet syn = { .tuple = t[0], .tcp_flags = TCP_SYN, .seq = isn[0], .window = 1000,
					 .wscale = (uint8_t)(rand() % 3 ? rand() % 16 : CT_WSCALE_NONE) };
		conntrack_flush(&ct);
		CHECK_EQ(conntrack_confirm(&ct, &syn, 0, 0, 0), 0);
		if (rand() % 4) {               /* mostly after a real handshake */
			struct ct_packet sa = { .tuple = t[1], .tcp_flags = TCP_SYN | TCP_ACK, .seq = isn[1],
						.ack = isn[0] + 1, .window = 2000, .wscale = (uint8_t)(rand() % 16) };
			struct ct_packet a = { .tuple = t[0], .tcp_flags = TCP_ACK, .seq = isn[0] + 1,
					       .ack = isn[1] + 1, .window = 3000 };
			conntrack_classify(&ct, &sa, 0, &m);
			conntrack_classify(&ct, &a, 0, &m);
			isn[0]++;
			isn[1]++;
		}
		for (int k = 0; k < 60; k++) {
			int d = rand() % 2;
			struct ct_packet p = { .tuple = t[d], .tcp_flags = (uint8_t)(rand() % 2 ? rand() : TCP_ACK),
					       .seq = isn[d] + (uint32_t)(rand() % 3000) - 1000,
					       .ack = isn[!d] + (uint32_t)(rand() % 3000) - 1000,
					       .window = (uint16_t)rand(), .wscale = (uint8_t)rand(),
					       .payload = (uint16_t)(rand() % 1500) };
			conntrack_classify(&ct, &p, (uint64_t)k, &m);
			if (m.entry)
				seen_states |= 1U << m.entry->tcp_state;
		}
	}
	/* Every state from established to close was reached. */
	CHECK_EQ(seen_states & 0x1f8, 0x1f8);
}
