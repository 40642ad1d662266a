/*
 * One lwIP netif per NIC, over its driver's queues (proto/netq.h).
 *
 * The pool is the netstack's (DMA memory from init). Each buffer has one
 * place (enum nic_buf_place): the free stack, the driver's (given to
 * rx-free, or a copied frame given to tx-ready), or lwIP's (a received
 * frame, as the custom pbuf bufs[i]). Received frames are never copied:
 * the pbuf lwIP gets points into the pool, and freeing it puts the buffer
 * back in rx-free. A frame to send is copied into a free buffer, unless it
 * is a received frame still lying in its own buffer of this NIC (an ICMP
 * echo answered in place, later forwarding): then it goes out from there
 * and the buffer is held (tx_hold) until the driver hands it back.
 *
 * A descriptor from the driver is taken only when it names a buffer the
 * driver holds in that role (rx-ready: one given to rx-free; tx-done: the
 * very offset given to tx-ready); anything else is counted (bad_desc) and
 * dropped, so a driver scribbling on the rings cannot make us use a
 * buffer twice. When the driver dies, every buffer it held is ours again.
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
#include "lib/netq_client.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define AREA_LOG2 21            /* 2 MiB: 1014 buffers per NIC */
#define NIC_MAX_BUFS (((1U << AREA_LOG2) - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE)
#define RETRY_FIRST_MS 10       /* attach retries while a new driver is not receiving yet */
#define RETRY_MAX_MS   500

static struct nic_buf bufs_of[NETSTACK_MAX_NICS][NIC_MAX_BUFS];

static struct netq_ring *ring(struct nic *n, enum netq_ring_id id)
{
	return netq_ring(n->area, id);
}

static uint64_t now_ms(void)
{
	return (uint64_t)sys_clock() / 1000000;
}

