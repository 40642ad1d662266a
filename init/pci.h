/* PCI enumeration for init: configuration space through ports 0xCF8/0xCFC. */
#ifndef MICA_INIT_PCI_H
#define MICA_INIT_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/pci.h"

#define PCI_MAX_DEVICES 32

struct pci_found {
	struct pci_device_info info;   /* what the driver gets */
	int owner;                     /* program index, -1 if unclaimed */
};

/* Scan every bus reachable from bus 0; returns the number of functions
 * found (at most PCI_MAX_DEVICES are kept) and prints one line each. */
unsigned pci_scan(void);
/* The first unclaimed device with this vendor:device, or at bus:devfn. */
struct pci_found *pci_find_id(uint16_t vendor, uint16_t device);
struct pci_found *pci_find_slot(uint8_t bus, uint8_t devfn);
/* Turn the device's decoding and bus mastering on or off. Off stops any
 * DMA a dead driver left running before its memory is reused. */
void pci_enable(const struct pci_found *d, bool on);

#endif
