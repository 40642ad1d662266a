/*
 * The rules' index (netstack/firewall.h, docs/firewall.md "Cost"): for
 * each chain, the rules that can match a packet, found by one of its
 * fields instead of trying them all.
 *
 * A chain is indexed on the field (ip saddr, ip daddr, sport or dport)
 * that leaves fewest rules to try (on average over the field's
 * intervals, below): the ranges the chain's rules give for
 * it (`ip daddr 10.0.0.0/8`, `tcp dport { 22, 80-89 }`) cut the field's
 * values into intervals, each inside or outside every range; each
 * interval lists, in order, the rules whose ranges hold it. A rule without
 * that match (or with `!=`) can match any value: it is on a list of its
 * own, the wildcards. A packet's rules are its interval's list and the
 * wildcards merged by rule number — in the chain's order, so the first
 * that decides is the one the whole chain would have found: a rule left
 * out cannot match, and a rule that does not match does nothing (its
 * statements run only when its matches hold).
 *
 * Space is bounded (FW_INDEX_BOUNDS intervals, FW_INDEX_ENTRIES listed
 * rules, for all chains); a chain that does not fit, or that no field
 * makes shorter, is walked whole, as before.
 */
#include "firewall.h"

#include "lib/string.h"

#define INDEX_MIN_RULES 4       /* a chain shorter than this is walked */

static const struct fw_set_match *field_of(const struct fw_rule *r, enum fw_index_field f)
{
	switch (f) {
	case FW_INDEX_SADDR:
		return &r->saddr;
	case FW_INDEX_DADDR:
		return &r->daddr;
	case FW_INDEX_SPORT:
		return &r->sport;
	default:
		return &r->dport;
	}
}

static const struct fw_set_match *ranged(const struct fw_rule *r, enum fw_index_field f)
{
	const struct fw_set_match *m = field_of(r, f);

	return m->count && !m->negate ? m : 0;
}

/* Heapsort (no recursion, no memory), then duplicates out: the new n. */
static unsigned sort_unique(uint32_t *a, unsigned n)
{
	for (unsigned end = n, start = n / 2; end > 1;) {
		uint32_t v;
		if (start > 0) {
			v = a[--start];
		} else {
			v = a[--end];
			a[end] = a[0];
		}
		unsigned i = start;
		for (unsigned c; (c = 2 * i + 1) < end; i = c) {
			if (c + 1 < end && a[c + 1] > a[c])
				c++;
			if (a[c] <= v)
				break;
			a[i] = a[c];
		}
		a[i] = v;
	}
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++)
		if (!out || a[i] != a[out - 1])
			a[out++] = a[i];
	return out;
}

/* What indexing a chain on a field gives. */
struct trial {
	unsigned intervals, entries, worst;     /* worst: the longest interval list */
};

/*
 * Cut chain c's values of field f into intervals at x->lo[at..] and count
 * each interval's rules in x->count[at..]. False when they do not fit in
 * the room left (intervals past FW_INDEX_BOUNDS, listed rules past
 * FW_INDEX_ENTRIES).
 */
static bool try_field(const struct firewall_config *cfg, struct fw_index *x, enum fw_chain c,
		      enum fw_index_field f, struct trial *t)
{
	uint32_t *lo = x->lo + x->nbounds;
	uint16_t *count = x->count + x->nbounds;
	unsigned room = FW_INDEX_BOUNDS - x->nbounds, n = 0;
	unsigned first = cfg->chain_first[c], end = first + cfg->chain_count[c];

	*t = (struct trial){ 0 };
	if (room < 2)
		return false;
	lo[n++] = 0;
	for (unsigned i = first; i < end; i++) {
		const struct fw_set_match *m = ranged(&cfg->rules[i], f);
		for (unsigned k = 0; m && k < m->count; k++) {
			const struct fw_range *r = &cfg->ranges[m->first + k];
			if (n + 2 > room)
				n = sort_unique(lo, n);         /* sets shared by rules repeat bounds */
			if (n + 2 > room)
				return false;
			lo[n++] = r->lo;
			if (r->hi != UINT32_MAX)
				lo[n++] = r->hi + 1;
		}
	}
	n = sort_unique(lo, n);
	memset(count, 0, n * sizeof(*count));
	for (unsigned i = first; i < end; i++) {
		const struct fw_set_match *m = ranged(&cfg->rules[i], f);
		for (unsigned k = 0; m && k < m->count; k++) {
			const struct fw_range *r = &cfg->ranges[m->first + k];
			for (unsigned v = fw_index_interval(lo, n, r->lo); v < n && lo[v] <= r->hi; v++) {
				if (x->nentries + ++t->entries > FW_INDEX_ENTRIES)
					return false;
				count[v]++;
			}
		}
	}
	for (unsigned v = 0; v < n; v++)
		if (count[v] > t->worst)
			t->worst = count[v];
	t->intervals = n;
	return true;
}

