/* Connection tracking: netstack/conntrack.h. */
#include "conntrack.h"

#include "lib/siphash.h"
#include "lib/string.h"
#include "uapi/errors.h"

#define CT_NIL 0xffffffffU

static const struct {
	const char *name;
	uint32_t seconds;
} timeouts[] = {
#define CT_TIMEOUT_ROW(name, text, seconds) { text, seconds },
	CT_TIMEOUTS(CT_TIMEOUT_ROW)
#undef CT_TIMEOUT_ROW
};

const char *ct_timeout_name(enum ct_timeout_class c)
{
	return (unsigned)c < CT_TIMEOUT_CLASSES ? timeouts[c].name : "?";
}

uint32_t ct_timeout_default(enum ct_timeout_class c)
{
	return (unsigned)c < CT_TIMEOUT_CLASSES ? timeouts[c].seconds : 0;
}

bool ct_tuple_equal(const struct ct_tuple *a, const struct ct_tuple *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport && a->dport == b->dport &&
	       a->proto == b->proto;
}

/* The tuple's bucket: SipHash of its fields as two 8-byte words (fixed
 * copies: __builtin_memcpy, which the freestanding build would otherwise
 * make a call to a byte loop for every packet). */
static uint32_t bucket_of(const struct conntrack *ct, const struct ct_tuple *t)
{
	uint8_t b[16] = { 0 };

	__builtin_memcpy(b, &t->src, 4);
	__builtin_memcpy(b + 4, &t->dst, 4);
	__builtin_memcpy(b + 8, &t->sport, 2);
	__builtin_memcpy(b + 10, &t->dport, 2);
	b[12] = t->proto;
	return (uint32_t)siphash24(ct->key, b, sizeof(b)) & ct->bucket_mask;
}

/* Buckets: a power of two at least twice the entries (each entry is in two
 * chains), so chains average one node. */
static uint32_t bucket_count(uint32_t max)
{
	uint32_t n = 1;

	while (n < 2 * max)
		n <<= 1;
	return n;
}

size_t conntrack_memory_size(uint32_t max)
{
	if (max == 0 || max > CT_MAX_ENTRIES)
		return 0;
	return (size_t)max * sizeof(struct ct_entry) + (size_t)bucket_count(max) * sizeof(uint32_t);
}

int conntrack_init(struct conntrack *ct, void *memory, size_t size, uint32_t max, const uint8_t key[16])
{
	if (max == 0 || max > CT_MAX_ENTRIES || size < conntrack_memory_size(max) || (uintptr_t)memory % 8)
		return -ERR_INVALID_ARG;
	*ct = (struct conntrack){ .entries = memory, .max = max };
	ct->buckets = (uint32_t *)(ct->entries + max);
	ct->bucket_mask = bucket_count(max) - 1;
	memcpy(ct->key, key, sizeof(ct->key));
	for (unsigned c = 0; c < CT_TIMEOUT_CLASSES; c++)
		ct->timeout_ms[c] = (uint64_t)timeouts[c].seconds * 1000;
	conntrack_flush(ct);
	ct->counters = (struct ct_counters){ 0 };
	return 0;
}

int conntrack_set_timeout(struct conntrack *ct, enum ct_timeout_class c, uint32_t seconds)
{
	if ((unsigned)c >= CT_TIMEOUT_CLASSES || seconds == 0 || seconds > CT_TIMEOUT_MAX)
		return -ERR_INVALID_ARG;
	ct->timeout_ms[c] = (uint64_t)seconds * 1000;
	return 0;
}

unsigned conntrack_set_timeouts(struct conntrack *ct, const uint32_t seconds[CT_TIMEOUT_CLASSES])
{
	unsigned bad = 0;

	for (unsigned c = 0; c < CT_TIMEOUT_CLASSES; c++)
		if (!seconds[c] || conntrack_set_timeout(ct, (enum ct_timeout_class)c, seconds[c])) {
			bad += seconds[c] != 0;
			ct->timeout_ms[c] = (uint64_t)timeouts[c].seconds * 1000;
		}
	return bad;
}

void conntrack_flush(struct conntrack *ct)
{
	if (!ct->max)
		return;         /* never made: no memory */
	ct->counters.removed += ct->count;
	ct->count = 0;
	for (uint32_t i = 0; i < ct->max; i++)
		ct->entries[i] = (struct ct_entry){ .lru_next = i + 1 < ct->max ? i + 1 : CT_NIL };
	ct->free_head = 0;
	for (uint32_t b = 0; b <= ct->bucket_mask; b++)
		ct->buckets[b] = CT_NIL;
	for (unsigned c = 0; c < CT_TIMEOUT_CLASSES; c++)
		ct->lru[c].head = ct->lru[c].tail = CT_NIL;
}

