/*
 * ICMP errors about the UDP datagrams we sent, given to the socket that
 * sent them before lwIP sees the message (lwIP's icmp_input answers
 * echo requests and passes no error to anybody; its sources stay as
 * Debian ships them). As Linux's __udp4_lib_err: a destination
 * unreachable whose code is a hard error (Linux's icmp_err_convert:
 * port and protocol unreachable, the "unknown", "prohibited" and
 * "filtered" codes) and a parameter problem become the error of the
 * connected socket whose datagram it quotes — reported once by its next
 * receive or send, and by poll as POLLERR (socket_udp.c); an
 * unconnected socket gets nothing (Linux: unless IP_RECVERR). Soft
 * errors (net or host unreachable, fragmentation needed, time
 * exceeded) change nothing, as on Linux.
 *
 * The message came from the wire: it is believed only whole and
 * consistent — IPv4 header and ICMP checksums right (where lwIP checks
 * them: not on lo, whose datagrams carry none), not a fragment,
 * to one of our addresses, quoting an IPv4 header of a UDP datagram
 * sent from that address and its 8 bytes of UDP header — and then only
 * by the socket connected to exactly the quoted addresses and ports.
 * Everything else is left to lwIP, which counts and drops it. The
 * message itself always goes on to lwIP (its counters see it).
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "proto/socket.h"

#define ICMP_DEST_UNREACH  3
#define ICMP_PARAMETERPROB 12
#define ICMP_ERROR_MAX     576          /* bytes looked at: what RFC 1812 routers quote */

/* Linux's icmp_err_convert for destination unreachable's codes 0..15:
 * the error, or 0 for a soft one (not given to the socket). */
static const uint8_t unreach_error[16] = {
	[2] = SOCK_ENOPROTOOPT,         /* protocol unreachable */
	[3] = SOCK_ECONNREFUSED,        /* port unreachable */
	[6] = SOCK_ENETUNREACH,         /* network unknown */
	[7] = SOCK_EHOSTDOWN,           /* host unknown */
	[8] = SOCK_ENONET,              /* source host isolated */
	[9] = SOCK_ENETUNREACH,         /* network administratively prohibited */
	[10] = SOCK_EHOSTUNREACH,       /* host administratively prohibited */
	[13] = SOCK_EHOSTUNREACH,       /* communication administratively filtered */
	[14] = SOCK_EHOSTUNREACH,       /* host precedence violation */
	[15] = SOCK_EHOSTUNREACH,       /* precedence cutoff in effect */
};

void icmp_error_input(struct pbuf *p, const struct netif *inp)
{
	static uint8_t m[ICMP_ERROR_MAX];
	uint32_t outer_dst, inner_src, inner_dst;

	/* The outer header: IPv4, whole, not a fragment, ICMP, checksum right. */
	if (p->len < IP_HLEN || ((const uint8_t *)p->payload)[9] != IP_PROTO_ICMP ||
	    p->tot_len < IP_HLEN + 8 + IP_HLEN + 8 || p->tot_len > sizeof(m) ||
	    pbuf_copy_partial(p, m, p->tot_len, 0) != p->tot_len)
		return;
	unsigned hlen = (m[0] & 0xF) * 4u, iplen = inet_get16(m + 2);
	if ((m[0] >> 4) != 4 || m[9] != IP_PROTO_ICMP || hlen < IP_HLEN || iplen > p->tot_len ||
	    iplen < hlen + 8 + IP_HLEN + 8 || (inet_get16(m + 6) & 0x3FFF))
		return;
	/* The checksums lwIP checks on this interface (not on lo, whose
	 * datagrams are our own and carry none; nor what the NIC checked). */
	if (((inp->chksum_flags & NETIF_CHECKSUM_CHECK_IP) && inet_fold(inet_sum(m, hlen, 0)) != 0) ||
	    ((inp->chksum_flags & NETIF_CHECKSUM_CHECK_ICMP) &&
	     inet_fold(inet_sum(m + hlen, iplen - hlen, 0)) != 0))
		return;
	const uint8_t *icmp = m + hlen, *inner = icmp + 8;
	int err = 0;
	if (icmp[0] == ICMP_DEST_UNREACH && icmp[1] < sizeof(unreach_error))
		err = unreach_error[icmp[1]];
	else if (icmp[0] == ICMP_PARAMETERPROB)
		err = SOCK_EPROTO;
	if (!err)
		return;
	/* The quoted datagram: an IPv4 header of UDP from the address the
	 * message came to, and 8 bytes after it. */
	unsigned inner_hlen = (inner[0] & 0xF) * 4u;
	memcpy(&outer_dst, m + 16, 4);
	memcpy(&inner_src, inner + 12, 4);
	memcpy(&inner_dst, inner + 16, 4);
	if ((inner[0] >> 4) != 4 || inner[9] != IP_PROTO_UDP || inner_hlen < IP_HLEN ||
	    hlen + 8 + inner_hlen + 8 > iplen || inner_src != outer_dst || !loopback_ours(outer_dst))
		return;
	const uint8_t *udp = inner + inner_hlen;
	socket_udp_error(inner_src, inet_get16(udp), inner_dst, inet_get16(udp + 2), err);
}
