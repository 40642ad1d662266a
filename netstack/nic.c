/*
 * One lwIP netif per NIC, over its driver's queues (proto/netq.h).
 *
 * The pool is the netstack's (DMA memory from init). A buffer is in
 * exactly one place: rx-free or rx-ready (the driver's), lwIP (a received
 * frame, as the custom pbuf bufs[i]), tx-ready (a frame being sent), or
 * the free stack. Received frames are never copied: the pbuf lwIP gets
 * points into the pool, and freeing it puts the buffer back in rx-free.
 * A frame to send is copied into a free buffer, unless it is a received
 * frame still lying in its own buffer of this NIC (an ICMP echo answered in
 * place, later forwarding): then it goes out from there and the buffer is
 * held until the driver hands it back in tx-done.
 *
 * The received-frame pbufs are of lwIP's PBUF_RAM kind, so lwIP may put
 * back headers it took off (the echo reply, ethernet_output of a forwarded
 * packet). lwIP's only bound on that is that the payload stays above the
 * pbuf structure; the structures are therefore kept in the program's data
 * (rxbufs), below the DMA window, and lwIP never adds more headers than it
 * removed from a frame, which stay inside its buffer.
 */
#include "netstack.h"

#include "lib/netq_client.h"
#include "lib/names.h"
#include "lwip/etharp.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

#define AREA_LOG2 21            /* 2 MiB: 1013 buffers per NIC */
#define NIC_MAX_BUFS (((1U << AREA_LOG2) - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE)

static struct nic_rxbuf rxbufs[NETSTACK_MAX_NICS][NIC_MAX_BUFS];

static struct netq_ring *ring(struct nic *n, enum netq_ring_id id)
{
	return netq_ring(n->area, id);
}

static uint32_t buf_index(uint32_t start)
{
	return (start - NETQ_POOL_OFFSET) / NETQ_BUF_SIZE;
}

/* A buffer is ours again: to rx-free for the NIC, or the free stack. */
static void buf_release(struct nic *n, uint32_t start)
{
	if (n->nfree >= n->nbufs / 2 &&
	    netq_push(ring(n, NETQ_RX_FREE), (struct netq_desc){ start, 0, 0 }))
		n->pushed = true;
	else
		n->free[n->nfree++] = start;
}

/* Half the pool is for receiving: while the free stack holds more than
 * the other half, move buffers from it to rx-free (as far as it takes). */
static void rx_refill(struct nic *n)
{
	while (n->nfree > n->nbufs / 2 &&
	       netq_push(ring(n, NETQ_RX_FREE), (struct netq_desc){ n->free[n->nfree - 1], 0, 0 })) {
		n->nfree--;
		n->pushed = true;
	}
}

/* lwIP let go of a received frame. */
static void rxbuf_free(struct pbuf *p)
{
	struct nic_rxbuf *b = (struct nic_rxbuf *)p;

	buf_release(b->nic, b->start);
}

static bool in_own_buffer(struct nic *n, struct pbuf *p)
{
	if (p->next || !(p->flags & PBUF_FLAG_IS_CUSTOM))
		return false;
	struct nic_rxbuf *b = (struct nic_rxbuf *)p;
	return b->pc.custom_free_function == rxbuf_free && b->nic == n;
}

static err_t nic_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct nic *n = netif->state;
	struct netq_ring *tx = ring(n, NETQ_TX_READY);
	struct netq_desc d;

	if (!n->attached || p->tot_len > NETQ_FRAME_MAX || !netq_space(tx)) {
		n->count.tx_dropped++;
		LINK_STATS_INC(link.drop);
		return ERR_IF;
	}
	if (in_own_buffer(n, p)) {
		struct nic_rxbuf *b = (struct nic_rxbuf *)p;
		if (b->tx_hold)
			goto copy;      /* already on its way out once */
		pbuf_ref(p);
		b->tx_hold = p;
		d = (struct netq_desc){ (uint32_t)((uint8_t *)p->payload - n->area), p->len, 0 };
		n->count.tx_zero_copy++;
	} else {
copy:
		if (!n->nfree) {
			n->count.tx_dropped++;
			LINK_STATS_INC(link.drop);
			return ERR_MEM;
		}
		uint32_t start = n->free[--n->nfree];
		pbuf_copy_partial(p, n->area + start, p->tot_len, 0);
		d = (struct netq_desc){ start, p->tot_len, 0 };
	}
	netq_push(tx, d);
	n->count.tx_packets++;
	n->count.tx_bytes += d.len;
	LINK_STATS_INC(link.xmit);
	n->pushed = true;
	return ERR_OK;
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
	struct nic *n = netif->state;

	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = nic_linkoutput;
	netif_set_hostname(netif, "mica");
	(void)n;
	return ERR_OK;
}

