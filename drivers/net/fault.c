/*
 * Injected faults: drivers/net/fault.h. The data path keeps no record for
 * them; CORRUPT_RINGS works out which buffers the client owns when it
 * happens, from the rings (netq_peek) and from the hardware half
 * (nic_ops.held).
 */
#include "fault.h"

#include "lib/io.h"

/* Buffers the client owns are looked for among the first ones only. */
#define SEARCHED_BUFS 1024

static bool corrupt_on_attach;          /* CORRUPT_RINGS came before a client did */
static uint64_t not_theirs[SEARCHED_BUFS / 64];  /* of the searched buffers */

static void mark_not_theirs(const struct nic_device *nic, uint32_t offset)
{
	uint32_t buf = (offset - nic->geom.pool_offset) / NETQ_BUF_SIZE;

	if (offset >= nic->geom.pool_offset && buf < SEARCHED_BUFS)
		not_theirs[buf / 64] |= 1UL << (buf % 64);
}

/* Which of the searched buffers are not the client's: held by the
 * hardware, or waiting for us in rx-free or tx-ready. (Between two polls
 * the driver holds nothing but what the hardware does.) */
static void find_client_buffers(struct nic_device *nic)
{
	static uint32_t held[NIC_HELD_MAX];
	const enum netq_ring_id to_us[] = { NETQ_RX_FREE, NETQ_TX_READY };
	struct netq_desc d;

	memset(not_theirs, 0, sizeof(not_theirs));
	for (unsigned i = 0, n = nic->ops->held(nic, held, NIC_HELD_MAX); i < n; i++)
		mark_not_theirs(nic, held[i]);
	for (unsigned r = 0; r < 2; r++)
		for (unsigned i = 0; netq_peek(netq_ring(nic->area, to_us[r]), i, &d); i++)
			mark_not_theirs(nic, d.offset);
}

/* The first client's buffer from `from` on, or SEARCHED_BUFS. */
static uint32_t next_client_buffer(const struct nic_device *nic, uint32_t from)
{
	while (from < SEARCHED_BUFS && from < nic->geom.nbufs &&
	       (not_theirs[from / 64] & 1UL << (from % 64)))
		from++;
	return from < nic->geom.nbufs ? from : SEARCHED_BUFS;
}

/*
 * NETQ_FAULT_CORRUPT_RINGS: push descriptors a client must refuse into
 * rx-ready and tx-done, signal it, and go on working. Only the rings'
 * contents are wrong, never our own indices, and tx-done keeps room for
 * every frame in flight, so the driver itself loses nothing.
 */
static void corrupt_rings(struct nic_device *nic)
{
	const uint32_t pool = nic->geom.pool_offset;
	const uint32_t size = pool + nic->geom.pool_size;      /* the area's end */
	const uint32_t end = pool + nic->geom.nbufs * NETQ_BUF_SIZE;
	find_client_buffers(nic);
	uint32_t buf = next_client_buffer(nic, 0);
	const uint32_t theirs = pool + (buf < SEARCHED_BUFS ? buf : 0) * NETQ_BUF_SIZE;
	const struct netq_desc bad[] = {
		{ .offset = 0, .len = 60 },                             /* the header */
		{ .offset = NETQ_RING_OFFSET(NETQ_TX_READY), .len = 60 }, /* a ring */
		{ .offset = pool - 4, .len = 60 },                      /* just before the pool */
		{ .offset = end, .len = 60 },                           /* just after it */
		{ .offset = size, .len = 60 },                          /* past the area */
		{ .offset = size - 1, .len = 60 },                      /* across its end */
		{ .offset = 0xFFFFFFF0u, .len = 60 },                   /* wraps around */
		{ .offset = theirs + 1, .len = 60 },                    /* misaligned */
		{ .offset = theirs + NETQ_BUF_SIZE - 2, .len = 60 },    /* across a buffer's end */
		{ .offset = theirs },                                   /* empty frame */
		{ .offset = theirs, .len = 1 },                         /* shorter than a header */
		{ .offset = theirs, .len = 13 },
		{ .offset = theirs, .len = NETQ_FRAME_MAX + 1 },        /* too long */
		{ .offset = theirs, .len = NETQ_BUF_SIZE + 1 },         /* longer than a buffer */
		{ .offset = theirs, .len = 0xFFFF },
		{ .offset = theirs, .len = 60, .flags = 0xFFFF },       /* flags nobody defined */
		{ .offset = theirs, .len = 60, .flags = NETQ_F_CSUM_PARTIAL,
		  .csum_start = 50, .csum_offset = 16 },                /* a checksum past the end */
		{ .offset = theirs, .len = 60, .flags = NETQ_F_CSUM_PARTIAL,
		  .csum_start = 4, .csum_offset = 2 },                  /* inside the Ethernet header */
		{ .offset = theirs, .len = 60, .csum_start = 34 },      /* offsets without the flag */
		{ .offset = theirs, .len = 60, .seg_size = 1460 },      /* segmentation: not defined */
	};
	const unsigned nbad = sizeof(bad) / sizeof(bad[0]);
	struct netq_ring *rx_ready = netq_ring(nic->area, NETQ_RX_READY);
	struct netq_ring *tx_done = netq_ring(nic->area, NETQ_TX_DONE);
	unsigned n_rx = 0, n_tx = 0;

	/* Every kind of wrong, then well-formed frames in (up to) eight
	 * buffers the client owns. */
	for (unsigned i = 0; i < nbad + 8; i++) {
		struct netq_desc d = bad[i < nbad ? i : 0];
		if (i >= nbad) {
			if (buf >= SEARCHED_BUFS)
				break;
			d = (struct netq_desc){ .offset = pool + buf * NETQ_BUF_SIZE, .len = 60 };
			buf = next_client_buffer(nic, buf + 1);
		}
		n_rx += netq_push(rx_ready, d);
		if (netq_space(tx_done) > nic->tx_in_flight)
			n_tx += netq_push(tx_done, d);
	}
	netq_wake_needed(rx_ready);
	netq_wake_needed(tx_done);
	if (nic->client_notif != CAP_SLOT_NONE)
		sys_notify_signal(nic->client_notif, NETQ_SIGNAL_QUEUE);
	printf("%s: pushed %u bad descriptors to rx-ready, %u to tx-done\n", nic->ifname, n_rx,
	       n_tx);
}

