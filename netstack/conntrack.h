/*
 * Connection tracking: which connection an IPv4 packet belongs to, in
 * which direction, and in what state, for the firewall's `ct state`
 * matches and for NAT. Pure logic (conntrack.c, conntrack_tcp.c): no
 * system calls, no allocation (the caller gives the table its memory), time
 * passed in; unit-tested on the host. Design, states and timeouts with
 * their sources: docs/firewall.md.
 *
 * An entry holds a connection's two tuples, as its packets carry them in
 * each direction: [CT_ORIGINAL] from the initiator, [CT_REPLY] from the
 * responder. Without NAT the reply tuple is the original one inverted; NAT
 * chooses another (nat.c), so that translated replies are found too. Both
 * tuples index the table through a hash keyed by a secret (SipHash-2-4,
 * lib/siphash.h), so that senders on the network cannot flood one bucket.
 *
 * Expiry: every entry is on the list of its timeout class (one per TCP
 * state, UDP and ICMP before and after a reply); within a class the timeout
 * is one constant, so a list kept in order of last use is also in order of
 * expiry, and conntrack_expire() takes expired entries from the heads only.
 * A lookup treats an expired entry as gone.
 *
 * Addresses are in network byte order (as lwIP keeps them), ports and ICMP
 * identifiers in host order. Times are milliseconds of a monotonic clock.
 * The table is used by one thread (the netstack's).
 */
#ifndef MICA_NETSTACK_CONNTRACK_H
#define MICA_NETSTACK_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ct_timeouts.h"

#define CT_DEFAULT_MAX 65536            /* entries, as the configuration's default */
#define CT_MAX_ENTRIES (1U << 24)       /* the largest table init accepts */

#define CT_PROTO_ICMP 1
#define CT_PROTO_TCP 6
#define CT_PROTO_UDP 17

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/*
 * One direction of a connection. TCP, UDP: ports. ICMP echo: sport is the
 * identifier, dport the type (8 request, 0 reply). Other protocols:
 * addresses only (ports 0).
 */
struct ct_tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

enum ct_dir { CT_ORIGINAL, CT_REPLY };

/* The tuple a reply to a packet of t carries (addresses and ports swapped;
 * ICMP echo request and reply swapped). Inline: every translated packet
 * asks. */
static inline struct ct_tuple ct_tuple_invert(const struct ct_tuple *t)
{
	struct ct_tuple r = { .src = t->dst, .dst = t->src, .sport = t->dport, .dport = t->sport,
			      .proto = t->proto };

	if (t->proto == CT_PROTO_ICMP) {
		r.sport = t->sport;
		r.dport = t->dport == ICMP_ECHO_REQUEST ? ICMP_ECHO_REPLY : ICMP_ECHO_REQUEST;
	}
	return r;
}
bool ct_tuple_equal(const struct ct_tuple *a, const struct ct_tuple *b);

/* The class's name as the configuration spells it ("tcp established"). */
const char *ct_timeout_name(enum ct_timeout_class c);
/* Linux's default, seconds. */
uint32_t ct_timeout_default(enum ct_timeout_class c);

/* TCP states (docs/firewall.md has the transition table). */
enum ct_tcp_state {
	CT_TCP_NONE,
	CT_TCP_SYN_SENT,        /* the initiator's SYN seen */
	CT_TCP_SYN_RECV,        /* the responder's SYN+ACK seen */
	CT_TCP_ESTABLISHED,     /* the initiator acknowledged the SYN+ACK */
	CT_TCP_FIN_WAIT,        /* a FIN from one side (the closer) */
	CT_TCP_CLOSE_WAIT,      /* the other side acknowledged it */
	CT_TCP_LAST_ACK,        /* a FIN from the other side too */
	CT_TCP_TIME_WAIT,       /* the closer acknowledged the last FIN */
	CT_TCP_CLOSE,           /* a reset */
	CT_TCP_STATES
};
const char *ct_tcp_state_name(enum ct_tcp_state s);

/* The state a packet has for the rules (nftables' ct state). */
enum ct_state {
	CT_NEW,                 /* starts a connection, or the initiator's before any reply */
	CT_ESTABLISHED,         /* of a connection that has seen a reply */
	CT_RELATED,             /* an ICMP error about a tracked connection */
	CT_INVALID,             /* none of those: malformed, out of window, unmatched */
};

/* One direction's TCP sequence space (Rooij's "Real stateful TCP packet
 * filtering in IP Filter", 2001, as Linux's tcp_in_window() follows it). */
