/*
 * Intel 82540EM (QEMU `-device e1000`): one RX and one TX ring in DMA
 * memory whose buffers are the client's pool buffers. Register and bit
 * names follow Intel's 8254x Software Developer's Manual.
 *
 * Offloads (each switched off by a manifest argument, docs/drivers.md):
 * transmit checksums through a TCP/IP context descriptor (written only
 * when a frame's offsets differ from the last one's) and extended data
 * descriptors with TXSM; receive checksums (RXCSUM: IPCS and TCPCS in a
 * descriptor's status, IPE and TCPE in its errors; a frame the NIC found
 * wrong goes up unverified, so that the netstack checks and counts it);
 * interrupt moderation (ITR, and TIDV/TADV for transmit completions);
 * frames gathered from several buffers (a chain: one data descriptor per
 * buffer, EOP on the last; NETQ_OFFLOAD_TX_SG) and TCP segmentation
 * (NETQ_OFFLOAD_TX_TSO4: a TCP/IP context descriptor with TSE, HDRLEN,
 * MSS and PAYLEN, then data descriptors with TSE; manual 3.5 and 3.6).
 * Nothing of a TSO4 frame is believed before it is checked: its headers
 * are copied out of the client's memory, parsed and checked
 * (netq_gso_tso_check), the context is written from that copy, never from
 * the client's offsets, and the NIC is given the copy (in a header slot of
 * our own, with the checksum fields as the NIC wants them) as the frame's
 * first data descriptor, the rest of the frame where it lies: the driver
 * never writes a frame it sends, so it can send from the client's heap,
 * mapped read-only (NETQ_OFFLOAD_TX_HEAP; QEMU's model builds each
 * segment in a buffer of its own from the header bytes it read).
 * QEMU's model sets IXSM (no indication) on every received frame, so
 * under QEMU the netstack verifies every checksum itself.
 */
#include "driver.h"

#include "lib/io.h"
#include "lib/inet_csum.h"
#include "lib/netq_csum.h"
#include "lib/netq_gso.h"

/* Registers (byte offsets in BAR 0). */
#define CTRL   0x0000
#define STATUS 0x0008
#define EERD   0x0014
#define ICR    0x00C0
#define IMS    0x00D0
#define IMC    0x00D8
#define ITR    0x00C4   /* minimum interval between interrupts, 256 ns units */
#define RCTL   0x0100
#define TCTL   0x0400
#define TIPG   0x0410
#define RDBAL  0x2800
#define RDBAH  0x2804
#define RDLEN  0x2808
#define RDH    0x2810
#define RDT    0x2818
#define TDBAL  0x3800
#define TDBAH  0x3804
#define TDLEN  0x3808
#define TDH    0x3810
#define TDT    0x3818
#define TIDV   0x3820   /* transmit interrupt delay, 1.024 us units */
#define TADV   0x382C   /* ... and its absolute limit */
#define RXCSUM 0x5000
#define MTA    0x5200   /* 128 registers */
#define RAL0   0x5400
#define RAH0   0x5404
/* Statistics, cleared when read. */
#define CRCERRS 0x4000
#define MPC     0x4010  /* missed: no room in the receive FIFO/ring */
#define RNBC    0x40A0  /* receive, no buffers */
#define RUC     0x40A4  /* undersize */
#define ROC     0x40AC  /* oversize */
#define RXERRC  0x400C

#define CTRL_SLU   (1u << 6)
#define CTRL_RST   (1u << 26)
#define STATUS_LU  (1u << 1)
#define EERD_START 1u
#define EERD_DONE  (1u << 4)
#define RCTL_EN    (1u << 1)
#define RCTL_BAM   (1u << 15)
#define RCTL_SECRC (1u << 26)   /* strip the CRC; BSIZE 00 = 2048 bytes */
#define TCTL_EN    (1u << 1)
#define TCTL_PSP   (1u << 3)
#define ICR_TXDW   (1u << 0)
#define ICR_LSC    (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO    (1u << 6)
#define ICR_RXT0   (1u << 7)

#define RXCSUM_IPOFL (1u << 8)
#define RXCSUM_TUOFL (1u << 9)

