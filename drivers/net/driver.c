/*
 * The NIC driver program, common to every NIC model: find the device,
 * serve the driver protocol, move buffers between the client's rings and
 * the hardware. One thread, one loop: the endpoint receives client
 * requests, and its bound notification brings the IRQ (NIC_BIT_IRQ) and
 * the client's queue signals (NETQ_SIGNAL_QUEUE). It keeps init's
 * heartbeat (program_busy): idle only while it sleeps in that receive.
 * Injected faults are fault.c's; the data path keeps nothing for them.
 */
#include "driver.h"

#include "fault.h"
#include "lib/names.h"

#define NIC_BIT_IRQ 0x2
#define NIC_BIT_MSIX 0x4        /* vector i: NIC_BIT_MSIX << i */
/* Polls in a row between two looks at the client (one system call). */
#define CLIENT_CHECK_POLLS 64

static struct nic_device nic = { .client_notif = CAP_SLOT_NONE };
static cap_slot_t endpoint, reply, notif, irq, own_notif;
static cap_slot_t msix_irq[PCI_MSIX_MAX];

void *nic_dma(struct nic_device *n, size_t size, uint64_t *phys)
{
	return dma_alloc(size, phys);
}

uintptr_t nic_bar(struct nic_device *n, int bar)
{
	return n->pci->bars[bar].kind == PCI_BAR_MEM ? (uintptr_t)n->pci->bars[bar].base : 0;
}

bool nic_arg_on(struct nic_device *n, const char *key, bool dflt)
{
	char v[8];

	if (!program_arg(n->args, key, v, sizeof(v)))
		return dflt;
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "0"))
		return false;
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "1"))
		return true;
	return dflt;
}

unsigned long nic_arg_num(struct nic_device *n, const char *key, unsigned long dflt)
{
	char v[16];
	unsigned long x = 0;

	if (!program_arg(n->args, key, v, sizeof(v)) || !v[0])
		return dflt;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9' || x > 100000000)
			return dflt;
		x = x * 10 + (unsigned long)(*c - '0');
	}
	return x;
}

/* The physical address of a checked offset: in the pool, or (tx-ready
 * only, NETQ_OFFLOAD_TX_HEAP) in the client's heap. */
static uint64_t phys_of(uint32_t offset)
{
	if (offset < NETQ_POOL_OFFSET)
		return nic.heap_phys + (offset - NETQ_HEAP_OFFSET);
	return nic.pool_phys + (offset - NETQ_POOL_OFFSET);
}

/* Whether the run the client mapped at offset of the area (size bytes)
 * lies at the physical address it says (phys), as the kernel mapped it
 * (mem_phys), and is DMA memory init gave a running program (DMA_CHECK):
 * the NIC reads and writes there, so a client's word is only a claim
 * (2026-12-02's review: a client could name the kernel's memory as its
 * pool and read it on the wire, or have frames written into it; and a
 * pool in a client's ordinary pages would be written after the client
 * died, when init has given those pages to another program). NULL, or
 * why: the caller's words, or not_dma. */
static const char *area_run_check(uint64_t offset, uint64_t size, uint64_t phys, const char *why,
				  const char *not_dma)
{
	for (uint64_t off = 0; off < size; off += (uint64_t)MEM_PHYS_PAGES_MAX * PAGE_SIZE) {
		uint64_t pages = (size - off) / PAGE_SIZE;
		if (pages > MEM_PHYS_PAGES_MAX)
			pages = MEM_PHYS_PAGES_MAX;
		long got = sys_mem_phys(NETQ_DRIVER_AREA + offset + off, pages);
		if (got < 0 || (uint64_t)got != phys + off)
			return why;
	}
	return dma_check(phys, size) ? not_dma : NULL;
}

/* A frame the NIC returns buffer by buffer (rx.more), gathered here until
 * its last: its descriptors and whether it is to be dropped, and why. */
static struct {
	struct netq_desc d[NETQ_CHAIN_MAX];
	unsigned n;
	uint32_t len;
	enum nic_rx_status st;
	bool oversize;
} rx_frame;

static void rx_give_back(uint32_t offset)
{
	uint32_t off = netq_buffer_start(offset);

	nic.ops->rx_give(&nic, off, phys_of(off));
}