long nic_start(struct nic *n, cap_slot_t notify)
{
	struct netq_link link;
	long err;

	n->driver = slot_alloc();
	n->driver_notif = slot_alloc();
	if ((err = ns_lookup(n->cfg.name, n->driver)) < 0)
		return err;
	if (!(n->area = dma_alloc(1UL << AREA_LOG2, &n->phys)))
		return -ERR_NO_MEMORY;
	if ((uintptr_t)rxbufs[NETSTACK_MAX_NICS - 1] >= (uintptr_t)n->area)
		return -ERR_RANGE;      /* see the comment at the top */
	n->log2 = AREA_LOG2;
	n->nbufs = netq_area_init(n->area, AREA_LOG2);
	n->geom = *(const struct netq_area *)n->area;
	n->bufs = rxbufs[n->index];
	n->free = mem_heap(n->nbufs * sizeof(*n->free));
	if (!n->free)
		return -ERR_NO_MEMORY;
	for (uint32_t i = n->nbufs; i-- > 0;) {
		n->bufs[i] = (struct nic_rxbuf){ .nic = n, .start = NETQ_POOL_OFFSET + i * NETQ_BUF_SIZE };
		n->bufs[i].pc.custom_free_function = rxbuf_free;
		n->free[n->nfree++] = n->bufs[i].start;
	}
	rx_refill(n);
	if ((err = netq_attach(n->driver, n->area, n->phys, AREA_LOG2, notify,
			       NETSTACK_BIT_NIC(n->index), n->driver_notif, &link)) < 0)
		return err;
	n->attached = true;

	ip4_addr_t addr, mask, gw;
	ip4_addr_set_u32(&addr, n->cfg.dhcp ? 0 : n->cfg.addr);
	ip4_addr_set_u32(&mask, n->cfg.dhcp ? 0 : n->cfg.mask);
	ip4_addr_set_u32(&gw, n->cfg.gw);
	memcpy(n->netif.hwaddr, link.mac, 6);
	if (!netif_add(&n->netif, &addr, &mask, &gw, n, nic_netif_init, ethernet_input))
		return -ERR_NO_MEMORY;
	netif_set_status_callback(&n->netif, status_changed);
	netif_set_up(&n->netif);
	if (link.up)
		netif_set_link_up(&n->netif);
	return 0;
}

bool nic_service(struct nic *n)
{
	struct netq_desc d;
	bool busy = false;
	const struct netq_area *a = &n->geom;

	while (netq_pop(ring(n, NETQ_TX_DONE), &d)) {
		busy = n->popped = true;
		uint32_t start = netq_buffer_start(d.offset);
		if (!netq_desc_valid(a, (struct netq_desc){ start, 0, 0 }, true))
			continue;       /* a driver bug: the buffer is lost, not reused */
		struct nic_rxbuf *b = &n->bufs[buf_index(start)];
		if (b->tx_hold) {
			struct pbuf *p = b->tx_hold;
			b->tx_hold = NULL;
			pbuf_free(p);
		} else {
			buf_release(n, start);
		}
	}
	rx_refill(n);
	for (unsigned budget = NETQ_RING_SIZE; budget && netq_pop(ring(n, NETQ_RX_READY), &d); budget--) {
		busy = n->popped = true;
		if (!netq_desc_valid(a, d, false)) {
			n->count.rx_dropped++;
			continue;
		}
		uint32_t start = netq_buffer_start(d.offset);
		struct nic_rxbuf *b = &n->bufs[buf_index(start)];
		LINK_STATS_INC(link.recv);
		n->count.rx_packets++;
		n->count.rx_bytes += d.len;
		struct pbuf *p = pbuf_alloced_custom(PBUF_RAW, d.len, PBUF_RAM, &b->pc,
						     n->area + d.offset,
						     (u16_t)(start + NETQ_BUF_SIZE - d.offset));
		if (!p || n->netif.input(p, &n->netif) != ERR_OK) {
			n->count.rx_dropped++;
			LINK_STATS_INC(link.drop);
			if (p)
				pbuf_free(p);
			else
				buf_release(n, start);
		}
	}
	return busy;
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
	if (wake)
		sys_notify_signal(n->driver_notif, NETQ_SIGNAL_QUEUE);
	n->pushed = n->popped = false;
}

bool nic_may_sleep(struct nic *n)
{
	return !n->attached || (netq_prepare_wait(ring(n, NETQ_RX_READY)) &&
				netq_prepare_wait(ring(n, NETQ_TX_DONE)));
}

void nic_counters(struct nic *n, struct net_if_counters *c)
{
	struct netq_stats s = { 0 };

	*c = n->count;
	if (n->attached && netq_get_stats(n->driver, &s) == 0) {
		c->drv_rx_packets = s.rx_packets;
		c->drv_rx_no_buffer = s.rx_no_buffer;
		c->drv_rx_errors = s.rx_errors + s.rx_oversize + s.rx_bad_desc;
		c->drv_tx_packets = s.tx_packets;
		c->drv_tx_errors = s.tx_errors;
		c->link_up = s.link_up;
	}
}