#define RX_DD    0x01
#define RX_EOP   0x02
#define RX_IXSM  0x04   /* ignore the checksum bits */
#define RX_TCPCS 0x20   /* TCP/UDP checksum computed (TCPE says if wrong) */
#define RX_IPCS  0x40   /* IPv4 header checksum computed (IPE) */
#define RX_ERR_TCPE 0x20
#define RX_ERR_IPE  0x40
#define TX_EOP 0x01
#define TX_IFCS 0x02
#define TX_TSE 0x04    /* DCMD: this frame is segmented (with a TSE context) */
#define TX_RS  0x08
#define TX_DEXT 0x20    /* an extended descriptor: context or data */
#define TX_IDE 0x80     /* delay the completion interrupt (TIDV/TADV) */
#define TX_DD  0x01
#define TX_DTYP_DATA    (1u << 20)      /* in the extended descriptors' length word */
#define TX_POPTS_IXSM   0x01            /* insert the IPv4 header checksum */
#define TX_POPTS_TXSM   0x02            /* insert the TCP/UDP checksum */
#define CTX_TUCMD_TCP   0x01            /* TUCMD: TCP (not UDP) */
#define CTX_TUCMD_IP    0x02            /* TUCMD: IPv4 (not IPv6) */
#define CTX_TUCMD_TSE   0x04            /* TUCMD: a segmentation context */
#define ETH_FRAME_MAX   1514            /* one segment, without FCS */
/* tx_off of a slot that names no client buffer: a context descriptor, or
 * the rest of a TSO4 frame's first buffer after its headers (the header
 * slot before it carries that buffer's offset). */
#define NO_BUF          UINT32_MAX
/* Header slots: one per ring slot, the headers of the TSO4 frame whose
 * header descriptor is in that slot (NETQ_GSO_HDR_MAX bytes, rounded). */
#define TX_HDR_STRIDE   136

#define RING 256        /* descriptors per ring: 4 KiB each */
#define RX_BUF_SIZE 2048        /* RCTL.BSIZE 00: what the NIC writes at most */

struct rx_desc {
	uint64_t addr;
	uint16_t length, csum;
	uint8_t status, errors;
	uint16_t special;
};

struct tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso, cmd, status, css;
	uint16_t special;
};

/* The TCP/IP context descriptor and the extended data descriptor. */
struct tx_context {
	uint8_t ipcss, ipcso;
	uint16_t ipcse;
	uint8_t tucss, tucso;
	uint16_t tucse;
	uint32_t cmd_len;       /* PAYLEN, DTYP 0, TUCMD << 24 */
	uint8_t status, hdrlen;
	uint16_t mss;
};

struct tx_data {
	uint64_t addr;
	uint32_t cmd_len;       /* DTALEN, DTYP 1, DCMD << 24 */
	uint8_t status, popts;
	uint16_t special;
};
_Static_assert(sizeof(struct tx_context) == 16 && sizeof(struct tx_data) == 16,
	       "descriptors are 16 bytes");

static uintptr_t regs;
static volatile struct rx_desc *rx;
static volatile struct tx_desc *tx;
static uint64_t rx_phys, tx_phys;
static uint8_t *tx_hdr;                 /* RING header slots of TX_HDR_STRIDE bytes */
static uint64_t tx_hdr_phys;
/* A receive buffer of our own DMA memory (RX_BUF_SIZE bytes) that every
 * descriptor names while no pool buffer is the NIC's: between e1000_stop
 * and the next e1000_start (rx_ring_scratch). */
static uint64_t rx_scratch_phys;
/* Test hook (manifest argument stoprace=on): every stop leaves RDT one
 * descriptor behind RDH, as a frame taken inside rx_ring_empty would. */
static bool stop_race;
_Static_assert(TX_HDR_STRIDE >= NETQ_GSO_HDR_MAX, "a header slot holds any checked headers");
/* Which pool buffer each descriptor holds; head = next the hardware
 * completes, tail = next we fill. Free-running, mod RING. */
static uint32_t rx_off[RING], tx_off[RING];
/* For each transmit slot, the (free-running) slot of its frame's last
 * descriptor: the only one with RS, so the only one the NIC writes back
 * (DD), which says the whole frame, context included, is done (8254x
 * manual 3.3.3.1: DD is reported for descriptors with RS). QEMU writes a
 * descriptor back by DMA per RS, so one a frame instead of one a buffer. */
static uint32_t tx_last[RING];
static uint32_t rx_head, rx_tail, tx_head, tx_tail;
/* What RDT and TDT were last set to: reading them back is a register
 * access (under QEMU, a trip out of the translated code) per poll. */
static uint32_t rdt_set, tdt_set;
/* Bytes of frames given since TDT was last written. */
static uint32_t tx_unkicked;
static uint16_t ctx_start, ctx_offset;  /* the context the NIC has (0: none yet) */
static uint32_t itr, tx_delay;          /* moderation, from the manifest */
static bool txdw_on;                    /* TXDW unmasked (IMS) */