bool nic_rx_push(struct nic_device *n, struct netq_ring *rx_ready, const struct netq_desc *d,
		 unsigned count, unsigned frames, uint32_t bytes)
{
	if (!netq_push_chain(rx_ready, d, count)) {
		n->stats.rx_no_buffer += frames;        /* the client is not keeping up */
		for (unsigned i = 0; i < count; i++)
			rx_give_back(d[i].offset);
		return false;
	}
	n->stats.rx_packets += frames;
	n->stats.rx_bytes += bytes;
	return true;
}

/* One more buffer of the frame being received; at its last, the frame to
 * the client (pushed at once, or held by receive merging until the end of
 * the poll) or, if bad, every buffer back to the NIC. */
static bool rx_gather(struct nic_rx *rx, struct netq_ring *rx_ready)
{
	struct netq_desc d = { .offset = rx->offset, .len = (uint16_t)rx->len };
	const uint16_t rx_known = NETQ_F_RX_KNOWN |
				  (nic.offloads & NETQ_OFFLOAD_RX_TSO4 ? NETQ_F_TSO_KNOWN : 0);

	if (rx->st == NIC_RX_CONTINUED) {
		rx_give_back(rx->offset);       /* the rest of an oversize frame: counted with its first */
		return false;
	}
	if (!rx_frame.n) {
		d.flags = rx->flags;
		d.csum_start = rx->csum_start;
		d.csum_offset = rx->csum_offset;
		d.seg_size = rx->seg_size;
		rx_frame.st = rx->st;
	} else if (rx->st != NIC_RX_OK) {
		rx_frame.st = rx->st;
	}
	if (rx->more && !(nic.offloads & NETQ_OFFLOAD_RX_TSO4))
		rx_frame.oversize = true;       /* longer than a buffer, and no chains */
	if (rx->more)
		d.flags |= NETQ_F_MORE;
	rx_frame.len += rx->len;
	if (rx_frame.n < NETQ_CHAIN_MAX)
		rx_frame.d[rx_frame.n++] = d;
	else {
		rx_frame.oversize = true;
		rx_give_back(rx->offset);
	}
	if (rx->more)
		return false;
	/* The frame is whole. */
	struct netq_chain c = { 0 };
	for (unsigned i = 0; i < rx_frame.n; i++)
		netq_chain_add(&c, rx_frame.d[i]);
	bool pushed = false, delivered = false;
	uint32_t max = rx_frame.d[0].flags & NETQ_F_TSO4 ? NETQ_GSO_FRAME_MAX : NETQ_FRAME_MAX;
	if (rx_frame.st == NIC_RX_OK && (rx_frame.oversize || rx_frame.len > max))
		nic.stats.rx_oversize++;
	else if (rx_frame.st != NIC_RX_OK || rx_frame.len < 14)
		nic.stats.rx_errors++;
	else if (!netq_chain_valid(&c, rx_known))
		nic.stats.rx_errors++;          /* the device's offsets are wrong */
	else
		delivered = true;
	/* A good frame goes up (or is held to be merged with the next); a
	 * bad one straight back to the NIC. */
	if (delivered && nic.rx_merge)
		pushed = rx_merge_deliver(&nic, rx_ready, rx_frame.d, rx_frame.n, rx_frame.len);
	else if (delivered)
		pushed = nic_rx_push(&nic, rx_ready, rx_frame.d, rx_frame.n, 1, rx_frame.len);
	else
		for (unsigned i = 0; i < rx_frame.n; i++)
			rx_give_back(rx_frame.d[i].offset);
	rx_frame.n = 0;
	rx_frame.len = 0;
	rx_frame.oversize = false;
	return pushed;
}

/* The rx-ready descriptors that taking one more frame from the NIC may
 * need: what is gathered or held for rx-ready already, and the most one
 * frame takes. */
static unsigned rx_ready_need(void)
{
	return rx_frame.n + (nic.rx_merge ? rx_merge_held() : 0) +
	       (nic.rx_frame_descs ? nic.rx_frame_descs : NETQ_CHAIN_MAX);
}

/* The next frame in tx-ready, its descriptors into d (at most
 * NETQ_CHAIN_MAX + 1: one more says it is too long), without taking them;
 * returns how many, 0 when none. *whole: the frame's end is in the ring
 * (a chain whose last visible descriptor says MORE is not). */
