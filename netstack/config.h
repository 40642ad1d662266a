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

#endif