static uint32_t rd(uint32_t reg) { return mmio_read32(regs + reg); }
static void wr(uint32_t reg, uint32_t v) { mmio_write32(regs + reg, v); }

/*
 * Receive DMA stopped without writing RCTL: the receive ring emptied
 * (RDT moved to RDH: no descriptor is the NIC's). QEMU's model stops
 * receiving for a second of virtual time after every RCTL write (its
 * flush_queue_timer, a workaround for a Windows driver), so switching
 * receive off and on again at every attach kept a restarted driver's
 * first frames queued in QEMU for 1000 ms, past the sender's
 * retransmission timer. RDH is read again after the write: a frame taken
 * meanwhile moved it, and then RDT follows (a few tries; the reset after
 * this stops the NIC on hardware that honours CTRL.RST anyway).
 */
static void rx_ring_empty(void)
{
	for (int i = 0; i < 8; i++) {
		uint32_t head = rd(RDH);
		wr(RDT, head);
		if (rd(RDH) == head)
			return;
	}
}

/*
 * Every receive descriptor names the scratch buffer, its status cleared:
 * whatever descriptors the NIC still owns (hardware owns those from RDH
 * up to RDT, 8254x manual 3.2.6; a frame taken between rx_ring_empty's
 * read of RDH and its write of RDT leaves it almost the whole ring) can
 * only write there. The register read after the stores orders them
 * before anything that follows: under QEMU a frame being received
 * finishes before a register access is served (both hold its big lock),
 * and the next one reads the descriptors again. Hardware may hold
 * descriptors it fetched before (prefetch); CTRL.RST in reset() drops
 * those.
 */
static void rx_ring_scratch(void)
{
	for (unsigned i = 0; i < RING; i++) {
		rx[i].addr = rx_scratch_phys;
		rx[i].length = 0;
		rx[i].status = rx[i].errors = 0;
	}
	__asm__ volatile("mfence" ::: "memory");
	(void)rd(STATUS);
}

/*
 * A full device reset, whatever state an earlier instance left behind
 * (killed mid-DMA, interrupts pending, rings half written): interrupts
 * masked, transmit off and the receive ring emptied (rx_ring_empty),
 * CTRL.RST and wait until the device clears it, then interrupts masked
 * again (the reset unmasks nothing, but an earlier IMS must not survive
 * on a device that ignores RST), every cause read away (ICR clears on
 * read, so the INTx line drops) and the ring registers empty. Hardware
 * comes out of CTRL.RST with receive off (RCTL 0); QEMU's model ignores
 * RST and keeps RCTL, which e1000_start then leaves as it is if it is
 * what it would write. false: the reset never completed.
 */
static bool reset(void)
{
	wr(IMC, 0xFFFFFFFF);
	rx_ring_empty();
	wr(TCTL, 0);
	(void)rd(STATUS);               /* flush the posted writes */
	wr(CTRL, rd(CTRL) | CTRL_RST);
	/* The manual asks for at least 1 us before looking at CTRL again. */
	for (int i = 0; i < 100; i++)
		(void)rd(STATUS);
	int i = 0;
	while ((rd(CTRL) & CTRL_RST) && i++ < 100000)
		__asm__ volatile("pause");
	if (rd(CTRL) & CTRL_RST)
		return false;
	wr(IMC, 0xFFFFFFFF);
	(void)rd(ICR);
	static const uint32_t ring_regs[] = { TDBAL, TDBAH, TDLEN, TDH, TDT,
					      RDBAL, RDBAH, RDLEN, RDH, RDT };
	/* A NIC still receiving (QEMU's) keeps its empty receive ring where
	 * it is: moved to address 0 with RDH and RDT apart for a moment, it
	 * could take a descriptor from there. */
	unsigned n = rd(RCTL) & RCTL_EN ? 5 : 10;
	for (unsigned r = 0; r < n; r++)
		wr(ring_regs[r], 0);
	return true;
}