static unsigned tx_peek_frame(struct netq_ring *tx_ready, struct netq_desc *d, bool *whole)
{
	unsigned n = 0;

	*whole = false;
	while (n <= NETQ_CHAIN_MAX && netq_peek(tx_ready, n, &d[n])) {
		if (!(d[n++].flags & NETQ_F_MORE)) {
			*whole = true;
			break;
		}
	}
	return n;
}

/* Is this frame of n descriptors one we may send? Every one but the
 * last says MORE (they are the copies taken, which may differ from what
 * was peeked), each lies in one pool buffer, and the whole is a frame we
 * offer to send. */
static bool tx_frame_valid(const struct netq_desc *d, unsigned n)
{
	uint16_t known = (nic.offloads & NETQ_OFFLOAD_TX_CSUM ? NETQ_F_TX_KNOWN : 0) |
			 (nic.offloads & NETQ_OFFLOAD_TX_TSO4 ? NETQ_F_TSO_KNOWN : 0) |
			 (nic.offloads & NETQ_OFFLOAD_TX_SG ? NETQ_F_SG_KNOWN : 0);
	struct netq_chain c = { .tx = true };

	bool heap = nic.offloads & NETQ_OFFLOAD_TX_HEAP;

	for (unsigned i = 0; i < n; i++) {
		if (heap ? !netq_tx_desc_valid(&nic.geom, d[i]) : !netq_desc_valid(&nic.geom, d[i], false))
			c.bad = true;
		if (netq_chain_add(&c, d[i]) != (i + 1 < n))
			c.bad = true;
	}
	return netq_chain_valid(&c, known);
}

/* Sent buffers back to the client: tx-done always has room for every
 * buffer in flight (driver_poll gives no more than it can take back).
 * true: any came back. */
static bool tx_reclaim(struct netq_ring *tx_done)
{
	uint32_t off;
	bool any = false;

	while (nic.ops->tx_take(&nic, &off)) {
		netq_push(tx_done, (struct netq_desc){ .offset = off });
		nic.tx_in_flight--;
		any = true;
	}
	return any;
}

/* The client's side of a ring changed, or the hardware's did: move
 * everything that can move, then wake the client if it waits. */
static void driver_poll(void)
{
	const struct nic_ops *ops = nic.ops;
	struct netq_ring *rx_free = netq_ring(nic.area, NETQ_RX_FREE);
	struct netq_ring *rx_ready = netq_ring(nic.area, NETQ_RX_READY);
	struct netq_ring *tx_ready = netq_ring(nic.area, NETQ_TX_READY);
	struct netq_ring *tx_done = netq_ring(nic.area, NETQ_TX_DONE);
	struct netq_desc d, frame[NETQ_CHAIN_MAX + 1];
	struct nic_rx rx;
	bool pushed = false, whole;
	unsigned n, taken = 0;

	/* Received frames to the client; bad ones straight back to the NIC.
	 * A frame is taken only when rx-ready has room for it (a frame's
	 * later buffers: room was kept at its first): a client that falls
	 * behind leaves frames in the NIC's ring, which then takes no more
	 * (QEMU's models keep what comes in the host's queue; hardware
	 * counts it missed, rx_no_buffer), instead of the driver taking them
	 * only to drop them; driver_may_sleep waits for the room. */
	while ((rx_frame.n || netq_space(rx_ready) >= rx_ready_need()) && ops->rx_take(&nic, &rx))
		pushed |= rx_gather(&rx, rx_ready);
	if (nic.rx_merge)
		pushed |= rx_merge_flush(&nic, rx_ready);       /* nothing is held past a poll */
	/* Empty buffers from the client to the NIC. */
	while (ops->rx_room(&nic) && netq_pop(rx_free, &d)) {
		if (netq_desc_valid(&nic.geom, d, true))
			ops->rx_give(&nic, d.offset, phys_of(d.offset));
		else
			nic.stats.rx_bad_desc++;
	}
	pushed |= tx_reclaim(tx_done);
	/* Frames to send; a bad one goes back unsent, each of its
	 * descriptors. Only as many as tx-done can take back when they
	 * complete, and at most a ring's worth per poll: a bad frame popped
	 * from tx-ready and pushed to tx-done leaves both counts as they
	 * were, and on the blank page init stands in for a dead client's
	 * area (every ring the same page, docs/drivers.md) tx-done's pushes
	 * are tx-ready's entries, so nothing else would end this loop. */
	while (taken < NETQ_RING_SIZE && (n = tx_peek_frame(tx_ready, frame, &whole)) &&
	       netq_space(tx_done) >= nic.tx_in_flight + n) {
		if (whole && n <= NETQ_CHAIN_MAX && ops->tx_room(&nic) < n) {
			/* The NIC may have sent some of this poll's frames
			 * already (QEMU's e1000 sends within a TDT write). */
			pushed |= tx_reclaim(tx_done);
			if (ops->tx_room(&nic) < n)
				break;          /* a transmit interrupt will come */
		}
		/* Judged as taken: the client can rewrite a slot after the
		 * peek, so only the copies popped are checked and used. */
		for (unsigned i = 0; i < n; i++)
			netq_pop(tx_ready, &frame[i]);
		taken += n;
		bool valid = whole && tx_frame_valid(frame, n) && (n == 1 || ops->tx_give_chain);
		uint64_t phys[NETQ_CHAIN_MAX];
		uint32_t len = 0;
		for (unsigned i = 0; valid && i < n; i++) {
			phys[i] = phys_of(frame[i].offset);
			len += frame[i].len;
		}
		/* The model's own checks come first in its give: false, and
		 * nothing of the frame reached the NIC. */
		if (valid)
			valid = n == 1 ? ops->tx_give(&nic, &frame[0], phys[0])
				       : ops->tx_give_chain(&nic, frame, phys, n);
		if (!valid) {
			nic.stats.tx_errors++;
			for (unsigned i = 0; i < n; i++)
				netq_push(tx_done, frame[i]);
			pushed = true;
			continue;
		}
		nic.tx_in_flight += n;
		nic.stats.tx_packets++;
		nic.stats.tx_bytes += len;
	}
	ops->flush(&nic);
	/* What the flush sent, if the NIC sends within it: back to the
	 * client now rather than at the next interrupt. */
	pushed |= tx_reclaim(tx_done);
	/* Signal only for what we pushed: taking the client's flags
	 * otherwise would wake it for nothing. */
	if (!pushed)
		return;
	bool wake = netq_wake_needed(rx_ready);
	wake |= netq_wake_needed(tx_done);
	if (wake && nic.client_notif != CAP_SLOT_NONE)
		sys_notify_signal(nic.client_notif, NETQ_SIGNAL_QUEUE);
}

