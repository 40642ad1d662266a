/* irq_create flags, or'ed into the IOAPIC input number. Shared by kernel
 * and user code. Without flags an input is edge-triggered, active-high
 * (ISA devices); PCI INTx lines are level-triggered. */
#ifndef MICA_UAPI_IRQ_H
#define MICA_UAPI_IRQ_H

#include <stdint.h>

#define IRQ_FLAG_LEVEL      (1UL << 32)
#define IRQ_FLAG_ACTIVE_LOW (1UL << 33)

/*
 * A message-signalled interrupt (PCI MSI/MSI-X) instead of an IOAPIC
 * input: irq_create(control, IRQ_FLAG_MSI, dest) with no input number and
 * no other flag. The kernel takes a free vector (at most IRQ_MSI_MAX are
 * out at a time; ERR_BUSY past that) and returns, instead of 0, the
 * message to program into the device: msi_address(r) and msi_data(r)
 * below (Intel SDM vol. 3, 11.11 "Message Signalled Interrupts":
 * address 0xFEE00000 | destination APIC ID << 12, physical destination;
 * data = vector, fixed delivery, edge-triggered). Destroying the object
 * frees the vector.
 */
#define IRQ_FLAG_MSI        (1UL << 34)
#define IRQ_MSI_MAX         32

#define MSI_ADDRESS_BASE    0xFEE00000u
static inline uint32_t msi_address(long r) { return MSI_ADDRESS_BASE | (uint32_t)((r >> 16) & 0xFF) << 12; }
static inline uint32_t msi_data(long r) { return (uint32_t)(r & 0xFFFF); }

/* The serial console (COM1): its input's IOAPIC input, whose IRQ
 * capability entitles its holder to serial_read and serial_line, and the
 * longest line serial_line keeps under the log (bytes). */
#define SERIAL_GSI      4
#define SERIAL_LINE_MAX 128

#endif
