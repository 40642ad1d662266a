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

long netmgmt_sock(cap_slot_t mgmt, unsigned index, struct net_sock *s)
{
	return indexed(mgmt, NETMGMT_SOCK_GET, index, s, NET_SOCK_WORDS);
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

long netmgmt_fw_rule(cap_slot_t mgmt, unsigned index, struct net_fw_rule *r)
{
	return indexed(mgmt, NETMGMT_FW_RULE, index, r, NET_FW_RULE_WORDS);
}

long netmgmt_fw_reload(cap_slot_t mgmt, const char *file, struct net_fw_reload *r)
{
	uint64_t w[4] = { 0 }, words[IPC_MAX_WORDS];
	size_t n = file ? strlen(file) : 0;

	if (n >= sizeof(w))
		return -ERR_INVALID_ARG;
	memcpy(w, file, n);
	long err = netmgmt_call(mgmt, NETMGMT_FW_RELOAD, w, 4, words, NET_FW_RELOAD_WORDS);
	if (!err)
		memcpy(r, words, sizeof(*r));
	return err;
}

long netmgmt_ct_stats(cap_slot_t mgmt, struct net_ct_stats *s)
{
	uint64_t words[IPC_MAX_WORDS];
	long err = netmgmt_call(mgmt, NETMGMT_CT_STATS, NULL, 0, words, NET_CT_STATS_WORDS);

	if (!err)
		memcpy(s, words, sizeof(*s));
	return err;
}

long netmgmt_ct_entry(cap_slot_t mgmt, uint64_t cursor, struct net_ct_entry *e)
{
	uint64_t w[1] = { cursor }, words[IPC_MAX_WORDS];
	long err = netmgmt_call(mgmt, NETMGMT_CT_GET, w, 1, words, NET_CT_ENTRY_WORDS);

	if (!err)
		memcpy(e, words, sizeof(*e));
	return err;
}

long netmgmt_ct_flush(cap_slot_t mgmt)
{
	return netmgmt_call(mgmt, NETMGMT_CT_FLUSH, NULL, 0, NULL, 0);
}