/* Before sleeping: ask to be woken for rings we could take from. true:
 * sleep; false: something arrived, poll again. */
static bool driver_may_sleep(void)
{
	struct netq_ring *tx_done = netq_ring(nic.area, NETQ_TX_DONE);

	if (nic.ops->rx_room(&nic) && !netq_prepare_wait(netq_ring(nic.area, NETQ_RX_FREE)))
		return false;
	/* Frames may wait in the NIC for room on rx-ready: the client's
	 * taking some wakes us (it signals a producer waiting for space). */
	struct netq_ring *rx_ready = netq_ring(nic.area, NETQ_RX_READY);
	if (netq_space(rx_ready) < rx_ready_need() &&
	    !netq_prepare_wait_space(rx_ready, rx_ready_need()))
		return false;
	struct netq_desc frame[NETQ_CHAIN_MAX + 1];
	bool whole;
	unsigned n = tx_peek_frame(netq_ring(nic.area, NETQ_TX_READY), frame, &whole);
	if (nic.ops->tx_room(&nic) < (n ? n : 1))
		/* A transmit interrupt will come, unless it came already. */
		return !nic.ops->tx_pending || !nic.ops->tx_pending(&nic);
	/* Frames not sent yet: their completion must bring us back too, to
	 * hand the buffers back (a NIC that sends within its kick, as QEMU's
	 * e1000 does, has none left here, and asks for no interrupt). */
	if (nic.tx_in_flight && nic.ops->tx_pending && nic.ops->tx_pending(&nic))
		return false;
	if (netq_space(tx_done) < nic.tx_in_flight + (n ? n : 1))
		return netq_prepare_wait_space(tx_done, nic.tx_in_flight + (n ? n : 1));
	return netq_prepare_wait(netq_ring(nic.area, NETQ_TX_READY));
}

/* Stop the NIC and let go of the area; `unmap`: ours to unmap (a dead
 * client's went with its task, and the window may already hold the next
 * client's). */
