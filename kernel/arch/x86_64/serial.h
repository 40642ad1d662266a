/* COM1 serial console: output polled; input read on the IRQ of whoever
 * holds IRQ capability for SERIAL_GSI (the console, sys_serial_read). */
#ifndef MICA_SERIAL_H
#define MICA_SERIAL_H

void serial_init(void);
void serial_putc(char c);
/* A received character, or -1 when none waits. */
int serial_getc(void);

#define SERIAL_GSI 4            /* COM1's IOAPIC input (ISA IRQ 4) */

#endif
