/*
 * Checksum offload between lwIP and the NIC drivers (docs/netstack.md,
 * "Checksum offload"), per frame, without changing lwIP's sources.
 *
 * Receiving. lwIP checks a checksum only where its netif's chksum_flags
 * say so (LWIP_CHECKSUM_CTRL_PER_NETIF), and it reads those flags only
 * while netif->input runs for one frame, on this one thread. So before
 * each frame goes in, offload_rx sets the receiving netif's CHECK flags
 * from that frame's descriptor: TCP and UDP are not checked for an
 * unfragmented IPv4 frame the device vouched for (CSUM_VALID) or that
 * came from the host's memory with its checksum left partial (CSUM_PARTIAL,
 * to one of our addresses, while the appliance does not forward); the IPv4
 * header is not checked when the device did (IP_VALID). Every other frame,
 * fragments included (their datagram's checksum is checked after
 * reassembly), is checked by lwIP as before, and a wrong one is dropped
 * and counted in lwIP's chkerr. A partial frame to any other address (to
 * be forwarded, or a broadcast), or any partial frame while forwarding is
 * on (prerouting NAT may send one to us on elsewhere, and NAT's
 * incremental updates assume a complete checksum), has its checksum
 * completed here, in software, before lwIP or the forwarding path sees
 * it: it may leave by any NIC, be fragmented or rewritten by NAT.
 *
 * Sending. lwIP never computes TCP checksums here (the netif's GEN_TCP is
 * off): a TCP frame lwIP made leaves its checksum field 0, and
 * offload_tx finishes it on its way to the driver, leaving it partial
 * (the pseudo-header sum in the field, CSUM_PARTIAL) when the driver
 * offers NETQ_OFFLOAD_TX_CSUM, else summing it in software. Forwarded
 * frames (forward_sending, or a checksum not 0) are left as they are.
 * IPv4 header, UDP and ICMP checksums stay lwIP's (few, short, or both).
 */
#include "netstack.h"

#include "lib/inet_csum.h"
#include "lib/netq_csum.h"

/* lwIP's flags on every interface between frames: check everything,
 * generate all but TCP. */
#define BASE_FLAGS (NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP)

void offload_init(struct netif *netif)
{
	NETIF_SET_CHECKSUM_CTRL(netif, BASE_FLAGS);
}

/* Is the destination of this IPv4 frame one of our addresses? */
static bool to_us(const uint8_t *f, const struct netq_l4 *l4)
{
	uint32_t dst;

	memcpy(&dst, f + l4->ip + 16, 4);
	for (unsigned i = 0; i < nifaces; i++) {
		const ip4_addr_t *a = netif_ip4_addr(&ifaces[i].netif);
		if (!ip4_addr_isany(a) && ip4_addr_get_u32(a) == dst)
			return true;
	}
	return false;
}

void offload_rx(struct iface *ifc, uint8_t *f, struct netq_desc d)
{
	u16_t flags = BASE_FLAGS;
	struct netq_l4 l4;

	if (d.flags & NETQ_F_IP_VALID)
		flags &= (u16_t)~NETIF_CHECKSUM_CHECK_IP;
	if ((d.flags & (NETQ_F_CSUM_VALID | NETQ_F_CSUM_PARTIAL)) && netq_frame_l4(f, d.len, &l4)) {
		if (!(d.flags & NETQ_F_CSUM_PARTIAL) || (!forward_enabled() && to_us(f, &l4))) {
			flags &= (u16_t)~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
			ifc->counters.rx_csum_trusted++;
		} else if (d.csum_start == l4.l4 && l4.l4 + d.csum_offset == l4.csum) {
			/* Right by construction: lwIP need not sum it again. */
			netq_csum_complete(f, l4.end, d.csum_start, d.csum_offset);
			flags &= (u16_t)~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
			ifc->counters.rx_csum_completed++;
		}
		/* A partial checksum elsewhere than this frame's is left as
		 * it is: lwIP checks it, finds it wrong and counts it. */
	}
	NETIF_SET_CHECKSUM_CTRL(&ifc->netif, flags);
}

static uint16_t rx_seg_size;    /* the aggregate in lwIP's input now */

/*
 * A frame over several buffers, or a TCP aggregate in one (iface.c sends
 * every TSO4 frame here): a TCP aggregate (TSO4) came from the
 * host's memory, its checksum partial, or was verified by the device
 * (netq_chain_valid insists on one of the two), so its TCP checksum is
 * not checked (there is none for the whole: the host sums each segment
 * it made, and so do we, segment.c). Any other chain is checked as usual.
 */
void offload_rx_chain(struct iface *ifc, uint8_t *f, struct netq_desc d)
{
	u16_t flags = BASE_FLAGS;

	if (d.flags & NETQ_F_IP_VALID)
		flags &= (u16_t)~NETIF_CHECKSUM_CHECK_IP;
	if (d.flags & NETQ_F_TSO4) {
		flags &= (u16_t)~NETIF_CHECKSUM_CHECK_TCP;
		rx_seg_size = d.seg_size;
		ifc->counters.rx_csum_trusted++;
		ifc->counters.rx_aggregates++;
	}
	NETIF_SET_CHECKSUM_CTRL(&ifc->netif, flags);
}

uint16_t offload_rx_seg_size(void)
{
	return rx_seg_size;
}

void offload_rx_done(struct iface *ifc)
{
	rx_seg_size = 0;
	NETIF_SET_CHECKSUM_CTRL(&ifc->netif, BASE_FLAGS);
}

void offload_tx(struct iface *ifc, uint8_t *f, struct netq_desc *d)
{
	struct netq_l4 l4;

	if (forward_sending() || !netq_frame_l4(f, d->len, &l4) || l4.proto != 6 ||
	    inet_get16(f + l4.csum) != 0)
		return;
	if (ifc->offloads & NETQ_OFFLOAD_TX_CSUM) {
		netq_csum_leave(f, &l4, d);
		ifc->counters.tx_csum_offloaded++;
	} else {
		netq_csum_fill(f, &l4);
		ifc->counters.tx_csum_software++;
	}
}
