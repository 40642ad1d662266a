/*
 * The decision points where the firewall (issue 14, docs/firewall.md)
 * will judge datagrams, each with the datagram (p->payload at its IPv4
 * header; the Ethernet header at DECIDE_OUTPUT) and the interfaces it came
 * in by and goes out of (NULL where there is none yet or none at all):
 *
 *   DECIDE_PREROUTING   every datagram that arrived, before routing (guard.c)
 *   DECIDE_INPUT        one for the appliance itself, before lwIP takes it
 *   DECIDE_FORWARD      one to forward, once the route chose its way out
 *   DECIDE_POSTROUTING  one forwarded, about to leave (TTL already less)
 *   DECIDE_OUTPUT       a frame the appliance itself sends (iface.c)
 *
 * Until the firewall comes, everything passes.
 */
#include "netstack.h"

bool netstack_decide(enum decide_point point, struct pbuf *p, struct netif *in,
		     struct netif *out)
{
	(void)point;
	(void)p;
	(void)in;
	(void)out;
	return true;
}
