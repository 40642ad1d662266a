/*
 * virtio-net over the virtio 1.0 ("modern") PCI transport (QEMU
 * `-device virtio-net-pci`): split virtqueues, receive queue 0 and transmit
 * queue 1, interrupts by MSI-X (vector 0 for both queues, 1 for
 * configuration changes; virtio 1.x 4.1.4.3, 4.1.5.1.2) or, without it
 * (no capability, refused, or msix=off), INTx. Receive buffers are pool buffers (one
 * descriptor each: the 12-byte virtio-net header, then the frame; with
 * MRG_RXBUF a longer frame goes on in the next buffers, num_buffers in
 * all); a frame to send is a header of ours (one per head descriptor)
 * chained to its pool buffers, one descriptor each. Structure and field
 * names follow the virtio 1.x specification.
 *
 * Features (each but VERSION_1, MAC and STATUS switched off by a manifest
 * argument, docs/drivers.md): CSUM (the device completes checksums we
 * leave partial, NEEDS_CSUM on transmit), GUEST_CSUM (received frames say
 * DATA_VALID or NEEDS_CSUM), MRG_RXBUF (a frame longer than one buffer
 * arrives over several, num_buffers: a chain on rx-ready with GUEST_TSO4,
 * else counted as oversize instead of being lost silently inside QEMU),
 * GUEST_TSO4 (with GUEST_CSUM and MRG_RXBUF: the host hands us TCP
 * aggregates of up to 64 KiB, gso_size their segment size: NETQ_F_TSO4),
 * HOST_TSO4 (with CSUM: we hand it such aggregates, NETQ_F_TSO4 chains,
 * and it cuts them) and RING_EVENT_IDX (each side says at which index it
 * wants to be notified: one kick and one interrupt per batch). ECN
 * (GUEST_ECN, HOST_ECN) is not negotiated: the host then cuts an
 * aggregate with CWR set itself, and never sends us one.
 */
#include "driver.h"

#include "lib/io.h"
#include "virtq_desc.h"
#include "lib/netq_gso.h"

/* Capability types (cfg_type) of the vendor-specific PCI capabilities. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR    3
#define CAP_DEVICE 4

/* Common configuration structure. */
#define DEVICE_FEATURE_SELECT 0x00
#define DEVICE_FEATURE        0x04
#define DRIVER_FEATURE_SELECT 0x08
#define DRIVER_FEATURE        0x0C
#define MSIX_CONFIG           0x10
#define DEVICE_STATUS         0x14
#define QUEUE_SELECT          0x16
#define QUEUE_SIZE            0x18
#define QUEUE_MSIX_VECTOR     0x1A
#define QUEUE_ENABLE          0x1C
#define QUEUE_NOTIFY_OFF      0x1E
#define QUEUE_DESC            0x20
#define QUEUE_DRIVER          0x28
#define QUEUE_DEVICE          0x30

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8

#define F_CSUM       (1ull << 0)
#define F_GUEST_CSUM (1ull << 1)
#define F_MAC        (1ull << 5)
#define F_GUEST_TSO4 (1ull << 7)
#define F_HOST_TSO4  (1ull << 11)
#define F_MRG_RXBUF  (1ull << 15)
#define F_STATUS     (1ull << 16)
#define F_EVENT_IDX  (1ull << 29)
#define F_VERSION_1  (1ull << 32)
#define NET_S_LINK_UP 1
#define NO_VECTOR 0xFFFF
#define VEC_QUEUES 0            /* our MSI-X vectors */
#define VEC_CONFIG 1
/* Test hook (manifest argument msixbadvector=on): the queues are given
 * this vector, past any table shorter than 2048 entries, which the
 * device must read back as NO_VECTOR (virtio 1.x, 4.1.5.1.2). */
#define VEC_BAD 0x7FF
static uint16_t vec_queues = VEC_QUEUES;

#define DESC_F_NEXT  1
#define DESC_F_WRITE 2
#define USED_F_NO_NOTIFY 1

#define HDR_LEN 12      /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define GSO_NONE  0
#define GSO_TCPV4 1

/* struct virtio_net_hdr (little-endian fields, as x86 has them). */
struct net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};
_Static_assert(sizeof(struct net_hdr) == HDR_LEN, "the 1.x header");
#define QSIZE 256

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* The rings with room for EVENT_IDX's word after the last entry: at
 * ring[size], wherever size (<= QSIZE) puts it (used_event, avail_event). */