static const char *e1000_probe(struct nic_device *nic)
{
	if (!(regs = nic_bar(nic, 0)))
		return "BAR 0 is not memory";
	if (nic->pci->bars[0].size < 0x20000)
		return "BAR 0 smaller than 128 KiB";
	/* Before the first DMA memory is asked for: bus mastering may be on
	 * with a dead instance's rings still programmed. */
	if (!reset())
		return "the device reset (CTRL.RST) did not complete";
	/* The MAC address: EEPROM words 0..2. */
	for (int w = 0; w < 3; w++) {
		wr(EERD, EERD_START | (uint32_t)w << 8);
		uint32_t v = 0;
		for (int i = 0; i < 100000 && !((v = rd(EERD)) & EERD_DONE); i++)
			;
		if (!(v & EERD_DONE))
			return "EEPROM read timed out";
		nic->mac[2 * w] = (uint8_t)(v >> 16);
		nic->mac[2 * w + 1] = (uint8_t)(v >> 24);
	}
	nic->offloads = (nic_arg_on(nic, "txcsum", true) ? NETQ_OFFLOAD_TX_CSUM : 0) |
			(nic_arg_on(nic, "rxcsum", true) ? NETQ_OFFLOAD_RX_CSUM : 0) |
			(nic_arg_on(nic, "txsg", true) ? NETQ_OFFLOAD_TX_SG : 0) |
			/* a frame sent is only read (TSO's headers: our copy) */
			(nic_arg_on(nic, "txheap", true) ? NETQ_OFFLOAD_TX_HEAP : 0);
	/* Segmentation needs the checksums it inserts, and chains. */
	if (nic_arg_on(nic, "txtso", true) && (nic->offloads & NETQ_OFFLOAD_TX_CSUM) &&
	    (nic->offloads & NETQ_OFFLOAD_TX_SG))
		nic->offloads |= NETQ_OFFLOAD_TX_TSO4;
	/* Receive merging (rx_merge.c) hands up aggregates it verified:
	 * only with receive checksum offload. */
	if ((nic->offloads & NETQ_OFFLOAD_RX_CSUM) && nic_arg_on(nic, "rxmerge", true)) {
		nic->rx_merge = true;
		nic->offloads |= NETQ_OFFLOAD_RX_TSO4;
	}
	/* A frame is one buffer (a longer one is dropped); what merging
	 * holds for rx-ready driver.c counts apart. */
	nic->rx_frame_descs = 1;
	printf("%s: transmit: chains %s, segmentation (TSO) %s, from the client's heap %s; "
	       "receive merging %s\n", nic->ifname,
	       nic->offloads & NETQ_OFFLOAD_TX_SG ? "on" : "off",
	       nic->offloads & NETQ_OFFLOAD_TX_TSO4 ? "on" : "off",
	       nic->offloads & NETQ_OFFLOAD_TX_HEAP ? "on" : "off", nic->rx_merge ? "on" : "off");
	/* 488 x 256 ns: at most ~8000 interrupts a second. The first after a
	 * quiet spell is not delayed, so a ping's answer is not either. */
	itr = (uint32_t)nic_arg_num(nic, "itr", 488) & 0xFFFF;
	tx_delay = (uint32_t)nic_arg_num(nic, "txdelay", 0) & 0xFFFF;
	stop_race = nic_arg_on(nic, "stoprace", false);
	printf("%s: interrupt moderation: itr %u x 256 ns, transmit delay %u us\n", nic->ifname,
	       itr, tx_delay);
	/* The two rings, a page each, the header slots, the scratch buffer. */
	if (!(rx = nic_dma(nic, 2 * 4096 + RING * TX_HDR_STRIDE + RX_BUF_SIZE, &rx_phys)))
		return "no DMA memory for the descriptor rings (manifest dma=)";
	tx = (volatile struct tx_desc *)((uint8_t *)rx + 4096);
	tx_phys = rx_phys + 4096;
	tx_hdr = (uint8_t *)rx + 2 * 4096;
	tx_hdr_phys = rx_phys + 2 * 4096;
	rx_scratch_phys = tx_hdr_phys + RING * TX_HDR_STRIDE;
	return NULL;
}

/* Frames the NIC took after the last stop (it owned descriptors still):
 * dropped; said, with how many went anywhere but the scratch buffer
 * (none may: a buffer given back may be the next client's). */
static void rx_count_stopped(struct nic_device *nic)
{
	unsigned taken = 0, astray = 0;

	for (unsigned i = 0; i < RING; i++)
		if (rx[i].status & RX_DD) {
			taken++;
			astray += rx[i].addr != rx_scratch_phys;
		}
	if (taken)
		printf_limited("%s: %u frames came while stopped (dropped), %u of them into "
			       "buffers given back\n", nic->ifname, taken, astray);
}

