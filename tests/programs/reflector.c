/*
 * The reflector: a client of NIC drivers that lets drivers be tested before
 * the netstack exists. For each interface named in its arguments
 * (nic=eth0,eth1) it attaches to the driver with rings of its own and a
 * share of one pool (DMA memory from init, mapped into every driver: each
 * port uses its own slice of the buffers), and sends every received frame
 * back where it came from, in the same buffer (zero copy): destination :=
 * source, source := the old destination (our address if that was a group
 * address).
 *
 * A frame of EtherType REFLECTOR_STATS_TYPE is answered instead with one
 * line of counters (the reflector's and the driver's), for tests. Frames
 * whose source address is a group address are malformed: dropped, counted.
 *
 * The driver is not trusted: a descriptor it returns must lie inside the
 * pool (checked against our own copy of the header) and name a buffer we
 * gave it; anything else is counted (bad_desc) and ignored.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netq_client.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"

#define REFLECTOR_STATS_TYPE 0x88B6
#define POOL_LOG2 20
#define MAX_PORTS 4
#define MAX_BUFS ((1u << POOL_LOG2) / NETQ_BUF_SIZE)

struct port {
	char name[NS_NAME_MAX + 1];
	cap_slot_t driver, driver_notif;
	uint8_t *rings;
	uint64_t rings_phys;
	uint32_t first, nbufs;          /* its slice of the pool, in buffers */
	uint8_t mac[6];
	uint64_t rx, reflected, malformed, no_room, stats_requests, bad_desc;
	struct netq_area geom;          /* our header, as we wrote it */
	bool driver_has[MAX_BUFS];      /* given to the driver, not yet back */
	uint32_t spare[MAX_BUFS];       /* buffers in no ring */
	unsigned nspare;
};

static struct port ports[MAX_PORTS];
static unsigned nports;
static cap_slot_t wake;
static uint8_t *pool;
static uint64_t pool_phys;

static struct netq_ring *ring(struct port *p, enum netq_ring_id id)
{
	return netq_ring(p->rings, id);
}

static uint32_t buffer_index(struct port *p, uint32_t offset)
{
	return (offset - p->geom.pool_offset) / NETQ_BUF_SIZE;
}

/* A buffer is ours again: give it to the NIC to receive into. */
static void recycle(struct port *p, uint32_t offset)
{
	offset = netq_buffer_start(offset);
	if (netq_push(ring(p, NETQ_RX_FREE), (struct netq_desc){ .offset = offset }))
		p->driver_has[buffer_index(p, offset)] = true;
	else
		p->spare[p->nspare++] = offset;
}

/* The driver hands back the buffer holding offset: true if it may (the
 * offset is in the pool and the buffer was the driver's); it is ours
 * again. Otherwise counted and left alone. */
static bool take_back(struct port *p, uint32_t offset)
{
	uint32_t buf = buffer_index(p, offset);

	if (offset < p->geom.pool_offset || buf < p->first || buf >= p->first + p->nbufs ||
	    !p->driver_has[buf]) {
		p->bad_desc++;
		return false;
	}
	p->driver_has[buf] = false;
	return true;
}

static long attach(struct port *p)
{
	struct netq_link link;
	uint32_t nbufs = netq_area_init(p->rings, POOL_LOG2);

	/* Every buffer of our slice is ours; as many as fit go to rx-free. */
	memcpy(&p->geom, p->rings, sizeof(p->geom));
	memset(p->driver_has, 0, sizeof(p->driver_has));
	p->nspare = 0;
	p->nbufs = nbufs / nports;
	p->first = (uint32_t)(p - ports) * p->nbufs;
	for (uint32_t i = p->first; i < p->first + p->nbufs; i++)
		recycle(p, NETQ_POOL_OFFSET + i * NETQ_BUF_SIZE);
	p->driver_notif = slot_alloc();
	struct netq_memory mem = { .rings = p->rings, .pool = pool, .pool_phys = pool_phys,
				   .pool_log2 = POOL_LOG2 };
	long err = netq_attach(p->driver, &mem, wake, 1UL << (p - ports), p->driver_notif, &link);
	if (err)
		return err;
	memcpy(p->mac, link.mac, 6);
	printf("reflector: %s attached, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", p->name,
	       p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4], p->mac[5],
	       link.up ? "up" : "down");
	return 0;
}

/* Answer a statistics request in its own buffer: one line of text. */
static uint16_t stats_reply(struct port *p, uint8_t *frame)
{
	struct netq_stats s = { 0 };

	netq_get_stats(p->driver, &s);
	int n = fmt_snprintf((char *)frame + 14, NETQ_FRAME_MAX - 14,
		"%s rx=%lu reflected=%lu malformed=%lu no_room=%lu bad_desc=%lu "
		"drv_rx=%lu drv_rx_bytes=%lu drv_rx_no_buffer=%lu drv_rx_oversize=%lu "
		"drv_rx_errors=%lu drv_rx_bad_desc=%lu drv_tx=%lu drv_tx_bytes=%lu "
		"drv_tx_errors=%lu drv_interrupts=%lu drv_link=%lu drv_attaches=%lu\n",
		p->name, p->rx, p->reflected, p->malformed, p->no_room, p->bad_desc, s.rx_packets,
		s.rx_bytes,
		s.rx_no_buffer, s.rx_oversize, s.rx_errors, s.rx_bad_desc, s.tx_packets, s.tx_bytes,
		s.tx_errors, s.interrupts, s.link_up, s.attaches);
	uint16_t len = (uint16_t)(14 + n);
	return len < 60 ? 60 : len;
}

