/*
 * The shape every NIC driver has. driver.c is the program: it finds its
 * device in program_info, serves the driver protocol (include/proto/netq.h)
 * and moves buffers between the client's rings and the hardware. A NIC
 * model (e1000.c, virtio_net.c) supplies the hardware half as struct
 * nic_ops; it never sees the rings, only buffers as (area offset, physical
 * address). fault.c holds the injected faults, off the data path.
 */
#ifndef MICA_DRIVERS_NET_DRIVER_H
#define MICA_DRIVERS_NET_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/mica.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"
#include "proto/pci.h"

/* What the hardware says about a received buffer. */
enum nic_rx_status {
	NIC_RX_OK,
	NIC_RX_ERROR,
	NIC_RX_FRAGMENT,        /* part of a frame longer than a buffer: dropped */
	NIC_RX_CONTINUED,       /* the rest of such a frame, counted with its first */
};

/* A received buffer as the hardware half returns it: where the frame
 * (or its part) starts (offset, as given, plus any header the NIC put
 * first), its length, the status, and for a frame's first buffer the
 * metadata for rx-ready (NETQ_F_* and, with CSUM_PARTIAL, the offsets;
 * with TSO4 the segment size; proto/netq.h). `more`: the next buffer
 * continues this frame (only from a NIC offering NETQ_OFFLOAD_RX_TSO4). */
struct nic_rx {
	uint32_t offset, len;
	enum nic_rx_status st;
	uint16_t flags, csum_start, csum_offset, seg_size;
	bool more;
};

struct nic_device;

/* The hardware half. Every operation runs on the driver's one thread. */
struct nic_ops {
	const char *kind;
	/* Once at start: check the device, reset it, read the MAC address.
	 * Returns NULL or what is wrong. */
	const char *(*probe)(struct nic_device *);
	/* Reset the device and bring it up with empty hardware rings, receive
	 * and transmit enabled, interrupts on. Called on every attach. */
	const char *(*start)(struct nic_device *);
	/* Reset the device: no DMA after this returns. */
	void (*stop)(struct nic_device *);
	/* Room in the hardware rings, and giving buffers to them. */
	unsigned (*rx_room)(struct nic_device *);
	void (*rx_give)(struct nic_device *, uint32_t offset, uint64_t phys);
	/* How many buffers one frame could take now (a frame of one buffer
	 * goes when it is at least 1). */
	unsigned (*tx_room)(struct nic_device *);
	/* A frame to send (checked: its metadata is within nic->offloads),
	 * at phys. false: the NIC model refuses it after checks of its own
	 * (a TSO4 frame whose headers it cannot cut by); nothing was given,
	 * the caller counts it and returns the buffer unsent. */
	bool (*tx_give)(struct nic_device *, const struct netq_desc *d, uint64_t phys);
	/* A frame of n buffers (2..NETQ_CHAIN_MAX, n <= tx_room; checked as
	 * a chain), d[i] at phys[i]: only a NIC offering NETQ_OFFLOAD_TX_SG
	 * or TX_TSO4 has it. Each buffer comes back from tx_take on its own.
	 * false as for tx_give: nothing given. */
	bool (*tx_give_chain)(struct nic_device *, const struct netq_desc *d, const uint64_t *phys,
			      unsigned n);
	/* Tell the device about buffers given since the last flush (a
	 * model may have told it about some already, in its give). */
	void (*flush)(struct nic_device *);
	/* Buffers the hardware is done with, oldest first; false when none. */
	bool (*rx_take)(struct nic_device *, struct nic_rx *rx);
	bool (*tx_take)(struct nic_device *, uint32_t *offset);
	/* Before sleeping with frames in flight (for room in the transmit
	 * ring, or just with some not yet sent): ask for an interrupt when
	 * what was given is sent, then say whether anything was sent
	 * meanwhile that tx_take has not returned (so that a completion just
	 * before the request is not waited for in vain). NULL: the NIC's
	 * transmit interrupt is always on and cannot be missed (its cause
	 * stays set until read). */
	bool (*tx_pending)(struct nic_device *);
	/* Interrupt: read and acknowledge the cause; update nic->link. */
	void (*interrupt)(struct nic_device *);
	/* MSI-X vectors the model uses (0: INTx only), and the interrupt of
	 * vector `vector` (0..msix_vectors-1) while nic->msix is on: nothing
	 * to read or acknowledge, the driver polls after it anyway. The
	 * model's start tells the device which vector is which (and calls
	 * nic_msix_off if the device refuses). */
	unsigned msix_vectors;
	void (*msix_interrupt)(struct nic_device *, unsigned vector);
	/* Fold hardware counters into nic->stats (before NETQ_STATS). */
	void (*counters)(struct nic_device *);
	/* Injected faults only (fault.c), never on the data path: the offsets
	 * (as given) of the buffers given to the hardware and not taken back
	 * yet, at most max of them (NIC_HELD_MAX is enough for any NIC here)
	 * into offsets. Returns how many. */
	unsigned (*held)(struct nic_device *, uint32_t *offsets, unsigned max);
};

