/*
 * An interface's driver coming and going (docs/netstack.md, "Surviving a
 * driver restart"): attaching to a driver found under the interface's
 * name, noticing that it died (its buffers are reclaimed, iface.c), and
 * attaching to its next instance with lwIP's state kept, and asking it
 * for its counters. Never waits for a driver: the attach call goes only
 * to one waiting in its receive, and the counters call is made by a
 * thread of the interface's own, waited for a few milliseconds at most.
 */
#include "netstack.h"

#include "lib/names.h"
#include "lib/netq_client.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"

#define RETRY_FIRST_MS 10       /* attach retries while a new driver is not receiving yet */
#define RETRY_MAX_MS   500
#define STATS_WAIT_MS  30       /* the most NETMGMT_IF_INFO waits for a driver's counters */
#define STATS_STACK    (16 * 1024)

static uint64_t now_ms(void)
{
	return (uint64_t)sys_clock() / 1000000;
}

/* The driver we knew is dead (its name went, or was registered again by a
 * new instance): no ring is read any more, its buffers are ours, its
 * capabilities go. lwIP is not told: see docs/netstack.md. */
static void driver_gone(struct iface *ifc)
{
	bool was_attached = ifc->attached;

	ifc->attached = false;
	ifc->first_frame_pending = false;
	unsigned reclaimed = iface_reclaim(ifc);
	sys_cap_delete(ifc->driver);
	sys_cap_delete(ifc->driver_notif);
	ifc->generation = 0;
	ifc->driver_stats = (struct netq_stats){ 0 };
	if (!was_attached)
		return;         /* it died before it took anything */
	ifc->counters.bufs_reclaimed += reclaimed;
	char count[32];
	printf("netstack: %s driver gone at %lu ms; link down, %s reclaimed\n", ifc->cfg.name,
	       now_ms(), fmt_count(count, sizeof(count), reclaimed, "buffer", "buffers"));
}

/* The first attach: the interface learns which it is in the
 * configuration, the netif its MAC address, and it goes up. */
static void netif_start(struct iface *ifc, const struct netq_link *link)
{
	memcpy(ifc->netif.hwaddr, link->mac, 6);
	ifc->netif_started = true;
	if (!netstack_bind(ifc, link->pci_slot, link->mac))
		return;
	iface_configure(ifc);
	printf("netstack: %s attached, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s\n", ifc->cfg.name,
	       link->mac[0], link->mac[1], link->mac[2], link->mac[3], link->mac[4], link->mac[5],
	       ifc->cfg.dhcp ? "asking DHCP for an address" : "static address");
	netif_set_up(&ifc->netif);
	if (link->up)
		netif_set_link_up(&ifc->netif);
	if (ifc->cfg.dhcp)
		dhcp_start(&ifc->netif);
}

/*
 * Frames were lost while no driver ran, and TCP would notice only at its
 * retransmission timers (Linux's: 200 ms at the least, doubling). So each
 * synchronized connection on this interface says so at once: three
 * duplicate ACKs make the peer retransmit what we missed (fast
 * retransmit), and what we sent and had no acknowledgement for is sent
 * again now. That includes the closing ones (FIN_WAIT_1, CLOSING,
 * LAST_ACK), whose unacknowledged data and FIN would otherwise wait for
 * lwIP's retransmission timer, backed off through the outage; FIN_WAIT_2
 * and TIME_WAIT have nothing unacknowledged (TIME_WAIT's pcbs are on
 * another list), and the peer's own timers cover what it sent them.
 */
static bool outage_resend_state(enum tcp_state state)
{
	return state == ESTABLISHED || state == CLOSE_WAIT || state == FIN_WAIT_1 ||
	       state == CLOSING || state == LAST_ACK;
}

