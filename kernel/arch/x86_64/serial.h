/* COM1 serial console: output polled; input read on the IRQ of whoever
 * holds IRQ capability for SERIAL_GSI (the console, sys_serial_read).
 * Everything the kernel prints goes through console.h, not serial_putc. */
#ifndef MICA_SERIAL_H
#define MICA_SERIAL_H

#include "uapi/irq.h"           /* SERIAL_GSI: COM1's IOAPIC input (ISA IRQ 4) */

void serial_init(void);
void serial_putc(char c);
/* A received character, or -1 when none waits. */
int serial_getc(void);

#endif
