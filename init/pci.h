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
/*
 * What a device may do, set in its command register as its driver comes
 * and goes:
 *   PCI_DEV_QUIET  no DMA, no interrupt (bus mastering and INTx off;
 *                  decoding kept): a dead driver's device, before anything
 *                  it held is freed.
 *   PCI_DEV_PROBE  decoding on, still quiet: a new driver resets it.
 *   PCI_DEV_LIVE   bus mastering and INTx on: from the driver's first DMA
 *                  allocation, which it makes after the reset, so the
 *                  device cannot DMA through what the dead driver left.
 */
enum pci_dev_state { PCI_DEV_QUIET, PCI_DEV_PROBE, PCI_DEV_LIVE };
void pci_set_state(const struct pci_found *d, enum pci_dev_state s);

/* MSI-X (PCI 3.0, 6.8.2): the table's size (0: no MSI-X capability), and
 * MSI-X switched on (function mask off) or off in its control word. While
 * it is on the device signals through its table, never by INTx. */
unsigned pci_msix_size(const struct pci_found *d);
void pci_msix_set(const struct pci_found *d, bool on);

#endif
