/*
 * What the netstack checks in what arrives from the wire, beyond lwIP
 * 2.1.3's own checks, through lwIP's hooks (port/netstack_hooks.h) and the
 * netif's input: a hostile host must get no answer to a datagram from an
 * impossible source, no length field may disagree with what arrived, a
 * peer cannot make its connection unusable with a tiny MSS, half-open
 * connections are bounded (half_open.h), a SYN cannot change a half-open
 * connection, challenge ACKs are limited (RFC 5961), so are the answers
 * of half-open and TIME-WAIT connections, and TCP initial
 * sequence numbers are RFC 6528's. docs/netstack.md, "Hardening".
 */
#include "netstack.h"

#include "lib/inet_csum.h"

#include "dhcp_reply.h"
#include "half_open.h"
#include "idgen.h"
#include "ip4_options.h"
#include "lwip/dhcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/etharp.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define MSS_FLOOR   48          /* Linux's tcp_min_snd_mss */
#define MSS_DEFAULT 536         /* RFC 9293: what a peer without the option gets */
#define OOSEQ_PBUFS_LOW 8       /* per connection while a pool runs low */
#define OOSEQ_AGE_MS    10000   /* out-of-order data kept after a connection's last segment */
#define OOSEQ_AGE_LOW_MS 1000   /* ... while the pool runs low */

static struct idgen_key key;
static struct guard_counters counters;
static uint8_t birth_arg;       /* the pcbs' ext arg of half_open_birth */
static uint8_t answer_arg;      /* ... of answer_allowed */

void guard_init(void)
{
	const char *source = entropy_key(&key);
	printf("netstack: TCP sequence numbers and IP IDs keyed from %s\n", source);
}

/* lwIP frees a connection's out-of-order queue 6 RTOs after its last
 * segment, but the RTO doubles with each retransmission: a peer that goes
 * silent while we retransmit (our FIN, data it never acknowledges) left
 * its segments held for minutes. Here they go OOSEQ_AGE_MS after the
 * connection's last segment whatever its state and RTO (the peer sends
 * them again after the gap; lwIP 2.1.3 sends no SACK). */
static void ooseq_age(void *arg)
{
	u32_t age = (iface_pool_low() ? OOSEQ_AGE_LOW_MS : OOSEQ_AGE_MS) / TCP_SLOW_INTERVAL;

	(void)arg;
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		if (pcb->ooseq && tcp_ticks - pcb->tmr >= age) {
			tcp_free_ooseq(pcb);
			counters.tcp_ooseq_aged++;
		}
	sys_timeout(TCP_SLOW_INTERVAL, ooseq_age, NULL);
}

void guard_start(void)
{
	birth_arg = tcp_ext_arg_alloc_id();
	answer_arg = tcp_ext_arg_alloc_id();
	sys_timeout(TCP_SLOW_INTERVAL, ooseq_age, NULL);
}

uint64_t guard_seed(void)
{
	return idgen_siphash(&key, "LWIP_RAND", 9);
}

const struct guard_counters *guard_counters(void)
{
	return &counters;
}

/* A source no host can have: "this network" (0/8), loopback, multicast,
 * reserved and the limited broadcast (224/3), the arrival interface's
 * subnet broadcast, an address of our own (a reply would come back to
 * us), or the network or broadcast address of any of our networks of /30
 * or wider (/31 and /32 have neither, RFC 3021). */
static bool bad_source(const ip4_addr_t *src, struct netif *inp)
{
	uint8_t first = ip4_addr1(src);
	uint32_t a = ip4_addr_get_u32(src);
	struct netif *n;

	if (first == 0 || first == 127 || first >= 224 || ip4_addr_isbroadcast(src, inp))
		return true;
	NETIF_FOREACH(n) {
		uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(n));
		uint32_t net = ip4_addr_get_u32(netif_ip4_addr(n)) & mask;
		if (ip4_addr_cmp(src, netif_ip4_addr(n)))
			return true;
		if (!ip4_addr_isany(netif_ip4_addr(n)) && lwip_ntohl(~mask) >= 3 &&
		    (a == net || a == (net | ~mask)))
			return true;
	}
	return false;
}

