/*
 * Unpredictable TCP initial sequence numbers and IPv4 IDs (idgen.h):
 * SipHash-2-4 (Aumasson and Bernstein's keyed hash, written from its
 * specification) over the connection's or datagram's addresses.
 */
#include "idgen.h"

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13) ^ s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17) ^ s->v2;
	s->v2 = rotl(s->v2, 32);
}

static void sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t idgen_siphash(const struct idgen_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	struct sip s = {
		key->k0 ^ 0x736f6d6570736575ULL, key->k1 ^ 0x646f72616e646f6dULL,
		key->k0 ^ 0x6c7967656e657261ULL, key->k1 ^ 0x7465646279746573ULL,
	};
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t m = 0;
		for (unsigned b = 0; b < 8; b++)
			m |= (uint64_t)p[i + b] << (8 * b);
		sip_word(&s, m);
	}
	uint64_t last = (uint64_t)(len & 0xFF) << 56;
	for (unsigned b = 0; i + b < len; b++)
		last |= (uint64_t)p[i + b] << (8 * b);
	sip_word(&s, last);
	s.v2 ^= 0xFF;
	for (int r = 0; r < 4; r++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
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

uint16_t idgen_ip_id(const struct idgen_key *key, uint16_t counter, uint32_t src, uint32_t dst,
		     uint8_t proto)
{
	uint8_t flow[9];

	for (unsigned b = 0; b < 4; b++) {
		flow[b] = (uint8_t)(src >> (8 * b));
		flow[4 + b] = (uint8_t)(dst >> (8 * b));
	}
	flow[8] = proto;
	/* Four Feistel rounds over the counter's two bytes, the round keys
	 * from the flow's hash: a bijection whatever the round function. */
	uint64_t k = idgen_siphash(key, flow, sizeof(flow));
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

uint16_t idgen_csum_adjust(uint16_t csum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint32_t)(uint16_t)~csum + (uint16_t)~old + new;

	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}
