/*
 * The netstack's interface configuration, from its program arguments
 * (docs/netstack.md):
 *
 *   nic=eth0[,eth1...]      the drivers' names, one interface each
 *   eth0.addr=A.B.C.D/LEN   a static address and prefix length, or
 *   eth0.addr=dhcp          an address from DHCP (the default)
 *   eth0.gw=A.B.C.D         the default gateway through this interface
 *   eth0.mtu=BYTES          576..1500 (default 1500)
 *
 * Pure string work, so the host unit tests run it.
 */
#include "config.h"

#include <stdarg.h>

#include "lib/appliance_config.h"
#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/inet.h"
#include "lib/string.h"
#include "proto/netq.h"

static unsigned fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return 0;
}

static bool parse_addr(const char *v, struct nic_config *c)
{
	const char *slash = strchr(v, '/');
	unsigned len = 0;

	if (!strcmp(v, "dhcp")) {
		c->dhcp = true;
		return true;
	}
	if (!slash || !slash[1] || !inet_parse_ipv4(v, (size_t)(slash - v), &c->addr))
		return false;
	for (const char *p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - slash > 2)
			return false;
		len = len * 10 + (unsigned)(*p - '0');
	}
	if (len < 1 || len > 30)
		return false;
	c->mask = config_prefix_mask(len);
	c->dhcp = false;
	return true;
}

unsigned config_parse(const char *args, struct nic_config *out, unsigned max, char *err,
		      size_t errsize)
{
	char list[64], key[NS_NAME_MAX + 8], v[32];
	unsigned n = 0;

	if (!program_arg(args, "nic", list, sizeof(list)) || !list[0])
		return fail(err, errsize, "no interfaces: give nic=eth0[,eth1...]");
	for (char *s = list; *s;) {
		char *e = s;
		while (*e && *e != ',')
			e++;
		size_t len = (size_t)(e - s);
		if (n == max)
			return fail(err, errsize, "nic=: at most %u interfaces", max);
		if (!len || len > NS_NAME_MAX)
			return fail(err, errsize, "nic=: bad interface name in '%s'", list);
		struct nic_config *c = &out[n++];
		*c = (struct nic_config){ .dhcp = true, .mtu = NIC_MTU_MAX };
		memcpy(c->name, s, len);
		for (unsigned i = 0; i + 1 < n; i++)
			if (!strcmp(out[i].name, c->name))
				return fail(err, errsize, "nic=: %s named twice", c->name);
		s = *e ? e + 1 : e;

		fmt_snprintf(key, sizeof(key), "%s.addr", c->name);
		if (program_arg(args, key, v, sizeof(v)) && !parse_addr(v, c))
			return fail(err, errsize, "%s: expected A.B.C.D/LEN (LEN 1..30) or dhcp", key);
		fmt_snprintf(key, sizeof(key), "%s.gw", c->name);
		if (program_arg(args, key, v, sizeof(v))) {
			if (!inet_parse_ipv4(v, strlen(v), &c->gw))
				return fail(err, errsize, "%s: expected A.B.C.D", key);
			if (!c->dhcp && (c->gw & c->mask) != (c->addr & c->mask))
				return fail(err, errsize, "%s: the gateway is not on the interface's network", key);
		}
		fmt_snprintf(key, sizeof(key), "%s.mtu", c->name);
		if (program_arg(args, key, v, sizeof(v))) {
			unsigned mtu = 0;
			for (const char *p = v; *p >= '0' && *p <= '9' && mtu < 100000; p++)
				mtu = mtu * 10 + (unsigned)(*p - '0');
			if (mtu < APPLIANCE_MTU_MIN || mtu > NIC_MTU_MAX)
				return fail(err, errsize, "%s: expected 576..1500", key);
			c->mtu = mtu;
		}
	}
	return n;
}

void config_interface(const struct appliance_config *ac, unsigned k, struct nic_config *out)
{
	const struct appliance_interface *i = &ac->interfaces[k];

	*out = (struct nic_config){ .dhcp = i->dhcp, .addr = i->addr, .mask = i->mask,
				    .mtu = i->mtu < NIC_MTU_MAX ? i->mtu : NIC_MTU_MAX };
	memcpy(out->name, i->name, sizeof(out->name) - 1);
	for (unsigned r = 0; r < ac->nroutes && !out->gw; r++) {
		const struct appliance_route *rt = &ac->routes[r];
		bool here = rt->iface == (int)k ||
			    (rt->iface < 0 && !i->dhcp && (rt->gateway & i->mask) == (i->addr & i->mask));
		if (!rt->prefix_len && rt->gateway && here)
			out->gw = rt->gateway;
	}
}

int config_bind(const struct appliance_config *ac, unsigned taken, uint64_t pci_slot,
		const uint8_t mac[6])
{
	int any = -1;

	for (unsigned k = 0; k < ac->ninterfaces; k++) {
		const struct appliance_interface *i = &ac->interfaces[k];
		if (taken & (1U << k))
			continue;
		if (i->device == DEVICE_PCI && pci_slot &&
		    NETQ_PCI_SLOT(i->pci_bus, i->pci_devfn >> 3, i->pci_devfn & 7) == pci_slot)
			return (int)k;
		if (i->device == DEVICE_MAC && !memcmp(i->mac, mac, 6))
			return (int)k;
		if (i->device == DEVICE_ANY && any < 0)
			any = (int)k;
	}
	return any;
}
