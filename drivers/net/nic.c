/*
 * The NIC driver program, common to every NIC model: find the device,
 * serve the driver protocol, move buffers between the client's rings and
 * the hardware. One thread, one loop: the endpoint receives client
 * requests, and its bound notification brings the IRQ (NIC_BIT_IRQ) and
 * the client's queue signals (NETQ_SIGNAL_QUEUE). It keeps init's
 * heartbeat (program_busy): idle only while it sleeps in that receive.
 */
#include "nic.h"

#include "lib/io.h"
#include "lib/names.h"

#define NIC_BIT_IRQ 0x2

static struct nic nic;
static unsigned tx_in_flight;           /* frames given to the NIC, not yet taken back */
static bool corrupt_on_attach;          /* fault=5 came before a client did */
/* Which of the first pool buffers we hold (taken from rx-free or
 * tx-ready, not yet pushed back): corrupt_rings needs buffers we do not. */
#define TRACKED_BUFS 1024
static uint64_t held[TRACKED_BUFS / 64];
static cap_slot_t endpoint, reply, notif, irq, client_notif = CAP_SLOT_NONE;

void *nic_dma(struct nic *n, size_t size, uint64_t *phys)
{
	return dma_alloc(size, phys);
}

uintptr_t nic_bar(struct nic *n, int bar)
{
	return n->pci->bars[bar].kind == PCI_BAR_MEM ? (uintptr_t)n->pci->bars[bar].base : 0;
}

static uint64_t phys_of(uint32_t offset)
{
	return nic.area_phys + offset;
}

/* We took (true) or gave back the buffer at offset (a valid one). */
static void hold(uint32_t offset, bool taken)
{
	uint32_t buf = (offset - nic.geom.pool_offset) / NETQ_BUF_SIZE;

	if (buf >= TRACKED_BUFS)
		return;
	if (taken)
		held[buf / 64] |= 1UL << (buf % 64);
	else
		held[buf / 64] &= ~(1UL << (buf % 64));
}

/* The client's side of a ring changed, or the hardware's did: move
 * everything that can move, then wake the client if it waits. */
static void nic_poll(void)
{
	const struct nic_ops *ops = nic.ops;
	struct netq_ring *rx_free = netq_ring(nic.area, NETQ_RX_FREE);
	struct netq_ring *rx_ready = netq_ring(nic.area, NETQ_RX_READY);
	struct netq_ring *tx_ready = netq_ring(nic.area, NETQ_TX_READY);
	struct netq_ring *tx_done = netq_ring(nic.area, NETQ_TX_DONE);
	struct netq_desc d;
	uint32_t off, len;
	enum nic_rx_status st;
	bool pushed = false;

	/* Received frames to the client; bad ones straight back to the NIC. */
	while (ops->rx_take(&nic, &off, &len, &st)) {
		if (st == NIC_RX_OK && len > NETQ_FRAME_MAX)
			nic.stats.rx_oversize++;
		else if (st != NIC_RX_OK || len < 14)
			nic.stats.rx_errors++;
		else if (!netq_push(rx_ready, (struct netq_desc){ off, (uint16_t)len, 0 }))
			nic.stats.rx_no_buffer++;      /* the client is not keeping up */
		else {
			hold(off, false);
			nic.stats.rx_packets++;
			nic.stats.rx_bytes += len;
			pushed = true;
			continue;
		}
		/* Back to the NIC, from its buffer's start. */
		off = netq_buffer_start(off);
		ops->rx_give(&nic, off, phys_of(off));
	}
	/* Empty buffers from the client to the NIC. */
	while (ops->rx_room(&nic) && netq_pop(rx_free, &d)) {
		if (netq_desc_valid(&nic.geom, d, true)) {
			hold(d.offset, true);
			ops->rx_give(&nic, d.offset, phys_of(d.offset));
		} else
			nic.stats.rx_bad_desc++;
	}
	/* Sent buffers back to the client: tx-done always has room for every
	 * frame in flight (see below). */
	while (ops->tx_take(&nic, &off)) {
		netq_push(tx_done, (struct netq_desc){ off, 0, 0 });
		hold(off, false);
		tx_in_flight--;
		pushed = true;
	}
	/* Frames to send; a bad descriptor goes back unsent. Only as many as
	 * tx-done can take back when they complete. */
	while (ops->tx_room(&nic) && netq_space(tx_done) > tx_in_flight &&
	       netq_pop(tx_ready, &d)) {
		if (!netq_desc_valid(&nic.geom, d, false) || d.len < 14 || d.len > NETQ_FRAME_MAX) {
			nic.stats.tx_errors++;
			netq_push(tx_done, d);
			pushed = true;
			continue;
		}
		hold(d.offset, true);
		ops->tx_give(&nic, d.offset, phys_of(d.offset), d.len);
		tx_in_flight++;
		nic.stats.tx_packets++;
		nic.stats.tx_bytes += d.len;
	}
	ops->flush(&nic);
	/* Signal only for what we pushed: taking the client's flags
	 * otherwise would wake it for nothing. */
	if (!pushed)
		return;
	bool wake = netq_wake_needed(rx_ready);
	wake |= netq_wake_needed(tx_done);
	if (wake && client_notif != CAP_SLOT_NONE)
		sys_notify_signal(client_notif, NETQ_SIGNAL_QUEUE);
}

