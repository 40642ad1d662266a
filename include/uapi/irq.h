/* irq_create flags, or'ed into the IOAPIC input number. Shared by kernel
 * and user code. Without flags an input is edge-triggered, active-high
 * (ISA devices); PCI INTx lines are level-triggered. */
#ifndef MICA_UAPI_IRQ_H
#define MICA_UAPI_IRQ_H

#define IRQ_FLAG_LEVEL      (1UL << 32)
#define IRQ_FLAG_ACTIVE_LOW (1UL << 33)

/* The serial console (COM1): its input's IOAPIC input, whose IRQ
 * capability entitles its holder to serial_read and serial_line, and the
 * longest line serial_line keeps under the log (bytes). */
#define SERIAL_GSI      4
#define SERIAL_LINE_MAX 128

#endif