struct ct_tcp_side {
	uint32_t end;           /* highest seq + len sent */
	uint32_t maxend;        /* highest the other side's ack + window allow */
	uint32_t maxwin;        /* largest window (scaled) it advertised; 0: unknown yet */
	uint32_t maxack;        /* highest ack it sent (valid once acked) */
	uint8_t wscale;         /* its window scale, 0..14 */
	uint8_t acked;          /* it sent an ACK: maxack holds */
};

/* Entry flags. */
#define CT_F_USED 0x01
#define CT_F_REPLIED 0x02       /* a packet in the reply direction was seen */
#define CT_F_SNAT 0x04          /* the reply tuple's destination differs: source NAT */
#define CT_F_DNAT 0x08          /* the reply tuple's source differs: destination NAT */
#define CT_F_CLOSER_REPLY 0x10  /* TCP: the responder sent the first FIN */
#define CT_F_ASSURED 0x20       /* not early-dropped: TCP established and answered, UDP
				 * seen again after its reply (ICMP never) */
#define CT_F_PICKED_UP 0x40     /* TCP: tracked from the middle (no handshake seen):
				 * windows followed but not enforced */

struct ct_entry {
	struct ct_tuple tuple[2];       /* [enum ct_dir] */
	uint64_t expires;               /* ms */
	uint32_t hash_next[2];          /* the bucket chains: node = index * 2 + dir */
	uint32_t lru_prev, lru_next;    /* its class's list; lru_next links the free list */
	uint8_t timeout_class;
	uint8_t tcp_state;
	uint8_t flags;
	struct ct_tcp_side tcp[2];      /* [enum ct_dir] */
};

/* Counters (the console shows them): name, meaning. */
#define CT_COUNTERS(X)                                                  \
	X(inserted, "connections added")                                \
	X(expired, "connections that timed out")                        \
	X(early_dropped, "connections not assured dropped for a new one in a full table") \
	X(refused_full, "new connections refused: the table was full")  \
	X(invalid, "packets classified invalid")                        \
	X(removed, "connections removed (flush, reopen)")

struct ct_counters {
#define CT_COUNTER_FIELD(name, text) uint64_t name;
	CT_COUNTERS(CT_COUNTER_FIELD)
#undef CT_COUNTER_FIELD
};

struct conntrack {
	struct ct_entry *entries;       /* [max] */
	uint32_t *buckets;              /* [bucket_mask + 1]: first node of each chain */
	uint32_t max, count, bucket_mask;
	uint32_t free_head;
	struct { uint32_t head, tail; } lru[CT_TIMEOUT_CLASSES];
	uint64_t timeout_ms[CT_TIMEOUT_CLASSES];
	uint8_t key[16];
	struct ct_counters counters;
};

/* What the tracker needs of a packet (the caller parses the headers). */
struct ct_packet {
	struct ct_tuple tuple;
	/* TCP */
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t window;                /* as in the header (unscaled) */
	uint8_t wscale;                 /* the SYN's window scale option; CT_WSCALE_NONE */
	uint16_t payload;               /* TCP payload bytes */
	/* ICMP */
	uint8_t icmp_type, icmp_code;
	const uint8_t *quote;           /* an ICMP error: the bytes after its 8-byte header */
	size_t quote_len;
};
#define CT_WSCALE_NONE 0xff

/* The result of classifying a packet. */
struct ct_match {
	enum ct_state state;
	struct ct_entry *entry;         /* the connection; 0 for NEW without an entry and INVALID */
	enum ct_dir dir;                /* the packet's direction in it */
};

/* Bytes of memory a table of max entries needs (entries and buckets). */
size_t conntrack_memory_size(uint32_t max);

/*
 * Make an empty table of max entries (1..CT_MAX_ENTRIES) in memory
 * (conntrack_memory_size(max) bytes, 8-byte aligned), hashed with key
 * (16 secret random bytes), Linux's default timeouts. Returns 0 or
 * -ERR_INVALID_ARG (max out of range, memory too small or misaligned).
 */
int conntrack_init(struct conntrack *ct, void *memory, size_t size, uint32_t max, const uint8_t key[16]);

/* A table never made (all zero, as a static one starts) is empty: lookups
 * find nothing, expire and flush do nothing, confirm refuses (full). */

/* Set one class's timeout (seconds, 1..CT_TIMEOUT_MAX); existing entries
 * keep theirs until their next packet. -ERR_INVALID_ARG if out of range. */
#define CT_TIMEOUT_MAX (30U * 86400)
int conntrack_set_timeout(struct conntrack *ct, enum ct_timeout_class c, uint32_t seconds);

/* Set every class's timeout from seconds[class] (0: Linux's default), as
 * the configuration's `conntrack timeout` lines give them (a reload puts
 * back the defaults of lines removed). Values out of range are taken as
 * 0; returns how many were. */