static uint32_t index_of(const struct conntrack *ct, const struct ct_entry *e)
{
	return (uint32_t)(e - ct->entries);
}

static void lru_unlink(struct conntrack *ct, struct ct_entry *e)
{
	if (e->lru_prev == CT_NIL)
		ct->lru[e->timeout_class].head = e->lru_next;
	else
		ct->entries[e->lru_prev].lru_next = e->lru_next;
	if (e->lru_next == CT_NIL)
		ct->lru[e->timeout_class].tail = e->lru_prev;
	else
		ct->entries[e->lru_next].lru_prev = e->lru_prev;
}

static void lru_append(struct conntrack *ct, struct ct_entry *e)
{
	uint32_t i = index_of(ct, e), tail = ct->lru[e->timeout_class].tail;

	e->lru_prev = tail;
	e->lru_next = CT_NIL;
	if (tail == CT_NIL)
		ct->lru[e->timeout_class].head = i;
	else
		ct->entries[tail].lru_next = i;
	ct->lru[e->timeout_class].tail = i;
}

/* The class an entry's timeout follows now. */
static enum ct_timeout_class class_of(const struct ct_entry *e)
{
	bool replied = e->flags & CT_F_REPLIED;

	switch (e->tuple[CT_ORIGINAL].proto) {
	case CT_PROTO_TCP:
		return (enum ct_timeout_class)(CT_T_TCP_SYN_SENT + e->tcp_state - CT_TCP_SYN_SENT);
	case CT_PROTO_ICMP:
		return replied ? CT_T_ICMP_REPLIED : CT_T_ICMP_UNREPLIED;
	default:
		return replied ? CT_T_UDP_REPLIED : CT_T_UDP_UNREPLIED;
	}
}

/* Seen now: the entry moves to the tail of its (maybe new) class. */
static void touch(struct conntrack *ct, struct ct_entry *e, uint64_t now)
{
	uint8_t c = (uint8_t)class_of(e);

	if (c != e->timeout_class || e->lru_next != CT_NIL) {   /* else already last of its class */
		lru_unlink(ct, e);
		e->timeout_class = c;
		lru_append(ct, e);
	}
	e->expires = now + ct->timeout_ms[c];
}

static void chain_unlink(struct conntrack *ct, struct ct_entry *e, enum ct_dir d)
{
	uint32_t node = index_of(ct, e) * 2 + d;
	uint32_t *link = &ct->buckets[bucket_of(ct, &e->tuple[d])];

	while (*link != CT_NIL) {
		if (*link == node) {
			*link = e->hash_next[d];
			return;
		}
		link = &ct->entries[*link >> 1].hash_next[*link & 1];
	}
}

void conntrack_remove(struct conntrack *ct, struct ct_entry *e)
{
	if (!(e->flags & CT_F_USED))
		return;
	chain_unlink(ct, e, CT_ORIGINAL);
	chain_unlink(ct, e, CT_REPLY);
	lru_unlink(ct, e);
	*e = (struct ct_entry){ .lru_next = ct->free_head };
	ct->free_head = index_of(ct, e);
	ct->count--;
}

/* The live entry with tuple t in direction *dir; an expired one found on
 * the way is removed. */
static struct ct_entry *find(struct conntrack *ct, const struct ct_tuple *t, uint64_t now, enum ct_dir *dir)
{
	if (!ct->max)
		return 0;       /* never made: empty */
	uint32_t node = ct->buckets[bucket_of(ct, t)];

	while (node != CT_NIL) {
		struct ct_entry *e = &ct->entries[node >> 1];
		enum ct_dir d = (enum ct_dir)(node & 1);
		if (ct_tuple_equal(&e->tuple[d], t)) {
			if (e->expires <= now) {
				conntrack_remove(ct, e);
				ct->counters.expired++;
				return 0;
			}
			if (dir)
				*dir = d;
			return e;
		}
		node = e->hash_next[d];
	}
	return 0;
}

bool conntrack_tuple_taken(struct conntrack *ct, const struct ct_tuple *t, uint64_t now)
{
	return find(ct, t, now, 0) != 0;
}

