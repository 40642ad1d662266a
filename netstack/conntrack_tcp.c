/*
 * TCP connection tracking: the state machine and the window checks
 * (netstack/conntrack.h; docs/firewall.md has the table in prose).
 */
#include "conntrack.h"

enum flag_class { F_SYN, F_SYNACK, F_FIN, F_ACK, F_RST, F_NONE, F_CLASSES };

/* Which of the table's rows a segment's flags select. FIN, RST and plain
 * segments without ACK, SYN with FIN or RST, no flags: F_NONE (invalid). */
static enum flag_class flag_class(uint8_t f)
{
	if (f & TCP_RST)
		return f & TCP_SYN ? F_NONE : F_RST;
	if (f & TCP_SYN)
		return f & TCP_FIN ? F_NONE : f & TCP_ACK ? F_SYNACK : F_SYN;
	if (!(f & TCP_ACK))
		return F_NONE;
	return f & TCP_FIN ? F_FIN : F_ACK;
}

#define NO CT_TCP_NONE
#define SS CT_TCP_SYN_SENT
#define SR CT_TCP_SYN_RECV
#define ES CT_TCP_ESTABLISHED
#define FW CT_TCP_FIN_WAIT
#define CW CT_TCP_CLOSE_WAIT
#define LA CT_TCP_LAST_ACK
#define TW CT_TCP_TIME_WAIT
#define CL CT_TCP_CLOSE
#define IV 0xfe         /* invalid: the segment changes nothing */
#define IG 0xfd         /* valid, the state stays (a retransmitted SYN+ACK) */

/*
 * The next state: [side][flags][state]. side 0 is the initiator up to
 * ESTABLISHED and in CLOSE, the side that sent the first FIN from FIN_WAIT
 * to TIME_WAIT; side 1 the other. A SYN of the initiator in TIME_WAIT or
 * CLOSE reopens (ct_tcp_reopens), outside the table.
 */
static const uint8_t next_state[2][F_CLASSES][CT_TCP_STATES] = {
	{
		/*            NO  SS  SR  ES  FW  CW  LA  TW  CL */
		[F_SYN] =    { SS, SS, IV, IV, IV, IV, IV, IV, IV },
		[F_SYNACK] = { IV, IV, IV, IV, IV, IV, IV, IV, IV },
		[F_FIN] =    { IV, IV, FW, FW, FW, CW, LA, TW, CL },
		[F_ACK] =    { IV, IV, ES, ES, FW, CW, TW, TW, CL },
		[F_RST] =    { IV, CL, CL, CL, CL, CL, CL, CL, CL },
		[F_NONE] =   { IV, IV, IV, IV, IV, IV, IV, IV, IV },
	},
	{
		[F_SYN] =    { IV, IV, IV, IV, IV, IV, IV, IV, IV },
		[F_SYNACK] = { IV, SR, SR, IG, IV, IV, IV, IV, IV },
		[F_FIN] =    { IV, IV, FW, FW, LA, LA, LA, TW, CL },
		[F_ACK] =    { IV, IV, IG, ES, CW, CW, LA, TW, CL },
		[F_RST] =    { IV, CL, CL, CL, CL, CL, CL, CL, CL },
		[F_NONE] =   { IV, IV, IV, IV, IV, IV, IV, IV, IV },
	},
};

static const char *const state_names[CT_TCP_STATES] = {
	"none", "syn_sent", "syn_recv", "established", "fin_wait", "close_wait", "last_ack",
	"time_wait", "close",
};

const char *ct_tcp_state_name(enum ct_tcp_state s)
{
	return (unsigned)s < CT_TCP_STATES ? state_names[s] : "?";
}

static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static uint32_t seq_end(const struct ct_packet *p)
{
	return p->seq + p->payload + !!(p->tcp_flags & TCP_SYN) + !!(p->tcp_flags & TCP_FIN);
}

static uint32_t at_least_1(uint32_t w)
{
	return w ? w : 1;
}

void ct_tcp_start(struct ct_entry *e, const struct ct_packet *p)
{
	e->tcp_state = CT_TCP_SYN_SENT;
	e->tcp[CT_REPLY] = (struct ct_tcp_side){ 0 };
	e->tcp[CT_ORIGINAL] = (struct ct_tcp_side){
		.end = seq_end(p), .maxend = seq_end(p), .maxwin = at_least_1(p->window),
		.wscale = p->wscale,
	};
}

