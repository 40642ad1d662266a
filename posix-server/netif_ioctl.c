/*
 * The interface ioctls of netdevice(7) on any socket (sys_io.c): the
 * netstack's interfaces and lo as Linux's SIOCGIF* calls show a host's
 * (netinfo.h: numbers, flags, addresses). Each waits (a bounded time,
 * never the server) for the netstack's answer first. The calls that set
 * something (SIOCSIF*, SIOCADDRT, SIOCDELRT) are EPERM: the POSIX
 * server's processes do not configure the netstack.
 */
#include "file.h"
#include "netinfo.h"
#include "socket.h"
#include "syscall.h"

/* <linux/sockios.h> */
#define SIOCADDRT      0x890B
#define SIOCDELRT      0x890C
#define SIOCGIFNAME    0x8910
#define SIOCGIFCONF    0x8912
#define SIOCGIFFLAGS   0x8913
#define SIOCGIFADDR    0x8915
#define SIOCGIFDSTADDR 0x8917
#define SIOCGIFBRDADDR 0x8919
#define SIOCGIFNETMASK 0x891B
#define SIOCGIFMETRIC  0x891D
#define SIOCGIFMTU     0x8921
#define SIOCGIFHWADDR  0x8927
#define SIOCGIFINDEX   0x8933
#define SIOCGIFTXQLEN  0x8942
#define SIOCGIFMAP     0x8970
#define ARPHRD_ETHER    1               /* <linux/if_arp.h> */
#define ARPHRD_LOOPBACK 772
#define TXQLEN         1000             /* Linux's default tx_queue_len */

/* struct ifreq (<linux/if.h>): a name and a union of 24 bytes. */
struct linux_ifreq {
	char name[16];
	union {
		struct { uint16_t family; uint8_t data[14]; } addr;
		int16_t flags;
		int32_t ivalue;
		uint8_t raw[24];
	} u;
};
_Static_assert(sizeof(struct linux_ifreq) == 40, "Linux's struct ifreq");

/* struct ifconf: a length and a user pointer. */
struct linux_ifconf {
	int32_t len;
	uint32_t pad;
	uint64_t buf;
};

static void sockaddr_in(struct linux_ifreq *r, uint32_t addr)
{
	memset(&r->u, 0, sizeof(r->u));
	r->u.addr.family = LINUX_AF_INET;
	memcpy(r->u.addr.data + 2, &addr, 4);   /* after sin_port */
}

/* SIOCGIFCONF: an ifreq with its IPv4 address for each interface that
 * has one (Linux's inet_gifconf); a NULL buffer asks the length. */
static long ifconf(struct process *p, uint64_t arg)
{
	struct linux_ifconf c;
	struct netinfo_if nif;
	struct linux_ifreq r;
	int32_t done = 0;

	if (as_copy_in(&p->as, &c, arg, sizeof(c)) < 0)
		return -LINUX_EFAULT;
	for (unsigned i = 0; netinfo_if(i, &nif); i++) {
		if (!nif.addr)
			continue;
		if (c.buf) {
			if (c.len - done < (int32_t)sizeof(r))
				break;
			memset(&r, 0, sizeof(r));
			memcpy(r.name, nif.name, sizeof(r.name));
			sockaddr_in(&r, nif.addr);
			if (as_copy_out(&p->as, c.buf + (uint64_t)done, &r, sizeof(r)) < 0)
				return -LINUX_EFAULT;
		}
		done += (int32_t)sizeof(r);
	}
	c.len = done;
	return as_copy_out(&p->as, arg, &c.len, sizeof(c.len)) < 0 ? -LINUX_EFAULT : 0;
}

bool netif_ioctl_request(uint64_t req)
{
	switch (req) {
	case SIOCGIFNAME: case SIOCGIFCONF: case SIOCGIFFLAGS: case SIOCGIFADDR:
	case SIOCGIFDSTADDR: case SIOCGIFBRDADDR: case SIOCGIFNETMASK: case SIOCGIFMETRIC:
	case SIOCGIFMTU: case SIOCGIFHWADDR: case SIOCGIFINDEX: case SIOCGIFTXQLEN: case SIOCGIFMAP:
		return true;
	}
	/* The SIOCS* of the same range, and the routing table's. */
	return req == SIOCADDRT || req == SIOCDELRT || (req >= 0x8914 && req <= 0x8943);
}

long netif_ioctl(struct process *p, uint64_t req, uint64_t arg)
{
	struct linux_ifreq r;
	struct netinfo_if nif;
	bool found;

	if (!netif_ioctl_request(req))
		return -LINUX_ENOTTY;
	long w = netinfo_wait(p, NETINFO_IFS_ROUTES);
	if (w)
		return w;
	if (req == SIOCGIFCONF)
		return ifconf(p, arg);
	if (as_copy_in(&p->as, &r, arg, sizeof(r)) < 0)
		return -LINUX_EFAULT;
	r.name[sizeof(r.name) - 1] = 0;
	if (req == SIOCGIFNAME) {
		if (!netinfo_if_by_index(r.u.ivalue, &nif))
			return -LINUX_ENODEV;
		memcpy(r.name, nif.name, sizeof(r.name));
		return as_copy_out(&p->as, arg, &r, sizeof(r)) < 0 ? -LINUX_EFAULT : 0;
	}
	found = netinfo_if_by_name(r.name, &nif);
	switch (req) {
	case SIOCGIFFLAGS: case SIOCGIFADDR: case SIOCGIFDSTADDR: case SIOCGIFBRDADDR:
	case SIOCGIFNETMASK: case SIOCGIFMETRIC: case SIOCGIFMTU: case SIOCGIFHWADDR:
	case SIOCGIFINDEX: case SIOCGIFTXQLEN: case SIOCGIFMAP:
		break;
	default:
		/* Setting: a device that is not there is still ENODEV, as
		 * Linux looks it up before it checks the capability. */
		return req == SIOCADDRT || req == SIOCDELRT || found ? -LINUX_EPERM : -LINUX_ENODEV;
	}
	if (!found)
		return -LINUX_ENODEV;
	memset(&r.u, 0, sizeof(r.u));
	switch (req) {
	case SIOCGIFFLAGS:
		r.u.flags = (int16_t)nif.flags;
		break;
	case SIOCGIFADDR: case SIOCGIFDSTADDR: case SIOCGIFBRDADDR: case SIOCGIFNETMASK:
		/* Linux's devinet_ioctl: no IPv4 address, EADDRNOTAVAIL. */
		if (!nif.addr)
			return -LINUX_EADDRNOTAVAIL;
		sockaddr_in(&r, req == SIOCGIFBRDADDR ? nif.brd
				: req == SIOCGIFNETMASK ? nif.mask : nif.addr);
		break;
	case SIOCGIFMETRIC:
		break;
	case SIOCGIFMTU:
		r.u.ivalue = (int32_t)nif.mtu;
		break;
	case SIOCGIFHWADDR:
		r.u.addr.family = nif.loopback ? ARPHRD_LOOPBACK : ARPHRD_ETHER;
		for (int i = 0; i < 6; i++)
			r.u.addr.data[i] = (uint8_t)(nif.mac >> (8 * i));
		break;
	case SIOCGIFINDEX:
		r.u.ivalue = nif.index;
		break;
	case SIOCGIFTXQLEN:
		r.u.ivalue = TXQLEN;
		break;
	case SIOCGIFMAP:
		break;          /* no memory window, IRQ or DMA to show */
	}
	return as_copy_out(&p->as, arg, &r, sizeof(r)) < 0 ? -LINUX_EFAULT : 0;
}