/* The buffer holding the byte at offset, or NULL outside the pool. */
static struct nic_buf *buf_at(struct nic *n, uint32_t offset)
{
	if (offset < NETQ_POOL_OFFSET || (offset - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE >= n->nbufs)
		return NULL;
	return &n->bufs[(offset - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE];
}

static void buf_to_free_stack(struct nic *n, struct nic_buf *b)
{
	b->place = BUF_FREE;
	n->free[n->nfree++] = b->start;
}

/* Give a buffer to rx-free; false when the ring is full. */
static bool buf_post(struct nic *n, struct nic_buf *b)
{
	if (!netq_push(ring(n, NETQ_RX_FREE), (struct netq_desc){ b->start, 0, 0 }))
		return false;
	b->place = BUF_RX_POSTED;
	n->pushed = true;
	return true;
}

/* A buffer is ours again: to rx-free for the NIC, or the free stack. */
static void buf_release(struct nic *n, struct nic_buf *b)
{
	if (!n->attached || n->nfree < n->nbufs / 2 || !buf_post(n, b))
		buf_to_free_stack(n, b);
}

/* Half the pool is for receiving: while the free stack holds more than
 * the other half, move buffers from it to rx-free (as far as it takes). */
static void rx_refill(struct nic *n)
{
	while (n->nfree > n->nbufs / 2 && buf_post(n, buf_at(n, n->free[n->nfree - 1])))
		n->nfree--;
}

/* lwIP let go of a received frame. */
static void rxbuf_free(struct pbuf *p)
{
	struct nic_buf *b = (struct nic_buf *)p;

	buf_release(b->nic, b);
}

static bool in_own_buffer(struct nic *n, struct pbuf *p)
{
	if (p->next || !(p->flags & PBUF_FLAG_IS_CUSTOM))
		return false;
	struct nic_buf *b = (struct nic_buf *)p;
	return b->pc.custom_free_function == rxbuf_free && b->nic == n;
}

static err_t nic_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nic *n = netif->state;
	struct netq_ring *tx = ring(n, NETQ_TX_READY);
	struct nic_buf *b;
	struct netq_desc d;

	/* No driver, or no room: the error makes TCP keep the segment (in
	 * unsent, TF_NAGLEMEMERR); tcp_txnow() sends it once there is room
	 * again or a new driver (see tx_room_again). */
	if (!n->attached || p->tot_len > NETQ_FRAME_MAX || !netq_space(tx))
		goto drop;
	if (in_own_buffer(n, p) && !((struct nic_buf *)p)->tx_hold) {
		b = (struct nic_buf *)p;
		pbuf_ref(p);
		b->tx_hold = p;
		d = (struct netq_desc){ (uint32_t)((uint8_t *)p->payload - n->area), p->len, 0 };
		n->count.tx_zero_copy++;
	} else {
		/* Copied (also a frame already on its way out once). */
		if (!n->nfree)
			goto drop;
		b = buf_at(n, n->free[--n->nfree]);
		pbuf_copy_partial(p, n->area + b->start, p->tot_len, 0);
		b->place = BUF_TX;
		d = (struct netq_desc){ b->start, p->tot_len, 0 };
	}
	b->tx_offset = d.offset;
	netq_push(tx, d);
	n->count.tx_packets++;
	n->count.tx_bytes += d.len;
	LINK_STATS_INC(link.xmit);
	n->pushed = true;
	return ERR_OK;
drop:
	n->count.tx_dropped++;
	LINK_STATS_INC(link.drop);
	n->tx_refused = true;
	return n->attached ? ERR_MEM : ERR_IF;
}

/* lwIP resends a segment it could not send only when something else makes
 * it output on that connection (an incoming segment, more data); with
 * nothing coming, a connection would wait forever. So once frames can go
 * again, every connection with such a segment sends it now. */
static void tx_room_again(struct nic *n)
{
	if (!n->tx_refused)
		return;
	n->tx_refused = false;
	tcp_txnow();
}

static void status_changed(struct netif *netif)
{
	struct nic *n = netif->state;
	const ip4_addr_t *a = netif_ip4_addr(netif);

	if (ip4_addr_isany(a) || n->up_reported)
		return;
	n->up_reported = true;
	unsigned prefix = 0;
	for (uint32_t m = ip4_addr_get_u32(netif_ip4_netmask(netif)); m; m &= m - 1)
		prefix++;
	printf("netstack: %s up, %u.%u.%u.%u/%u%s\n", n->cfg.name, ip4_addr1(a), ip4_addr2(a),
	       ip4_addr3(a), ip4_addr4(a), prefix, n->cfg.dhcp ? " (dhcp)" : "");
}

static err_t nic_netif_init(struct netif *netif)
{
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = nic_linkoutput;
	netif_set_hostname(netif, "mica");
	return ERR_OK;
}

long nic_init(struct nic *n, cap_slot_t notify)
{
	cap_slot_t watch = slot_alloc();
	long err;

	n->notify = notify;
	n->driver = slot_alloc();
	n->driver_notif = slot_alloc();
	if (watch == CAP_SLOT_NONE || n->driver == CAP_SLOT_NONE || n->driver_notif == CAP_SLOT_NONE)
		return -ERR_NO_MEMORY;
	if (!(n->area = dma_alloc(1UL << AREA_LOG2, &n->phys)))
		return -ERR_NO_MEMORY;
	if ((uintptr_t)bufs_of[NETSTACK_MAX_NICS - 1] >= (uintptr_t)n->area)
		return -ERR_RANGE;      /* see the comment at the top */
	n->log2 = AREA_LOG2;
	n->nbufs = netq_area_init(n->area, AREA_LOG2);
	n->geom = *(const struct netq_area *)n->area;
	n->bufs = bufs_of[n->index];
	n->free = mem_heap(n->nbufs * sizeof(*n->free));
	if (!n->free)
		return -ERR_NO_MEMORY;
	for (uint32_t i = n->nbufs; i-- > 0;) {
		n->bufs[i] = (struct nic_buf){ .nic = n, .start = NETQ_POOL_OFFSET + i * NETQ_BUF_SIZE };
		n->bufs[i].pc.custom_free_function = rxbuf_free;
		buf_to_free_stack(n, &n->bufs[i]);
	}

	ip4_addr_t addr, mask, gw;
	ip4_addr_set_u32(&addr, n->cfg.dhcp ? 0 : n->cfg.addr);
	ip4_addr_set_u32(&mask, n->cfg.dhcp ? 0 : n->cfg.mask);
	ip4_addr_set_u32(&gw, n->cfg.gw);
	if (!netif_add(&n->netif, &addr, &mask, &gw, n, nic_netif_init, ethernet_input))
		return -ERR_NO_MEMORY;
	netif_set_status_callback(&n->netif, status_changed);

	/* Told whenever the driver's name comes or goes: a badged copy of our
	 * notification, so the signal says what it is about. */
	if ((err = sys_cap_copy(notify, CAP_SLOT_SELF, watch, CAP_RIGHT_WRITE,
				NETSTACK_BIT_DRIVERS)) < 0 ||
	    (err = ns_watch(n->cfg.name, watch)) < 0)
		return err;
	sys_cap_delete(watch);
	slot_free(watch);
	return 0;
}

/* Every buffer the driver held is ours again (it is dead, or never took
 * them); a frame sent in place goes back to lwIP. Returns how many. */
static unsigned reclaim(struct nic *n)
{
	unsigned count = 0;

	for (uint32_t i = 0; i < n->nbufs; i++) {
		struct nic_buf *b = &n->bufs[i];
		if (b->place == BUF_RX_POSTED || b->place == BUF_TX) {
			buf_to_free_stack(n, b);
			count++;
		}
		if (b->tx_hold) {
			struct pbuf *p = b->tx_hold;
			b->tx_hold = NULL;
			pbuf_free(p);   /* lwIP's last reference frees it to the stack */
			count++;
		}
	}
	return count;
}

/* The driver we knew is dead (its name went, or was registered again by a
 * new instance): no ring is read any more, its buffers are ours, its
 * capabilities go. lwIP is not told: see docs/netstack.md. */
static void driver_gone(struct nic *n)
{
	bool was_attached = n->attached;

	n->attached = false;
	n->first_frame_pending = false;
	unsigned reclaimed = reclaim(n);
	sys_cap_delete(n->driver);
	sys_cap_delete(n->driver_notif);
	n->generation = 0;
	n->drv = (struct netq_stats){ 0 };
	if (!was_attached)
		return;         /* it died before it took anything */
	n->count.bufs_reclaimed += reclaimed;
	printf("netstack: %s driver gone at %lu ms; link down, %u buffers reclaimed\n",
	       n->cfg.name, now_ms(), reclaimed);
}

/* The first attach: the netif learns its MAC address and goes up. */
static void netif_start(struct nic *n, const struct netq_link *link)
{
	memcpy(n->netif.hwaddr, link->mac, 6);
	n->netif_started = true;
	printf("netstack: %s attached, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s\n", n->cfg.name,
	       link->mac[0], link->mac[1], link->mac[2], link->mac[3], link->mac[4], link->mac[5],
	       n->cfg.dhcp ? "asking DHCP for an address" : "static address");
	netif_set_up(&n->netif);
	if (link->up)
		netif_set_link_up(&n->netif);
	if (n->cfg.dhcp)
		dhcp_start(&n->netif);
}

/*
 * Frames were lost while no driver ran, and TCP would notice only at its
 * retransmission timers (Linux's: 200 ms at the least, doubling). So each
 * connection on this interface says so at once: three duplicate ACKs make
 * the peer retransmit what we missed (fast retransmit), and what we sent
 * and had no acknowledgement for is sent again now.
 */
static void tcp_after_outage(struct nic *n)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT)
			continue;
		if (!ip_addr_cmp(&pcb->local_ip, &n->netif.ip_addr))
			continue;
		for (int i = 0; i < 3; i++)
			tcp_send_empty_ack(pcb);
		if (pcb->unacked)
			tcp_rexmit_rto(pcb);
	}
}