/* Set a 16-bit header field that the IPv4 header checksum covers, keeping
 * the checksum right (or as wrong as it was: RFC 1624). */
static void ip4_set16(uint8_t *iph, unsigned at, uint16_t v)
{
	inet_put16(iph + 10, inet_csum_replace16(inet_get16(iph + 10), inet_get16(iph + at), v));
	inet_put16(iph + at, v);
}

/* A UDP datagram's length field against the IP payload it came in:
 * -1 when it cannot be right (smaller than the header, or past the
 * payload), else the length to keep. */
static long udp_length(uint16_t field, uint32_t payload)
{
	if (field < 8 || field > payload)
		return -1;
	return field;
}

static void udp_length_drop(struct pbuf *p)
{
	UDP_STATS_INC(udp.lenerr);
	UDP_STATS_INC(udp.drop);
	pbuf_free(p);
}

/* A header's options: malformed ones (ip4_options.h) and source routes
 * (as Linux with accept_source_route=0) are dropped here, to us and to be
 * forwarded alike, and counted; others are ignored. False when p was
 * dropped (and freed). A header longer than the frame is lwIP's to drop. */
static bool ip4_options_pass(struct pbuf *p)
{
	const uint8_t *iph = p->payload;
	unsigned hlen = (iph[0] & 0xF) * 4u;

	if (hlen <= IP_HLEN || hlen > p->len)
		return true;
	switch (ip4_options_check(iph + IP_HLEN, hlen - IP_HLEN)) {
	case IP4_OPTIONS_OK:
		return true;
	case IP4_OPTIONS_MALFORMED:
		IP_STATS_INC(ip.opterr);
		break;
	case IP4_OPTIONS_SOURCE_ROUTE:
		counters.ip_source_route++;
		break;
	}
	IP_STATS_INC(ip.drop);
	pbuf_free(p);
	return false;
}

/* Why a DHCP reply (UDP from port 67 to 68, the header at hlen) to inp
 * is refused, or NULL to let it go on (its lease perhaps raised). Only
 * offers and acknowledgements to inp's MAC (chaddr, at byte 28 of the
 * message) are judged (dhcp_reply.h); one in fragments is refused (a
 * server's reply fits in 576 bytes, and all of it must be checked: only
 * a first fragment shows the ports, and the others are never reassembled
 * without it). */
static const char *dhcp_refusal(struct pbuf *p, struct netif *inp, unsigned hlen, bool fragment)
{
	uint8_t *udp = (uint8_t *)p->payload + hlen;
	unsigned iplen = inet_get16((uint8_t *)p->payload + 2), udplen = inet_get16(udp + 4);
	const char *why;

	if (fragment)
		return "in fragments";
	if (udplen < 8 + 28 + ETH_HWADDR_LEN || iplen > p->tot_len || iplen < hlen + udplen)
		return NULL;    /* lwIP or the length check drops it */
	if (iplen > p->len)
		return "not in one buffer";
	if (memcmp(udp + 8 + 28, inp->hwaddr, ETH_HWADDR_LEN) != 0)
		return NULL;    /* another client's: lwIP ignores it */
	switch (dhcp_reply_check(udp, udplen, &why)) {
	case DHCP_REPLY_LEASE_RAISED:
		counters.dhcp_lease_raised++;
		return NULL;
	case DHCP_REPLY_REFUSED:
		return why;
	default:
		return NULL;
	}
}

/* A DHCP reply to an interface that asks DHCP for its address: dropped,
 * counted and said when refused (dhcp_refusal). False when p was dropped
 * (and freed). */