unsigned conntrack_expire(struct conntrack *ct, uint64_t now, unsigned budget)
{
	unsigned removed = 0;

	if (!ct->max)
		return 0;       /* never made: its lists are not set up */
	for (unsigned c = 0; c < CT_TIMEOUT_CLASSES && removed < budget; c++) {
		while (removed < budget && ct->lru[c].head != CT_NIL &&
		       ct->entries[ct->lru[c].head].expires <= now) {
			conntrack_remove(ct, &ct->entries[ct->lru[c].head]);
			ct->counters.expired++;
			removed++;
		}
	}
	return removed;
}

static bool is_icmp_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == 4 /* source quench */ || type == 5 /* redirect */ ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROBLEM;
}

bool ct_parse_quote(const uint8_t *q, size_t len, struct ct_tuple *t)
{
	if (len < 20 || q[0] >> 4 != 4)
		return false;
	size_t ihl = (size_t)(q[0] & 0xf) * 4;
	uint16_t frag = (uint16_t)(q[6] << 8 | q[7]);
	if (ihl < 20 || len < ihl + 8 || (frag & 0x1fff))
		return false;
	*t = (struct ct_tuple){ .proto = q[9] };
	__builtin_memcpy(&t->src, q + 12, 4);
	__builtin_memcpy(&t->dst, q + 16, 4);
	const uint8_t *l4 = q + ihl;
	if (t->proto == CT_PROTO_TCP || t->proto == CT_PROTO_UDP) {
		t->sport = (uint16_t)(l4[0] << 8 | l4[1]);
		t->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	} else if (t->proto == CT_PROTO_ICMP) {
		if (l4[0] != ICMP_ECHO_REQUEST && l4[0] != ICMP_ECHO_REPLY)
			return false;
		t->sport = (uint16_t)(l4[4] << 8 | l4[5]);
		t->dport = l4[0];
	}
	return true;
}

/* Whether p may start a connection: for TCP a SYN, or an ACK without
 * SYN, FIN or RST (picked up in the middle). */
static bool starts_connection(const struct ct_packet *p)
{
	if (p->tuple.proto == CT_PROTO_TCP) {
		uint8_t f = p->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN);
		return f == TCP_SYN || f == TCP_ACK;
	}
	if (p->tuple.proto == CT_PROTO_ICMP)
		return p->icmp_type == ICMP_ECHO_REQUEST;
	return true;
}

static void classify_icmp_error(struct conntrack *ct, const struct ct_packet *p, uint64_t now,
				struct ct_match *m)
{
	struct ct_tuple quoted, mine;

	/* The quoted datagram went the other way: the error carries the
	 * inverse of its tuple in the direction the error travels. */
	if (!ct_parse_quote(p->quote, p->quote_len, &quoted))
		return;
	mine = ct_tuple_invert(&quoted);
	m->entry = find(ct, &mine, now, &m->dir);
	if (m->entry)
		m->state = CT_RELATED;
}

/* Before e's flags take packet p (as Linux's): TCP is assured once
 * established and answered (a connection picked up in the middle by a
 * packet after its first reply), UDP (and the rest) by a packet after its
 * reply; ICMP never. */
static void assure(struct ct_entry *e)
{
	uint8_t proto = e->tuple[CT_ORIGINAL].proto;

	if (proto == CT_PROTO_TCP ? e->tcp_state == CT_TCP_ESTABLISHED && (e->flags & CT_F_REPLIED)
				  : proto != CT_PROTO_ICMP && (e->flags & CT_F_REPLIED))
		e->flags |= CT_F_ASSURED;
}

void conntrack_classify(struct conntrack *ct, const struct ct_packet *p, uint64_t now, struct ct_match *m)
{
	*m = (struct ct_match){ .state = CT_INVALID };
	if (p->tuple.proto == CT_PROTO_ICMP && is_icmp_error(p->icmp_type)) {
		classify_icmp_error(ct, p, now, m);
	} else if (p->tuple.proto == CT_PROTO_ICMP && p->icmp_type != ICMP_ECHO_REQUEST &&
		   p->icmp_type != ICMP_ECHO_REPLY) {
		m->state = CT_NEW;      /* untracked (timestamps, router adverts): the rules decide */
	} else {
		struct ct_entry *e = find(ct, &p->tuple, now, &m->dir);
		if (e && e->tuple[0].proto == CT_PROTO_TCP && e->tcp_state >= CT_TCP_TIME_WAIT &&
		    ct_tcp_reopens(e, m->dir, p)) {
			conntrack_remove(ct, e);
			e = 0;
		}
		if (!e) {
			if (starts_connection(p))
				m->state = CT_NEW;
		} else if (e->tuple[0].proto != CT_PROTO_TCP || ct_tcp_update(e, m->dir, p)) {
			assure(e);
			if (m->dir == CT_REPLY)
				e->flags |= CT_F_REPLIED;
			touch(ct, e, now);
			m->entry = e;
			m->state = e->flags & CT_F_REPLIED ? CT_ESTABLISHED : CT_NEW;
		}
	}
	if (m->state == CT_INVALID) {
		m->entry = 0;
		ct->counters.invalid++;
	}
}