static void detach(bool unmap)
{
	if (!nic.attached)
		return;
	nic.ops->stop(&nic);            /* no DMA into the old area from here on */
	if (unmap)
		sys_mem_unmap(fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2), MEM_UNMAP_SELF);
	nic.attached = false;
	if (nic.client_notif != CAP_SLOT_NONE) {
		sys_cap_delete(nic.client_notif);
		slot_free(nic.client_notif);
		nic.client_notif = CAP_SLOT_NONE;
	}
}

/* Our client is gone when its notification is: its task was destroyed,
 * and our mapping of its pool with it. Then the NIC is stopped (init
 * keeps the pool's memory for the client's next instance, which attaches
 * again). Checked at every wake-up, before the rings are touched, and
 * after every poll: a client that died during one took its area from
 * under us, and init's blank pages stood in (init/pager.c); they go now.
 * `unmap` is false only in NETQ_ATTACH, where the window may already hold
 * the next client's area. */
static void drop_dead_client(bool unmap)
{
	uint64_t info[3];

	if (!nic.attached || nic.client_notif == CAP_SLOT_NONE ||
	    (sys_cap_info(nic.client_notif, (uint64_t)info) == 0 && info[0] != CAP_NULL))
		return;
	printf("%s: the client died; NIC stopped, detached from its pool\n", nic.ifname);
	detach(unmap);
}

/* NETQ_ATTACH: take the client's rings, pool and notification, start the
 * NIC. */
static long attach(struct msg *m)
{
	struct ipc_buffer *b = ipc_buffer();
	unsigned log2 = (unsigned)m->w[1];
	unsigned heap_log2 = ipc_tag_words(m->tag) > 3 ? (unsigned)m->w[3] : 0;
	uint64_t heap_size = heap_log2 ? 1UL << heap_log2 : 0;
	const char *why;

	drop_dead_client(false);        /* a restarted client takes over */
	if (nic.attached)
		return ERR_BUSY;
	if (log2 < 16 || log2 > NETQ_POOL_LOG2_MAX || b->recv_cap_count != 1 ||
	    (heap_log2 && (heap_log2 < 16 || heap_log2 > NETQ_HEAP_LOG2_MAX)) ||
	    b->recv_pages != (NETQ_RINGS_SIZE + (1UL << log2) + heap_size) / PAGE_SIZE) {
		/* Whatever did arrive goes again. */
		if (b->recv_pages)
			sys_mem_unmap(fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2), MEM_UNMAP_SELF);
		if (b->recv_cap_count)
			sys_cap_delete(b->recv_cap_slot);
		return ERR_INVALID_ARG;
	}
	nic.client_notif = b->recv_cap_slot;
	b->recv_cap_slot = slot_alloc();
	nic.area = (uint8_t *)NETQ_DRIVER_AREA;
	nic.pool_phys = m->w[0];
	nic.pool_size = 1UL << log2;
	nic.heap_phys = heap_size ? m->w[2] : 0;
	nic.heap_size = heap_size;
	/* Our copy of the header: the client could change its own at any time. */
	memcpy(&nic.geom, nic.area, sizeof(nic.geom));
	nic.attached = true;            /* from here on, detach() undoes it */
	nic.tx_in_flight = 0;
	if (!(why = netq_area_check(&nic.geom, nic.pool_size)) && nic.geom.heap_size != heap_size)
		why = "heap size differs from what was mapped";
	if (!why)
		why = area_run_check(NETQ_POOL_OFFSET, nic.pool_size, nic.pool_phys,
				     "the pool is not at the physical address given",
				     "the pool is not DMA memory from init");
	if (!why && heap_size)
		why = area_run_check(NETQ_HEAP_OFFSET, heap_size, nic.heap_phys,
				     "the heap is not at the physical address given",
				     "the heap is not DMA memory from init");
	if (why) {
		printf_limited("%s: attach refused: %s\n", nic.ifname, why);
		detach(true);
		return ERR_INVALID_ARG;
	}
	if ((why = nic.ops->start(&nic))) {
		printf("%s: cannot start the NIC: %s\n", nic.ifname, why);
		detach(true);
		return ERR_BUSY;
	}
	nic.stats.attaches++;
	printf("%s: attached: %u buffers, link %s\n", nic.ifname, nic.geom.nbufs,
	       nic.link ? "up" : "down");
	fault_attached(&nic);
	return 0;
}

static void reply_stats(struct msg *m)
{
	nic.ops->counters(&nic);
	nic.stats.link_up = nic.link;
	*m = msg_from_words(0, (const uint64_t *)&nic.stats, NETQ_STATS_WORDS);
}

