/*
 * One lwIP netif per NIC, over its driver's queues (proto/netq.h): the
 * data path between the shared pool (pool.c) and the driver's own rings.
 * The driver's attach, death and re-attach are iface_driver.c's.
 *
 * The pool is the netstack's (DMA memory from init), one for every
 * interface and mapped into every driver. Each buffer has one place (enum
 * iface_buf_place): the free stack, a driver's (given to its rx-free, or a
 * copied frame given to its tx-ready: b->iface says whose), or lwIP's (a
 * received frame, as the custom pbuf). Received frames are not copied
 * while lwIP keeps less than its share of the pool (a quarter; frames
 * waiting in a tx ring to go out in place do not count): the pbuf
 * lwIP gets points into the pool, and freeing it puts the buffer back in
 * the rx-free of the interface it came from; past the share they are
 * copied into lwIP's heap, so that what a remote host makes lwIP keep
 * never takes the NICs' buffers. A frame to send is copied into a free
 * buffer (at most a quarter of the pool sends at once, pool_tx_share),
 * unless it is a received frame still lying in its pool buffer
 * (an ICMP echo answered in place; a datagram forwarded from any
 * interface): then it goes out from there and the buffer is held
 * (tx_hold, tx_iface) until the sending driver hands it back.
 *
 * A descriptor from a driver is taken only when it names a buffer that
 * driver holds in that role (rx-ready: one given to its rx-free; tx-done:
 * the very offset given to its tx-ready); anything else, a buffer another
 * driver holds included, is counted (bad_desc) and dropped, so a driver
 * scribbling on its rings cannot make us use a buffer twice. When a
 * driver dies, every buffer it held is ours again.
 *
 * The received-frame pbufs are of lwIP's PBUF_RAM kind, so lwIP may put
 * back headers it took off (the echo reply, ethernet_output of a forwarded
 * packet). lwIP's only bound on that is that the payload stays above the
 * pbuf structure; the structures are therefore kept in the program's data
 * (bufs_of), below the DMA window, and lwIP never adds more headers than
 * it removed from a frame, which stay inside its buffer.
 */
#include "netstack.h"

#include "lib/names.h"
#include "lib/netq_csum.h"
#include "lib/netq_client.h"
#include "lwip/etharp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

static struct netq_ring *ring(struct iface *ifc, enum netq_ring_id id)
{
	return netq_ring(ifc->rings, id);
}

/* Give a buffer to this driver's rx-free; false when the ring is full or
 * the driver holds its share of the receive half of the pool (so that
 * every NIC can receive, whichever attached first). */
static bool buf_post(struct iface *ifc, struct iface_buf *b)
{
	if (ifc->rx_posted >= pool.nbufs / 2 / (nifaces ? nifaces : 1) ||
	    !netq_push(ring(ifc, NETQ_RX_FREE), (struct netq_desc){ .offset = b->start }))
		return false;
	pool_leave_tx(b);
	b->place = BUF_RX_POSTED;
	b->iface = ifc;
	ifc->rx_posted++;
	ifc->pushed_since_flush = true;
	return true;
}

/* A buffer is ours again: to the rx-free of ifc (the interface it came
 * from or went out of), or the free stack while that holds less than
 * what sending may still take (pool_rx_reserve). */
static void buf_release(struct iface *ifc, struct iface_buf *b)
{
	if (!ifc || !ifc->attached || pool.nfree < pool_rx_reserve() || !buf_post(ifc, b))
		pool_to_free_stack(b);
}

/* Half the pool is for receiving (buf_post's bound): while the free stack
 * holds more than what sending may still take, move buffers from it to
 * rx-free. Not "more than half the pool": sending kept the free stack
 * below that, so received buffers were never posted again and the NICs
 * ran out of receive buffers while we sent (issue 16). */
void iface_refill_rx(struct iface *ifc)
{
	while (pool.nfree > pool_rx_reserve() && buf_post(ifc, pool_peek_free()))
		pool.nfree--;
}

/* lwIP let go of a received frame. */
static void rxbuf_free(struct pbuf *p)
{
	struct iface_buf *b = (struct iface_buf *)p;

	pool.nlwip--;
	buf_release(b->iface, b);
}

bool iface_in_pool_buffer(struct pbuf *p)
{
	if (!(p->flags & PBUF_FLAG_IS_CUSTOM))
		return false;
	struct iface_buf *b = (struct iface_buf *)p;
	return b->pc.custom_free_function == rxbuf_free;
}

