/* The IPv4 routing table: netstack/route.h. */
#include "route.h"

#include "lib/config_parser.h"
#include "lib/string.h"
#include "uapi/errors.h"

/* Whether a sorts before b: longer prefix, then lower metric. */
static bool before(const struct route *a, const struct route *b)
{
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len > b->prefix_len;
	return a->metric < b->metric;
}

void route_table_init(struct route_table *t)
{
	t->n = 0;
}

int route_add(struct route_table *t, const struct route *r)
{
	struct route add = *r;
	unsigned at;

	if (add.prefix_len > 32 || add.iface >= 32 || (add.iface < 0 && !add.gateway))
		return -ERR_INVALID_ARG;
	add.mask = config_prefix_mask(add.prefix_len);
	if (add.dest & ~add.mask)
		return -ERR_INVALID_ARG;
	for (unsigned i = 0; i < t->n; i++)
		if (t->routes[i].dest == add.dest && t->routes[i].prefix_len == add.prefix_len &&
		    t->routes[i].metric == add.metric)
			return -ERR_BUSY;
	if (t->n == ROUTE_MAX)
		return -ERR_NO_MEMORY;
	for (at = 0; at < t->n && !before(&add, &t->routes[at]); at++)
		;
	memmove(&t->routes[at + 1], &t->routes[at], (t->n - at) * sizeof(t->routes[0]));
	t->routes[at] = add;
	t->n++;
	return 0;
}

static void remove_at(struct route_table *t, unsigned i)
{
	memmove(&t->routes[i], &t->routes[i + 1], (t->n - i - 1) * sizeof(t->routes[0]));
	t->n--;
}

int route_del(struct route_table *t, uint32_t dest, unsigned prefix_len, int metric)
{
	/* sorted by metric within a prefix: the first match has the lowest */
	for (unsigned i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];
		if (r->dest == dest && r->prefix_len == prefix_len && (metric < 0 || r->metric == metric)) {
			remove_at(t, i);
			return 0;
		}
	}
	return -ERR_INVALID_ARG;
}

unsigned route_del_iface(struct route_table *t, unsigned iface, enum route_origin origin)
{
	unsigned removed = 0;

	for (unsigned i = 0; i < t->n;) {
		if (t->routes[i].iface == (int)iface && t->routes[i].origin == origin) {
			remove_at(t, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

static bool is_up(uint32_t up, int iface)
{
	return iface >= 0 && (up >> iface & 1);
}

/* The up interface whose connected network holds a (a gateway). */
static int connected_iface(const struct route_table *t, uint32_t a, uint32_t up, int want)
{
	for (unsigned i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];
		if (r->origin == ROUTE_CONNECTED && (a & r->mask) == r->dest && is_up(up, r->iface) &&
		    (want < 0 || r->iface == want))
			return r->iface;
	}
	return -1;
}

bool route_lookup(const struct route_table *t, uint32_t dst, uint32_t up, struct route_hop *hop)
{
	for (unsigned i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];
		int iface = r->iface;
		if ((dst & r->mask) != r->dest)
			continue;
		if (r->gateway)         /* reached directly, on a connected network */
			iface = connected_iface(t, r->gateway, up, r->iface);
		if (!is_up(up, iface))
			continue;
		hop->iface = (unsigned)iface;
		hop->next_hop = r->gateway ? r->gateway : dst;
		hop->route = r;
		return true;
	}
	return false;
}
