/*
 * The client side of the driver protocol (proto/netq.h), shared by every
 * client of a NIC driver (the netstack, the reflector): lay out an area,
 * attach it, read the driver's counters.
 */
#ifndef MICA_LIB_NETQ_CLIENT_H
#define MICA_LIB_NETQ_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/netq.h"
#include "uapi/cap.h"

/* Write the header, for a pool of 2^pool_log2 bytes, into one driver's
 * rings (NETQ_RINGS_SIZE bytes) and reset the rings; returns the number of
 * pool buffers. Every buffer is the client's. */
uint32_t netq_area_init(void *rings, unsigned pool_log2);

/* What a client maps into a driver: that driver's own rings (NETQ_RINGS_SIZE
 * bytes, aligned to it) and the pool (2^pool_log2 bytes at physical
 * pool_phys, aligned to its size), which may be shared by several drivers;
 * and, if heap is not NULL, the client's heap (2^heap_log2 physically
 * contiguous bytes at heap_phys, aligned to its size; the area's heap_size
 * says the same), mapped read-only. */
struct netq_memory {
	void *rings;
	void *pool;
	uint64_t pool_phys;
	unsigned pool_log2;
	void *heap;             /* NULL, or the heap mapped read-only (NETQ_HEAP_OFFSET) */
	uint64_t heap_phys;
	unsigned heap_log2;
};

struct netq_link {
	uint8_t mac[6];
	bool up;
	uint64_t pci_slot;      /* NETQ_PCI_SLOT(bus, dev, fn), or 0 */
	uint32_t offloads;      /* NETQ_OFFLOAD_* the driver offers */
};

/*
 * NETQ_ATTACH: map the rings and the pool (the rings laid out by
 * netq_area_init) into the driver, hand it a copy of notify badged with
 * badge (the driver signals it when rx-ready or tx-done got entries), and
 * receive the driver's notification into driver_notif. Returns 0 and the
 * link in *link, or a negative ERR_*.
 */
long netq_attach(cap_slot_t driver, const struct netq_memory *mem, cap_slot_t notify,
		 uint64_t badge, cap_slot_t driver_notif, struct netq_link *link);

/* NETQ_STATS into *s; 0 or a negative ERR_*. */
long netq_get_stats(cap_slot_t driver, struct netq_stats *s);

#endif