/* Every buffer this driver held is ours again (it is dead, or never took
 * them); a frame it sent in place goes back to lwIP. Returns how many. */
unsigned iface_reclaim(struct iface *ifc)
{
	unsigned count = 0;

	for (uint32_t i = 0; i < pool.nbufs; i++) {
		struct iface_buf *b = &pool.bufs[i];
		if ((b->place == BUF_RX_POSTED || b->place == BUF_TX) && b->iface == ifc) {
			pool_to_free_stack(b);
			count++;
		}
		if (b->tx_hold && b->tx_iface == ifc) {
			b->tx_refs = 0;
			pbuf_free(pool_tx_unhold(b));   /* lwIP's last reference frees it */
			count++;
		}
	}
	count += tx_heap_reclaim(ifc);  /* lwIP's frames it sent by reference */
	ifc->rx_posted = 0;
	ifc->coalesce.n = 0;    /* its buffers were BUF_TX, ifc's, or held by reference:
				   reclaimed above */
	return count;
}

static bool take_tx_done(struct iface *ifc);
static bool flush_signal(struct iface *ifc);


/*
 * No room in tx-ready, or no pool buffer to copy into, in the middle of a
 * round of the loop: lwIP is sending what many acknowledgements opened at
 * once, and the driver has not been given this round's frames yet
 * (iface_flush comes at the round's end). So they go to it now, and what
 * it sent within its poll comes back (the driver runs at a higher
 * priority than the netstack, so it polls as soon as it is signalled, and
 * QEMU's e1000 sends within the TDT write): the round goes on instead of
 * refusing the segment, which left the NIC idle until the next round and
 * the flight at about one ring of segments (docs/netstack.md, "Sending
 * from the netstack"). Once per frame given since the last flush, so a
 * driver that takes nothing costs one signal. Never iface_driver_changed
 * here (lwIP is in the middle of its output): a dead driver is noticed by
 * the loop. True when tx-ready has room again.
 */
static bool tx_make_room(struct iface *ifc)
{
	if (!ifc->pushed_since_flush && !ifc->coalesce.n)
		return false;
	if (!flush_signal(ifc))
		return false;
	take_tx_done(ifc);
	return netq_space(ring(ifc, NETQ_TX_READY)) > 0;
}

/* A chain of lwIP's heap (tx_heap_frame: a TCP segment whose data was
 * queued by reference) that is not merged: one frame of its descriptors,
 * its checksum left to the NIC, each descriptor held. false: no room on
 * tx-ready (nothing was given). */
static bool send_heap_chain(struct iface *ifc, struct pbuf *p, struct netq_desc *d, unsigned n)
{
	struct netq_ring *tx = ring(ifc, NETQ_TX_READY);
	struct netq_l4 l4;

	segment_flush(ifc);             /* what is being merged goes first */
	if (netq_space(tx) < n && (!tx_make_room(ifc) || netq_space(tx) < n))
		return false;
	if (netq_frame_l4(p->payload, p->tot_len, &l4))        /* tx_heap_frame parsed it */
		netq_csum_leave(p->payload, &l4, &d[0]);
	netq_push_chain(tx, d, n);
	for (unsigned i = 0; i < n; i++)
		tx_heap_hold(ifc, p, d[i].offset);
	ifc->counters.tx_csum_offloaded++;
	ifc->counters.tx_packets++;
	ifc->counters.tx_bytes += p->tot_len;
	LINK_STATS_INC(link.xmit);
	ifc->pushed_since_flush = true;
	return true;
}