/* Index chain c on field f (try_field just counted it there). */
static void build(const struct firewall_config *cfg, struct fw_index *x, enum fw_chain c,
		  enum fw_index_field f, const struct trial *t)
{
	struct fw_chain_index *ci = &x->chain[c];
	unsigned first = cfg->chain_first[c], end = first + cfg->chain_count[c], at = x->nbounds;
	uint32_t *lo = x->lo + at;
	uint16_t *start = x->first + at, *count = x->count + at;
	unsigned next = x->nentries;

	for (unsigned v = 0; v < t->intervals; v++) {
		start[v] = (uint16_t)next;
		next += count[v];
		count[v] = 0;
	}
	for (unsigned i = first; i < end; i++) {
		const struct fw_set_match *m = ranged(&cfg->rules[i], f);
		for (unsigned k = 0; m && k < m->count; k++) {
			const struct fw_range *r = &cfg->ranges[m->first + k];
			for (unsigned v = fw_index_interval(lo, t->intervals, r->lo);
			     v < t->intervals && lo[v] <= r->hi; v++)
				x->entries[start[v] + count[v]++] = (uint16_t)i;
		}
	}
	*ci = (struct fw_chain_index){ .field = (uint8_t)f, .first = (uint16_t)at,
				       .intervals = (uint16_t)t->intervals, .wild_first = (uint16_t)next };
	for (unsigned i = first; i < end; i++)
		if (!ranged(&cfg->rules[i], f))
			x->entries[next + ci->wild_count++] = (uint16_t)i;
	x->nbounds = (uint16_t)(at + t->intervals);
	x->nentries = (uint16_t)(next + ci->wild_count);
	ci->most = (uint16_t)(ci->wild_count + t->worst);
}

/* The rules of chain c without a range on field f. */
static unsigned wildcards(const struct firewall_config *cfg, enum fw_chain c, enum fw_index_field f)
{
	unsigned n = 0, first = cfg->chain_first[c];

	for (unsigned i = first; i < first + cfg->chain_count[c]; i++)
		n += !ranged(&cfg->rules[i], f);
	return n;
}

/* Rules a packet tries on average over the intervals, in 1/256ths. */
static uint64_t mean_tried(unsigned wild, const struct trial *t)
{
	return ((uint64_t)wild * t->intervals + t->entries) * 256 / t->intervals;
}

/* Index chain c on the field that leaves fewest rules to try on average
 * over its intervals (a blocklist's addresses are few among all: most
 * packets fall between them), if that is fewer than all. */
static void index_chain(const struct firewall_config *cfg, struct fw_index *x, enum fw_chain c)
{
	enum fw_index_field best = FW_INDEX_NONE;
	uint64_t best_mean = (uint64_t)cfg->chain_count[c] * 256;
	struct trial t;

	x->chain[c] = (struct fw_chain_index){ .field = FW_INDEX_NONE, .most = cfg->chain_count[c] };
	if (cfg->chain_count[c] < INDEX_MIN_RULES)
		return;
	for (enum fw_index_field f = FW_INDEX_SADDR; f <= FW_INDEX_DPORT; f++) {
		unsigned wild = wildcards(cfg, c, f);
		if (wild == cfg->chain_count[c] || !try_field(cfg, x, c, f, &t) ||
		    x->nentries + t.entries + wild > FW_INDEX_ENTRIES)
			continue;
		if (mean_tried(wild, &t) < best_mean) {
			best = f;
			best_mean = mean_tried(wild, &t);
		}
	}
	if (best != FW_INDEX_NONE && try_field(cfg, x, c, best, &t))
		build(cfg, x, c, best, &t);
}

void fw_index_build(struct fw_index *x, const struct firewall_config *cfg)
{
	x->nbounds = x->nentries = 0;
	for (unsigned c = 0; c < FW_CHAINS; c++)
		index_chain(cfg, x, (enum fw_chain)c);
}
