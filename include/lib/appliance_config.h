/*
 * The appliance configuration: interfaces, routes and services of a Mica
 * router or endpoint, from one text file in configs/ (grammar and examples
 * in docs/appliance.md). Pure logic (lib/appliance_config.c): no system
 * calls, so the netstack, the console and a host checker parse the same way,
 * and host unit tests cover every error.
 *
 *   # comment to the end of the line; statements end at a newline or ';'
 *   forwarding on|off                       route between interfaces (default off)
 *   interface NAME {
 *       device pci BB:DD.F | device mac XX:XX:XX:XX:XX:XX | device any
 *       address A.B.C.D/LEN | address dhcp
 *       mtu BYTES                           576..9000, default 1500
 *   }
 *   route PREFIX/LEN|default via GATEWAY [dev NAME] [metric N]
 *   route PREFIX/LEN|default dev NAME [metric N]
 *   service ping|iperf|echo [port N] on NAME[, NAME...]|any
 *   set, chain, conntrack                   the firewall: lib/firewall_config.h
 *
 * Addresses are in network byte order, as lwIP keeps them.
 */
#ifndef MICA_LIB_APPLIANCE_CONFIG_H
#define MICA_LIB_APPLIANCE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config_parser.h"
#include "lib/firewall_config.h"

#define APPLIANCE_MAX_INTERFACES 4      /* NICs one netstack serves */
#define APPLIANCE_MAX_ROUTES 32         /* static routes */
#define APPLIANCE_MAX_SERVICES 8
#define APPLIANCE_NAME_MAX 15           /* interface names, as Linux's IFNAMSIZ - 1 */
#define APPLIANCE_MTU_MIN 576           /* RFC 791: every host takes 576-byte datagrams */
#define APPLIANCE_MTU_MAX 9000
#define APPLIANCE_MTU_DEFAULT 1500
#define APPLIANCE_METRIC_MAX 65535

/* Which NIC an interface is. */
enum appliance_device {
	DEVICE_ANY,             /* the first NIC no other interface names */
	DEVICE_PCI,             /* by PCI slot */
	DEVICE_MAC,             /* by the NIC's MAC address */
};

struct appliance_interface {
	char name[APPLIANCE_NAME_MAX + 1];
	enum appliance_device device;
	uint16_t pci_bus, pci_devfn;    /* DEVICE_PCI: devfn = device << 3 | function */
	uint8_t mac[6];                 /* DEVICE_MAC */
	bool dhcp;                      /* else addr/mask below */
	uint32_t addr, mask;
	unsigned prefix_len;
	unsigned mtu;                   /* bytes of IP datagram */
	unsigned line;                  /* where it was declared */
};

/* One static route: to dest/mask via gateway (0: directly on iface). */
struct appliance_route {
	uint32_t dest, mask;
	unsigned prefix_len;            /* 0 for the default route */
	uint32_t gateway;
	int iface;                      /* index into interfaces, -1: by gateway */
	unsigned metric;                /* lower wins among equal prefixes; default 0 */
	unsigned line;
};

/* The services the appliance answers itself. */
enum appliance_service_kind {
	SERVICE_PING,           /* ICMP echo to the appliance's addresses */
	SERVICE_IPERF,          /* iperf 2 server, TCP, default port 5001 */
	SERVICE_ECHO,           /* RFC 862 echo, TCP and UDP, default port 7 */
};

struct appliance_service {
	enum appliance_service_kind kind;
	uint16_t port;                  /* 0 for ping */
	uint8_t ifaces;                 /* bit i: listens on interfaces[i] */
	unsigned line;
};

struct appliance_config {
	bool forwarding;
	unsigned ninterfaces, nroutes, nservices;
	struct appliance_interface interfaces[APPLIANCE_MAX_INTERFACES];
	struct appliance_route routes[APPLIANCE_MAX_ROUTES];
	struct appliance_service services[APPLIANCE_MAX_SERVICES];
	struct firewall_config firewall;        /* sets, chains, conntrack settings */
};

/*
 * Parse text[0..len) into *c. Returns true, or false with *err set to the
 * first error (e.g. line 7, column 11, "unknown interface 'lam'"); *c is
 * then incomplete and must not be used. Checks the whole file: names,
 * numbers and addresses, duplicates, routes whose gateway no interface
 * reaches, networks of two interfaces that overlap, limits above.
 */
bool appliance_config_parse(const char *text, size_t len, struct appliance_config *c,
			    struct config_error *err);

/* The service's name as the file spells it ("ping"). */
const char *appliance_service_name(enum appliance_service_kind kind);

#endif
