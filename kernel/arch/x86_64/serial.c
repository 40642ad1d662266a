#include "serial.h"
#include "cpu.h"

#define COM1 0x3F8

void serial_init(void)
{
	outb(COM1 + 1, 0x00);   /* no interrupts */
	outb(COM1 + 3, 0x80);   /* DLAB on */
	outb(COM1 + 0, 0x01);   /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);   /* 8N1, DLAB off */
	outb(COM1 + 2, 0xC7);   /* FIFO on, cleared, 14-byte threshold */
	outb(COM1 + 4, 0x03);   /* DTR | RTS */
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	for (int spins = 0; !(inb(COM1 + 5) & 0x20) && spins < 100000; spins++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}
