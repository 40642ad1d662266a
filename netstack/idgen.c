/*
 * Unpredictable TCP initial sequence numbers and IPv4 IDs (idgen.h):
 * SipHash-2-4 (lib/siphash.c) over the connection's or datagram's addresses.
 */
#include "idgen.h"

#include <stdbool.h>

#include "lib/siphash.h"
#include "lib/string.h"

uint64_t idgen_siphash(const struct idgen_key *key, const void *data, size_t len)
{
	uint8_t k[SIPHASH_KEY_BYTES];

	for (unsigned b = 0; b < 8; b++) {
		k[b] = (uint8_t)(key->k0 >> (8 * b));
		k[8 + b] = (uint8_t)(key->k1 >> (8 * b));
	}
	return siphash24(k, data, len);
}

uint32_t idgen_tcp_isn(const struct idgen_key *key, uint32_t local_addr, uint16_t local_port,
		       uint32_t remote_addr, uint16_t remote_port, uint64_t now_ns)
{
	uint8_t tuple[12];

	for (unsigned b = 0; b < 4; b++) {
		tuple[b] = (uint8_t)(local_addr >> (8 * b));
		tuple[4 + b] = (uint8_t)(remote_addr >> (8 * b));
	}
	tuple[8] = (uint8_t)local_port;
	tuple[9] = (uint8_t)(local_port >> 8);
	tuple[10] = (uint8_t)remote_port;
	tuple[11] = (uint8_t)(remote_port >> 8);
	return (uint32_t)(now_ns / 4000) + (uint32_t)idgen_siphash(key, tuple, sizeof(tuple));
}

uint32_t idgen_tcp_isn_clock(const struct idgen_key *key, uint32_t local_addr,
			     uint16_t local_port, uint32_t remote_addr, uint16_t remote_port,
			     uint32_t isn)
{
	return isn - idgen_tcp_isn(key, local_addr, local_port, remote_addr, remote_port, 0);
}

uint16_t idgen_ip_id(const struct idgen_key *key, uint16_t counter, uint32_t src, uint32_t dst,
		     uint8_t proto)
{
	uint8_t flow[9];

	for (unsigned b = 0; b < 4; b++) {
		flow[b] = (uint8_t)(src >> (8 * b));
		flow[4 + b] = (uint8_t)(dst >> (8 * b));
	}
	flow[8] = proto;
	/* The flow's hash, kept for the next datagram of the same flow and
	 * key (a transfer sends thousands a second, each a SipHash here). */
	static struct idgen_key last_key;
	static uint8_t last_flow[sizeof(flow)];
	static uint64_t last_hash;
	static bool have_last;
	if (!have_last || last_key.k0 != key->k0 || last_key.k1 != key->k1 ||
	    memcmp(last_flow, flow, sizeof(flow))) {
		last_hash = idgen_siphash(key, flow, sizeof(flow));
		last_key = *key;
		memcpy(last_flow, flow, sizeof(flow));
		have_last = true;
	}
	/* Four Feistel rounds over the counter's two bytes, the round keys
	 * from the flow's hash: a bijection whatever the round function. */
	uint64_t k = last_hash;
	uint8_t l = (uint8_t)(counter >> 8), r = (uint8_t)counter;
	for (unsigned round = 0; round < 4; round++) {
		uint8_t rk = (uint8_t)(k >> (16 * round)), rk2 = (uint8_t)(k >> (16 * round + 8));
		uint8_t f = (uint8_t)((uint8_t)(r ^ rk) * 167u + rk2);
		f = (uint8_t)(f ^ (f >> 3) ^ (uint8_t)(f << 5));
		uint8_t t = r;
		r = (uint8_t)(l ^ f);
		l = t;
	}
	return (uint16_t)(l << 8 | r);
}