struct vq_avail {
	uint16_t flags, idx;
	uint16_t ring[QSIZE + 1];
};

struct vq_used_elem {
	uint32_t id, len;
};

struct vq_used {
	uint16_t flags, idx;
	struct vq_used_elem ring[QSIZE + 1];
};

struct vq {
	uint16_t index, size;
	volatile struct vq_desc *desc;
	volatile struct vq_avail *avail;
	volatile struct vq_used *used;
	uint64_t desc_phys, avail_phys, used_phys;
	uintptr_t notify;               /* where to write the queue index */
	uint16_t avail_idx, last_used;
	uint16_t notified_idx;          /* avail_idx at the last notification */
	struct virtq_descs descs;       /* which are free, which the device holds */
	uint32_t off[QSIZE];            /* pool offset by descriptor (transmit
					   headers: NO_OFFSET) */
};
#define NO_OFFSET 0xFFFFFFFFu

static uintptr_t common, isr, device_cfg, notify_base;
static uint32_t notify_mul;
static uint64_t features;
static struct vq rxq, txq;
static volatile struct net_hdr *tx_hdr; /* one per transmit head descriptor */
static uint64_t tx_hdr_phys;
static unsigned rx_continued;           /* buffers still to come of the frame received */
static uint32_t tx_done[NETQ_CHAIN_MAX]; /* a sent frame's buffers, for tx_take */
static unsigned tx_done_n, tx_done_at;

static const char *find_caps(struct nic_device *nic)
{
	const uint8_t *cfg = nic->pci->config;

	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return "no PCI capability list";
	for (unsigned at = cfg[PCI_CAP_PTR] & 0xFC, hops = 0; at && hops < 48;
	     at = cfg[at + 1] & 0xFC, hops++) {
		if (at > 256 - 16 || cfg[at] != PCI_CAP_ID_VENDOR)
			continue;
		uint8_t type = cfg[at + 3], bar = cfg[at + 4];
		uint32_t offset, length;
		memcpy(&offset, &cfg[at + 8], 4);
		memcpy(&length, &cfg[at + 12], 4);
		uintptr_t base = bar < PCI_BARS ? nic_bar(nic, bar) : 0;
		if (!base || (uint64_t)offset + length > nic->pci->bars[bar].size)
			continue;
		if (type == CAP_COMMON && !common)
			common = base + offset;
		else if (type == CAP_ISR && !isr)
			isr = base + offset;
		else if (type == CAP_DEVICE && !device_cfg)
			device_cfg = base + offset;
		else if (type == CAP_NOTIFY && !notify_base && at <= 256 - 20) {
			notify_base = base + offset;
			memcpy(&notify_mul, &cfg[at + 16], 4);
		}
	}
	if (!common || !isr || !device_cfg || !notify_base)
		return "not a virtio 1.0 (modern) device: a configuration capability is missing";
	return NULL;
}

/*
 * Device reset (status 0), whatever an earlier instance left behind: the
 * device forgets its queues and stops using them, and the driver must wait
 * until status reads back 0 before it sets anything up again (virtio 1.0,
 * 4.1.4.3.2). Reading ISR afterwards drops any interrupt left pending, so
 * the INTx line is low. false: the device never finished.
 */
static bool reset(void)
{
	mmio_write8(common + DEVICE_STATUS, 0);
	int i = 0;
	while (mmio_read8(common + DEVICE_STATUS) && i++ < 100000)
		__asm__ volatile("pause");
	if (mmio_read8(common + DEVICE_STATUS))
		return false;
	(void)mmio_read8(isr);
	return true;
}

static uint64_t device_features(void)
{
	mmio_write32(common + DEVICE_FEATURE_SELECT, 0);
	uint64_t lo = mmio_read32(common + DEVICE_FEATURE);
	mmio_write32(common + DEVICE_FEATURE_SELECT, 1);
	return lo | (uint64_t)mmio_read32(common + DEVICE_FEATURE) << 32;
}

static bool link_up(void)
{
	return !(features & F_STATUS) || (mmio_read16(device_cfg + 6) & NET_S_LINK_UP);
}

/* Queue memory: descriptors, driver (avail) and device (used) rings, one
 * page each. */