/* Before sleeping: ask to be woken for rings we could take from. true:
 * sleep; false: something arrived, poll again. */
static bool nic_may_sleep(void)
{
	struct netq_ring *tx_done = netq_ring(nic.area, NETQ_TX_DONE);

	if (nic.ops->rx_room(&nic) && !netq_prepare_wait(netq_ring(nic.area, NETQ_RX_FREE)))
		return false;
	if (!nic.ops->tx_room(&nic))
		return true;            /* a transmit interrupt will come */
	if (netq_space(tx_done) <= tx_in_flight)
		return netq_prepare_wait_space(tx_done, tx_in_flight + 1);
	return netq_prepare_wait(netq_ring(nic.area, NETQ_TX_READY));
}

/* Mark in mine the tracked buffers the client owns: neither held by us
 * nor waiting for us in rx-free or tx-ready. */
static void client_buffers(uint64_t mine[TRACKED_BUFS / 64])
{
	const enum netq_ring_id to_us[] = { NETQ_RX_FREE, NETQ_TX_READY };

	for (unsigned i = 0; i < TRACKED_BUFS / 64; i++)
		mine[i] = ~held[i];
	for (unsigned r = 0; r < 2; r++) {
		struct netq_ring *ring = netq_ring(nic.area, to_us[r]);
		for (unsigned i = 0, n = netq_count(ring); i < n; i++) {
			struct netq_desc d = ring->desc[(ring->tail + i) % NETQ_RING_SIZE];
			uint32_t buf = (d.offset - nic.geom.pool_offset) / NETQ_BUF_SIZE;
			if (d.offset >= nic.geom.pool_offset && buf < TRACKED_BUFS)
				mine[buf / 64] &= ~(1UL << (buf % 64));
		}
	}
}

/* The first buffer from `from` on marked in mine, or TRACKED_BUFS. */
static uint32_t next_mine(const uint64_t *mine, uint32_t from)
{
	while (from < TRACKED_BUFS && from < nic.geom.nbufs && !(mine[from / 64] & 1UL << (from % 64)))
		from++;
	return from < nic.geom.nbufs ? from : TRACKED_BUFS;
}

/*
 * NETQ_FAULT_CORRUPT_RINGS: push descriptors a client must refuse into
 * rx-ready and tx-done, signal it, and go on working. Only the rings'
 * contents are wrong, never our own indices, and tx-done keeps room for
 * every frame in flight, so the driver itself loses nothing.
 */
