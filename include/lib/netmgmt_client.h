/*
 * Client of the netstack's management protocol (proto/netmgmt.h,
 * docs/netmgmt.md). mgmt is the capability registered as NETMGMT_NAME
 * (ns_lookup). Every call returns 0, or a negative ERR_*: the IPC's own
 * error (the netstack is gone: look the name up again) or the netstack's
 * answer.
 */
#ifndef MICA_LIB_NETMGMT_CLIENT_H
#define MICA_LIB_NETMGMT_CLIENT_H

#include "proto/netmgmt.h"
#include "uapi/cap.h"

/* Interface index (0, 1, ...): name, addresses, counters. -ERR_RANGE
 * past the last interface. */
long netmgmt_if_info(cap_slot_t mgmt, unsigned index, struct net_if_info *info);
/* lwIP's protocol counters and the socket service's own. */
long netmgmt_proto_stats(cap_slot_t mgmt, struct net_proto_stats *st);
/* The index-th route (longest prefix first); -ERR_RANGE past the last. */
long netmgmt_route(cap_slot_t mgmt, unsigned index, struct net_route *r);
/* A static route to dest/prefix_len by gateway (network byte order) with
 * metric; remove one (metric -1: the lowest). */
long netmgmt_route_add(cap_slot_t mgmt, uint32_t dest, unsigned prefix_len, uint32_t gateway,
		       unsigned metric);
long netmgmt_route_del(cap_slot_t mgmt, uint32_t dest, unsigned prefix_len, int metric);
/* Slot index of the ARP table (addr 0: empty); -ERR_RANGE past it. */
long netmgmt_arp(cap_slot_t mgmt, unsigned index, struct net_arp *a);

#endif
