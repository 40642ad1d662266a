/*
 * What the firewall and connection tracking look at, read from an IPv4
 * datagram: the one parser of untrusted headers between the wire and
 * conntrack_classify() / firewall_eval(). Pure logic (packet_meta.c):
 * bounds-checked, reads nothing outside [pkt, pkt + len); unit-tested on
 * the host with truncations and bad options.
 */
#ifndef MICA_NETSTACK_PACKET_META_H
#define MICA_NETSTACK_PACKET_META_H

#include <stddef.h>
#include <stdint.h>

#include "conntrack.h"
#include "firewall.h"

enum packet_meta_result {
	PACKET_META_OK,
	PACKET_META_FRAGMENT,   /* a fragment: reassemble first (as Linux's conntrack does), or drop */
	PACKET_META_MALFORMED,  /* not IPv4, or shorter than its headers say: drop (ct state invalid) */
};

/*
 * Fill ct (its tuple, TCP sequence space and window scale option, ICMP
 * type, code and quoted datagram, which points into pkt) and fw's
 * addresses, protocol, ports, ICMP type and code, TCP flags and length
 * from the datagram pkt[0..len) (from its IP header; bytes after its total
 * length are ignored). fw's interfaces and ct_state are the caller's to
 * set. On anything but PACKET_META_OK the outputs hold what was read so far.
 */
enum packet_meta_result packet_meta_parse(const uint8_t *pkt, size_t len, struct ct_packet *ct,
					  struct fw_packet *fw);

#endif
