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
/* The index-th of the netstack's TCP, then UDP pcbs; -ERR_RANGE past
 * the last. */
long netmgmt_sock(cap_slot_t mgmt, unsigned index, struct net_sock *s);
/* Slot index of the ARP table (addr 0: empty); -ERR_RANGE past it. */
long netmgmt_arp(cap_slot_t mgmt, unsigned index, struct net_arp *a);

/* The firewall's rule or policy row index (proto/netmgmt.h,
 * NETMGMT_FW_RULE); -ERR_RANGE past the last. */
long netmgmt_fw_rule(cap_slot_t mgmt, unsigned index, struct net_fw_rule *r);
/* Reload the rules from file (one of the netstack's files; NULL or "":
 * the one in force): the outcome in *r. -ERR_INVALID_ARG: a name longer
 * than 31 bytes. */
long netmgmt_fw_reload(cap_slot_t mgmt, const char *file, struct net_fw_reload *r);
/* The connection table's, NAT's and the filter's counters. */
long netmgmt_ct_stats(cap_slot_t mgmt, struct net_ct_stats *s);
/* The connection at or after cursor (0 to begin; e->next for the one
 * after); -ERR_RANGE past the last. */
long netmgmt_ct_entry(cap_slot_t mgmt, uint64_t cursor, struct net_ct_entry *e);
/* Remove every connection. */
long netmgmt_ct_flush(cap_slot_t mgmt);

#endif