static bool dhcp_reply_pass(struct pbuf *p, struct netif *inp)
{
	const uint8_t *iph = p->payload;
	unsigned hlen = (iph[0] & 0xF) * 4u;
	uint16_t frag = inet_get16(iph + 6);

	if (iph[9] != IP_PROTO_UDP || !netif_dhcp_data(inp) || (frag & 0x1FFF) != 0 ||
	    hlen < IP_HLEN || hlen + 8 > p->len ||
	    inet_get16(iph + hlen) != 67 || inet_get16(iph + hlen + 2) != 68)
		return true;
	const char *why = dhcp_refusal(p, inp, hlen, frag & 0x2000);
	if (!why)
		return true;
	counters.dhcp_refused++;
	printf_limited("netstack: %s: DHCP reply from %u.%u.%u.%u refused: %s\n",
		       ((struct iface *)inp->state)->cfg.name, iph[12], iph[13], iph[14], iph[15], why);
	UDP_STATS_INC(udp.drop);
	pbuf_free(p);
	return false;
}

int guard_ip4_input(struct pbuf *p, struct netif *inp)
{
	uint8_t *iph = p->payload;

	if (loopback_delivering) {
		loopback_counted(p);
		icmp_error_input(p, inp);
		return 0;       /* from lo or to ourselves: never on a wire (loopback.c) */
	}

	/* lwIP drops and counts what is too short to hold its header. */
	if (p->len < IP_HLEN)
		return 0;
	ip4_addr_t src;
	memcpy(&src, iph + 12, sizeof(src));
	if (bad_source(&src, inp)) {
		counters.ip_bad_src++;
		IP_STATS_INC(ip.drop);
		pbuf_free(p);
		return 1;
	}
	if (!forward_source_valid(&src, inp)) {
		((struct iface *)inp->state)->counters.ip_rp_filter++;
		IP_STATS_INC(ip.drop);
		pbuf_free(p);
		return 1;
	}
	if (!ip4_options_pass(p) || !dhcp_reply_pass(p, inp))
		return 1;
	if (forward_ip4(p, inp))
		return 1;       /* forwarded, or dropped there */
	if (!netstack_decide(DECIDE_INPUT, p, inp, NULL)) {
		IP_STATS_INC(ip.drop);
		pbuf_free(p);
		return 1;
	}
	icmp_error_input(p, inp);            /* an error about a datagram of ours: its socket's */
	unsigned hlen = (iph[0] & 0xF) * 4u, iplen = inet_get16(iph + 2);
	bool fragment = (inet_get16(iph + 6) & 0x3FFF) != 0;
	/* A SYN for a connection in TIME-WAIT here (time_wait.c). */
	if (iph[9] == IP_PROTO_TCP && !fragment && hlen >= IP_HLEN && hlen + TCP_HLEN <= p->len &&
	    iplen >= hlen + TCP_HLEN && iplen <= p->tot_len)
		time_wait_syn(p, inp, hlen, iplen);
	/* A whole UDP datagram: its length field must agree with the IP
	 * payload. (Fragments are checked once reassembled, socket_udp.c.) */
	if (iph[9] != IP_PROTO_UDP || fragment || hlen < IP_HLEN || hlen + 8 > p->len ||
	    iplen < hlen || iplen > p->tot_len)
		return 0;       /* lwIP's own checks take it from here */
	long keep = udp_length(inet_get16(iph + hlen + 4), iplen - hlen);
	if (keep < 0) {
		udp_length_drop(p);
		return 1;
	}
	if ((unsigned)keep < iplen - hlen) {
		ip4_set16(iph, 2, (uint16_t)(hlen + keep));    /* lwIP trims to it */
		counters.udp_trimmed++;
	}
	return 0;
}

bool guard_udp_datagram(struct pbuf *p)
{
	const struct ip_hdr *iph = ip4_current_header();
	const uint8_t *udph = (const uint8_t *)iph + IPH_HL_BYTES(iph);
	long keep = udp_length(inet_get16(udph + 4), (uint32_t)p->tot_len + 8);

	if (keep < 0) {
		udp_length_drop(p);
		return false;
	}
	if ((unsigned)keep < (uint32_t)p->tot_len + 8) {
		pbuf_realloc(p, (u16_t)(keep - 8));
		counters.udp_trimmed++;
	}
	return true;
}

