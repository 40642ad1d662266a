/*
 * Receive merging in the driver (Linux's GRO, for a NIC that does not
 * merge TCP segments itself: e1000): within one poll, consecutive
 * in-order TCP/IPv4 segments of one flow become one aggregate on
 * rx-ready, a chain whose first descriptor says NETQ_F_TSO4 and the
 * segment size, as virtio-net's GUEST_TSO4 aggregates come (proto/netq.h).
 * The client's TCP then takes one segment of up to 64 KiB instead of up
 * to 36 frames one by one, and acknowledges it once.
 *
 * The rules of what may merge are lib/netq_merge.c's. Each segment's TCP
 * checksum is verified here (unless the NIC vouched for it), since an
 * aggregate's is not checked again (netstack/offload.c): a segment with a
 * wrong one is not merged but goes up alone, unmarked, for the client to
 * check and count. The aggregate is marked CSUM_VALID and IP_VALID, and
 * so is a segment that was checked and stays alone. Its first frame
 * keeps its headers (rewritten: the IPv4 total length of the whole, the
 * header checksum, PSH from the last); the others are named past their
 * headers, in the same buffers: no byte is copied.
 *
 * Nothing is held past the poll that received it (rx_merge_flush at its
 * end), so merging adds no delay.
 */
#include "driver.h"

#include "lib/netq_csum.h"
#include "lib/netq_merge.h"

static struct {
	struct netq_merge m;
	struct netq_desc d[NETQ_CHAIN_MAX];     /* its segments' frames, as received */
	uint32_t bytes;                         /* their bytes */
} held;

/* A frame merging may take, its checksums right; *s its headers. */
static bool segment_ok(struct nic_device *nic, struct netq_desc d, struct netq_merge_seg *s)
{
	const uint8_t *f = nic->area + d.offset;
	struct netq_l4 l4;

	if (!netq_merge_parse(f, d.len, s))
		return false;
	if (d.flags & NETQ_F_CSUM_VALID)
		return true;
	return netq_frame_l4(f, d.len, &l4) && netq_csum_ok(f, &l4);
}

unsigned rx_merge_held(void)
{
	return held.m.n;
}

bool rx_merge_flush(struct nic_device *nic, struct netq_ring *rx_ready)
{
	unsigned n = held.m.n;

	if (!n)
		return false;
	held.m.n = 0;
	if (n > 1) {
		unsigned hl = held.m.head.hdr_len;
		netq_merge_headers(&held.m, nic->area + held.d[0].offset);
		held.d[0].flags |= NETQ_F_TSO4 | NETQ_F_MORE;
		held.d[0].seg_size = held.m.head.payload;
		for (unsigned i = 1; i < n; i++) {
			held.d[i].offset += hl;
			held.d[i].len = (uint16_t)(held.d[i].len - hl);
			held.d[i].flags = i + 1 < n ? NETQ_F_MORE : 0;
		}
	}
	return nic_rx_push(nic, rx_ready, held.d, n, n, held.bytes);
}

bool rx_merge_deliver(struct nic_device *nic, struct netq_ring *rx_ready,
		      const struct netq_desc *d, unsigned count, uint32_t len)
{
	struct netq_merge_seg s;
	bool pushed = false;

	if (count == 1 && !(d[0].flags & (NETQ_F_CSUM_PARTIAL | NETQ_F_TSO4)) &&
	    segment_ok(nic, d[0], &s)) {
		struct netq_desc v = d[0];
		v.flags |= NETQ_F_CSUM_VALID | NETQ_F_IP_VALID;
		if (netq_merge_add(&held.m, &s, NETQ_CHAIN_MAX)) {
			held.d[held.m.n - 1] = v;
			held.bytes += len;
			return false;
		}
		pushed = rx_merge_flush(nic, rx_ready);
		netq_merge_start(&held.m, &s);
		held.d[0] = v;
		held.bytes = len;
		return pushed;
	}
	/* Anything else goes after what is held, in the order received. */
	pushed = rx_merge_flush(nic, rx_ready);
	return nic_rx_push(nic, rx_ready, d, count, 1, len) || pushed;
}
