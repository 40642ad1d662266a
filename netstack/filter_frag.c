/*
 * Fragments after the first (docs/firewall.md "Fragments"; filter.h): a
 * first fragment's fate is kept, keyed by its source, destination, IP ID
 * and protocol as it arrived, for the later fragments of its datagram,
 * which carry no ports: they are let through and translated as it was,
 * for as long as a reassembly may take.
 */
#include "netstack.h"
#include "filter.h"

#include "lib/inet_csum.h"

#define FRAG_SLOTS 64           /* first fragments remembered for their followers */
#define FRAG_LIFE_MS 30000      /* as long as a reassembly may take (RFC 791's 15 s, doubled) */

static struct frag_slot {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool used;
	uint64_t at;
	struct ct_tuple target;
} frags[FRAG_SLOTS];

static struct frag_slot *frag_slot(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	return &frags[(src ^ dst ^ id ^ proto) % FRAG_SLOTS];
}

void filter_frag_remember(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto, uint64_t now,
			  const struct ct_tuple *target)
{
	*frag_slot(src, dst, id, proto) = (struct frag_slot){ .src = src, .dst = dst, .id = id,
							      .proto = proto, .used = true, .at = now,
							      .target = *target };
}

bool filter_frag_follow(const uint8_t *ip, uint64_t now, struct ct_tuple *target)
{
	uint32_t src, dst;
	uint16_t id = inet_get16(ip + 4);

	__builtin_memcpy(&src, ip + 12, 4);
	__builtin_memcpy(&dst, ip + 16, 4);
	const struct frag_slot *s = frag_slot(src, dst, id, ip[9]);
	if (!s->used || s->src != src || s->dst != dst || s->id != id || s->proto != ip[9] ||
	    now - s->at > FRAG_LIFE_MS)
		return false;
	*target = s->target;
	return true;
}