static void corrupt_rings(void)
{
	const uint32_t pool = nic.geom.pool_offset, size = nic.geom.area_size;
	const uint32_t end = pool + nic.geom.nbufs * NETQ_BUF_SIZE;
	uint64_t mine[TRACKED_BUFS / 64];
	client_buffers(mine);
	uint32_t buf = next_mine(mine, 0);
	const uint32_t theirs = pool + (buf < TRACKED_BUFS ? buf : 0) * NETQ_BUF_SIZE;
	const struct netq_desc bad[] = {
		{ 0, 60, 0 },                                   /* the header */
		{ NETQ_RING_OFFSET(NETQ_TX_READY), 60, 0 },     /* a ring */
		{ pool - 4, 60, 0 },                            /* just before the pool */
		{ end, 60, 0 },                                 /* just after it */
		{ size, 60, 0 },                                /* past the area */
		{ size - 1, 60, 0 },                            /* across its end */
		{ 0xFFFFFFF0u, 60, 0 },                         /* wraps around */
		{ theirs + 1, 60, 0 },                          /* misaligned */
		{ theirs + NETQ_BUF_SIZE - 2, 60, 0 },          /* across a buffer's end */
		{ theirs, 0, 0 },                               /* empty frame */
		{ theirs, 1, 0 },                               /* shorter than a header */
		{ theirs, 13, 0 },
		{ theirs, NETQ_FRAME_MAX + 1, 0 },              /* too long */
		{ theirs, NETQ_BUF_SIZE + 1, 0 },               /* longer than a buffer */
		{ theirs, 0xFFFF, 0 },
		{ theirs, 60, 0xFFFF },                         /* flags nobody defined */
	};
	const unsigned nbad = sizeof(bad) / sizeof(bad[0]);
	struct netq_ring *rx_ready = netq_ring(nic.area, NETQ_RX_READY);
	struct netq_ring *tx_done = netq_ring(nic.area, NETQ_TX_DONE);
	unsigned n_rx = 0, n_tx = 0;

	/* Every kind of wrong, then well-formed frames in (up to) eight
	 * buffers the client owns. */
	for (unsigned i = 0; i < nbad + 8; i++) {
		struct netq_desc d = bad[i < nbad ? i : 0];
		if (i >= nbad) {
			if (buf >= TRACKED_BUFS)
				break;
			d = (struct netq_desc){ pool + buf * NETQ_BUF_SIZE, 60, 0 };
			buf = next_mine(mine, buf + 1);
		}
		n_rx += netq_push(rx_ready, d);
		if (netq_space(tx_done) > tx_in_flight)
			n_tx += netq_push(tx_done, d);
	}
	netq_wake_needed(rx_ready);
	netq_wake_needed(tx_done);
	if (client_notif != CAP_SLOT_NONE)
		sys_notify_signal(client_notif, NETQ_SIGNAL_QUEUE);
	printf("%s: pushed %u bad descriptors to rx-ready, %u to tx-done\n", nic.ifname, n_rx, n_tx);
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
		sys_mem_unmap(fpage((uint64_t)nic.area, log2_ceil(nic.area_size)), MEM_UNMAP_SELF);
	nic.attached = false;
	if (client_notif != CAP_SLOT_NONE) {
		sys_cap_delete(client_notif);
		slot_free(client_notif);
		client_notif = CAP_SLOT_NONE;
	}
}

/* Our client is gone when its notification is: its task was destroyed,
 * and our mapping of its pool with it. Then the NIC is stopped (init
 * keeps the pool's memory for the client's next instance, which attaches
 * again). Checked at every wake-up, before the rings are touched. */
static void drop_dead_client(void)
{
	uint64_t info[3];

	if (!nic.attached || client_notif == CAP_SLOT_NONE ||
	    (sys_cap_info(client_notif, (uint64_t)info) == 0 && info[0] != CAP_NULL))
		return;
	printf("%s: the client died; NIC stopped, detached from its pool\n", nic.ifname);
	detach(false);
}

/* NETQ_ATTACH: take the client's area and notification, start the NIC. */
static long attach(struct msg *m)
{
	struct ipc_buffer *b = ipc_buffer();
	unsigned log2 = (unsigned)m->w[1];
	const char *why;

	drop_dead_client();     /* a restarted client takes over */
	if (nic.attached)
		return ERR_BUSY;
	if (log2 < 16 || log2 > NETQ_AREA_MAX_LOG2 || b->recv_cap_count != 1 ||
	    b->recv_pages != (1UL << log2) / PAGE_SIZE) {
		/* Whatever did arrive goes again. */
		if (b->recv_pages)
			sys_mem_unmap(fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2), MEM_UNMAP_SELF);
		if (b->recv_cap_count)
			sys_cap_delete(b->recv_cap_slot);
		return ERR_INVALID_ARG;
	}
	client_notif = b->recv_cap_slot;
	b->recv_cap_slot = slot_alloc();
	nic.area = (uint8_t *)NETQ_DRIVER_AREA;
	nic.area_phys = m->w[0];
	nic.area_size = 1UL << log2;
	/* Our copy of the header: the client could change its own at any time. */
	memcpy(&nic.geom, nic.area, sizeof(nic.geom));
	nic.attached = true;            /* from here on, detach() undoes it */
	tx_in_flight = 0;
	memset(held, 0, sizeof(held));
	if ((why = netq_area_check(&nic.geom, nic.area_size))) {
		printf("%s: attach refused: %s\n", nic.ifname, why);
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
	if (corrupt_on_attach) {
		corrupt_on_attach = false;
		corrupt_rings();
	}
	return 0;
}