err_t guard_ethernet_input(struct pbuf *p, struct netif *netif)
{
	/* lwIP's ARP reads its 28 bytes without looking at the length. */
	if (p->len >= SIZEOF_ETH_HDR &&
	    inet_get16((const uint8_t *)p->payload + 12) == ETHTYPE_ARP &&
	    p->tot_len < SIZEOF_ETH_HDR + SIZEOF_ETHARP_HDR) {
		ETHARP_STATS_INC(etharp.lenerr);
		ETHARP_STATS_INC(etharp.drop);
		pbuf_free(p);
		return ERR_OK;
	}
	return ethernet_input(p, netif);
}

/* Byte i of the TCP options, which may be split over two pbufs. */
static uint8_t *opt_at(struct tcp_hdr *hdr, unsigned i, unsigned opt1len, uint8_t *opt2)
{
	return opt2 && i >= opt1len ? opt2 + (i - opt1len) : (uint8_t *)(hdr + 1) + i;
}

/* When (4 µs ticks) the half-open pcb was made: the clock its ISN
 * carries (in SYN_RCVD lastack is still the ISN). lwIP's pcb->tmr and
 * the pcbs' order in tcp_active_pcbs both move with every segment the
 * peer sends, so a flood that repeats its SYNs would look young by them
 * and a real client's handshake old. The clock costs a SipHash, so it is
 * worked out once per connection and kept with it (its ext arg, tagged
 * with bit 32: lwIP zeroes a new pcb's), not once per comparison. */
static uint32_t half_open_birth(struct tcp_pcb *pcb)
{
	uintptr_t kept = (uintptr_t)tcp_ext_arg_get(pcb, birth_arg);

	if (kept >> 32)
		return (uint32_t)kept;
	uint32_t birth = idgen_tcp_isn_clock(&key, ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip)),
					     pcb->local_port,
					     ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip)),
					     pcb->remote_port, pcb->lastack);
	counters.tcp_half_open_clocks++;
	tcp_ext_arg_set(pcb, birth_arg, (void *)((uintptr_t)1 << 32 | birth));
	return birth;
}

/* The older of a (NULL: none yet, then b, age_b) and b; *age_a follows. */
static struct tcp_pcb *older(struct tcp_pcb *a, uint32_t *age_a, struct tcp_pcb *b, uint32_t age_b)
{
	if (a && *age_a >= age_b)
		return a;
	*age_a = age_b;
	return b;
}

/* A SYN for a listener: before lwIP takes it, the oldest half-open
 * connection past a bound goes (no reset sent), as half_open_choose says. */
static void half_open_make_room(struct tcp_pcb_listen *listener, const ip_addr_t *src)
{
	uint32_t now = (uint32_t)((uint64_t)sys_clock() / 4000);
	struct tcp_pcb *all = NULL, *mine = NULL, *from_src = NULL;
	uint32_t age_all = 0, age_mine = 0, age_src = 0;
	struct half_open_counts n = { .pending = listener->accepts_pending,
				      .backlog = listener->backlog };

	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (pcb->state != SYN_RCVD)
			continue;
		uint32_t age = now - half_open_birth(pcb);
		n.all++;
		all = older(all, &age_all, pcb, age);
		if (pcb->listener != listener)
			continue;
		n.listener++;
		mine = older(mine, &age_mine, pcb, age);
		if (ip_addr_cmp(&pcb->remote_ip, src)) {
			n.from_source++;
			from_src = older(from_src, &age_src, pcb, age);
		}
	}
	n.oldest_is_listeners = all && all->listener == listener;
	struct tcp_pcb *victim = NULL;
	switch (half_open_choose(&n)) {
	case HALF_OPEN_SOURCE:
		victim = from_src;
		break;
	case HALF_OPEN_LISTENER:
		victim = mine;
		break;
	case HALF_OPEN_ALL:
		victim = all;
		break;
	case HALF_OPEN_KEEP:
		return;
	}
	tcp_abandon(victim, 0);
	counters.tcp_half_open_evicted++;
}

/* RFC 5961 7 (Linux's tcp_send_challenge_ack, net.ipv4.tcp_challenge_ack_limit):
 * the challenge ACKs every connection together sends in one second are
 * at most a count drawn afresh each second between half the limit and
 * one and a half times it, so that a blind attacker cannot count them
 * (CVE-2016-5696). Whether one may go now; counted either way. */