static const char *vq_alloc(struct nic_device *nic, struct vq *q, uint16_t index)
{
	uint64_t phys;
	uint8_t *mem = nic_dma(nic, 3 * 4096, &phys);

	if (!mem)
		return "no DMA memory for the virtqueues (manifest dma=)";
	q->index = index;
	q->desc = (volatile struct vq_desc *)mem;
	q->avail = (volatile struct vq_avail *)(mem + 4096);
	q->used = (volatile struct vq_used *)(mem + 8192);
	q->desc_phys = phys;
	q->avail_phys = phys + 4096;
	q->used_phys = phys + 8192;
	return NULL;
}

static const char *vq_setup(struct vq *q)
{
	mmio_write16(common + QUEUE_SELECT, q->index);
	uint16_t max = mmio_read16(common + QUEUE_SIZE);
	if (max == 0)
		return "a queue is missing";
	q->size = max < QSIZE ? max : QSIZE;
	if (q->size & (q->size - 1))
		return "queue size is not a power of two";
	memset((void *)q->desc, 0, 3 * 4096);
	q->avail_idx = q->last_used = q->notified_idx = 0;
	virtq_descs_init(&q->descs, q->size);
	mmio_write16(common + QUEUE_SIZE, q->size);
	mmio_write16(common + QUEUE_MSIX_VECTOR, NO_VECTOR);
	mmio_write64(common + QUEUE_DESC, q->desc_phys);
	mmio_write64(common + QUEUE_DRIVER, q->avail_phys);
	mmio_write64(common + QUEUE_DEVICE, q->used_phys);
	q->notify = notify_base + (uintptr_t)mmio_read16(common + QUEUE_NOTIFY_OFF) * notify_mul;
	mmio_write16(common + QUEUE_ENABLE, 1);
	return NULL;
}