static err_t iface_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct iface *ifc = netif->state;
	struct netq_ring *tx = ring(ifc, NETQ_TX_READY);
	struct iface_buf *b;
	struct netq_desc d;

	/* No driver, or no room: the error makes TCP keep the segment (in
	 * unsent, TF_NAGLEMEMERR); tcp_txnow() sends it once there is room
	 * again or a new driver (see iface_tx_room_again). */
	if (!ifc->attached || (!netq_space(tx) && !tx_make_room(ifc)))
		goto drop;
	uint16_t seg_size = forward_seg_size(p);
	if (seg_size) {
		/* A forwarded aggregate: whole to a NIC that cuts it, else cut
		 * here. Only the aggregate itself: an ARP request lwIP sends
		 * before it (refreshing the next hop's entry) goes as any frame. */
		segment_flush(ifc);
		if (segment_output(ifc, p, seg_size))
			return ERR_OK;
		LINK_STATS_INC(link.drop);      /* tx_dropped: each segment not sent */
		ifc->tx_refused = true;
		return ifc->attached ? ERR_MEM : ERR_IF;
	}
	if (p->tot_len > NETQ_FRAME_MAX)
		goto drop;
	if (!forward_sending() && !netstack_decide(DECIDE_OUTPUT, p, NULL, netif)) {
		ifc->counters.tx_dropped++;
		return ERR_OK;          /* refused: as if sent */
	}
	uint32_t given[TX_HEAP_CHAIN_MAX];
	unsigned n, ngiven;
	struct netq_desc hd[TX_HEAP_CHAIN_MAX];
	if (!p->next && iface_in_pool_buffer(p) && !((struct iface_buf *)p)->tx_hold) {
		b = (struct iface_buf *)p;
		pool_tx_hold(b, p, ifc);
		d = (struct netq_desc){ .offset = (uint32_t)((uint8_t *)p->payload - pool.mem) +
						  NETQ_POOL_OFFSET,
					.len = p->len };
		ifc->counters.tx_zero_copy++;
	} else if ((n = tx_heap_frame(ifc, p, hd))) {
		/* By reference, from lwIP's heap (tx_heap.c). */
		guard_ip_id(p->payload, p->len);
		if (segment_coalesce(ifc, NULL, hd, n, given, &ngiven)) {
			for (unsigned i = 0; i < ngiven; i++)
				tx_heap_hold(ifc, p, given[i]);
			LINK_STATS_INC(link.xmit);
			return ERR_OK;
		}
		if (n > 1) {
			if (send_heap_chain(ifc, p, hd, n))
				return ERR_OK;
			goto drop;
		}
		b = NULL;
		d = hd[0];
	} else {
		/* Copied (also a frame already on its way out once). */
		if (!(b = pool_take_tx(ifc)) && (!tx_make_room(ifc) || !(b = pool_take_tx(ifc))))
			goto drop;
		pbuf_copy_partial(p, pool_byte(b->start), p->tot_len, 0);
		guard_ip_id(pool_byte(b->start), p->tot_len);
		d = (struct netq_desc){ .offset = b->start, .len = p->tot_len };
		if (segment_coalesce(ifc, b, &d, 1, given, &ngiven)) {
			/* Counted as the one frame the driver gets (segment_flush). */
			LINK_STATS_INC(link.xmit);
			return ERR_OK;
		}
	}
	segment_flush(ifc);             /* what is being merged goes first */
	offload_tx(ifc, pool_byte(d.offset), &d);
	if (!netq_push(tx, d)) {
		/* Cannot be: room was checked, and the flush leaves some. */
		if (b && b->place == BUF_TX)
			pool_to_free_stack(b);
		else if (b)
			pbuf_free(pool_tx_unhold(b));
		goto drop;
	}
	if (b) {
		b->tx_offset = d.offset;
		b->tx_refs = 1;
	} else {
		tx_heap_hold(ifc, p, d.offset);
	}
	ifc->counters.tx_packets++;
	ifc->counters.tx_bytes += d.len;
	LINK_STATS_INC(link.xmit);
	ifc->pushed_since_flush = true;
	return ERR_OK;
drop:
	ifc->counters.tx_dropped++;
	LINK_STATS_INC(link.drop);
	ifc->tx_refused = true;
	return ifc->attached ? ERR_MEM : ERR_IF;
}

/* lwIP resends a segment it could not send only when something else makes
 * it output on that connection (an incoming segment, more data); with
 * nothing coming, a connection would wait forever. So once frames can go
 * again, every connection with such a segment sends it now. */
void iface_tx_room_again(struct iface *ifc)
{
	if (!ifc->tx_refused)
		return;
	ifc->tx_refused = false;
	tcp_txnow();
}

static void status_changed(struct netif *netif)
{
	struct iface *ifc = netif->state;
	const ip4_addr_t *a = netif_ip4_addr(netif);

	if (!netif_is_up(netif) || ip4_addr_isany(a) || ifc->up_reported)
		return;
	ifc->up_reported = true;
	unsigned prefix = 0;
	for (uint32_t m = ip4_addr_get_u32(netif_ip4_netmask(netif)); m; m &= m - 1)
		prefix++;
	printf("netstack: %s up, %u.%u.%u.%u/%u%s\n", ifc->cfg.name, ip4_addr1(a), ip4_addr2(a),
	       ip4_addr3(a), ip4_addr4(a), prefix, ifc->cfg.dhcp ? " (dhcp)" : "");
}