/*
 * A connection picked up in the middle (no handshake seen: the table was
 * flushed, or the netstack restarted), from an ACK of its initiator, as
 * Linux's loose tracking: established; the sender's side from this
 * segment, the receiver's from what it acknowledges until it sends
 * itself. The window scales are unknown, so windows are followed but not
 * enforced (Linux's "be liberal" for such connections); the state machine
 * and the reset rules hold.
 */
void ct_tcp_pick_up(struct ct_entry *e, const struct ct_packet *p)
{
	uint32_t end = seq_end(p), win = at_least_1(p->window);

	e->tcp_state = CT_TCP_ESTABLISHED;
	e->flags |= CT_F_PICKED_UP;
	e->tcp[CT_ORIGINAL] = (struct ct_tcp_side){ .end = end, .maxend = end + win, .maxwin = win,
						    .maxack = p->ack, .acked = 1 };
	e->tcp[CT_REPLY] = (struct ct_tcp_side){ .end = p->ack, .maxend = p->ack };
}

/* The first segment from the side of a picked-up connection not heard
 * yet: its side starts from it. */
static void pick_up_side(struct ct_tcp_side *s, const struct ct_packet *p)
{
	uint32_t end = seq_end(p), win = at_least_1(p->window);

	*s = (struct ct_tcp_side){ .end = end, .maxend = end + win, .maxwin = win };
	if (p->tcp_flags & TCP_ACK) {
		s->maxack = p->ack;
		s->acked = 1;
	}
}

bool ct_tcp_reopens(const struct ct_entry *e, enum ct_dir dir, const struct ct_packet *p)
{
	return dir == CT_ORIGINAL && flag_class(p->tcp_flags) == F_SYN &&
	       (e->tcp_state == CT_TCP_TIME_WAIT || e->tcp_state == CT_TCP_CLOSE);
}

/* The responder's SYN+ACK: it must acknowledge the SYN; it starts the
 * reply side and fixes both window scales (RFC 7323 2.2: only when both
 * SYNs carried the option; a SYN's own window is never scaled). */
static bool start_reply(struct ct_entry *e, const struct ct_packet *p)
{
	struct ct_tcp_side *o = &e->tcp[CT_ORIGINAL], *r = &e->tcp[CT_REPLY];

	if (p->ack != o->end)
		return false;
	if (e->tcp_state != CT_TCP_SYN_SENT)
		return true;    /* a retransmission: the sides are set */
	bool scaled = o->wscale != CT_WSCALE_NONE && p->wscale != CT_WSCALE_NONE;
	o->wscale = scaled ? (o->wscale > 14 ? 14 : o->wscale) : 0;
	*r = (struct ct_tcp_side){ .end = seq_end(p), .maxend = seq_end(p), .maxwin = at_least_1(p->window),
				   .wscale = scaled ? (p->wscale > 14 ? 14 : p->wscale) : 0 };
	r->maxack = p->ack;
	r->acked = 1;
	o->maxend = p->ack + p->window + (p->window == 0);
	return true;
}

/*
 * Whether a segment from side s to side r fits what each has sent and
 * allowed (Rooij's four bounds, as Linux's tcp_in_window()): it starts no
 * later than r's window allows, ends no earlier than a window before what
 * s already sent, and acknowledges nothing r has not sent nor more than a
 * window behind it. If so, the sides advance.
 */
static inline __attribute__((always_inline)) bool in_window(struct ct_tcp_side *s, struct ct_tcp_side *r,
							     const struct ct_packet *p, bool liberal)
{
	uint32_t end = seq_end(p);
	uint32_t ack = p->tcp_flags & TCP_ACK ? p->ack : r->end;
	uint32_t win = (uint32_t)p->window << (s->wscale > 14 ? 0 : s->wscale);
	uint32_t maxack = s->maxwin > 66000 ? s->maxwin : 66000;

	if (!liberal && (seq_before(s->maxend, p->seq) || seq_before(end, s->end - r->maxwin) ||
			 seq_before(r->end, ack) || seq_before(ack, r->end - maxack)))
		return false;
	if (seq_before(s->end, end))
		s->end = end;
	if (win > s->maxwin)
		s->maxwin = win;
	if (p->tcp_flags & TCP_ACK && seq_before(r->maxend, ack + win + (win == 0)))
		r->maxend = ack + win + (win == 0);
	if (p->tcp_flags & TCP_ACK && (!s->acked || seq_before(s->maxack, ack))) {
		s->maxack = ack;
		s->acked = 1;
	}
	return true;
}