#define CHALLENGE_ACK_LIMIT 1000

static bool challenge_ack_allowed(void)
{
	static uint32_t second = ~0u, left;
	uint32_t now = sys_now() / 1000;

	if (now != second) {
		second = now;
		left = CHALLENGE_ACK_LIMIT / 2 +
		       (uint32_t)(idgen_siphash(&key, &now, sizeof(now)) % CHALLENGE_ACK_LIMIT);
	}
	if (!left) {
		counters.tcp_challenge_ack_limited++;
		return false;
	}
	left--;
	counters.tcp_challenge_ack++;
	return true;
}

/* A segment that lwIP answers with a challenge ACK (RFC 5961) on a
 * synchronized connection (ESTABLISHED to LAST_ACK; TIME-WAIT is
 * time_wait.c's): a SYN (4.2) or a reset in the window but not at
 * rcv_nxt (3.2). */
static bool challenge_ack_due(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
	uint8_t flags = TCPH_FLAGS(hdr);

	if (pcb->state <= SYN_RCVD || pcb->state >= TIME_WAIT)
		return false;
	if (flags & TCP_RST)
		return hdr->seqno != pcb->rcv_nxt &&
		       TCP_SEQ_BETWEEN(hdr->seqno, pcb->rcv_nxt, pcb->rcv_nxt + pcb->rcv_wnd);
	return flags & TCP_SYN;
}

/*
 * The answers lwIP gives on a half-open connection (SYN_RCVD: its SYN-ACK
 * again to the first SYN again, a reset to a wrong acknowledgement) and
 * on one in TIME-WAIT (an ACK to any segment with data, SYN or FIN, a
 * reset to a SYN in the window), every time: a flood of such segments
 * is answered one for one, a reflector. As Linux's tcp_oow_rate_limited
 * (net.ipv4.tcp_invalid_ratelimit, 500 ms; tcp_check_req,
 * tcp_timewait_state_process): a connection answers at most once in
 * TCP_ANSWER_INTERVAL_MS; a segment within it is dropped before lwIP
 * sees it, unanswered, and counted (Linux's TCPACKSkippedSynRecv,
 * TCPACKSkippedTimeWait). Linux sends the reset to a half-open
 * connection's wrong acknowledgement unlimited; here it is limited with
 * the rest, the peer's next segment gets it. A pcb has no field for the
 * time, so it is kept in its second ext arg (tagged with bit 32: lwIP
 * zeroes a new pcb's).
 */
#define TCP_ANSWER_INTERVAL_MS 500

/* Whether lwIP answers the segment (tcp_process's SYN_RCVD case,
 * tcp_timewait_input); p holds its data (hdr->seqno, ackno in host
 * order by now). */
static bool answer_due(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p)
{
	uint8_t flags = TCPH_FLAGS(hdr);

	if (flags & TCP_RST)
		return false;
	if (pcb->state == TIME_WAIT)
		return p->tot_len || (flags & (TCP_SYN | TCP_FIN));
	if (pcb->state != SYN_RCVD)
		return false;
	if (flags & TCP_ACK)
		return !TCP_SEQ_BETWEEN(hdr->ackno, pcb->lastack + 1, pcb->snd_nxt);
	return (flags & TCP_SYN) && hdr->seqno == pcb->rcv_nxt - 1;
}

/* Whether the connection may answer now; if so, now is its last answer. */
static bool answer_allowed(struct tcp_pcb *pcb)
{
	uintptr_t kept = (uintptr_t)tcp_ext_arg_get(pcb, answer_arg);
	uint32_t now = sys_now();

	if (kept >> 32 && now - (uint32_t)kept < TCP_ANSWER_INTERVAL_MS) {
		if (pcb->state == TIME_WAIT)
			counters.tcp_ack_skipped_time_wait++;
		else
			counters.tcp_ack_skipped_syn_recv++;
		return false;
	}
	tcp_ext_arg_set(pcb, answer_arg, (void *)((uintptr_t)1 << 32 | now));
	return true;
}

