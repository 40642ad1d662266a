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
#define PCI_CAP_ID_MSIX         0x11

/* The MSI-X capability (PCI 3.0, 6.8.2): control word, then the table's
 * and the pending bits' BAR indicator (bits 0..2) and offset. Each table
 * entry: message address (low, high), data, vector control (bit 0: masked). */
#define PCI_MSIX_FLAGS          2
#define PCI_MSIX_FLAGS_QSIZE    0x07FF  /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL  0x4000
#define PCI_MSIX_FLAGS_ENABLE   0x8000
#define PCI_MSIX_TABLE          4
#define PCI_MSIX_BIR            0x7
#define PCI_MSIX_ENTRY_SIZE     16
#define PCI_MSIX_ENTRY_ADDR_LO  0
#define PCI_MSIX_ENTRY_ADDR_HI  4
#define PCI_MSIX_ENTRY_DATA     8
#define PCI_MSIX_ENTRY_CTRL     12
#define PCI_MSIX_ENTRY_MASKED   1

/*
 * MSI-X from init (label PCI_MSIX, proto/init.h), for a program with a
 * `pci` device: init holds the IRQ control and the configuration space.
 *
 *   PCI_MSIX  words: [0] n, vectors wanted (0..PCI_MSIX_MAX), [1..n] the
 *             caller's empty slots for their IRQ capabilities.
 *             Whatever the program had from an earlier PCI_MSIX is
 *             destroyed first (its vectors freed). n = 0: MSI-X off
 *             again (the device back on INTx).
 *             reply label 0; words: [0] the message address, [1..n] the
 *             message data of vector i; an IRQ capability (message-
 *             signalled, irq_create's IRQ_FLAG_MSI) in each slot. MSI-X
 *             is on when this returns: the caller, which masked every
 *             entry of the device's table before it asked (an entry left
 *             by an earlier instance names a vector freed since), then
 *             writes each entry i < n (the capability's BAR and offset,
 *             in config[]) and unmasks it.
 *             ERR_INVALID_ARG: no device, n too large, or a bad slot;
 *             ERR_RANGE: the device has no MSI-X capability or fewer
 *             than n entries; ERR_BUSY: the kernel has no free vector.
 *
 * A program's vectors are freed, and MSI-X switched off, when it ends.
 */
/* A request and its reply are n + 1 words in registers (struct msg's
 * IPC_REG_WORDS): at most 3 vectors. */
#define PCI_MSIX_MAX 3

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
