/*
 * The netstack's functions behind lwIP's hooks (LWIP_HOOK_FILENAME, set in
 * lwipopts.h; netstack/guard.c). Included by lwIP's own files after their
 * headers, so lwIP's types are known here.
 */
#ifndef MICA_NETSTACK_HOOKS_H
#define MICA_NETSTACK_HOOKS_H

struct pbuf;
struct netif;
struct tcp_pcb;
struct tcp_hdr;

/* A datagram before lwIP's IPv4 input looks at it: 1 when it was dropped
 * (and freed) here, 0 to let lwIP go on. */
int guard_ip4_input(struct pbuf *p, struct netif *inp);
/* A TCP segment about to go to a connection or listener: drops one whose
 * sequence number is absurdly far from the connection's (not ERR_OK), and
 * raises a SYN's too small MSS. */
signed char guard_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, unsigned short optlen,
			       unsigned short opt1len, unsigned char *opt2, struct pbuf *p);
/* RFC 6528 initial sequence number for a connection. */
unsigned guard_tcp_isn(const struct ip4_addr *local_ip, unsigned short local_port,
		       const struct ip4_addr *remote_ip, unsigned short remote_port);
/* How many pbufs one connection may hold out of order (fewer while the
 * interfaces' pools run low). */
unsigned guard_ooseq_pbufs_limit(struct tcp_pcb *pcb);

/* The next hop lwIP's ARP uses for dest off the netif's network: the
 * routing table's gateway (forward.c), or NULL for the netif's own. */
const struct ip4_addr *forward_gateway(struct netif *netif, const struct ip4_addr *dest);

#define LWIP_HOOK_IP4_INPUT(p, inp) guard_ip4_input((p), (inp))
#define LWIP_HOOK_ETHARP_GET_GW(netif, dest) forward_gateway((netif), (dest))
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
	guard_tcp_inpacket((pcb), (hdr), (optlen), (opt1len), (opt2), (p))
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) guard_tcp_isn((lip), (lport), (rip), (rport))

#endif