/* A new driver instance took over. lwIP's state (addresses, the DHCP
 * lease, ARP, every TCP connection) is kept. The neighbours hear of us
 * (a gratuitous ARP: the MAC address may differ, a switch may have
 * forgotten the port), and the gateway is asked for its address, whose
 * answer shows the path through the new driver works without waiting
 * for traffic. */
static void netif_resume(struct nic *n, const struct netq_link *link)
{
	if (memcmp(n->netif.hwaddr, link->mac, 6)) {
		printf("netstack: %s: warning: the new driver's MAC address is "
		       "%02x:%02x:%02x:%02x:%02x:%02x, not the one before; using it\n", n->cfg.name,
		       link->mac[0], link->mac[1], link->mac[2], link->mac[3], link->mac[4],
		       link->mac[5]);
		memcpy(n->netif.hwaddr, link->mac, 6);
	}
	if (link->up && !netif_is_link_up(&n->netif))
		netif_set_link_up(&n->netif);
	n->count.driver_restarts++;
	n->first_frame_pending = true;
	printf("netstack: %s re-attached to a new driver at %lu ms\n", n->cfg.name, now_ms());
	if (!ip4_addr_isany(netif_ip4_addr(&n->netif))) {
		etharp_gratuitous(&n->netif);
		if (!ip4_addr_isany(netif_ip4_gw(&n->netif)))
			etharp_request(&n->netif, netif_ip4_gw(&n->netif));
		tcp_after_outage(n);
	}
}

