/*
 * mgmtro: the netstack's read-only management capability refuses every
 * change (tests/system/test_netmgmt_ro.py). Through NETMGMT_RO_NAME it
 * reads (NETMGMT_IF_INFO, NETMGMT_ARP_GET, NETMGMT_PROTO_STATS) and asks
 * for each change (NETMGMT_ROUTE_ADD, _ROUTE_DEL, _FW_RELOAD,
 * _CT_FLUSH); then asks the same changes through NETMGMT_NAME, the full
 * capability, whose answers are the requests' own (so the refusals are
 * the badge's, not the arguments'); that one is a private name, and
 * without the manifest's `lookup netmgmt` mgmtro says `mgmtro: netmgmt
 * refused: ERROR` and ends. One line each:
 * `mgmtro: ro|full WHAT: error N` (N: the enum mica_error, 0 for none),
 * then `mgmtro: routes N` (the table's length at the end) and
 * `mgmtro: done`.
 */
#include "lib/inet.h"
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netmgmt_client.h"

static void show(const char *cap, const char *what, long err)
{
	printf("mgmtro: %s %s: error %ld\n", cap, what, -err);
}

/* Each change through mgmt, named cap in the lines. */
static void changes(cap_slot_t mgmt, const char *cap)
{
	uint32_t dest = 0, gw = 0;
	struct net_fw_reload reload;

	inet_parse_ipv4("10.7.0.0", 8, &dest);
	inet_parse_ipv4("10.9.0.1", 8, &gw);

	show(cap, "route add", netmgmt_route_add(mgmt, dest, 16, gw, 5));
	show(cap, "route del", netmgmt_route_del(mgmt, dest, 16, 5));
	show(cap, "fw reload", netmgmt_fw_reload(mgmt, NULL, &reload));
	show(cap, "ct flush", netmgmt_ct_flush(mgmt));
}

int main(uint64_t arg)
{
	cap_slot_t ro = slot_alloc(), full = slot_alloc();
	struct net_if_info info;
	struct net_arp arp;
	struct net_proto_stats proto;
	struct net_route route;
	long err;

	if ((err = ns_lookup(NETMGMT_RO_NAME, ro)) < 0) {
		printf("mgmtro: no netstack: %s\n", mica_strerror(err));
		return 1;
	}
	/* The full one is private: only with `lookup netmgmt`. */
	if ((err = ns_lookup(NETMGMT_NAME, full)) < 0) {
		printf("mgmtro: netmgmt refused: %s\n", mica_strerror(err));
		return 1;
	}
	show("ro", "if info", netmgmt_if_info(ro, 0, &info));
	show("ro", "arp", netmgmt_arp(ro, 0, &arp));
	show("ro", "proto stats", netmgmt_proto_stats(ro, &proto));
	changes(ro, "ro");
	changes(full, "full");
	unsigned n = 0;
	while (netmgmt_route(ro, n, &route) == 0)
		n++;
	printf("mgmtro: routes %u\n", n);
	printf("mgmtro: done\n");
	return 0;
}
