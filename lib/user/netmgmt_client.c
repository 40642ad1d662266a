/* Client of the netstack's management protocol: include/lib/netmgmt_client.h. */
#include "lib/netmgmt_client.h"
#include "lib/mica.h"

/* One request: label and its words; the reply's first nout words in out. */
static long netmgmt_call(cap_slot_t mgmt, uint64_t label, const uint64_t *w, unsigned n,
			 uint64_t *out, unsigned nout)
{
	struct msg m = msg_from_words(label, w, n);
	long err = ipc_call(mgmt, &m);

	if (err)
		return err;
	if (ipc_tag_label(m.tag))
		return -(long)ipc_tag_label(m.tag);
	msg_to_words(&m, out, nout);
	return 0;
}

/* A request with one index word, whose reply is nout words into out. */
static long indexed(cap_slot_t mgmt, uint64_t label, unsigned index, void *out, unsigned nout)
{
	uint64_t w[1] = { index }, words[IPC_MAX_WORDS];
	long err = netmgmt_call(mgmt, label, w, 1, words, nout);

	if (!err)
		memcpy(out, words, nout * sizeof(uint64_t));
	return err;
}

long netmgmt_if_info(cap_slot_t mgmt, unsigned index, struct net_if_info *info)
{
	return indexed(mgmt, NETMGMT_IF_INFO, index, info, NET_IF_INFO_WORDS);
}

long netmgmt_proto_stats(cap_slot_t mgmt, struct net_proto_stats *st)
{
	union {
		struct net_proto_stats st;
		uint64_t w[NET_PROTO_STATS_WORDS];
	} out;
	long err = netmgmt_call(mgmt, NETMGMT_PROTO_STATS, NULL, 0, out.w, NET_PROTO_STATS_WORDS);

	if (!err)
		*st = out.st;
	return err;
}

long netmgmt_route(cap_slot_t mgmt, unsigned index, struct net_route *r)
{
	return indexed(mgmt, NETMGMT_ROUTE_GET, index, r, NET_ROUTE_WORDS);
}

long netmgmt_arp(cap_slot_t mgmt, unsigned index, struct net_arp *a)
{
	return indexed(mgmt, NETMGMT_ARP_GET, index, a, NET_ARP_WORDS);
}

long netmgmt_route_add(cap_slot_t mgmt, uint32_t dest, unsigned prefix_len, uint32_t gateway,
		       unsigned metric)
{
	uint64_t w[4] = { dest, prefix_len, gateway, metric };

	return netmgmt_call(mgmt, NETMGMT_ROUTE_ADD, w, 4, NULL, 0);
}

long netmgmt_route_del(cap_slot_t mgmt, uint32_t dest, unsigned prefix_len, int metric)
{
	uint64_t w[3] = { dest, prefix_len, metric < 0 ? ~0ULL : (uint64_t)metric };

	return netmgmt_call(mgmt, NETMGMT_ROUTE_DEL, w, 3, NULL, 0);
}
