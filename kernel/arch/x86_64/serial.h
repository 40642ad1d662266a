/* COM1 serial console, polled. */
#ifndef MICA_SERIAL_H
#define MICA_SERIAL_H

void serial_init(void);
void serial_putc(char c);

#endif