static void tcp_after_outage(struct iface *ifc)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next) {
		if (!outage_resend_state(pcb->state))
			continue;
		if (!ip_addr_cmp(&pcb->local_ip, &ifc->netif.ip_addr))
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
static void netif_resume(struct iface *ifc, const struct netq_link *link)
{
	if (memcmp(ifc->netif.hwaddr, link->mac, 6)) {
		printf("netstack: %s: warning: the new driver's MAC address is "
		       "%02x:%02x:%02x:%02x:%02x:%02x, not the one before; using it\n",
		       ifc->cfg.name, link->mac[0], link->mac[1], link->mac[2], link->mac[3],
		       link->mac[4], link->mac[5]);
		memcpy(ifc->netif.hwaddr, link->mac, 6);
	}
	if (link->up && !netif_is_link_up(&ifc->netif))
		netif_set_link_up(&ifc->netif);
	ifc->counters.driver_restarts++;
	ifc->first_frame_pending = true;
	printf("netstack: %s re-attached to a new driver at %lu ms\n", ifc->cfg.name, now_ms());
	if (!ip4_addr_isany(netif_ip4_addr(&ifc->netif))) {
		etharp_gratuitous(&ifc->netif);
		if (!ip4_addr_isany(netif_ip4_gw(&ifc->netif)))
			etharp_request(&ifc->netif, netif_ip4_gw(&ifc->netif));
		tcp_after_outage(ifc);
	}
}

void iface_first_frame(struct iface *ifc)
{
	ifc->first_frame_pending = false;
	printf("netstack: %s first frame through the new driver at %lu ms\n", ifc->cfg.name,
	       now_ms());
}

static void try_attach(struct iface *ifc);

static void attach_retry(void *arg)
{
	struct iface *ifc = arg;

	ifc->retry_armed = false;
	try_attach(ifc);
}

/*
 * Attach to the driver in ifc->driver: fresh rings over the shared pool,
 * rx-free filled, NETQ_ATTACH. The call is made only if the driver is
 * waiting for one (IPC_NONBLOCK), so a driver that is busy or hung cannot
 * stop the loop; then it is tried again from lwIP's timers.
 */
static void try_attach(struct iface *ifc)
{
	struct netq_link link;

	if (ifc->attached || !ifc->generation)
		return;
	iface_reclaim(ifc);     /* from an earlier try: nobody took them */
	netq_area_init(ifc->rings, pool.log2);
	((struct netq_area *)ifc->rings)->heap_size = pool.heap_log2 ? 1U << pool.heap_log2 : 0;
	iface_refill_rx(ifc);
	ifc->pushed_since_flush = false;
	struct netq_memory mem = { .rings = ifc->rings, .pool = pool.mem,
				   .pool_phys = pool.phys, .pool_log2 = pool.log2,
				   .heap = pool.heap_log2 ? pool.heap : NULL,
				   .heap_phys = pool.heap_phys, .heap_log2 = pool.heap_log2 };
	long err = netq_attach(ifc->driver | IPC_NONBLOCK, &mem, ifc->notify,
			       NETSTACK_BIT_NIC(ifc->index), ifc->driver_notif, &link);
	if (err == -ERR_WOULD_BLOCK) {
		ifc->retry_ms = ifc->retry_ms ? ifc->retry_ms * 2 : RETRY_FIRST_MS;
		if (ifc->retry_ms > RETRY_MAX_MS)
			ifc->retry_ms = RETRY_MAX_MS;
		if (!ifc->retry_armed) {
			ifc->retry_armed = true;
			sys_timeout(ifc->retry_ms, attach_retry, ifc);
		}
		return;
	}
	ifc->retry_ms = 0;
	if (err < 0) {
		/* Dead already (its name's removal will come), or refusing us:
		 * wait for the next instance. */
		printf("netstack: %s: cannot attach: %s\n", ifc->cfg.name, mica_strerror(err));
		sys_cap_delete(ifc->driver_notif);
		iface_reclaim(ifc);
		return;
	}
	ifc->attached = true;
	ifc->offloads = link.offloads;
	ifc->driver_stats = (struct netq_stats){ .link_up = link.up };
	if (!ifc->netif_started)
		netif_start(ifc, &link);
	else
		netif_resume(ifc, &link);
	iface_tx_room_again(ifc);
}

void iface_driver_changed(struct iface *ifc)
{
	cap_slot_t got = slot_alloc();
	uint64_t generation = 0;

	if (got == CAP_SLOT_NONE)
		return;
	long err = ns_lookup_now(ifc->driver_name, got, &generation);
	ifc->driver_refused = err == -ERR_NO_RIGHTS;    /* ifconfig says why (netmgmt.c) */
	if (err == -ERR_NO_RIGHTS)
		printf_limited("netstack: init will not give us the driver's name '%s': the manifest "
			       "needs `lookup %s` under the netstack\n", ifc->driver_name,
			       ifc->driver_name);
	if (ifc->generation && (err < 0 || generation != ifc->generation))
		driver_gone(ifc);
	if (err == 0 && !ifc->generation) {
		/* A new driver: keep its endpoint in ifc->driver. */
		cap_slot_t old = ifc->driver;
		ifc->driver = got;
		got = old;
		ifc->generation = generation;
		ifc->retry_ms = 0;
		try_attach(ifc);
	}
	sys_cap_delete(got);
	slot_free(got);
}

/*
 * The driver's counters (NETQ_STATS). IPC_NONBLOCK sends only to a driver
 * waiting in its receive, but the wait for the answer has no limit (IPC
 * has no timeouts but 0 and infinity): a driver that takes the call and
 * never answers (hung while serving it, or hostile) would hold the
 * netstack. So the call is made by a thread of the interface's own
 * (started at the first), which never touches lwIP; the loop waits for it
 * at most STATS_WAIT_MS and otherwise uses the counters as last read. While
 * a call is still out, no other is made, and nothing is waited for: the
 * thread is free again when the driver answers or dies (ERR_DELETED).
 */
static struct stats_call {
	bool started;
	volatile bool busy;             /* a call is out: the thread owns the rest */
	cap_slot_t go, done;            /* the thread waits on go; the loop on done */
	cap_slot_t driver;              /* what to call */
	uint64_t generation;            /* the driver's registration, when asked */
	long err;
	struct netq_stats s;
} stats_calls[NETSTACK_MAX_NICS];

#define STATS_BIT_DONE  1
#define STATS_BIT_TIMER 2

static void stats_thread(uint64_t index)
{
	struct stats_call *c = &stats_calls[index];

	for (;;) {
		sys_notify_wait(c->go, 0);
		c->err = netq_get_stats(c->driver | IPC_NONBLOCK, &c->s);
		__atomic_store_n(&c->busy, false, __ATOMIC_RELEASE);
		sys_notify_signal(c->done, STATS_BIT_DONE);
	}
}

static bool stats_start(struct iface *ifc, struct stats_call *c)
{
	if (c->started)
		return true;
	c->go = slot_alloc();
	c->done = slot_alloc();
	if (c->go == CAP_SLOT_NONE || c->done == CAP_SLOT_NONE ||
	    sys_obj_create(CAP_NOTIFICATION, c->go, 0) < 0 ||
	    sys_obj_create(CAP_NOTIFICATION, c->done, 0) < 0 ||
	    program_thread(stats_thread, ifc->index, STATS_STACK, "driver-stats") < 0) {
		printf_limited("netstack: %s: no thread for the driver's counters; "
			       "they are not read\n", ifc->cfg.name);
		return false;
	}
	c->started = true;
	return true;
}

void iface_read_driver_stats(struct iface *ifc)
{
	struct stats_call *c = &stats_calls[ifc->index];

	if (!ifc->attached || !stats_start(ifc, c))
		return;
	if (__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE))
		return;         /* the last call is still out: not again */
	c->driver = ifc->driver;
	c->generation = ifc->generation;
	c->busy = true;
	sys_notify_wait(c->done | IPC_NONBLOCK, 0);     /* a late timer's bits */
	sys_notify_signal(c->go, 1);
	uint64_t deadline = (uint64_t)sys_clock() + STATS_WAIT_MS * 1000000ULL;
	while (__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE) && (uint64_t)sys_clock() < deadline) {
		sys_notify_timer(c->done, STATS_BIT_TIMER, deadline);
		sys_notify_wait(c->done, 0);
	}
	sys_notify_timer(c->done, 0, 0);
	if (__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE)) {
		printf_limited("netstack: %s: the driver took NETQ_STATS and has not answered in "
			       "%u ms; its counters as last read\n", ifc->cfg.name, STATS_WAIT_MS);
		return;
	}
	if (c->err == 0 && ifc->attached && c->generation == ifc->generation)
		ifc->driver_stats = c->s;
}