static void try_attach(struct nic *n);

static void attach_retry(void *arg)
{
	struct nic *n = arg;

	n->retry_armed = false;
	try_attach(n);
}

/*
 * Attach to the driver in n->driver: fresh rings over the same pool, rx-free
 * filled, NETQ_ATTACH. The call is made only if the driver is waiting for
 * one (IPC_NONBLOCK), so a driver that is busy or hung cannot stop the
 * loop; then it is tried again from lwIP's timers.
 */
static void try_attach(struct nic *n)
{
	struct netq_link link;

	if (n->attached || !n->generation)
		return;
	reclaim(n);             /* from an earlier try: nobody took them */
	netq_area_init(n->area, n->log2);
	rx_refill(n);
	n->pushed = false;
	long err = netq_attach(n->driver | IPC_NONBLOCK, n->area, n->phys, n->log2, n->notify,
			       NETSTACK_BIT_NIC(n->index), n->driver_notif, &link);
	if (err == -ERR_WOULD_BLOCK) {
		n->retry_ms = n->retry_ms ? n->retry_ms * 2 : RETRY_FIRST_MS;
		if (n->retry_ms > RETRY_MAX_MS)
			n->retry_ms = RETRY_MAX_MS;
		if (!n->retry_armed) {
			n->retry_armed = true;
			sys_timeout(n->retry_ms, attach_retry, n);
		}
		return;
	}
	n->retry_ms = 0;
	if (err < 0) {
		/* Dead already (its name's removal will come), or refusing us:
		 * wait for the next instance. */
		printf("netstack: %s: cannot attach: %s\n", n->cfg.name, mica_strerror(err));
		sys_cap_delete(n->driver_notif);
		reclaim(n);
		return;
	}
	n->attached = true;
	n->drv = (struct netq_stats){ .link_up = link.up };
	if (!n->netif_started)
		netif_start(n, &link);
	else
		netif_resume(n, &link);
	tx_room_again(n);
}

void nic_driver_changed(struct nic *n)
{
	cap_slot_t got = slot_alloc();
	uint64_t generation = 0;

	if (got == CAP_SLOT_NONE)
		return;
	long err = ns_lookup_now(n->cfg.name, got, &generation);
	if (n->generation && (err < 0 || generation != n->generation))
		driver_gone(n);
	if (err == 0 && !n->generation) {
		/* A new driver: keep its endpoint in n->driver. */
		cap_slot_t old = n->driver;
		n->driver = got;
		got = old;
		n->generation = generation;
		n->retry_ms = 0;
		try_attach(n);
	}
	sys_cap_delete(got);
	slot_free(got);
}

/* A producer whose index claims more entries than a ring holds has
 * scribbled on it: skip what it claims, so it cannot keep us busy. */
static void ring_check(struct nic *n, struct netq_ring *r)
{
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (head - r->tail > NETQ_RING_SIZE) {
		__atomic_store_n(&r->tail, head, __ATOMIC_RELEASE);
		n->count.bad_desc++;
	}
}

/* Sent buffers back from the driver: only the offsets we gave it. True
 * if anything came. */
static bool take_tx_done(struct nic *n)
{
	struct netq_ring *r = ring(n, NETQ_TX_DONE);
	struct netq_desc d;
	bool took = false;

	ring_check(n, r);
	for (unsigned budget = NETQ_RING_SIZE; budget && netq_pop(r, &d); budget--) {
		took = n->popped = true;
		struct nic_buf *b = buf_at(n, d.offset);
		if (!b || b->tx_offset != d.offset || (b->place != BUF_TX && !b->tx_hold)) {
			n->count.bad_desc++;
			continue;
		}
		if (b->tx_hold) {
			struct pbuf *p = b->tx_hold;
			b->tx_hold = NULL;
			pbuf_free(p);
		} else {
			buf_release(n, b);
		}
	}
	return took;
}

/* Received frames into lwIP: only in buffers we gave to rx-free. True if
 * anything came. */
