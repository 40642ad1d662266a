/*
 * The shape every NIC driver has. nic.c is the program: it finds its
 * device in program_info, serves the driver protocol (include/proto/netq.h)
 * and moves buffers between the client's rings and the hardware. A driver
 * (e1000.c, virtio_net.c) supplies the hardware half as struct nic_ops;
 * it never sees the rings, only buffers as (area offset, physical address).
 */
#ifndef MICA_DRIVERS_NET_NIC_H
#define MICA_DRIVERS_NET_NIC_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/mica.h"
#include "proto/nameservice.h"
#include "proto/program.h"
#include "proto/netq.h"
#include "proto/pci.h"

/* What the hardware says about a received buffer. */
enum nic_rx_status { NIC_RX_OK, NIC_RX_ERROR, NIC_RX_FRAGMENT };

struct nic;

struct nic_ops {
	const char *kind;
	/* Once at start: check the device, reset it, read the MAC address.
	 * Returns NULL or what is wrong. */
	const char *(*probe)(struct nic *);
	/* Reset the device and bring it up with empty hardware rings, receive
	 * and transmit enabled, interrupts on. Called on every attach. */
	const char *(*start)(struct nic *);
	/* Reset the device: no DMA after this returns. */
	void (*stop)(struct nic *);
	/* Room in the hardware rings, and giving buffers to them. */
	unsigned (*rx_room)(struct nic *);
	void (*rx_give)(struct nic *, uint32_t offset, uint64_t phys);
	unsigned (*tx_room)(struct nic *);
	void (*tx_give)(struct nic *, uint32_t offset, uint64_t phys, uint32_t len);
	/* Tell the device about buffers given since the last flush. */
	void (*flush)(struct nic *);
	/* Buffers the hardware is done with, oldest first; false when none. */
	bool (*rx_take)(struct nic *, uint32_t *offset, uint32_t *len, enum nic_rx_status *st);
	bool (*tx_take)(struct nic *, uint32_t *offset);
	/* Interrupt: read and acknowledge the cause; update nic->link. */
	void (*interrupt)(struct nic *);
	/* Fold hardware counters into nic->stats (before NETQ_STATS). */
	void (*counters)(struct nic *);
};

struct nic {
	const struct nic_ops *ops;
	const struct pci_device_info *pci;
	char ifname[NS_NAME_MAX + 1];
	uint8_t mac[6];
	bool link;
	bool attached;
	uint8_t *area;                  /* the client's shared area, mapped here */
	uint64_t area_phys, area_size;
	struct netq_area geom;          /* our copy of its header, checked */
	struct netq_stats stats;
};

/* The hardware half's DMA memory, from init (zeroed, contiguous). */
void *nic_dma(struct nic *nic, size_t size, uint64_t *phys);
/* A memory BAR's registers (mapped at their physical address). */
uintptr_t nic_bar(struct nic *nic, int bar);

/* The driver program: never returns. */
int nic_main(const struct nic_ops *ops, uint64_t arg);

#endif