static err_t iface_netif_init(struct netif *netif)
{
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->mtu = NIC_MTU_MAX;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = iface_linkoutput;
	offload_init(netif);
	netif_set_hostname(netif, "mica");
	return ERR_OK;
}

void iface_configure(struct iface *ifc)
{
	ip4_addr_t addr, mask, gw;

	ip4_addr_set_u32(&addr, ifc->cfg.dhcp ? 0 : ifc->cfg.addr);
	ip4_addr_set_u32(&mask, ifc->cfg.dhcp ? 0 : ifc->cfg.mask);
	ip4_addr_set_u32(&gw, ifc->cfg.gw);
	ifc->netif.mtu = (u16_t)ifc->cfg.mtu;
	netif_set_addr(&ifc->netif, &addr, &mask, &gw);
}

long iface_init(struct iface *ifc, cap_slot_t notify)
{
	cap_slot_t watch = slot_alloc();
	long err;

	ifc->notify = notify;
	ifc->driver = slot_alloc();
	ifc->driver_notif = slot_alloc();
	if (watch == CAP_SLOT_NONE || ifc->driver == CAP_SLOT_NONE ||
	    ifc->driver_notif == CAP_SLOT_NONE)
		return -ERR_NO_MEMORY;
	if (!(ifc->rings = pool_rings(ifc->index, &ifc->rings_phys)))
		return -ERR_NO_MEMORY;
	netq_area_init(ifc->rings, pool.log2);
	ifc->geom = *(const struct netq_area *)ifc->rings;
	for (uint32_t i = 0; i < pool.nbufs; i++)
		pool.bufs[i].pc.custom_free_function = rxbuf_free;

	if (!netif_add(&ifc->netif, NULL, NULL, NULL, ifc, iface_netif_init, guard_ethernet_input))
		return -ERR_NO_MEMORY;
	netif_set_status_callback(&ifc->netif, status_changed);

	/* Told whenever the driver's name comes or goes: a badged copy of our
	 * notification, so the signal says what it is about. ERR_NO_RIGHTS:
	 * the manifest has no `lookup` line for the driver's private name;
	 * the lookup is refused too, and says so (iface_driver.c). */
	if ((err = sys_cap_copy(notify, CAP_SLOT_SELF, watch, CAP_RIGHT_WRITE,
				NETSTACK_BIT_DRIVERS)) < 0 ||
	    ((err = ns_watch(ifc->driver_name, watch)) < 0 && err != -ERR_NO_RIGHTS))
		return err;
	sys_cap_delete(watch);
	slot_free(watch);
	return 0;
}

/* A round of taking from rx-ready or tx-done starts: a producer index
 * more than a ring ahead is skipped (and counted). Returns the round's
 * budget: a ring's worth, so a scribbling driver cannot keep us busy. */
static unsigned round_start(struct iface *ifc, struct netq_ring *r)
{
	if (netq_skip_overrun(r))
		ifc->counters.bad_desc++;
	return NETQ_RING_SIZE;
}

/* The next descriptor the driver returned in r, within the budget, and
 * the buffer it names in *b (NULL outside the pool); false when none. */
static bool take_next(struct iface *ifc, struct netq_ring *r, unsigned *budget,
		      struct netq_desc *d, struct iface_buf **b)
{
	if (!*budget || !netq_pop(r, d))
		return false;
	(*budget)--;
	ifc->popped_since_flush = true;
	*b = pool_buf_at(d->offset);
	return true;
}

/* Sent buffers back from the driver: only the offsets we gave it. True
 * if anything came. */
static bool take_tx_done(struct iface *ifc)
{
	struct netq_ring *r = ring(ifc, NETQ_TX_DONE);
	unsigned budget = round_start(ifc, r);
	struct netq_desc d;
	struct iface_buf *b;

	while (take_next(ifc, r, &budget, &d, &b))
		if (!iface_tx_done(ifc, d.offset))
			ifc->counters.bad_desc++;
	return budget < NETQ_RING_SIZE;
}