static void request(struct msg *m)
{
	uint64_t label = ipc_tag_label(m->tag);
	struct ipc_buffer *b = ipc_buffer();
	long err;

	/* Only the registered copy's holders (proto/netq.h): nobody else
	 * holds another, but whatever came with such a request goes (pages
	 * only while no client's area is in the window). */
	if (m->badge != NETQ_BADGE_CLIENT) {
		if (b->recv_pages && !nic.attached)
			sys_mem_unmap(fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2), MEM_UNMAP_SELF);
		if (b->recv_cap_count)
			sys_cap_delete(b->recv_cap_slot);
		*m = msg_make(ERR_NO_RIGHTS, 0);
		return;
	}
	switch (label) {
	case NETQ_ATTACH:
		err = attach(m);
		*m = msg_make((uint64_t)err, 4);
		if (err)
			return;
		for (int i = 0; i < 6; i++)
			m->w[0] |= (uint64_t)nic.mac[i] << (8 * i);
		m->w[1] = nic.link;
		m->w[2] = NETQ_PCI_SLOT(nic.pci->bus, nic.pci->dev, nic.pci->fn);
		m->w[3] = nic.offloads;
		m->tag = ipc_tag(0, 4, 1);
		b->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		b->items[0][1] = notif;
		return;
	case NETQ_DETACH:
		detach(true);
		*m = msg_make(0, 0);
		return;
	case NETQ_STATS:
		reply_stats(m);
		return;
	case NETQ_FAULT:
		fault_inject(&nic, m->w[0]);
		*m = msg_make(0, 0);
		return;
	default:
		*m = msg_make(ERR_NO_SYSCALL, 0);
	}
}

/* A copy of the endpoint that can only send (with items) and carries
 * NETQ_BADGE_CLIENT, registered privately as name (proto/netq.h): 0 or
 * -ERR_*. */
static long publish(const char *name)
{
	cap_slot_t cap = slot_alloc();
	long err = cap == CAP_SLOT_NONE ? -ERR_NO_MEMORY
					: sys_cap_copy(endpoint, CAP_SLOT_SELF, cap,
						       CAP_RIGHT_WRITE | CAP_RIGHT_GRANT,
						       NETQ_BADGE_CLIENT);

	return err < 0 ? err : ns_register_private(name, cap);
}

void nic_msix_off(struct nic_device *n, const char *why)
{
	printf("%s: MSI-X: %s; INTx instead\n", n->ifname, why);
	nic_msix_release(n->msix, msix_irq);
	n->msix = 0;
	if (n->pci->irq_line != 0xFF)
		sys_irq_bind(irq, own_notif, NIC_BIT_IRQ);
}

/* MSI-X if the model has it, the device offers it and the manifest does
 * not say msix=off; else the INTx line. */
static long interrupts_setup(void)
{
	unsigned n = nic.ops->msix_vectors;
	const char *why = NULL;
	long err;

	if (n && n <= PCI_MSIX_MAX && nic_arg_on(&nic, "msix", true) &&
	    !(why = nic_msix_setup(&nic, n, msix_irq))) {
		nic.msix = n;
		for (unsigned i = 0; i < n && !why; i++)
			if ((err = sys_irq_bind(msix_irq[i], own_notif, NIC_BIT_MSIX << i)) < 0)
				why = mica_strerror(err);
		if (why) {
			nic_msix_off(&nic, why);
			why = NULL;
		}
	}
	if (why)
		printf("%s: MSI-X: %s; INTx instead\n", nic.ifname, why);
	if (!nic.msix && nic.pci->irq_line != 0xFF)
		return sys_irq_bind(irq, own_notif, NIC_BIT_IRQ);
	return 0;
}