/* A SYN (without RST) for a half-open connection (SYN_RCVD), before
 * lwIP's tcp_process parses its options (which would set the MSS, and
 * window scaling if the first SYN had none) and ignores it. As Linux's
 * tcp_check_req: the first SYN again (its sequence number) is answered
 * with the SYN-ACK again, and a wrong acknowledgement with a reset
 * (both lwIP's, the options taken out: tcp_options_pass); a SYN in the
 * window ends the half-open connection with a reset ("embryonic
 * reset"); one outside it is dropped (Linux answers it with an ACK at
 * most twice a second). ERR_OK to let lwIP go on. */
static err_t syn_for_half_open(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, const struct pbuf *p)
{
	uint8_t flags = TCPH_FLAGS(hdr);
	uint32_t seq = hdr->seqno, len = (uint32_t)p->tot_len + 1 + !!(flags & TCP_FIN);

	if ((flags & TCP_ACK) && !TCP_SEQ_BETWEEN(hdr->ackno, pcb->lastack + 1, pcb->snd_nxt))
		return ERR_OK;          /* lwIP resets it, as Linux */
	if (!(flags & TCP_ACK) && seq == pcb->rcv_nxt - 1)
		return ERR_OK;          /* the SYN again: lwIP sends its SYN-ACK again */
	if (seq == pcb->rcv_nxt || (TCP_SEQ_GT(seq + len, pcb->rcv_nxt) &&
				    TCP_SEQ_LT(seq, pcb->rcv_nxt + pcb->rcv_wnd))) {
		tcp_rst(pcb, (flags & TCP_ACK) ? hdr->ackno : 0, seq + len, ip_current_dest_addr(),
			ip_current_src_addr(), pcb->local_port, pcb->remote_port);
		tcp_abandon(pcb, 0);
		counters.tcp_syn_recv_reset++;
		TCP_STATS_INC(tcp.drop);
		return ERR_ABRT;
	}
	counters.tcp_syn_recv_dropped++;
	TCP_STATS_INC(tcp.drop);
	return ERR_VAL;
}

/* The segment's MSS and window-scale options, which lwIP's tcp_parseopt
 * takes from any segment in any state (the MSS) or from a second SYN
 * (window scaling, if the first had none), become no-operations, but in
 * a SYN to a listener or a SYN-ACK to our own SYN: Linux reads them only
 * there (tcp_parse_options, !estab). In a SYN that keeps them, an MSS
 * below the floor is raised to it (0, which means nothing, to the
 * default): lwIP would take 0 as its own MSS and cut a send into more
 * segments than its queue holds for tiny ones. */
static void tcp_options_pass(const struct tcp_pcb *pcb, struct tcp_hdr *hdr, unsigned optlen,
			     unsigned opt1len, uint8_t *opt2)
{
	bool syn = TCPH_FLAGS(hdr) & TCP_SYN;
	bool keep = syn && (pcb->state == LISTEN || pcb->state == SYN_SENT);

	for (unsigned i = 0; i < optlen;) {
		uint8_t kind = *opt_at(hdr, i, opt1len, opt2);
		if (kind == LWIP_TCP_OPT_EOL)
			break;
		if (kind == LWIP_TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen)
			break;
		unsigned len = *opt_at(hdr, i + 1, opt1len, opt2);
		if (len < 2 || i + len > optlen)
			break;
		if (!keep && (kind == LWIP_TCP_OPT_MSS || kind == LWIP_TCP_OPT_WS)) {
			for (unsigned k = 0; k < len; k++)
				*opt_at(hdr, i + k, opt1len, opt2) = LWIP_TCP_OPT_NOP;
			counters.tcp_options_ignored++;
		} else if (keep && kind == LWIP_TCP_OPT_MSS && len == LWIP_TCP_OPT_LEN_MSS) {
			uint8_t *hi = opt_at(hdr, i + 2, opt1len, opt2);
			uint8_t *lo = opt_at(hdr, i + 3, opt1len, opt2);
			unsigned mss = (unsigned)*hi << 8 | *lo;
			if (mss < MSS_FLOOR) {
				mss = mss ? MSS_FLOOR : MSS_DEFAULT;
				*hi = (uint8_t)(mss >> 8);
				*lo = (uint8_t)mss;
				counters.tcp_mss_raised++;
			}
		}
		i += len;
	}
}

