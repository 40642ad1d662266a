/*
 * DHCP offers and acknowledgements checked before lwIP binds them (see
 * dhcp_reply.h). Offsets are from the start of the UDP header.
 */
#include "dhcp_reply.h"

#include <stdbool.h>

#include "lib/inet_csum.h"

enum {
	UDP_HLEN = 8,
	MSG_OP = UDP_HLEN,              /* 2: a reply */
	MSG_YIADDR = UDP_HLEN + 16,
	MSG_COOKIE = UDP_HLEN + 236,    /* 99.130.83.99 */
	MSG_OPTIONS = UDP_HLEN + 240,
};

enum {
	OPT_PAD = 0,
	OPT_SUBNET_MASK = 1,
	OPT_ROUTER = 3,
	OPT_LEASE = 51,
	OPT_OVERLOAD = 52,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_END = 255,
	OPT_COUNT = 256,
};

enum { DHCP_OFFER = 2, DHCP_ACK = 5 };

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An address a host can have: not 0/8, 127/8 or 224/3. (Host order.) */
static bool unicast(uint32_t a)
{
	return a >> 24 != 0 && a >> 24 != 127 && a >> 24 < 224;
}

/* A host of the subnet addr/mask: neither its network nor its broadcast
 * address. */
static bool subnet_host(uint32_t a, uint32_t mask)
{
	return unicast(a) && (a & ~mask) != 0 && (a & ~mask) != ~mask;
}

/* lwIP's mask when the server gives none: the address's class. */
static uint32_t class_mask(uint32_t a)
{
	return a >> 24 <= 127 ? 0xFF000000u : a >> 24 >= 192 ? 0xFFFFFF00u : 0xFFFF0000u;
}

/* Set the 32-bit option value at udp[at] to at least floor; true if it
 * was lower. The UDP checksum follows each 16-bit word that changes. */
static bool raise32(uint8_t *udp, size_t at, uint32_t floor)
{
	if (get32(udp + at) >= floor)
		return false;
	uint8_t old[6];
	size_t first = at & ~(size_t)1, words = (at & 1) ? 3 : 2;
	for (size_t i = 0; i < 2 * words; i++)
		old[i] = udp[first + i];
	for (int i = 0; i < 4; i++)
		udp[at + i] = (uint8_t)(floor >> (24 - 8 * i));
	uint16_t check = inet_get16(udp + 6);
	for (size_t w = 0; w < words; w++)
		check = inet_udp_csum_replace16(check, inet_get16(old + 2 * w),
						inet_get16(udp + first + 2 * w));
	inet_put16(udp + 6, check);
	return true;
}

enum dhcp_reply_verdict dhcp_reply_check(uint8_t *udp, size_t len, const char **why)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	size_t at[OPT_COUNT] = { 0 };   /* where each option's value is; 0: absent */
	uint8_t optlen[OPT_COUNT] = { 0 };

	*why = NULL;
	if (len < MSG_OPTIONS || udp[MSG_OP] != 2)
		return DHCP_REPLY_OTHER;        /* lwIP ignores these */
	for (int i = 0; i < 4; i++)
		if (udp[MSG_COOKIE + i] != cookie[i])
			return DHCP_REPLY_OTHER;
	bool ended = false;
	for (size_t i = MSG_OPTIONS; i < len;) {
		uint8_t code = udp[i];
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END) {
			ended = true;
			break;
		}
		if (i + 1 >= len || i + 2 + udp[i + 1] > len) {
			*why = "its options run past its end";
			break;
		}
		if (!at[code]) {        /* the first of each, as lwIP takes it */
			at[code] = i + 2;
			optlen[code] = udp[i + 1];
		}
		i += 2 + (size_t)udp[i + 1];
	}
	if (!at[OPT_MSG_TYPE] || optlen[OPT_MSG_TYPE] != 1 ||
	    (udp[at[OPT_MSG_TYPE]] != DHCP_OFFER && udp[at[OPT_MSG_TYPE]] != DHCP_ACK))
		return DHCP_REPLY_OTHER;
	if (!*why && !ended)
		*why = "its options have no end";
	if (*why)
		return DHCP_REPLY_REFUSED;

	uint32_t addr = get32(udp + MSG_YIADDR), mask = class_mask(addr);
	if (at[OPT_OVERLOAD])
		*why = "options in the sname and file fields (not checked)";
	else if (!at[OPT_SERVER_ID] || optlen[OPT_SERVER_ID] != 4 ||
		 !unicast(get32(udp + at[OPT_SERVER_ID])))
		*why = "no server identifier, or not a host's address";
	else if (!at[OPT_LEASE] || optlen[OPT_LEASE] != 4)
		*why = "no lease time";
	else if (at[OPT_SUBNET_MASK] &&
		 (optlen[OPT_SUBNET_MASK] != 4 || (mask = get32(udp + at[OPT_SUBNET_MASK])) == 0 ||
		  (~mask & (~mask + 1)) != 0 || (mask & 3) != 0))
		*why = "a netmask that is not /1 to /30";
	else if (!subnet_host(addr, mask))
		*why = "an address that is not a host's";
	else if (at[OPT_ROUTER] &&
		 (optlen[OPT_ROUTER] < 4 || optlen[OPT_ROUTER] % 4 != 0 ||
		  get32(udp + at[OPT_ROUTER]) == addr ||
		  (get32(udp + at[OPT_ROUTER]) & mask) != (addr & mask) ||
		  !subnet_host(get32(udp + at[OPT_ROUTER]), mask)))
		*why = "a router that is not another host of the subnet";
	if (*why)
		return DHCP_REPLY_REFUSED;

	bool raised = raise32(udp, at[OPT_LEASE], DHCP_LEASE_FLOOR_S);
	if (raised && at[OPT_T1] && optlen[OPT_T1] == 4)
		raise32(udp, at[OPT_T1], DHCP_LEASE_FLOOR_S / 2);
	if (raised && at[OPT_T2] && optlen[OPT_T2] == 4)
		raise32(udp, at[OPT_T2], DHCP_LEASE_FLOOR_S * 7 / 8);
	return raised ? DHCP_REPLY_LEASE_RAISED : DHCP_REPLY_OK;
}