int driver_main(const struct nic_ops *ops, uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	char fault[16];
	const char *why;

	program_busy(true);             /* starting up is work: a hang here is seen */
	nic.ops = ops;
	nic.pci = &pi->pci;
	nic.args = pi->args;
	if (!program_arg(pi->args, "name", nic.ifname, sizeof(nic.ifname)))
		memcpy(nic.ifname, pi->name, sizeof(nic.ifname) - 1);
	if (!pi->pci.present) {
		printf("%s: no PCI device (the manifest needs a `pci` line)\n", nic.ifname);
		return 1;
	}
	if ((why = ops->probe(&nic))) {
		printf("%s: %s at %02x:%02x.%x: %s\n", nic.ifname, ops->kind, pi->pci.bus, pi->pci.dev,
		       pi->pci.fn, why);
		return 1;
	}
	endpoint = slot_alloc();
	reply = slot_alloc();
	own_notif = slot_alloc();
	notif = slot_alloc();
	irq = pi->pci.irq_slot;
	struct thread_config cfg = { .fields = THREAD_CFG_NOTIFY, .notification = own_notif };
	long err;
	if ((err = sys_obj_create(CAP_ENDPOINT, endpoint, 0)) < 0 ||
	    (err = sys_obj_create(CAP_REPLY, reply, 0)) < 0 ||
	    (err = sys_obj_create(CAP_NOTIFICATION, own_notif, 0)) < 0 ||
	    (err = sys_cap_copy(own_notif, CAP_SLOT_SELF, notif, CAP_RIGHT_WRITE,
				NETQ_SIGNAL_QUEUE)) < 0 ||
	    (err = sys_thread_configure(PROGRAM_THREAD_SLOT, (uint64_t)&cfg)) < 0 ||
	    (err = interrupts_setup()) < 0) {
		printf("%s: setting up: %s\n", nic.ifname, mica_strerror(err));
		return 1;
	}
	char line[32];
	if (nic.msix)
		fmt_snprintf(line, sizeof(line), "msi-x %u from vector %#x", nic.msix, nic.msix_data);
	else
		fmt_snprintf(line, sizeof(line), "irq %d",
			     pi->pci.irq_line == 0xFF ? -1 : pi->pci.irq_line);
	printf("%s: %s at %02x:%02x.%x, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s, checksum "
	       "offload: tx %s, rx %s\n", nic.ifname, ops->kind, pi->pci.bus, pi->pci.dev, pi->pci.fn,
	       nic.mac[0], nic.mac[1], nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5], line,
	       nic.offloads & NETQ_OFFLOAD_TX_CSUM ? "on" : "off",
	       nic.offloads & NETQ_OFFLOAD_RX_CSUM ? "on" : "off");
	struct ipc_buffer *b = ipc_buffer();
	b->recv_cap_slot = slot_alloc();
	b->recv_window = fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2);
	if ((err = publish(nic.ifname)) == -ERR_SLOT_IN_USE) {
		printf("%s: %s is taken by another program (init says which); give this driver "
		       "another name= in the manifest\n", nic.ifname, nic.ifname);
		return 1;
	}
	if (err < 0) {
		printf("%s: cannot register the name: %s\n", nic.ifname, mica_strerror(err));
		return 1;
	}
	if (program_arg(pi->args, "fault", fault, sizeof(fault)))
		fault_inject(&nic, (uint64_t)(fault[0] - '0'));

	struct msg m;
	bool have_reply = false;
	for (;;) {
		/* The heartbeat (program_busy): asleep is never hung; awake,
		 * every round of work beats. */
		program_busy(false);
		err = have_reply ? ipc_reply_recv(endpoint, reply, &m) : ipc_recv(endpoint, reply, &m);
		program_busy(true);
		have_reply = false;
		if (err)
			continue;
		if (ipc_tag_label(m.tag) == IPC_LABEL_NOTIFY) {
			if (m.badge & NIC_BIT_IRQ) {
				nic.stats.interrupts++;
				ops->interrupt(&nic);
				sys_irq_ack(irq);
			}
			/* MSI-X: no cause to read, nothing to acknowledge. */
			for (unsigned i = 0; i < nic.msix; i++)
				if (m.badge & (NIC_BIT_MSIX << i)) {
					nic.stats.interrupts++;
					ops->msix_interrupt(&nic, i);
				}
		} else {
			request(&m);
			have_reply = true;
		}
		drop_dead_client(true);
		if (!nic.attached)
			continue;
		/* Polls until nothing moves; the client is looked at every
		 * CLIENT_CHECK_POLLS of them too: rings that never empty (a
		 * client gone, its area blank pages) must not keep us here. */
		unsigned polls = 0;
		do {
			program_busy(true);
			driver_poll();
			if (++polls % CLIENT_CHECK_POLLS == 0) {
				drop_dead_client(true);
				if (!nic.attached)
					break;
			}
		} while (!driver_may_sleep());
		drop_dead_client(true);
	}
}
