/*
 * PCI as a driver sees it: configuration-space offsets, and the description
 * of its device that init puts into its program_info page. Drivers never
 * touch configuration space themselves (that would reach every device);
 * init reads it, sizes the BARs, enables the device and hands over a copy.
 */
#ifndef MICA_PROTO_PCI_H
#define MICA_PROTO_PCI_H

#include <stdint.h>

/* Configuration-space registers (type 0 header). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_SECONDARY_BUS  0x19   /* type 1 (bridge) header */
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_COMMAND_IO          0x1
#define PCI_COMMAND_MEMORY      0x2
#define PCI_COMMAND_MASTER      0x4
#define PCI_COMMAND_INTX_OFF    0x400
#define PCI_STATUS_CAP_LIST     0x10
#define PCI_CAP_ID_VENDOR       0x09

#define PCI_BARS 6
enum pci_bar_kind { PCI_BAR_NONE = 0, PCI_BAR_MEM = 1, PCI_BAR_IO = 2 };

struct pci_bar {
	uint64_t base;          /* physical address or first port; memory BARs
				   appear at this same virtual address */
	uint64_t size;          /* bytes or ports */
	uint32_t kind;          /* enum pci_bar_kind */
	uint32_t prefetchable;
};

struct pci_device_info {
	uint32_t present;       /* 0: the program drives no PCI device */
	uint8_t bus, dev, fn;
	uint8_t irq_line;       /* IOAPIC input of its INTx, 0xFF if none */
	uint16_t vendor, device;
	uint32_t irq_slot;      /* its IRQ capability (level-triggered), if irq_line */
	struct pci_bar bars[PCI_BARS];   /* a 64-bit BAR fills its first index */
	uint8_t config[256];    /* configuration space as read at start-up */
};

#endif