void iface_counters(struct iface *ifc, struct net_if_counters *c)
{
	const struct netq_stats *drv = &ifc->driver_stats;

	iface_read_driver_stats(ifc);
	*c = ifc->counters;
	c->drv_rx_packets = drv->rx_packets;
	c->drv_rx_no_buffer = drv->rx_no_buffer;
	c->drv_rx_errors = drv->rx_errors + drv->rx_oversize + drv->rx_bad_desc;
	c->drv_tx_packets = drv->tx_packets;
	c->drv_tx_errors = drv->tx_errors;
	c->link_up = ifc->attached && drv->link_up;
	c->attached = ifc->attached;
	/* The pool is everybody's: total, free and lwIP's are the pool's;
	 * posted and sending are this driver's. */
	c->bufs_total = pool.nbufs;
	c->tx_heap_held = tx_heap_held(ifc);
	c->bufs_lwip_max = pool_lwip_share();
	c->bufs_free = c->bufs_rx_posted = c->bufs_tx = c->bufs_lwip = 0;
	for (uint32_t i = 0; i < pool.nbufs; i++) {
		const struct iface_buf *b = &pool.bufs[i];
		c->bufs_free += b->place == BUF_FREE;
		c->bufs_rx_posted += b->place == BUF_RX_POSTED && b->iface == ifc;
		c->bufs_tx += (b->place == BUF_TX && b->iface == ifc) ||
			      (b->tx_hold && b->tx_iface == ifc);
		c->bufs_lwip += b->place == BUF_LWIP;
	}
}