#define EARLY_DROP_SCAN 8        /* entries looked at from each class's head */

/* A slot for a new entry: a free one, else the oldest entry not assured
 * among the first EARLY_DROP_SCAN of each class (as Linux's early_drop,
 * which looks at a few of one bucket), else none. */
static struct ct_entry *take_slot(struct conntrack *ct)
{
	struct ct_entry *oldest = 0;
	uint64_t oldest_seen = 0;

	if (!ct->max)
		return 0;
	if (ct->free_head == CT_NIL) {
		for (unsigned c = 0; c < CT_TIMEOUT_CLASSES; c++) {
			uint32_t i = ct->lru[c].head;
			for (unsigned k = 0; k < EARLY_DROP_SCAN && i != CT_NIL; k++, i = ct->entries[i].lru_next) {
				struct ct_entry *e = &ct->entries[i];
				uint64_t seen = e->expires - ct->timeout_ms[c];
				if (e->flags & CT_F_ASSURED)
					continue;
				if (!oldest || seen < oldest_seen) {
					oldest = e;
					oldest_seen = seen;
				}
				break;
			}
		}
		if (!oldest)
			return 0;
		conntrack_remove(ct, oldest);
		ct->counters.early_dropped++;
	}
	struct ct_entry *e = &ct->entries[ct->free_head];
	ct->free_head = e->lru_next;
	return e;
}

static void chain_insert(struct conntrack *ct, struct ct_entry *e, enum ct_dir d)
{
	uint32_t *head = &ct->buckets[bucket_of(ct, &e->tuple[d])];

	e->hash_next[d] = *head;
	*head = index_of(ct, e) * 2 + d;
}

int conntrack_confirm(struct conntrack *ct, const struct ct_packet *p, const struct ct_tuple *reply,
		      uint64_t now, struct ct_entry **out)
{
	struct ct_tuple inverted = ct_tuple_invert(&p->tuple);

	if (!starts_connection(p) || (reply && reply->proto != p->tuple.proto))
		return -ERR_INVALID_ARG;
	if (!reply)
		reply = &inverted;
	if (find(ct, &p->tuple, now, 0) || find(ct, reply, now, 0))
		return -ERR_BUSY;
	struct ct_entry *e = take_slot(ct);
	if (!e) {
		ct->counters.refused_full++;
		return -ERR_NO_MEMORY;
	}
	*e = (struct ct_entry){ .flags = CT_F_USED, .lru_prev = CT_NIL, .lru_next = CT_NIL };
	e->tuple[CT_ORIGINAL] = p->tuple;
	e->tuple[CT_REPLY] = *reply;
	/* An ICMP echo's identifier (sport both ways) changes with source NAT. */
	bool icmp = p->tuple.proto == CT_PROTO_ICMP;
	if (reply->dst != inverted.dst || (icmp ? reply->sport != inverted.sport : reply->dport != inverted.dport))
		e->flags |= CT_F_SNAT;
	if (reply->src != inverted.src || (!icmp && reply->sport != inverted.sport))
		e->flags |= CT_F_DNAT;
	if (p->tuple.proto == CT_PROTO_TCP && (p->tcp_flags & TCP_SYN))
		ct_tcp_start(e, p);
	else if (p->tuple.proto == CT_PROTO_TCP)
		ct_tcp_pick_up(e, p);
	e->timeout_class = (uint8_t)class_of(e);
	e->expires = now + ct->timeout_ms[e->timeout_class];
	lru_append(ct, e);
	chain_insert(ct, e, CT_ORIGINAL);
	chain_insert(ct, e, CT_REPLY);
	ct->count++;
	ct->counters.inserted++;
	if (out)
		*out = e;
	return 0;
}

struct ct_entry *conntrack_next(struct conntrack *ct, uint32_t *cursor)
{
	for (; *cursor < ct->max; (*cursor)++)
		if (ct->entries[*cursor].flags & CT_F_USED)
			return &ct->entries[(*cursor)++];
	return 0;
}