static const char *virtio_probe(struct nic_device *nic)
{
	const char *why;

	if ((why = find_caps(nic)))
		return why;
	/* Before the first DMA memory is asked for: bus mastering may be on
	 * with a dead instance's queues still live. */
	if (!reset())
		return "the device reset (status 0) did not complete";
	mmio_write8(common + DEVICE_STATUS, STATUS_ACKNOWLEDGE);
	mmio_write8(common + DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	features = device_features();
	if (!(features & F_VERSION_1))
		return "the device does not offer VIRTIO_F_VERSION_1";
	uint64_t want = F_VERSION_1 | F_MAC | F_STATUS;
	vec_queues = nic_arg_on(nic, "msixbadvector", false) ? VEC_BAD : VEC_QUEUES;
	if (nic_arg_on(nic, "txcsum", true))
		want |= F_CSUM;
	if (nic_arg_on(nic, "rxcsum", true))
		want |= F_GUEST_CSUM;
	if (nic_arg_on(nic, "mrgrxbuf", true))
		want |= F_MRG_RXBUF;
	if (nic_arg_on(nic, "eventidx", true))
		want |= F_EVENT_IDX;
	/* Large segments need the checksums they depend on (virtio 1.x,
	 * 5.1.3.1), and receiving them buffers that can hold them. */
	if (nic_arg_on(nic, "rxtso", true) && (want & F_GUEST_CSUM) && (want & F_MRG_RXBUF))
		want |= F_GUEST_TSO4;
	if (nic_arg_on(nic, "txtso", true) && (want & F_CSUM))
		want |= F_HOST_TSO4;
	features &= want;
	if (!(features & F_GUEST_CSUM) || !(features & F_MRG_RXBUF))
		features &= ~F_GUEST_TSO4;
	if (!(features & F_CSUM))
		features &= ~F_HOST_TSO4;
	nic->offloads = (features & F_CSUM ? NETQ_OFFLOAD_TX_CSUM : 0) |
			(features & F_GUEST_CSUM ? NETQ_OFFLOAD_RX_CSUM : 0) |
			(features & F_GUEST_TSO4 ? NETQ_OFFLOAD_RX_TSO4 : 0) |
			(features & F_HOST_TSO4 ? NETQ_OFFLOAD_TX_TSO4 : 0) |
			(nic_arg_on(nic, "txsg", true) ? NETQ_OFFLOAD_TX_SG : 0) |
			/* tx_frame only reads a frame (its headers, for TSO4) */
			(nic_arg_on(nic, "txheap", true) ? NETQ_OFFLOAD_TX_HEAP : 0);
	/* Only an aggregate spans buffers (MRG_RXBUF): a chain on rx-ready. */
	nic->rx_frame_descs = features & F_GUEST_TSO4 ? NETQ_CHAIN_MAX : 1;
	if (!(features & F_MAC))
		return "the device has no MAC address (VIRTIO_NET_F_MAC)";
	for (int i = 0; i < 6; i++)
		nic->mac[i] = mmio_read8(device_cfg + (uintptr_t)i);
	if ((why = vq_alloc(nic, &rxq, 0)) || (why = vq_alloc(nic, &txq, 1)))
		return why;
	if (!(tx_hdr = nic_dma(nic, 4096, &tx_hdr_phys)))
		return "no DMA memory for the transmit headers";
	printf("%s: virtio features: mergeable buffers %s, event index %s, large segments: "
	       "rx %s, tx %s\n", nic->ifname, features & F_MRG_RXBUF ? "on" : "off",
	       features & F_EVENT_IDX ? "on" : "off", features & F_GUEST_TSO4 ? "on" : "off",
	       features & F_HOST_TSO4 ? "on" : "off");
	return NULL;
}

/* The MSI-X vectors of configuration changes and of both queues (virtio
 * 1.x, 4.1.5.1.2): false if the device reads one back as NO_VECTOR (it
 * could not allocate it). */
static bool vectors_set(uint16_t config, uint16_t queues)
{
	bool ok = true;

	mmio_write16(common + MSIX_CONFIG, config);
	ok &= mmio_read16(common + MSIX_CONFIG) == config;
	for (uint16_t q = 0; q < 2; q++) {
		mmio_write16(common + QUEUE_SELECT, q);
		mmio_write16(common + QUEUE_MSIX_VECTOR, queues);
		ok &= mmio_read16(common + QUEUE_MSIX_VECTOR) == queues;
	}
	return ok;
}

static const char *virtio_start(struct nic_device *nic)
{
	const char *why;

	if (!reset())
		return "the device reset (status 0) did not complete";
	mmio_write8(common + DEVICE_STATUS, STATUS_ACKNOWLEDGE);
	mmio_write8(common + DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	mmio_write32(common + DRIVER_FEATURE_SELECT, 0);
	mmio_write32(common + DRIVER_FEATURE, (uint32_t)features);
	mmio_write32(common + DRIVER_FEATURE_SELECT, 1);
	mmio_write32(common + DRIVER_FEATURE, (uint32_t)(features >> 32));
	mmio_write8(common + DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
	if (!(mmio_read8(common + DEVICE_STATUS) & STATUS_FEATURES_OK))
		return "the device refused our features";
	if ((why = vq_setup(&rxq)) || (why = vq_setup(&txq)))
		return why;
	if (nic->msix && !vectors_set(VEC_CONFIG, vec_queues))
		nic_msix_off(nic, "the device reads a vector back as NO_VECTOR");
	if (!nic->msix)
		vectors_set(NO_VECTOR, NO_VECTOR);
	rx_continued = 0;
	tx_done_n = tx_done_at = 0;
	mmio_write8(common + DEVICE_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER |
					    STATUS_FEATURES_OK | STATUS_DRIVER_OK);
	nic->link = link_up();
	return NULL;
}

static void virtio_stop(struct nic_device *nic)
{
	if (!reset())
		printf("%s: the device reset did not complete\n", nic->ifname);
}

static unsigned virtio_rx_room(struct nic_device *nic) { return rxq.descs.nfree; }
/* A frame takes a header descriptor and one per buffer. */
static unsigned virtio_tx_room(struct nic_device *nic)
{
	return txq.descs.nfree ? txq.descs.nfree - 1u : 0;
}

static void publish(struct vq *q, uint16_t head, uint32_t offset)
{
	q->off[head] = offset;
	q->avail->ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
}

static void virtio_rx_give(struct nic_device *nic, uint32_t offset, uint64_t phys)
{
	uint16_t h;

	if (!virtq_descs_take(&rxq.descs, 1, &h))
		return;                 /* cannot happen: driver.c asked rx_room */
	rxq.desc[h].addr = phys;
	rxq.desc[h].len = NETQ_BUF_SIZE;
	rxq.desc[h].flags = DESC_F_WRITE;
	publish(&rxq, h, offset);
}

/* A frame of n buffers: a header descriptor of ours (from d[0]'s
 * metadata) chained to one descriptor per buffer; the head is published.
 * A TSO4 frame's headers are checked first, on a copy (the client may
 * change its own): false, and nothing given, when they are not an
 * aggregate the host can cut (netq_gso_tso_check). */
static bool tx_frame(struct nic_device *nic, const struct netq_desc *d, const uint64_t *phys,
		     unsigned n)
{
	struct netq_gso g = { 0 };

	if (d->flags & NETQ_F_TSO4) {
		uint8_t copy[NETQ_GSO_HDR_MAX];
		unsigned first = d->len < sizeof(copy) ? d->len : sizeof(copy);
		uint32_t total = 0;
		for (unsigned i = 0; i < n; i++)
			total += d[i].len;
		memcpy(copy, nic->area + d->offset, first);
		if (!netq_gso_tso_check(copy, first, total, d, 1514, &g))
			return false;
	}
	uint16_t id[NETQ_CHAIN_MAX + 1];
	if (!virtq_descs_take(&txq.descs, n + 1, id))
		return false;           /* cannot happen: driver.c asked tx_room */
	uint16_t h = id[0], prev = h;
	volatile struct net_hdr *hdr = &tx_hdr[h];

	hdr->flags = d->flags & NETQ_F_CSUM_PARTIAL ? HDR_F_NEEDS_CSUM : 0;
	hdr->csum_start = d->csum_start;
	hdr->csum_offset = d->csum_offset;
	hdr->gso_type = GSO_NONE;
	hdr->gso_size = hdr->hdr_len = 0;
	if (d->flags & NETQ_F_TSO4) {
		hdr->gso_type = GSO_TCPV4;
		hdr->gso_size = d->seg_size;
		hdr->hdr_len = g.hdr_len;
	}
	txq.desc[h].addr = tx_hdr_phys + (uint64_t)h * sizeof(struct net_hdr);
	txq.desc[h].len = HDR_LEN;
	txq.off[h] = NO_OFFSET;
	for (unsigned i = 0; i < n; i++) {
		uint16_t b = id[i + 1];
		txq.desc[prev].flags = DESC_F_NEXT;
		txq.desc[prev].next = b;
		txq.desc[b].addr = phys[i];
		txq.desc[b].len = d[i].len;
		txq.desc[b].flags = 0;
		txq.off[b] = d[i].offset;
		prev = b;
	}
	txq.avail->ring[txq.avail_idx % txq.size] = h;
	txq.avail_idx++;
	return true;
}

static bool virtio_tx_give(struct nic_device *nic, const struct netq_desc *d, uint64_t phys)
{
	return tx_frame(nic, d, &phys, 1);
}

static bool virtio_tx_give_chain(struct nic_device *nic, const struct netq_desc *d,
				 const uint64_t *phys, unsigned n)
{
	return tx_frame(nic, d, phys, n);
}

/* EVENT_IDX's words: the driver's used_event after the available ring,
 * the device's avail_event after the used ring (virtio 1.x, 2.7.10). */
static volatile uint16_t *used_event(struct vq *q) { return &q->avail->ring[q->size]; }
static volatile uint16_t *avail_event(struct vq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}

static void kick(struct vq *q)
{
	if (q->avail_idx == q->notified_idx)
		return;
	io_barrier();                   /* descriptors and ring before idx */
	q->avail->idx = q->avail_idx;
	if (q == &txq && (features & F_EVENT_IDX))
		*used_event(q) = (uint16_t)(q->avail_idx - 1);  /* when the last is sent */
	io_mb();                        /* idx before we read the device's flags */
	uint16_t old = q->notified_idx, event;
	q->notified_idx = q->avail_idx;
	if (features & F_EVENT_IDX) {
		/* Notify only if the device asked to be told of an index in
		 * (old, new]. */
		event = *avail_event(q);
		if ((uint16_t)(q->avail_idx - event - 1) < (uint16_t)(q->avail_idx - old))
			mmio_write16(q->notify, q->index);
	} else if (!(q->used->flags & USED_F_NO_NOTIFY)) {
		mmio_write16(q->notify, q->index);
	}
}

static void virtio_flush(struct nic_device *nic)
{
	kick(&rxq);
	kick(&txq);
}

/* With EVENT_IDX: interrupt us when the device has used the entry at
 * index `at` (receive: the next one; transmit: the last one given). */
static void want_interrupt_at(struct vq *q, uint16_t at)
{
	*used_event(q) = at;
	io_mb();                        /* before we look at idx again */
}

/* The next entry of the used ring, if the device returned one: its id
 * as the device wrote it (unchecked) and length. A used index claiming
 * more entries than the queue holds is skipped to (*overrun). */
static bool used_element(struct vq *q, uint32_t *id, uint32_t *len, bool *overrun)
{
	*overrun = false;
	if (q->last_used == q->used->idx) {
		if (!(features & F_EVENT_IDX))
			return false;
		/* Receive: the next frame; transmit: once all given are sent. */
		want_interrupt_at(q, q == &rxq ? q->last_used : (uint16_t)(q->avail_idx - 1));
		if (q->last_used == q->used->idx)
			return false;
	}
	uint16_t idx = q->used->idx;
	if ((uint16_t)(idx - q->last_used) > q->size) {
		q->last_used = idx;
		*overrun = true;
		return true;
	}
	io_barrier();                   /* idx before the element */
	*id = q->used->ring[q->last_used % q->size].id;
	*len = q->used->ring[q->last_used % q->size].len;
	q->last_used++;
	return true;
}

/* The next chain the device used, freed: its ids (head first) into
 * id[0..max), how many into *n, the used length into *len. A used id that
 * is not the head of a chain the device holds (given back twice, never
 * given, past the queue), and a used index claiming more than the queue
 * holds, are refused and counted in *bad: no descriptor is freed twice.
 * False when the device returned nothing more. */
static bool used_next(struct vq *q, uint16_t *id, unsigned max, unsigned *n, uint32_t *len,
		      uint64_t *bad)
{
	uint32_t used_id;
	bool overrun;

	while (used_element(q, &used_id, len, &overrun)) {
		if (!overrun && (*n = virtq_descs_used(&q->descs, used_id, id, max)))
			return true;
		(*bad)++;
	}
	return false;
}

static bool virtio_rx_take(struct nic_device *nic, struct nic_rx *rx)
{
	uint16_t h;
	uint32_t n;
	unsigned count;

	if (!used_next(&rxq, &h, 1, &count, &n, &nic->stats.rx_errors))
		return false;
	*rx = (struct nic_rx){ .offset = rxq.off[h] };
	if (rx_continued) {
		/* More of a frame over several buffers (MRG_RXBUF): no header. */
		rx_continued--;
		rx->len = n < NETQ_BUF_SIZE ? n : NETQ_BUF_SIZE;
		rx->st = n ? NIC_RX_OK : NIC_RX_ERROR;
		rx->more = rx_continued > 0;
		return true;
	}
	/* The frame follows the header in the same buffer. */
	rx->offset += HDR_LEN;
	rx->len = n > HDR_LEN ? n - HDR_LEN : 0;
	rx->st = n > HDR_LEN ? NIC_RX_OK : NIC_RX_ERROR;
	if (rx->st != NIC_RX_OK)
		return true;
	if (rx->len > NETQ_BUF_SIZE - HDR_LEN)
		rx->len = NETQ_BUF_SIZE - HDR_LEN;
	struct net_hdr hdr;
	__builtin_memcpy(&hdr, nic->area + rxq.off[h], sizeof(hdr));   /* inlined: a few moves */
	if ((features & F_MRG_RXBUF) && hdr.num_buffers > 1) {
		/* Longer than a buffer: the rest follows (driver.c makes it a
		 * chain, or drops it all as oversize). */
		rx_continued = hdr.num_buffers - 1u < QSIZE ? hdr.num_buffers - 1u : QSIZE;
		rx->more = true;
	}
	if (hdr.gso_type == GSO_TCPV4 && (features & F_GUEST_TSO4)) {
		rx->flags = NETQ_F_TSO4;
		rx->seg_size = hdr.gso_size;
	} else if (hdr.gso_type != GSO_NONE) {
		rx->st = NIC_RX_ERROR;          /* a kind we did not ask for */
		return true;
	}
	if (!(features & F_GUEST_CSUM))
		return true;
	if (hdr.flags & HDR_F_NEEDS_CSUM) {
		rx->flags |= NETQ_F_CSUM_PARTIAL;
		rx->csum_start = hdr.csum_start;
		rx->csum_offset = hdr.csum_offset;
	} else if (hdr.flags & HDR_F_DATA_VALID) {
		rx->flags |= NETQ_F_CSUM_VALID;
	}
	return true;
}

/* A sent frame's descriptors go back to the free list, its buffers'
 * offsets to tx_done, one tx_take each. */
static bool virtio_tx_take(struct nic_device *nic, uint32_t *offset)
{
	uint16_t id[NETQ_CHAIN_MAX + 1];
	unsigned n;
	uint32_t len;

	while (tx_done_at == tx_done_n) {
		if (!used_next(&txq, id, NETQ_CHAIN_MAX + 1, &n, &len, &nic->stats.tx_errors))
			return false;
		tx_done_n = tx_done_at = 0;
		for (unsigned i = 0; i < n; i++)
			if (txq.off[id[i]] != NO_OFFSET)
				tx_done[tx_done_n++] = txq.off[id[i]];
	}
	*offset = tx_done[tx_done_at++];
	return true;
}

/* Before sleeping for transmit room: an interrupt once the last frame
 * given is sent, and whether the device sent any meanwhile. kick() asks
 * for that interrupt only after publishing, so the device may have sent
 * everything under the old request (which it had passed) and raise none. */
static bool virtio_tx_pending(struct nic_device *nic)
{
	if (tx_done_at != tx_done_n)
		return true;
	if (features & F_EVENT_IDX)
		want_interrupt_at(&txq, (uint16_t)(txq.avail_idx - 1));
	return txq.last_used != txq.used->idx;
}

/* The offsets of the buffers given to the device and not used yet. */
static unsigned vq_held(const struct vq *q, uint32_t *offsets, unsigned max)
{
	unsigned n = 0;

	for (unsigned h = 0; h < q->size && n < max; h++)
		if (q->descs.state[h] != VIRTQ_DESC_FREE && q->off[h] != NO_OFFSET)
			offsets[n++] = q->off[h];
	return n;
}

static unsigned virtio_held(struct nic_device *nic, uint32_t *offsets, unsigned max)
{
	unsigned n = vq_held(&rxq, offsets, max);

	n += vq_held(&txq, offsets + n, max - n);
	for (unsigned i = tx_done_at; i < tx_done_n && n < max; i++)
		offsets[n++] = tx_done[i];      /* sent, not yet handed back */
	return n;
}

static void virtio_interrupt(struct nic_device *nic)
{
	uint8_t cause = mmio_read8(isr);        /* reading acknowledges */

	if (cause & 2) {
		bool up = link_up();
		if (up != nic->link)
			printf_limited("%s: link %s\n", nic->ifname, up ? "up" : "down");
		nic->link = up;
	}
}

/* With MSI-X the ISR status is not read: queue interrupts need nothing,
 * a configuration change is a link change. */
static void virtio_msix_interrupt(struct nic_device *nic, unsigned vector)
{
	if (vector != VEC_CONFIG)
		return;
	bool up = link_up();
	if (up != nic->link)
		printf_limited("%s: link %s\n", nic->ifname, up ? "up" : "down");
	nic->link = up;
}

static void virtio_counters(struct nic_device *nic)
{
	/* The device keeps none; what the driver counts is all there is. */
}

static const struct nic_ops virtio_ops = {
	.kind = "virtio-net",
	.probe = virtio_probe,
	.start = virtio_start,
	.stop = virtio_stop,
	.rx_room = virtio_rx_room,
	.rx_give = virtio_rx_give,
	.tx_room = virtio_tx_room,
	.tx_give = virtio_tx_give,
	.tx_give_chain = virtio_tx_give_chain,
	.flush = virtio_flush,
	.rx_take = virtio_rx_take,
	.tx_take = virtio_tx_take,
	.tx_pending = virtio_tx_pending,
	.interrupt = virtio_interrupt,
	.msix_vectors = 2,
	.msix_interrupt = virtio_msix_interrupt,
	.counters = virtio_counters,
	.held = virtio_held,
};

int main(uint64_t arg)
{
	return driver_main(&virtio_ops, arg);
}