signed char guard_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, unsigned short optlen,
			       unsigned short opt1len, unsigned char *opt2, struct pbuf *p)
{
	uint8_t flags = TCPH_FLAGS(hdr);

	rcv_window_input(pcb);
	/* A reset that ends a TIME-WAIT (time_wait.c): gone, nothing more. */
	if (time_wait_reset(pcb, hdr))
		return ERR_ABRT;
	/* A segment more than 2^30 (the largest window) from what the
	 * connection expects next cannot be right, and lwIP's sequence
	 * comparisons wrap half the sequence space away: a segment there
	 * asserted ("insane offset!", tcp_receive). hdr->seqno is in host
	 * order by now. A SYN without ACK is the exception: a new
	 * connection's, from a peer that has forgotten this one (its port
	 * used again), with a sequence number of its own. lwIP answers it
	 * with an ACK before looking at its sequence number (tcp_process,
	 * tcp_timewait_input), and the peer's reset to that ends this
	 * connection, so its next SYN is taken; dropped here, it went
	 * unanswered, and the peer's connect waited for minutes. */
	bool new_syn = (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	if (pcb->state >= SYN_RCVD && !new_syn) {
		int32_t distance = (int32_t)(hdr->seqno - pcb->rcv_nxt);
		if (distance > (1 << 30) || distance < -(1 << 30)) {
			counters.tcp_far_seq++;
			TCP_STATS_INC(tcp.drop);
			return ERR_VAL;
		}
	}
	/* lwIP's challenge ACKs, limited as Linux's (RFC 5961 7). */
	if (challenge_ack_due(pcb, hdr) && !challenge_ack_allowed()) {
		TCP_STATS_INC(tcp.drop);
		return ERR_VAL;
	}
	/* Half-open and TIME-WAIT connections' answers, limited as Linux's. */
	if (answer_due(pcb, hdr, p) && !answer_allowed(pcb)) {
		TCP_STATS_INC(tcp.drop);
		return ERR_VAL;
	}
	if (pcb->state == LISTEN && (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
		half_open_make_room((struct tcp_pcb_listen *)pcb, ip_current_src_addr());
	tcp_options_pass(pcb, hdr, optlen, opt1len, opt2);
	if (pcb->state == SYN_RCVD && (flags & (TCP_SYN | TCP_RST)) == TCP_SYN)
		return syn_for_half_open(pcb, hdr, p);
	return ERR_OK;
}

unsigned guard_tcp_isn(const struct ip4_addr *local_ip, unsigned short local_port,
		       const struct ip4_addr *remote_ip, unsigned short remote_port)
{
	return idgen_tcp_isn(&key, ip4_addr_get_u32(local_ip), local_port,
			     ip4_addr_get_u32(remote_ip), remote_port, (uint64_t)sys_clock());
}

unsigned guard_ooseq_pbufs_limit(struct tcp_pcb *pcb)
{
	return iface_pool_low() ? OOSEQ_PBUFS_LOW : TCP_OOSEQ_MAX_PBUFS;
}

void guard_ip_id(uint8_t *frame, size_t len)
{
	if (len < SIZEOF_ETH_HDR + IP_HLEN || inet_get16(frame + 12) != ETHTYPE_IP)
		return;
	uint8_t *iph = frame + SIZEOF_ETH_HDR;
	uint32_t src, dst;
	if (iph[0] >> 4 != 4)
		return;
	memcpy(&src, iph + 12, 4);
	memcpy(&dst, iph + 16, 4);
	/* Only our own datagrams: a forwarded one keeps the ID its source
	 * gave it (its fragments must keep agreeing). */
	struct netif *n;
	bool ours = false;
	NETIF_FOREACH(n)
		ours |= ip4_addr_get_u32(netif_ip4_addr(n)) == src;
	if (!ours)
		return;
	ip4_set16(iph, 4, idgen_ip_id(&key, inet_get16(iph + 4), src, dst, iph[9]));
}