/*
 * A reset past the handshake (RFC 5961 3.2, as Linux's tracker): -1 if
 * its seq is before what the receiver acknowledged (invalid), 1 if it is
 * exactly what the receiver expects (the highest it acknowledged) or the
 * sender's next sequence (it closes), 0 otherwise (it may be real, as a
 * reset after data the receiver has not acknowledged yet: it passes, so
 * that the receiver can answer with a challenge ACK, and changes nothing).
 */
static int reset_fits(const struct ct_entry *e, enum ct_dir dir, const struct ct_packet *p)
{
	const struct ct_tcp_side *r = &e->tcp[!dir];

	if (r->acked && seq_before(p->seq, r->maxack))
		return -1;
	return (r->acked && p->seq == r->maxack) || p->seq == e->tcp[dir].end;
}

bool ct_tcp_update(struct ct_entry *e, enum ct_dir dir, const struct ct_packet *p)
{
	enum flag_class fc = flag_class(p->tcp_flags);
	unsigned state = e->tcp_state;
	bool closing = state >= CT_TCP_FIN_WAIT && state <= CT_TCP_TIME_WAIT;
	bool closer_reply = e->flags & CT_F_CLOSER_REPLY;
	unsigned side = closing ? (dir == CT_REPLY) != closer_reply : dir == CT_REPLY;
	unsigned next = next_state[side][fc][state];
	bool liberal = e->flags & CT_F_PICKED_UP;

	if (next == IV)
		return false;
	if (state == CT_TCP_SYN_SENT && dir == CT_ORIGINAL && fc == F_SYN) {
		ct_tcp_start(e, p);     /* a retransmission, maybe with a new ISN */
		return true;
	}
	if (fc == F_SYNACK) {
		if (!start_reply(e, p))
			return false;
	} else if (state == CT_TCP_SYN_SENT) {
		/* Only a reset can come now: the responder's must acknowledge
		 * the SYN (RFC 793 p. 37), the initiator's continue it. */
		if (dir == CT_REPLY ? !(p->tcp_flags & TCP_ACK) || p->ack != e->tcp[0].end
				    : p->seq != e->tcp[0].end)
			return false;
	} else if ((e->flags & CT_F_PICKED_UP) && e->tcp[dir].maxwin == 0) {
		if (fc == F_RST && reset_fits(e, dir, p) <= 0)
			return false;   /* a reset from the side not heard yet: only the exact one */
		pick_up_side(&e->tcp[dir], p);
	} else if (e->tcp[CT_REPLY].maxwin == 0 && !liberal) {
		/* Reset before any SYN+ACK: no windows to check against. */
	} else if (fc == F_RST && state >= CT_TCP_ESTABLISHED && state != CT_TCP_CLOSE) {
		int fits = reset_fits(e, dir, p);
		struct ct_tcp_side sides[2] = { e->tcp[0], e->tcp[1] };
		if (fits < 0 || !in_window(&e->tcp[dir], &e->tcp[!dir], p, liberal))
			return false;
		if (!fits) {
			/* Passes, moves nothing: not even the window edges. */
			e->tcp[0] = sides[0];
			e->tcp[1] = sides[1];
			return true;
		}
	} else if (!in_window(&e->tcp[dir], &e->tcp[!dir], p, liberal)) {
		return false;
	}
	if (next == IG)
		return true;
	if (!closing && next == CT_TCP_FIN_WAIT) {
		if (dir == CT_REPLY)
			e->flags |= CT_F_CLOSER_REPLY;
		else
			e->flags &= (uint8_t)~CT_F_CLOSER_REPLY;
	}
	e->tcp_state = (uint8_t)next;
	return true;
}