static bool take_rx_ready(struct nic *n)
{
	struct netq_ring *r = ring(n, NETQ_RX_READY);
	struct netq_desc d;
	bool took = false;

	ring_check(n, r);
	for (unsigned budget = NETQ_RING_SIZE; budget && netq_pop(r, &d); budget--) {
		took = n->popped = true;
		struct nic_buf *b = buf_at(n, d.offset);
		if (!b || b->place != BUF_RX_POSTED) {
			n->count.bad_desc++;
			n->count.rx_dropped++;
			continue;
		}
		if (!netq_desc_valid(&n->geom, d, false) || d.len < 14 || d.len > NETQ_FRAME_MAX) {
			n->count.bad_desc++;    /* the driver gave it back, though */
			n->count.rx_dropped++;
			buf_release(n, b);
			continue;
		}
		if (n->first_frame_pending) {
			n->first_frame_pending = false;
			printf("netstack: %s first frame through the new driver at %lu ms\n",
			       n->cfg.name, now_ms());
		}
		b->place = BUF_LWIP;
		LINK_STATS_INC(link.recv);
		n->count.rx_packets++;
		n->count.rx_bytes += d.len;
		struct pbuf *p = pbuf_alloced_custom(PBUF_RAW, d.len, PBUF_RAM, &b->pc,
						     n->area + d.offset,
						     (u16_t)(b->start + NETQ_BUF_SIZE - d.offset));
		if (!p || n->netif.input(p, &n->netif) != ERR_OK) {
			n->count.rx_dropped++;
			LINK_STATS_INC(link.drop);
			if (p)
				pbuf_free(p);
			else
				buf_release(n, b);
		}
	}
	return took;
}

bool nic_service(struct nic *n)
{
	if (!n->attached)
		return false;
	bool busy = take_tx_done(n);
	if (busy)
		tx_room_again(n);
	rx_refill(n);
	return take_rx_ready(n) || busy;
}

void nic_flush(struct nic *n)
{
	bool wake = false;

	if (!n->attached)
		return;
	/* Only what we did can be what the driver waits for; taking its
	 * flags otherwise would wake it for nothing. */
	if (n->pushed) {
		wake |= netq_wake_needed(ring(n, NETQ_RX_FREE));
		wake |= netq_wake_needed(ring(n, NETQ_TX_READY));
	}
	if (n->popped) {
		wake |= netq_space_wake_needed(ring(n, NETQ_TX_DONE));
		wake |= netq_space_wake_needed(ring(n, NETQ_RX_READY));
	}
	if (wake && sys_notify_signal(n->driver_notif, NETQ_SIGNAL_QUEUE) == -ERR_INVALID_CAP)
		nic_driver_changed(n);  /* dead: do not wait for the name service to say so */
	n->pushed = n->popped = false;
}

bool nic_may_sleep(struct nic *n)
{
	return !n->attached || (netq_prepare_wait(ring(n, NETQ_RX_READY)) &&
				netq_prepare_wait(ring(n, NETQ_TX_DONE)));
}

void nic_counters(struct nic *n, struct net_if_counters *c)
{
	struct netq_stats s;

	/* Only a driver waiting for calls is asked, so a hung one cannot
	 * stop the netstack; otherwise its counters as last read. */
	if (n->attached && netq_get_stats(n->driver | IPC_NONBLOCK, &s) == 0)
		n->drv = s;
	*c = n->count;
	c->drv_rx_packets = n->drv.rx_packets;
	c->drv_rx_no_buffer = n->drv.rx_no_buffer;
	c->drv_rx_errors = n->drv.rx_errors + n->drv.rx_oversize + n->drv.rx_bad_desc;
	c->drv_tx_packets = n->drv.tx_packets;
	c->drv_tx_errors = n->drv.tx_errors;
	c->link_up = n->attached && n->drv.link_up;
	c->attached = n->attached;
	c->bufs_total = n->nbufs;
	c->bufs_free = c->bufs_rx_posted = c->bufs_tx = c->bufs_lwip = 0;
	for (uint32_t i = 0; i < n->nbufs; i++) {
		const struct nic_buf *b = &n->bufs[i];
		c->bufs_free += b->place == BUF_FREE;
		c->bufs_rx_posted += b->place == BUF_RX_POSTED;
		c->bufs_tx += b->place == BUF_TX || b->tx_hold;
		c->bufs_lwip += b->place == BUF_LWIP;
	}
}