/* Everything that can move on one port; true if anything did. */
static bool service(struct port *p)
{
	struct netq_desc d;
	bool busy = false;

	while (netq_pop(ring(p, NETQ_TX_DONE), &d)) {
		if (take_back(p, d.offset))
			recycle(p, d.offset);
		busy = true;
	}
	while (netq_pop(ring(p, NETQ_RX_READY), &d)) {
		busy = true;
		if (!take_back(p, d.offset))
			continue;
		if (!netq_desc_valid(&p->geom, d, false) || d.len > NETQ_FRAME_MAX ||
		    !netq_meta_valid(d, NETQ_F_RX_KNOWN)) {
			p->bad_desc++;
			recycle(p, d.offset);
			continue;
		}
		p->rx++;
		uint8_t *f = netq_pool_byte(pool, d.offset);
		if (d.len < 14 || (f[6] & 1)) {
			p->malformed++;
			recycle(p, d.offset);
			continue;
		}
		uint8_t dst[6];
		memcpy(dst, f, 6);
		memcpy(f, f + 6, 6);
		memcpy(f + 6, (dst[0] & 1) ? p->mac : dst, 6);
		if (f[12] == (REFLECTOR_STATS_TYPE >> 8) && f[13] == (REFLECTOR_STATS_TYPE & 0xFF)) {
			p->stats_requests++;
			memcpy(f + 6, p->mac, 6);
			d.len = stats_reply(p, f);
		}
		if (netq_push(ring(p, NETQ_TX_READY), (struct netq_desc){ .offset = d.offset, .len = d.len })) {
			p->driver_has[buffer_index(p, d.offset)] = true;
			p->reflected++;
		} else {
			p->no_room++;
			recycle(p, d.offset);
		}
	}
	/* Spare buffers last: a buffer is checked against what the driver
	 * held when it returned it, not what we gave since. */
	while (p->nspare && netq_space(ring(p, NETQ_RX_FREE)))
		recycle(p, p->spare[--p->nspare]);
	bool wake_driver = netq_wake_needed(ring(p, NETQ_RX_FREE));
	wake_driver |= netq_wake_needed(ring(p, NETQ_TX_READY));
	wake_driver |= netq_space_wake_needed(ring(p, NETQ_TX_DONE));
	wake_driver |= netq_space_wake_needed(ring(p, NETQ_RX_READY));
	if (wake_driver)
		sys_notify_signal(p->driver_notif, NETQ_SIGNAL_QUEUE);
	return busy;
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	char list[64];
	long err;

	if (!program_arg(pi->args, "nic", list, sizeof(list))) {
		printf("reflector: no interfaces (args nic=eth0[,eth1...])\n");
		return 1;
	}
	wake = slot_alloc();
	if ((err = sys_obj_create(CAP_NOTIFICATION, wake, 0)) < 0)
		return 1;
	for (char *s = list; *s && nports < MAX_PORTS;) {
		char *e = s;
		while (*e && *e != ',')
			e++;
		struct port *p = &ports[nports++];
		memcpy(p->name, s, (size_t)(e - s) < NS_NAME_MAX ? (size_t)(e - s) : NS_NAME_MAX);
		s = *e ? e + 1 : e;
	}
	if (!(pool = dma_alloc(1UL << POOL_LOG2, &pool_phys))) {
		printf("reflector: no DMA memory for the pool (manifest dma=)\n");
		return 1;
	}
	for (unsigned i = 0; i < nports; i++) {
		struct port *p = &ports[i];
		p->driver = slot_alloc();
		if ((err = ns_lookup(p->name, p->driver)) < 0 ||
		    !(p->rings = dma_alloc(NETQ_RINGS_SIZE, &p->rings_phys)) ||
		    (err = attach(p)) < 0) {
			printf("reflector: %s: cannot attach: %s\n", p->name,
			       p->rings ? mica_strerror(err) : "no DMA memory (manifest dma=)");
			return 1;
		}
	}
	char count[32];
	printf("reflector: reflecting on %s\n",
	       fmt_count(count, sizeof(count), nports, "interface", "interfaces"));
	for (;;) {
		bool busy = false;
		for (unsigned i = 0; i < nports; i++)
			busy |= service(&ports[i]);
		if (busy)
			continue;
		bool sleep = true;
		for (unsigned i = 0; i < nports && sleep; i++)
			sleep = netq_prepare_wait(ring(&ports[i], NETQ_RX_READY)) &&
				netq_prepare_wait(ring(&ports[i], NETQ_TX_DONE));
		if (sleep)
			sys_notify_wait(wake, 0);
	}
}
