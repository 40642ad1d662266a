/*
 * virtio-net over the virtio 1.0 ("modern") PCI transport (QEMU
 * `-device virtio-net-pci`): split virtqueues, receive queue 0 and transmit
 * queue 1, INTx interrupts. Receive buffers are pool buffers (one
 * descriptor each: the 12-byte virtio-net header, then the frame); a frame
 * to send is two descriptors: a zero header of ours, then the pool buffer.
 * Structure and field names follow the virtio 1.0 specification.
 */
#include "driver.h"

#include "lib/io.h"

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

#define F_MAC       (1ull << 5)
#define F_STATUS    (1ull << 16)
#define F_VERSION_1 (1ull << 32)
#define NET_S_LINK_UP 1
#define NO_VECTOR 0xFFFF

#define DESC_F_NEXT  1
#define DESC_F_WRITE 2
#define USED_F_NO_NOTIFY 1

#define HDR_LEN 12      /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define QSIZE 256

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vq_avail {
	uint16_t flags, idx;
	uint16_t ring[QSIZE];
};

struct vq_used {
	uint16_t flags, idx;
	struct {
		uint32_t id, len;
	} ring[QSIZE];
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
	uint16_t free[QSIZE];           /* free heads (descriptor or pair) */
	unsigned nfree;
	uint32_t off[QSIZE];            /* pool offset by head */
};

static uintptr_t common, isr, device_cfg, notify_base;
static uint32_t notify_mul;
static uint64_t features;
static struct vq rxq, txq;
static uint64_t tx_hdr_phys;            /* one zero header for every frame sent */

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

static const char *vq_setup(struct vq *q, unsigned per_head)
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
	q->nfree = 0;
	for (unsigned h = 0; h + per_head <= q->size; h += per_head)
		q->free[q->nfree++] = (uint16_t)h;
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
	features &= F_VERSION_1 | F_MAC | F_STATUS;
	if (!(features & F_MAC))
		return "the device has no MAC address (VIRTIO_NET_F_MAC)";
	for (int i = 0; i < 6; i++)
		nic->mac[i] = mmio_read8(device_cfg + (uintptr_t)i);
	if ((why = vq_alloc(nic, &rxq, 0)) || (why = vq_alloc(nic, &txq, 1)))
		return why;
	uint8_t *hdr = nic_dma(nic, 4096, &tx_hdr_phys);
	if (!hdr)
		return "no DMA memory for the transmit header";
	return NULL;
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
	mmio_write16(common + MSIX_CONFIG, NO_VECTOR);
	if ((why = vq_setup(&rxq, 1)) || (why = vq_setup(&txq, 2)))
		return why;
	/* Transmit pairs: header descriptor chained to the frame's. */
	for (uint16_t h = 0; h + 1 < txq.size; h += 2) {
		txq.desc[h].addr = tx_hdr_phys;
		txq.desc[h].len = HDR_LEN;
		txq.desc[h].flags = DESC_F_NEXT;
		txq.desc[h].next = h + 1;
	}
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

static unsigned virtio_rx_room(struct nic_device *nic) { return rxq.nfree; }
static unsigned virtio_tx_room(struct nic_device *nic) { return txq.nfree; }

static void publish(struct vq *q, uint16_t head, uint32_t offset)
{
	q->off[head] = offset;
	q->avail->ring[q->avail_idx % q->size] = head;
	q->avail_idx++;
}

static void virtio_rx_give(struct nic_device *nic, uint32_t offset, uint64_t phys)
{
	uint16_t h = rxq.free[--rxq.nfree];

	rxq.desc[h].addr = phys;
	rxq.desc[h].len = NETQ_BUF_SIZE;
	rxq.desc[h].flags = DESC_F_WRITE;
	publish(&rxq, h, offset);
}

static void virtio_tx_give(struct nic_device *nic, uint32_t offset, uint64_t phys, uint32_t len)
{
	uint16_t h = txq.free[--txq.nfree];

	txq.desc[h + 1].addr = phys;
	txq.desc[h + 1].len = len;
	txq.desc[h + 1].flags = 0;
	publish(&txq, h, offset);
}

static void kick(struct vq *q)
{
	if (q->avail_idx == q->notified_idx)
		return;
	io_barrier();                   /* descriptors and ring before idx */
	q->avail->idx = q->avail_idx;
	io_mb();                        /* idx before we read the device's flags */
	q->notified_idx = q->avail_idx;
	if (!(q->used->flags & USED_F_NO_NOTIFY))
		mmio_write16(q->notify, q->index);
}

static void virtio_flush(struct nic_device *nic)
{
	kick(&rxq);
	kick(&txq);
}

/* The next used element, if the device returned one. */
static bool used_next(struct vq *q, uint16_t *head, uint32_t *len)
{
	if (q->last_used == q->used->idx)
		return false;
	io_barrier();                   /* idx before the element */
	uint32_t id = q->used->ring[q->last_used % q->size].id;
	*len = q->used->ring[q->last_used % q->size].len;
	q->last_used++;
	*head = (uint16_t)(id < q->size ? id : 0);
	q->free[q->nfree++] = *head;
	return true;
}

static bool virtio_rx_take(struct nic_device *nic, uint32_t *offset, uint32_t *len,
			   enum nic_rx_status *st)
{
	uint16_t h;
	uint32_t n;

	if (!used_next(&rxq, &h, &n))
		return false;
	/* The frame follows the header in the same buffer. */
	*offset = rxq.off[h] + HDR_LEN;
	*len = n > HDR_LEN ? n - HDR_LEN : 0;
	*st = n > HDR_LEN ? NIC_RX_OK : NIC_RX_ERROR;
	return true;
}

static bool virtio_tx_take(struct nic_device *nic, uint32_t *offset)
{
	uint16_t h;
	uint32_t n;

	if (!used_next(&txq, &h, &n))
		return false;
	*offset = txq.off[h];
	return true;
}

/* The offsets of the heads given to the device and not used yet (every
 * per_head-th descriptor is a head). */
static unsigned vq_held(const struct vq *q, unsigned per_head, uint32_t *offsets, unsigned max)
{
	bool is_free[QSIZE] = { false };
	unsigned n = 0;

	for (unsigned i = 0; i < q->nfree; i++)
		is_free[q->free[i]] = true;
	for (unsigned h = 0; h + per_head <= q->size && n < max; h += per_head)
		if (!is_free[h])
			offsets[n++] = q->off[h];
	return n;
}

static unsigned virtio_held(struct nic_device *nic, uint32_t *offsets, unsigned max)
{
	unsigned n = vq_held(&rxq, 1, offsets, max);

	return n + vq_held(&txq, 2, offsets + n, max - n);
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
	.flush = virtio_flush,
	.rx_take = virtio_rx_take,
	.tx_take = virtio_tx_take,
	.interrupt = virtio_interrupt,
	.counters = virtio_counters,
	.held = virtio_held,
};

int main(uint64_t arg)
{
	return driver_main(&virtio_ops, arg);
}
