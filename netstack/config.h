/* The netstack's interface configuration from its arguments (config.c). */
#ifndef MICA_NETSTACK_CONFIG_H
#define MICA_NETSTACK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nameservice.h"
#include "proto/program.h"

#define NETSTACK_MAX_NICS 4

/* How an interface gets its address (config.c). */
struct nic_config {
	char name[NS_NAME_MAX + 1];
	bool dhcp;
	uint32_t addr, mask, gw;        /* network byte order; gw 0: none */
	unsigned mtu;                   /* bytes of IP datagram, 576..1500 */
};
#define NIC_MTU_MAX 1500                /* what a NETQ_FRAME_MAX frame carries */

/* Parse the program's arguments into up to max interfaces; 0 and a
 * message in err (naming the argument) when they are wrong. */
unsigned config_parse(const char *args, struct nic_config *out, unsigned max, char *err,
		      size_t errsize);

struct appliance_config;

/* Interface k of an appliance configuration as the netstack sets it up:
 * its name, address (or DHCP), MTU (at most NIC_MTU_MAX) and gateway (a
 * default route through it, or whose gateway is on its network). */
void config_interface(const struct appliance_config *ac, unsigned k, struct nic_config *out);

/* Which interface of ac a NIC is, given the interfaces already bound
 * (bit k: interfaces[k]), its PCI slot (NETQ_PCI_SLOT, 0: unknown) and
 * MAC address: the one that names its slot, else its MAC, else the first
 * `device any` one. -1 when none is left for it. */
int config_bind(const struct appliance_config *ac, unsigned taken, uint64_t pci_slot,
		const uint8_t mac[6]);

#endif