unsigned conntrack_set_timeouts(struct conntrack *ct, const uint32_t seconds[CT_TIMEOUT_CLASSES]);

/*
 * Classify packet p at time now: find its connection in either direction
 * (an ICMP error: the connection of the datagram it quotes), update its
 * state, timeout and TCP window, and say what it is for the rules. A TCP
 * segment out of the window or not fitting the state machine is INVALID
 * and changes nothing. A reset of a connection past the handshake closes
 * it only at the exact sequence the receiver expects (the highest it
 * acknowledged, or the sender's next): other in-window resets pass and
 * change nothing, those before the receiver's acknowledgement are INVALID
 * (RFC 5961 3.2, as Linux's tracker: a blind reset cannot close). A SYN of the initiator to a connection in TIME_WAIT
 * or CLOSE removes it (the segment is NEW: a new connection reuses the
 * ports). A TCP segment without a connection is NEW when it is a SYN, or
 * an ACK without SYN, FIN or RST (a connection picked up in the middle,
 * after a flush or a restart, as Linux's nf_conntrack_tcp_loose=1, its
 * default); other segments are INVALID. Never fails: whatever the packet holds, the result is one of the
 * states.
 */
void conntrack_classify(struct conntrack *ct, const struct ct_packet *p, uint64_t now, struct ct_match *m);

/*
 * Add the connection a NEW packet p starts (after the rules accepted it),
 * with reply tuple reply (0: p's tuple inverted; NAT gives its own).
 * Returns 0 (*out, if given, is the entry), -ERR_INVALID_ARG (p cannot
 * start a connection: a TCP segment other than a SYN, an ICMP message
 * other than an echo request), -ERR_BUSY (either tuple is in the table:
 * the caller classified p wrongly or the NAT clashes), -ERR_NO_MEMORY (the
 * table is full and has no connection to drop: counted in refused_full).
 * A full table drops the oldest connection not assured (CT_F_ASSURED, as
 * Linux's early drop), among the first few of each timeout class.
 */
int conntrack_confirm(struct conntrack *ct, const struct ct_packet *p, const struct ct_tuple *reply,
		      uint64_t now, struct ct_entry **out);

/* Whether a live entry carries tuple t in either direction (NAT's port
 * choice asks this). */
bool conntrack_tuple_taken(struct conntrack *ct, const struct ct_tuple *t, uint64_t now);

/* Remove expired entries, at most budget of them, from the heads of the
 * class lists; returns how many were removed. Work is O(removed + classes). */
unsigned conntrack_expire(struct conntrack *ct, uint64_t now, unsigned budget);

/* Remove one entry, or all. */
void conntrack_remove(struct conntrack *ct, struct ct_entry *e);
void conntrack_flush(struct conntrack *ct);

/* The next used entry at or after *cursor (start at 0), for listing; 0 at
 * the end. */
struct ct_entry *conntrack_next(struct conntrack *ct, uint32_t *cursor);

/*
 * e as Linux's `conntrack -L` prints one, seconds left counted from now:
 *   tcp 6 431999 ESTABLISHED src=A dst=B sport=P dport=Q src=B dst=C sport=Q dport=R
 *   udp 17 29 src=A dst=B sport=P dport=Q [UNREPLIED] src=B dst=A sport=Q dport=P
 *   icmp 1 29 src=A dst=B type=8 code=0 id=N src=B dst=A type=0 code=0 id=N
 * (conntrack_format.c). Cut to size; returns buf.
 */
char *conntrack_format_entry(char *buf, size_t size, const struct ct_entry *e, uint64_t now);

/*
 * The tuple of the datagram an ICMP error quotes: quote[0..len) is its IP
 * header and at least the first 8 bytes of its payload (RFC 792). False if
 * the quote is too short, not IPv4, has a bad header length or is a
 * fragment other than the first.
 */
bool ct_parse_quote(const uint8_t *quote, size_t len, struct ct_tuple *t);

/* conntrack_tcp.c, for conntrack.c: the TCP tracker. Start e's TCP state
 * from the SYN p, or (p an ACK without SYN, FIN or RST: a connection
 * picked up in the middle) as established; update e for p in direction
 * dir, returning false (and changing nothing) when p is invalid; whether
 * p reopens e. */
void ct_tcp_start(struct ct_entry *e, const struct ct_packet *p);
void ct_tcp_pick_up(struct ct_entry *e, const struct ct_packet *p);
bool ct_tcp_update(struct ct_entry *e, enum ct_dir dir, const struct ct_packet *p);
bool ct_tcp_reopens(const struct ct_entry *e, enum ct_dir dir, const struct ct_packet *p);

#endif