static const char *e1000_start(struct nic_device *nic)
{
	if (!reset())
		return "the device reset (CTRL.RST) did not complete";
	rx_count_stopped(nic);
	rx_ring_scratch();
	memset((void *)tx, 0, 4096);
	rx_head = rx_tail = tx_head = tx_tail = 0;
	rdt_set = tdt_set = 0;
	tx_unkicked = 0;
	ctx_start = ctx_offset = 0;
	wr(CTRL, rd(CTRL) | CTRL_SLU);
	/* Our address in receive-address slot 0; no multicast. */
	wr(RAL0, (uint32_t)nic->mac[0] | (uint32_t)nic->mac[1] << 8 | (uint32_t)nic->mac[2] << 16 |
			 (uint32_t)nic->mac[3] << 24);
	wr(RAH0, (uint32_t)nic->mac[4] | (uint32_t)nic->mac[5] << 8 | 1u << 31);
	for (int i = 0; i < 128; i++)
		wr(MTA + 4 * i, 0);
	/* Our ring, while the NIC has no descriptor (reset: RDH == RDT).
	 * Then RDT before RDH: a NIC still receiving may take some of our
	 * ring's descriptors between the two writes (all name the scratch
	 * buffer: the frame is dropped there; the status written back is
	 * cleared below), and the RDH write leaves both at 0 whatever it
	 * took. */
	rx_ring_empty();
	wr(RDBAL, (uint32_t)rx_phys);
	wr(RDBAH, (uint32_t)(rx_phys >> 32));
	wr(RDLEN, RING * sizeof(struct rx_desc));
	wr(RDT, 0);
	wr(RDH, 0);
	rx_ring_scratch();
	wr(TDBAL, (uint32_t)tx_phys);
	wr(TDBAH, (uint32_t)(tx_phys >> 32));
	wr(TDLEN, RING * sizeof(struct tx_desc));
	wr(TDH, 0);
	wr(TDT, 0);
	wr(TIPG, 10 | 8 << 10 | 6 << 20);
	wr(TCTL, TCTL_EN | TCTL_PSP | 0x0F << 4 | 0x40 << 12);
	wr(RXCSUM, nic->offloads & NETQ_OFFLOAD_RX_CSUM ? RXCSUM_IPOFL | RXCSUM_TUOFL : 0);
	wr(ITR, itr);
	wr(TIDV, tx_delay);
	wr(TADV, tx_delay * 4);
	/* Written only when it differs: every RCTL write stops QEMU's model
	 * receiving for a second (rx_ring_empty). */
	if (rd(RCTL) != (RCTL_EN | RCTL_BAM | RCTL_SECRC))
		wr(RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
	/* TXDW only while frames are out (e1000_tx_pending). */
	wr(IMS, ICR_LSC | ICR_RXDMT0 | ICR_RXO | ICR_RXT0);
	txdw_on = false;
	nic->link = rd(STATUS) & STATUS_LU;
	return NULL;
}

/*
 * The client's buffers are given back when this returns, so first every
 * receive descriptor names the scratch buffer (rx_ring_scratch), then the
 * ring is emptied and the device reset: if RDT ends up behind RDH (a
 * frame taken meanwhile, rx_ring_empty giving up, or a device that
 * ignores CTRL.RST), the NIC owns descriptors still, but they all name
 * our own memory. e1000_start says what came meanwhile (rx_count_stopped).
 */
static void e1000_stop(struct nic_device *nic)
{
	rx_ring_scratch();
	if (!reset())
		printf("%s: the device reset did not complete\n", nic->ifname);
	if (stop_race)
		wr(RDT, (rd(RDH) + RING - 1) % RING);
}

/* One descriptor stays empty: RDT == RDH means "no buffers". On transmit
 * a frame takes one per buffer and may need two more (a context
 * descriptor first; a TSO4 frame's headers apart from the rest of its
 * first buffer). */
static unsigned e1000_rx_room(struct nic_device *nic) { return RING - 1 - (rx_tail - rx_head); }
static unsigned e1000_tx_room(struct nic_device *nic)
{
	unsigned used = tx_tail - tx_head;

	return used + 3 < RING ? RING - 3 - used : 0;
}

static void e1000_rx_give(struct nic_device *nic, uint32_t offset, uint64_t phys)
{
	volatile struct rx_desc *d = &rx[rx_tail % RING];

	rx_off[rx_tail % RING] = offset;
	d->addr = phys;
	d->status = 0;
	rx_tail++;
}

/* A context descriptor for the checksum at csum_start + csum_offset,
 * summed from csum_start to the frame's end (TUCSE 0). It takes a slot of
 * its own, whose tx_off is NO_BUF, done when the frame after it is. */
static void tx_context(uint16_t csum_start, uint16_t csum_offset)
{
	volatile struct tx_context *c = (volatile struct tx_context *)&tx[tx_tail % RING];

	tx_off[tx_tail % RING] = NO_BUF;
	c->ipcss = c->ipcso = 0;
	c->ipcse = 0;
	c->tucss = (uint8_t)csum_start;
	c->tucso = (uint8_t)(csum_start + csum_offset);
	c->tucse = 0;
	c->cmd_len = (uint32_t)TX_DEXT << 24;
	c->status = 0;
	c->hdrlen = 0;
	c->mss = 0;
	ctx_start = csum_start;
	ctx_offset = csum_offset;
	tx_tail++;
}

/* One data descriptor of a frame: extended (a context applies) or legacy. */
static void tx_data(uint32_t offset, uint64_t phys, uint16_t len, bool ext, uint8_t cmd,
		    uint8_t popts)
{
	tx_off[tx_tail % RING] = offset;
	if (ext) {
		volatile struct tx_data *x = (volatile struct tx_data *)&tx[tx_tail % RING];
		x->addr = phys;
		x->cmd_len = len | TX_DTYP_DATA | (uint32_t)(cmd | TX_DEXT) << 24;
		x->status = 0;
		x->popts = popts;
		x->special = 0;
	} else {
		volatile struct tx_desc *t = &tx[tx_tail % RING];
		t->addr = phys;
		t->length = len;
		t->cso = t->css = 0;
		t->cmd = cmd;
		t->status = 0;
		t->special = 0;
	}
	tx_tail++;
}

/*
 * A TSO4 frame: check it on a copy of its headers, put the copy's checksum
 * fields in the state the NIC wants (IPv4's 0; TCP's the pseudo-header sum
 * without a length, which the NIC adds per segment: 8254x manual 3.5.1),
 * then a segmentation context from the checked values, the copy (in the
 * header slot of its descriptor's ring slot) as the first data
 * descriptor, and the rest of the frame where it lies (manual 3.5: the
 * headers may lie in descriptors of their own). false (nothing written to
 * the ring) when the frame is not one the NIC can cut. Nothing of the
 * client's is written, and the NIC sends the headers that were checked
 * whatever the client does after; it reads the payload where it lies.
 */
static bool tx_tso(struct nic_device *nic, const struct netq_desc *d, const uint64_t *phys,
		   unsigned n, uint8_t ide)
{
	uint8_t hdr[NETQ_GSO_HDR_MAX];
	unsigned first = d[0].len < sizeof(hdr) ? d[0].len : sizeof(hdr);
	uint32_t total = 0;
	struct netq_gso g;

	for (unsigned i = 0; i < n; i++)
		total += d[i].len;
	memcpy(hdr, nic->area + d[0].offset, first);
	if (!netq_gso_tso_check(hdr, first, total, &d[0], ETH_FRAME_MAX, &g))
		return false;
	inet_put16(hdr + g.ip + 10, 0);
	inet_put16(hdr + g.tcp + 16, netq_gso_pseudo_sum0(hdr, &g));

	volatile struct tx_context *c = (volatile struct tx_context *)&tx[tx_tail % RING];
	tx_off[tx_tail % RING] = NO_BUF;
	c->ipcss = (uint8_t)g.ip;
	c->ipcso = (uint8_t)(g.ip + 10);
	c->ipcse = (uint16_t)(g.tcp - 1);
	c->tucss = (uint8_t)g.tcp;
	c->tucso = (uint8_t)(g.tcp + 16);
	c->tucse = 0;
	c->cmd_len = (total - g.hdr_len) |
		     (uint32_t)(TX_DEXT | CTX_TUCMD_TSE | CTX_TUCMD_IP | CTX_TUCMD_TCP) << 24;
	c->status = 0;
	c->hdrlen = (uint8_t)g.hdr_len;
	c->mss = g.seg_size;
	tx_tail++;
	/* The NIC has one context: the checksum one is to be written again. */
	ctx_start = ctx_offset = 0;
	const uint8_t cmd = TX_IFCS | TX_TSE | ide, popts = TX_POPTS_IXSM | TX_POPTS_TXSM;
	uint32_t slot = tx_tail % RING;
	memcpy(tx_hdr + slot * TX_HDR_STRIDE, hdr, g.hdr_len);
	bool rest = d[0].len > g.hdr_len;
	/* The header slot stands for the first buffer (its offset goes back
	 * at tx-done); the rest of that buffer names none. */
	tx_data(d[0].offset, tx_hdr_phys + slot * TX_HDR_STRIDE, g.hdr_len, true,
		(uint8_t)(cmd | (n == 1 && !rest ? TX_EOP | TX_RS : 0)), popts);
	if (rest)
		tx_data(NO_BUF, phys[0] + g.hdr_len, (uint16_t)(d[0].len - g.hdr_len), true,
			(uint8_t)(cmd | (n == 1 ? TX_EOP | TX_RS : 0)), popts);
	for (unsigned i = 1; i < n; i++)
		tx_data(d[i].offset, phys[i], d[i].len, true,
			(uint8_t)(cmd | (i + 1 == n ? TX_EOP | TX_RS : 0)), popts);
	return true;
}

/* A frame of n buffers (one, or a chain), checked by driver.c against
 * what we offer; TSO4 and checksum offsets are checked here. */
static bool tx_frame_descs(struct nic_device *nic, const struct netq_desc *d,
			   const uint64_t *phys, unsigned n)
{
	uint8_t ide = tx_delay ? TX_IDE : 0;
	bool partial = d[0].flags & NETQ_F_CSUM_PARTIAL;

	if (d[0].flags & NETQ_F_TSO4)
		return tx_tso(nic, d, phys, n, ide);
	/* The context's offsets are bytes: a start past 255 is sent
	 * complete, which only a frame in one pool buffer can be here (the
	 * checksummed bytes are in it; driver.c checked the field is; the
	 * heap is read-only here). */
	if (partial && d[0].csum_start + d[0].csum_offset > 255) {
		if (n > 1 || d[0].offset < NETQ_POOL_OFFSET)
			return false;
		netq_csum_complete(nic->area + d[0].offset, d[0].len, d[0].csum_start,
				   d[0].csum_offset);
		partial = false;
	}
	if (partial && (d[0].csum_start != ctx_start || d[0].csum_offset != ctx_offset))
		tx_context(d[0].csum_start, d[0].csum_offset);
	for (unsigned i = 0; i < n; i++)
		tx_data(d[i].offset, phys[i], d[i].len, partial,
			(uint8_t)(TX_IFCS | ide | (i + 1 == n ? TX_EOP | TX_RS : 0)),
			partial ? TX_POPTS_TXSM : 0);
	return true;
}

/* The frame's descriptors, then each slot told which one completes it. */
static bool tx_frame(struct nic_device *nic, const struct netq_desc *d, const uint64_t *phys,
		     unsigned n)
{
	uint32_t first = tx_tail;

	if (!tx_frame_descs(nic, d, phys, n))
		return false;
	for (uint32_t i = first; i != tx_tail; i++)
		tx_last[i % RING] = tx_tail - 1;
	return true;
}

/* Move TDT to the ring's tail: the NIC sends everything up to it. */
static void tx_kick(void)
{
	if (tdt_set != tx_tail % RING) {
		io_barrier();           /* descriptors before the tail moves */
		wr(TDT, tdt_set = tx_tail % RING);
	}
	tx_unkicked = 0;
}

/*
 * A frame given, then TDT moved if TX_KICK_BYTES or more wait since it
 * last was. QEMU's model sends everything up to TDT inside that one
 * register write, with the virtual CPU stopped and nothing else of the
 * machine (timers, the tap's received frames) served meanwhile: a poll
 * that gave a megabyte of aggregates and wrote TDT once held the CPU for
 * milliseconds, the guest's clock lost ticks, and the acknowledgements
 * for the first frames waited behind the last. In pieces of about one
 * aggregate (Linux's e1000 writes TDT per packet, 64 KiB at most) the
 * machine is served between them.
 */
#define TX_KICK_BYTES (32 * 1024)

static bool tx_gave(bool ok, const struct netq_desc *d, unsigned n)
{
	if (!ok)
		return false;
	for (unsigned i = 0; i < n; i++)
		tx_unkicked += d[i].len;
	if (tx_unkicked >= TX_KICK_BYTES)
		tx_kick();
	return true;
}

static bool e1000_tx_give(struct nic_device *nic, const struct netq_desc *d, uint64_t phys)
{
	return tx_gave(tx_frame(nic, d, &phys, 1), d, 1);
}

static bool e1000_tx_give_chain(struct nic_device *nic, const struct netq_desc *d,
				const uint64_t *phys, unsigned n)
{
	return tx_gave(tx_frame(nic, d, phys, n), d, n);
}

static void e1000_flush(struct nic_device *nic)
{
	io_barrier();           /* descriptors before the tail moves */
	if (rdt_set != rx_tail % RING)
		wr(RDT, rdt_set = rx_tail % RING);
	tx_kick();
}

static bool e1000_rx_take(struct nic_device *nic, struct nic_rx *r)
{
	volatile struct rx_desc *d = &rx[rx_head % RING];

	if (rx_head == rx_tail || !(d->status & RX_DD))
		return false;
	io_barrier();           /* the status before the rest */
	uint8_t status = d->status, errors = d->errors;
	*r = (struct nic_rx){ .offset = rx_off[rx_head % RING], .len = d->length };
	/* Checksum errors are not the frame's: it goes up unverified (the
	 * netstack checks it, finds it wrong, and counts it). */
	uint8_t frame_errors = errors & (uint8_t)~(RX_ERR_TCPE | RX_ERR_IPE);
	/* A frame longer than one buffer spans descriptors (only without
	 * EOP): we do not reassemble, we drop. */
	r->st = frame_errors ? NIC_RX_ERROR : !(status & RX_EOP) ? NIC_RX_FRAGMENT : NIC_RX_OK;
	if ((nic->offloads & NETQ_OFFLOAD_RX_CSUM) && !(status & RX_IXSM)) {
		if ((status & RX_IPCS) && !(errors & RX_ERR_IPE))
			r->flags |= NETQ_F_IP_VALID;
		if ((status & RX_TCPCS) && !(errors & RX_ERR_TCPE))
			r->flags |= NETQ_F_CSUM_VALID;
	}
	rx_head++;
	return true;
}

static bool e1000_tx_take(struct nic_device *nic, uint32_t *offset)
{
	for (;;) {
		if (tx_head == tx_tail || !(tx[tx_last[tx_head % RING] % RING].status & TX_DD))
			return false;
		*offset = tx_off[tx_head % RING];
		tx_head++;
		if (*offset != NO_BUF)
			return true;
	}
}

static unsigned e1000_held(struct nic_device *nic, uint32_t *offsets, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = rx_head; i != rx_tail && n < max; i++)
		offsets[n++] = rx_off[i % RING];
	for (uint32_t i = tx_head; i != tx_tail && n < max; i++)
		if (tx_off[i % RING] != NO_BUF)
			offsets[n++] = tx_off[i % RING];
	return n;
}

