/*
 * Forwarded datagrams waiting for their next hop's link address
 * (docs/netstack.md, "Forwarding"). A datagram whose next hop lwIP's ARP
 * table knows goes out at once (forward_transmit); one whose next hop is
 * unknown waits here, in a queue per neighbour (out interface, next hop)
 * of at most NEXTHOP_QUEUE datagrams (a full queue drops its oldest, as
 * Linux's unresolved queue does), while lwIP asks for the address. The
 * answer sends the queue in order; no answer within NEXTHOP_WAIT_MS drops
 * it, each datagram answered with ICMP host unreachable (RFC 1812
 * 4.3.3.1; rate-limited with the other ICMP errors) and counted
 * (fwd_host_unreachable) on the interface it came by.
 *
 * lwIP's own queue (etharp_query) is not used for forwarded datagrams: it
 * drops what it held without a word when its entry expires, and bounds
 * only the total. ARP itself (requests, their repetition, the table)
 * stays lwIP's.
 */
#include "netstack.h"

#include "lwip/etharp.h"
#include "lwip/icmp.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

#define NEXTHOP_NEIGHBOURS 8    /* neighbours waited for at once */
#define NEXTHOP_QUEUE      4    /* datagrams held per neighbour */
#define NEXTHOP_WAIT_MS    3000 /* Linux: 3 requests a second apart */
#define NEXTHOP_TICK_MS    10   /* how often an answer is looked for */

struct waiting {
	struct iface *out;      /* NULL: a free slot */
	ip4_addr_t next;
	uint32_t since_ms;      /* the first datagram's arrival (sys_now) */
	unsigned n;
	struct {
		struct pbuf *p;
		struct iface *in;
		uint16_t seg_size;      /* a TCP aggregate's (forward_transmit) */
	} q[NEXTHOP_QUEUE];
};

static struct waiting waiting[NEXTHOP_NEIGHBOURS];
static bool ticking;

static bool resolved(struct iface *out, const ip4_addr_t *next)
{
	struct eth_addr *mac;
	const ip4_addr_t *addr;

	return etharp_find_addr(&out->netif, next, &mac, &addr) >= 0;
}

static struct waiting *find(struct iface *out, const ip4_addr_t *next)
{
	for (unsigned i = 0; i < NEXTHOP_NEIGHBOURS; i++)
		if (waiting[i].out == out && ip4_addr_cmp(&waiting[i].next, next))
			return &waiting[i];
	return NULL;
}

/* The queue goes out, in the order it came. */
static void send_queue(struct waiting *w)
{
	for (unsigned i = 0; i < w->n; i++)
		forward_transmit(w->q[i].in, w->out, w->q[i].p, &w->next, w->q[i].seg_size);
	w->out = NULL;
	w->n = 0;
}

static void tick(void *arg)
{
	uint32_t now = sys_now();
	bool left = false;

	(void)arg;
	for (unsigned i = 0; i < NEXTHOP_NEIGHBOURS; i++) {
		struct waiting *w = &waiting[i];
		if (!w->out)
			continue;
		if (resolved(w->out, &w->next)) {
			send_queue(w);
		} else if (now - w->since_ms >= NEXTHOP_WAIT_MS) {
			for (unsigned k = 0; k < w->n; k++) {
				forward_icmp_error(w->q[k].in, w->q[k].p, ICMP_DUR, ICMP_DUR_HOST, 0);
				w->q[k].in->counters.fwd_host_unreachable++;
				pbuf_free(w->q[k].p);
			}
			w->out = NULL;
			w->n = 0;
		} else {
			left = true;
		}
	}
	ticking = left;
	if (left)
		sys_timeout(NEXTHOP_TICK_MS, tick, NULL);
}

void nexthop_output(struct iface *in, struct iface *out, struct pbuf *p, const ip4_addr_t *next,
		    uint16_t seg_size)
{
	struct waiting *w = find(out, next);

	if (resolved(out, next)) {
		if (w)
			send_queue(w);  /* answered since the last tick: those first */
		forward_transmit(in, out, p, next, seg_size);
		return;
	}
	if (!w) {
		for (unsigned i = 0; i < NEXTHOP_NEIGHBOURS && !w; i++)
			if (!waiting[i].out)
				w = &waiting[i];
		if (!w) {
			in->counters.fwd_not_sent++;    /* too many neighbours unknown */
			pbuf_free(p);
			return;
		}
		*w = (struct waiting){ .out = out, .next = *next, .since_ms = sys_now() };
		etharp_query(&out->netif, next, NULL);  /* the request; lwIP repeats it */
	}
	if (w->n == NEXTHOP_QUEUE) {
		w->q[0].in->counters.fwd_not_sent++;
		pbuf_free(w->q[0].p);
		memmove(&w->q[0], &w->q[1], (NEXTHOP_QUEUE - 1) * sizeof(w->q[0]));
		w->n--;
	}
	w->q[w->n].p = p;
	w->q[w->n].in = in;
	w->q[w->n].seg_size = seg_size;
	w->n++;
	if (!ticking) {
		ticking = true;
		sys_timeout(NEXTHOP_TICK_MS, tick, NULL);
	}
}