/*
 * NETQ_FAULT_WITHHOLD_TX_DONE: the WITHHELD_NTH-th frame of the client's
 * heap (NETQ_OFFLOAD_TX_HEAP) it is given is taken and then neither sent
 * nor given back in tx-done, as a driver that loses one in its ring
 * would; the others go as always. The ops' gives are wrapped until then
 * and are the model's own again after: the data path pays nothing before
 * the fault or after it.
 */
#define WITHHELD_NTH 100        /* well into a transfer: a segment of data */

static const struct nic_ops *model_ops;
static struct nic_ops withholding_ops;
static unsigned heap_frames_left;

/* Whether d, the first descriptor of a frame, is the one to keep. */
static bool withheld(struct nic_device *nic, const struct netq_desc *d)
{
	if (d->offset < NETQ_HEAP_OFFSET || d->offset >= nic->geom.pool_offset || --heap_frames_left)
		return false;
	nic->ops = model_ops;
	printf("%s: withheld the frame at heap offset %#x: never sent, never given back\n",
	       nic->ifname, d->offset);
	return true;
}

static bool withholding_tx_give(struct nic_device *nic, const struct netq_desc *d, uint64_t phys)
{
	return withheld(nic, d) || model_ops->tx_give(nic, d, phys);
}

static bool withholding_tx_give_chain(struct nic_device *nic, const struct netq_desc *d,
				      const uint64_t *phys, unsigned n)
{
	return withheld(nic, d) || model_ops->tx_give_chain(nic, d, phys, n);
}

static void withhold_tx_done(struct nic_device *nic)
{
	if (nic->ops == &withholding_ops)
		return;
	model_ops = nic->ops;
	withholding_ops = *model_ops;
	withholding_ops.tx_give = withholding_tx_give;
	if (model_ops->tx_give_chain)
		withholding_ops.tx_give_chain = withholding_tx_give_chain;
	heap_frames_left = WITHHELD_NTH;
	nic->ops = &withholding_ops;
	printf("%s: will keep the client's heap frame %u\n", nic->ifname, WITHHELD_NTH);
}

void fault_attached(struct nic_device *nic)
{
	if (!corrupt_on_attach)
		return;
	corrupt_on_attach = false;
	corrupt_rings(nic);
}

void fault_inject(struct nic_device *nic, uint64_t kind)
{
	const char *name = netq_fault_name(kind);

	if (!name) {
		printf_limited("%s: unknown fault %lu ignored\n", nic->ifname, kind);
		return;
	}
	printf("%s: injecting fault %s\n", nic->ifname, name);
	switch (kind) {
	case NETQ_FAULT_CORRUPT_RINGS:
		if (nic->attached)
			corrupt_rings(nic);
		else
			corrupt_on_attach = true;
		printf("%s: %s\n", nic->ifname,
		       nic->attached ? "goes on working" : "will corrupt the rings once attached");
		return;
	case NETQ_FAULT_WILD_WRITE: {
		/* Just past the last page of its first memory BAR. */
		for (int i = 0; i < PCI_BARS; i++)
			if (nic->pci->bars[i].kind == PCI_BAR_MEM) {
				const struct pci_bar *bar = &nic->pci->bars[i];
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
	case NETQ_FAULT_WITHHOLD_TX_DONE:
		withhold_tx_done(nic);
		return;
	case NETQ_FAULT_HANG:
		for (;;)
			__asm__ volatile("pause");
	}
	printf("%s: fault %s had no effect\n", nic->ifname, name);
}
