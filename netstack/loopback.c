/*
 * The loopback interface, as Linux's lo: lwIP's loop_netif
 * (LWIP_HAVE_LOOPIF, 127.0.0.1/8; lwipopts.h), and datagrams to one of
 * the appliance's own addresses (LWIP_NETIF_LOOPBACK). lwIP's
 * netif_loop_output copies what is sent into a queue of the interface
 * (at most LWIP_LOOPBACK_MAX_PBUFS pbufs each; past it the datagram is
 * dropped, and TCP sends it again), and loopback_poll, in the main
 * loop, gives the queued datagrams to lwIP's IPv4 input. They never were
 * on a wire: the guard's checks of what arrives from one (source
 * addresses, reverse path, options, the firewall's input and
 * forwarding) are not for them (guard_ip4_input lets them by while
 * loopback_delivering is true), as Linux does not drop lo's 127/8
 * sources as martians. What it delivers is counted as lo's (Linux
 * counts datagrams to its own addresses on lo too): lo_packets and
 * lo_bytes (with the 14-byte Ethernet header Linux's lo counts) on the management protocol, /proc/net/dev's lo line.
 */
#include "netstack.h"

bool loopback_delivering;
static uint64_t lo_packets, lo_bytes;

/* Bytes as Linux's lo counts them: with the Ethernet header it puts on. */
#define LO_HEADER 14

void loopback_counted(const struct pbuf *p)
{
	lo_packets++;
	lo_bytes += p->tot_len + LO_HEADER;
}

void loopback_counters(uint64_t *packets, uint64_t *bytes)
{
	*packets = lo_packets;
	*bytes = lo_bytes;
}

bool loopback_poll(void)
{
	struct netif *n;
	bool queued = false;

	NETIF_FOREACH(n)
		queued |= n->loop_first != NULL;
	if (!queued)
		return false;
	loopback_delivering = true;
	netif_poll_all();
	loopback_delivering = false;
	return true;    /* what it delivered may have answers queued */
}

bool loopback_ours(uint32_t addr)
{
	struct netif *n;

	if ((lwip_ntohl(addr) >> 24) == 127)
		return true;
	NETIF_FOREACH(n)
		if (ip4_addr_get_u32(netif_ip4_addr(n)) == addr && addr)
			return true;
	return false;
}

bool loopback_netif(const struct netif *n)
{
	return n->state == NULL;
}