/* Misbehave on purpose, to show that only this driver pays for it. */
static void inject_fault(uint64_t kind)
{
	printf("%s: injecting fault %lu\n", nic.ifname, kind);
	switch (kind) {
	case NETQ_FAULT_CORRUPT_RINGS:
		if (nic.attached)
			corrupt_rings();
		else
			corrupt_on_attach = true;
		printf("%s: %s\n", nic.ifname,
		       nic.attached ? "goes on working" : "will corrupt the rings once attached");
		return;
	case NETQ_FAULT_WILD_WRITE: {
		/* Just past the last page of its first memory BAR. */
		for (int i = 0; i < PCI_BARS; i++)
			if (nic.pci->bars[i].kind == PCI_BAR_MEM) {
				const struct pci_bar *bar = &nic.pci->bars[i];
				uintptr_t end = (uintptr_t)((bar->base + bar->size + 4095) & ~4095UL);
				mmio_write32(end + 0x10, 0xBAD);
			}
		break;
	}
	case NETQ_FAULT_FOREIGN_PORT:
		outb(0x70, 0x0);        /* the real-time clock: not ours */
		break;
	case NETQ_FAULT_KERNEL_READ:
		(void)mmio_read32(0xFFFFFFFF80100000UL);
		break;
	case NETQ_FAULT_HANG:
		for (;;)
			__asm__ volatile("pause");
	}
	printf("%s: fault %lu had no effect\n", nic.ifname, kind);
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

	switch (label) {
	case NETQ_ATTACH:
		err = attach(m);
		*m = msg_make((uint64_t)err, 2);
		if (err)
			return;
		for (int i = 0; i < 6; i++)
			m->w[0] |= (uint64_t)nic.mac[i] << (8 * i);
		m->w[1] = nic.link;
		m->tag = ipc_tag(0, 2, 1);
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
		inject_fault(m->w[0]);
		*m = msg_make(0, 0);
		return;
	default:
		*m = msg_make(ERR_NO_SYSCALL, 0);
	}
}

int nic_main(const struct nic_ops *ops, uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	char fault[16];
	const char *why;

	program_busy(true);             /* starting up is work: a hang here is seen */
	nic.ops = ops;
	nic.pci = &pi->pci;
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
	printf("%s: %s at %02x:%02x.%x, MAC %02x:%02x:%02x:%02x:%02x:%02x, irq %d\n", nic.ifname,
	       ops->kind, pi->pci.bus, pi->pci.dev, pi->pci.fn, nic.mac[0], nic.mac[1], nic.mac[2],
	       nic.mac[3], nic.mac[4], nic.mac[5],
	       pi->pci.irq_line == 0xFF ? -1 : pi->pci.irq_line);

	endpoint = slot_alloc();
	reply = slot_alloc();
	cap_slot_t own_notif = slot_alloc();
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
	    (pi->pci.irq_line != 0xFF &&
	     (err = sys_irq_bind(irq, own_notif, NIC_BIT_IRQ)) < 0)) {
		printf("%s: setting up: %s\n", nic.ifname, mica_strerror(err));
		return 1;
	}
	struct ipc_buffer *b = ipc_buffer();
	b->recv_cap_slot = slot_alloc();
	b->recv_window = fpage(NETQ_DRIVER_AREA, NETQ_AREA_MAX_LOG2);
	if ((err = ns_register(nic.ifname, endpoint)) < 0) {
		printf("%s: cannot register the name: %s\n", nic.ifname, mica_strerror(err));
		return 1;
	}
	if (program_arg(pi->args, "fault", fault, sizeof(fault)))
		inject_fault((uint64_t)(fault[0] - '0'));

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
		} else {
			request(&m);
			have_reply = true;
		}
		drop_dead_client();
		if (!nic.attached)
			continue;
		do {
			program_busy(true);
			nic_poll();
		} while (!nic_may_sleep());
	}
}