bool iface_tx_done(struct iface *ifc, uint32_t offset)
{
	if (offset >= NETQ_HEAP_OFFSET && offset < NETQ_POOL_OFFSET)
		return tx_heap_done(ifc, offset);
	struct iface_buf *b = pool_buf_at(offset);
	bool sent_copy = b && b->place == BUF_TX && b->iface == ifc;
	bool sent_in_place = b && b->tx_hold && b->tx_iface == ifc;
	bool given = b && b->tx_refs &&
		     (b->tx_offset == offset ||
		      (b->tx_offset == TX_SLICES && netq_buffer_start(offset) == b->start));
	if (!given || (!sent_copy && !sent_in_place))
		return false;
	if (--b->tx_refs)
		return true;            /* slices of it are still out */
	if (sent_in_place)
		pbuf_free(pool_tx_unhold(b));
	else
		buf_release(ifc, b);
	return true;
}

/* A received frame as it came: its buffers and descriptors (one unless
 * it is a chain, NETQ_F_MORE). */
struct rx_frame {
	struct iface_buf *b[NETQ_CHAIN_MAX];
	struct netq_desc d[NETQ_CHAIN_MAX];
	unsigned n;
	uint32_t len;
};

static void rx_frame_release(struct iface *ifc, struct rx_frame *f)
{
	for (unsigned i = 0; i < f->n; i++)
		buf_release(ifc, f->b[i]);
}

/* The pbuf for lwIP of a received frame: its buffers themselves (a chain
 * of custom pbufs, one per buffer), or, while lwIP holds its share of the
 * pool, a copy in lwIP's heap (the buffers go back to the NIC at once).
 * NULL when there is no memory (the buffers are released). */
static struct pbuf *rx_pbuf(struct iface *ifc, struct rx_frame *f)
{
	struct pbuf *p = NULL;

	if (pool_lwip_kept() + f->n > pool_lwip_share()) {
		p = pbuf_alloc(PBUF_RAW, (u16_t)f->len, PBUF_RAM);
		for (unsigned i = 0, at = 0; p && i < f->n; at += f->d[i++].len)
			pbuf_take_at(p, pool_byte(f->d[i].offset), f->d[i].len, (u16_t)at);
		if (p)
			ifc->counters.rx_copied++;
		rx_frame_release(ifc, f);
		return p;
	}
	for (unsigned i = 0; i < f->n; i++) {
		struct iface_buf *b = f->b[i];
		struct netq_desc d = f->d[i];
		b->place = BUF_LWIP;
		pool.nlwip++;
		struct pbuf *q = pbuf_alloced_custom(PBUF_RAW, d.len, PBUF_RAM, &b->pc,
						     pool_byte(d.offset),
						     (u16_t)(b->start + NETQ_BUF_SIZE - d.offset));
		if (!q) {
			/* Cannot happen (the structures are the buffers'): still, whatever was made goes. */
			pool.nlwip--;
			for (unsigned k = i; k < f->n; k++)
				buf_release(ifc, f->b[k]);
			if (p)
				pbuf_free(p);
			return NULL;
		}
		if (p)
			pbuf_cat(p, q);
		else
			p = q;
	}
	return p;
}

/* The next frame in rx-ready into f, every descriptor of a chain taken
 * (within the round's budget at its start; a chain is at most a ring
 * long): true when there was one. f->n is 0 when it was refused (counted,
 * its buffers ours again). */
static bool take_frame(struct iface *ifc, struct netq_ring *r, unsigned *budget,
		       struct rx_frame *f)
{
	const uint16_t known = NETQ_F_RX_KNOWN |
			       (ifc->offloads & NETQ_OFFLOAD_RX_TSO4 ? NETQ_F_TSO_KNOWN : 0);
	struct netq_chain c = { 0 };
	struct netq_desc d;
	struct iface_buf *b;
	unsigned taken = 0;