/*
 * Before sleeping with frames not yet sent: unmask TXDW, so that their
 * completion wakes us; true when the oldest is done already (poll again).
 * TXDW is masked again by the interrupt it brings. Under QEMU nothing is
 * out here (its model sends within the TDT write, and driver.c takes the
 * buffers back right after), so a stream sent costs no transmit
 * interrupts at all; with TXDW always on, ITR let ~8000 a second through,
 * each a wake-up, an ICR read and a poll for buffers already back.
 */
static bool e1000_tx_pending(struct nic_device *nic)
{
	if (!txdw_on) {
		wr(IMS, ICR_TXDW);
		txdw_on = true;
	}
	return tx_head != tx_tail && (tx[tx_last[tx_head % RING] % RING].status & TX_DD);
}

static void e1000_interrupt(struct nic_device *nic)
{
	uint32_t cause = rd(ICR);       /* reading acknowledges */

	if ((cause & ICR_TXDW) && txdw_on) {
		wr(IMC, ICR_TXDW);
		txdw_on = false;
	}

	if (cause & ICR_LSC) {
		nic->link = rd(STATUS) & STATUS_LU;
		printf_limited("%s: link %s\n", nic->ifname, nic->link ? "up" : "down");
	}
}

static void e1000_counters(struct nic_device *nic)
{
	nic->stats.rx_no_buffer += rd(MPC) + rd(RNBC);
	nic->stats.rx_oversize += rd(ROC);
	nic->stats.rx_errors += rd(CRCERRS) + rd(RUC) + rd(RXERRC);
}

static const struct nic_ops e1000_ops = {
	.kind = "e1000",
	.probe = e1000_probe,
	.start = e1000_start,
	.stop = e1000_stop,
	.rx_room = e1000_rx_room,
	.rx_give = e1000_rx_give,
	.tx_room = e1000_tx_room,
	.tx_give = e1000_tx_give,
	.tx_give_chain = e1000_tx_give_chain,
	.flush = e1000_flush,
	.rx_take = e1000_rx_take,
	.tx_take = e1000_tx_take,
	.tx_pending = e1000_tx_pending,
	.interrupt = e1000_interrupt,
	.counters = e1000_counters,
	.held = e1000_held,
};

int main(uint64_t arg)
{
	return driver_main(&e1000_ops, arg);
}
