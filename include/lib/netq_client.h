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

/* Write the area header for an area of 2^log2 bytes and reset the rings;
 * returns the number of pool buffers. Every buffer is the client's. */
uint32_t netq_area_init(void *area, unsigned log2);

struct netq_link {
	uint8_t mac[6];
	bool up;
};

/*
 * NETQ_ATTACH: map the area (at virtual address area, physical phys,
 * 2^log2 bytes, laid out by netq_area_init) into the driver, hand it a copy
 * of notify badged with badge (the driver signals it when rx-ready or
 * tx-done got entries), and receive the driver's notification into
 * driver_notif. Returns 0 and the link in *link, or a negative ERR_*.
 */
long netq_attach(cap_slot_t driver, void *area, uint64_t phys, unsigned log2, cap_slot_t notify,
		 uint64_t badge, cap_slot_t driver_notif, struct netq_link *link);

/* NETQ_STATS into *s; 0 or a negative ERR_*. */
long netq_get_stats(cap_slot_t driver, struct netq_stats *s);

#endif