	f->n = 0;
	if (!take_next(ifc, r, budget, &d, &b))
		return false;
	for (bool more = true; more;) {
		bool ours = b && b->place == BUF_RX_POSTED && b->iface == ifc;
		if (ours) {
			ifc->rx_posted--;
			b->place = BUF_LWIP;    /* taken: for a moment, neither posted nor free */
			if (f->n < NETQ_CHAIN_MAX) {
				f->b[f->n] = b;
				f->d[f->n++] = d;
			} else {
				buf_release(ifc, b);
			}
			if (!netq_desc_valid(&ifc->geom, d, false))
				c.bad = true;
		} else {
			c.bad = true;           /* a buffer it does not hold: not ours to take */
		}
		more = netq_chain_add(&c, d);
		if (more && (++taken >= NETQ_RING_SIZE || !netq_pop(r, &d))) {
			c.bad = true;           /* MORE with nothing after it */
			more = false;
		} else if (more) {
			ifc->popped_since_flush = true;
			b = pool_buf_at(d.offset);
		}
	}
	f->len = c.len;
	if (!netq_chain_valid(&c, known)) {
		ifc->counters.bad_desc++;       /* the driver gave them back, though */
		ifc->counters.rx_dropped++;
		rx_frame_release(ifc, f);
		f->n = 0;
	}
	return true;
}

/* Received frames into lwIP: only in buffers we gave to rx-free. True if
 * anything came. */
static bool take_rx_ready(struct iface *ifc)
{
	struct netq_ring *r = ring(ifc, NETQ_RX_READY);
	unsigned budget = round_start(ifc, r);
	struct rx_frame f;

	while (take_frame(ifc, r, &budget, &f)) {
		if (!f.n)
			continue;
		if (ifc->first_frame_pending)
			iface_first_frame(ifc);
		LINK_STATS_INC(link.recv);
		ifc->counters.rx_packets++;
		ifc->counters.rx_bytes += f.len;
		/* Every TCP aggregate takes the aggregate's path, in one buffer
		 * or over several: its segment size goes with it into lwIP, so
		 * forwarding cuts it into segments (never IP fragments, never
		 * fragmentation needed against its whole length). */
		if (f.n == 1 && !(f.d[0].flags & NETQ_F_TSO4))
			offload_rx(ifc, pool_byte(f.d[0].offset), f.d[0]);
		else
			offload_rx_chain(ifc, pool_byte(f.d[0].offset), f.d[0]);
		struct pbuf *p = rx_pbuf(ifc, &f);
		if (!p || ifc->netif.input(p, &ifc->netif) != ERR_OK) {
			ifc->counters.rx_dropped++;
			LINK_STATS_INC(link.drop);
			if (p)
				pbuf_free(p);
		}
		offload_rx_done(ifc);
	}
	return budget < NETQ_RING_SIZE;
}

bool iface_service(struct iface *ifc)
{
	if (!ifc->attached)
		return false;
	bool busy = take_tx_done(ifc);
	/* Sent buffers back, or taken back already in the middle of the
	 * last round (tx_make_room) after a segment was refused. */
	if (busy || (ifc->tx_refused && netq_space(ring(ifc, NETQ_TX_READY)) &&
		     pool.ntx < pool_tx_share()))
		iface_tx_room_again(ifc);
	iface_refill_rx(ifc);
	return take_rx_ready(ifc) || busy;
}

/* What we gave the driver goes (the aggregate being merged too), and it
 * is signalled if it waits for that or for room we made. False when its
 * notification is gone: it died. */
static bool flush_signal(struct iface *ifc)
{
	bool wake = false;

	segment_flush(ifc);
	/* Only what we did can be what the driver waits for; taking its
	 * flags otherwise would wake it for nothing. */
	if (ifc->pushed_since_flush) {
		wake |= netq_wake_needed(ring(ifc, NETQ_RX_FREE));
		wake |= netq_wake_needed(ring(ifc, NETQ_TX_READY));
	}
	if (ifc->popped_since_flush) {
		wake |= netq_space_wake_needed(ring(ifc, NETQ_TX_DONE));
		wake |= netq_space_wake_needed(ring(ifc, NETQ_RX_READY));
	}
	ifc->pushed_since_flush = ifc->popped_since_flush = false;
	return !wake || sys_notify_signal(ifc->driver_notif, NETQ_SIGNAL_QUEUE) != -ERR_INVALID_CAP;
}

void iface_flush(struct iface *ifc)
{
	if (ifc->attached && !flush_signal(ifc))
		iface_driver_changed(ifc);      /* dead: do not wait for the name service to say so */
}

bool iface_may_sleep(struct iface *ifc)
{
	return !ifc->attached || (netq_prepare_wait(ring(ifc, NETQ_RX_READY)) &&
				  netq_prepare_wait(ring(ifc, NETQ_TX_DONE)));
}
