/*
 * Which of the appliance's own services answer on which interface: the
 * configuration's `service` lines (docs/appliance.md, "service"). With a
 * configuration file, a datagram for the appliance that asks for a
 * service (an ICMP echo request: ping; TCP to the iperf port: iperf; TCP
 * or UDP to the echo port: echo) is taken only from an interface the
 * service is on; from another it is dropped without an answer
 * (svc_refused), and so is one for a service the file does not name, or
 * for a default port (5001, 7) the file moved its service from. Other
 * datagrams for the appliance (ARP, DHCP, ICMP errors, other ports) are
 * not its business. Without a file (the netstack's arguments) every
 * service answers everywhere, as before.
 *
 * The interface is the one the datagram arrived by, whichever of the
 * appliance's addresses it is for (as Linux's `iif`).
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"

#define IPERF_PORT_DEFAULT 5001
#define ECHO_PORT_DEFAULT  7

static bool applied;            /* a file said which; else all answer everywhere */
static struct appliance_service services[APPLIANCE_MAX_SERVICES];
static unsigned nservices;

void listen_configure(const struct appliance_config *c)
{
	applied = true;
	nservices = c->nservices;
	memcpy(services, c->services, nservices * sizeof(services[0]));
	for (unsigned i = 0; i < nservices; i++)
		if (!services[i].port && services[i].kind != SERVICE_PING)
			services[i].port = services[i].kind == SERVICE_IPERF ? IPERF_PORT_DEFAULT :
									      ECHO_PORT_DEFAULT;
}

static const struct appliance_service *find(enum appliance_service_kind kind)
{
	for (unsigned i = 0; i < nservices; i++)
		if (services[i].kind == kind)
			return &services[i];
	return NULL;
}

uint16_t listen_iperf_port(void)
{
	if (!applied)
		return IPERF_PORT_DEFAULT;
	const struct appliance_service *s = find(SERVICE_IPERF);
	return s ? s->port : 0;
}

/* The service a datagram for the appliance asks for (p at its IPv4
 * header, checked by the caller): a service's kind, CLOSED for a default
 * port the file gives no service (iperf's 5001, echo's 7: their servers
 * listen there whatever the file says), or -1 for none. */
#define CLOSED (-2)
static int service_of(const struct pbuf *p, unsigned hlen)
{
	const uint8_t *iph = p->payload;
	uint8_t proto = iph[9];

	if (inet_get16(iph + 6) & IP_OFFMASK)
		return -1;      /* a later fragment: its first one was judged */
	if (proto == IP_PROTO_ICMP)
		return hlen + 1 <= p->len && iph[hlen] == ICMP_ECHO ? SERVICE_PING : -1;
	if ((proto != IP_PROTO_TCP && proto != IP_PROTO_UDP) || hlen + 4 > p->len)
		return -1;
	uint16_t port = inet_get16(iph + hlen + 2);
	for (unsigned i = 0; i < nservices; i++)
		if (services[i].port == port && (services[i].kind == SERVICE_ECHO ||
						 (services[i].kind == SERVICE_IPERF && proto == IP_PROTO_TCP)))
			return (int)services[i].kind;
	if (port == ECHO_PORT_DEFAULT || (port == IPERF_PORT_DEFAULT && proto == IP_PROTO_TCP))
		return CLOSED;
	return -1;
}

bool listen_admits(struct pbuf *p, struct iface *in)
{
	if (!applied)
		return true;
	const uint8_t *iph = p->payload;
	unsigned hlen = (iph[0] & 0xFu) * 4;
	int kind = service_of(p, hlen);
	if (kind == -1)
		return true;
	const struct appliance_service *s = kind == CLOSED ? NULL :
					    find((enum appliance_service_kind)kind);
	if (s && in->conf >= 0 && (s->ifaces >> in->conf & 1))
		return true;
	return false;
}
