/*
 * A DHCP server's offer or acknowledgement, checked before lwIP's DHCP
 * client sees it (dhcp_reply.c, pure: unit-tested on the host). lwIP
 * 2.1.3 binds whatever address, mask, router and lease it is given;
 * docs/netstack.md, "Hardening", says what is refused and why.
 */
#ifndef MICA_NETSTACK_DHCP_REPLY_H
#define MICA_NETSTACK_DHCP_REPLY_H

#include <stddef.h>
#include <stdint.h>

/* Leases shorter than this are taken as this long: lwIP's lease timers
 * tick once a minute, and under two minutes the lease would run out at
 * the tick that should renew it. */
#define DHCP_LEASE_FLOOR_S 120

enum dhcp_reply_verdict {
	DHCP_REPLY_OTHER,               /* not an offer or acknowledgement: lwIP's to judge */
	DHCP_REPLY_OK,                  /* within reason, as it came */
	DHCP_REPLY_LEASE_RAISED,        /* within reason once its lease (T1, T2) was raised */
	DHCP_REPLY_REFUSED,             /* *why says why */
};

/* udp: a UDP datagram from port 67 to port 68 (its header, then the
 * message), len bytes of it at hand. An offer or acknowledgement is
 * refused when it is cut short or its options run past it or use the
 * sname and file fields (option 52), when it lacks a server identifier
 * or a lease time, when the address is not a host's (0/8, 127/8, 224/3,
 * or the network or broadcast address of its subnet), the netmask not
 * /1../30, or the first router not a host of that subnet other than the
 * address. A lease (and T1, T2) below DHCP_LEASE_FLOOR_S (its half, its
 * 7/8) is raised to it in place, the UDP checksum kept right. */
enum dhcp_reply_verdict dhcp_reply_check(uint8_t *udp, size_t len, const char **why);

#endif