/* Buffers a hardware half holds at most: its two rings, each no larger
 * than a queue ring. */
#define NIC_HELD_MAX (2 * NETQ_RING_SIZE)

/* The one device a driver program drives, and its client. The hardware
 * half reads pci, ifname, args and area; writes mac and offloads (probe),
 * link and stats. */
struct nic_device {
	const struct nic_ops *ops;
	const struct pci_device_info *pci;
	char ifname[NS_NAME_MAX + 1];
	const char *args;               /* the manifest's arguments (nic_arg_on) */
	uint32_t offloads;              /* NETQ_OFFLOAD_* the NIC offers and the
					   manifest allows */
	uint8_t mac[6];
	bool link;
	bool attached;
	uint8_t *area;                  /* the client's rings, then its pool, mapped here */
	uint64_t pool_phys, pool_size;  /* the pool (maybe shared with other drivers) */
	uint64_t heap_phys, heap_size;  /* the client's heap (read-only here), or 0 */
	struct netq_area geom;          /* our copy of its header, checked */
	struct netq_stats stats;
	unsigned tx_in_flight;          /* frames given to the NIC, not yet taken back */
	bool rx_merge;                  /* TCP segments merged on receive (rx_merge.c; the
					   model offers NETQ_OFFLOAD_RX_TSO4 for them) */
	unsigned rx_frame_descs;        /* the most rx-ready descriptors one received
					   frame takes (probe; 0: NETQ_CHAIN_MAX) */
	cap_slot_t client_notif;        /* the client's notification, or CAP_SLOT_NONE */
	unsigned msix;                  /* MSI-X vectors in use; 0: INTx */
	uint32_t msix_data;             /* the first one's message data (its vector) */
};

/* The hardware half's DMA memory, from init (zeroed, contiguous). */
void *nic_dma(struct nic_device *nic, size_t size, uint64_t *phys);
/* A memory BAR's registers (mapped at their physical address). */
uintptr_t nic_bar(struct nic_device *nic, int bar);
/* MSI-X (msix.c): n vectors from init (PCI_MSIX), their IRQ capabilities
 * put in new slots[0..n-1], their messages written into the device's
 * table and unmasked. NULL, or why not (nothing is left held then). */
const char *nic_msix_setup(struct nic_device *nic, unsigned n, cap_slot_t *slots);
/* MSI-X off again and the n vectors' capabilities deleted. */
void nic_msix_release(unsigned n, cap_slot_t *slots);
/* The device will not use MSI-X after all (a virtio device that reads a
 * vector back as NO_VECTOR): released, and INTx bound instead (driver.c). */
void nic_msix_off(struct nic_device *nic, const char *why);
/* A switch from the manifest's arguments: `key=off` (or `no`, `0`) is
 * false, `key=on` (`yes`, `1`) true, absent or anything else: dflt. */
bool nic_arg_on(struct nic_device *nic, const char *key, bool dflt);
/* A number from the manifest's arguments (decimal), or dflt. */
unsigned long nic_arg_num(struct nic_device *nic, const char *key, unsigned long dflt);

/* A whole received frame of `count` descriptors to rx-ready, counted as
 * `frames` frames off the wire of `bytes` bytes in all; if rx-ready has
 * no room, its buffers go back to the NIC and it is counted in
 * rx_no_buffer. true: pushed. */
bool nic_rx_push(struct nic_device *nic, struct netq_ring *rx_ready, const struct netq_desc *d,
		 unsigned count, unsigned frames, uint32_t bytes);

/* Receive merging (rx_merge.c, with nic->rx_merge): a whole, good frame
 * received (checked as driver.c checks every one), pushed to rx-ready or
 * held to be merged with the next; true when anything was pushed.
 * rx_merge_flush pushes what is held; driver.c calls it after taking
 * every frame the NIC has, so nothing waits past a poll. */
bool rx_merge_deliver(struct nic_device *nic, struct netq_ring *rx_ready,
		      const struct netq_desc *d, unsigned count, uint32_t len);
bool rx_merge_flush(struct nic_device *nic, struct netq_ring *rx_ready);
/* The descriptors receive merging holds for rx-ready (pushed at the latest
 * by rx_merge_flush). */
unsigned rx_merge_held(void);

/* The driver program, given its hardware half: never returns but on a
 * failure at start (then the program's exit status). */
int driver_main(const struct nic_ops *ops, uint64_t arg);

#endif
