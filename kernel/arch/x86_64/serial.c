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
	outb(COM1 + 2, 0x07);   /* FIFO on, cleared, interrupt at each byte */
	outb(COM1 + 4, 0x0B);   /* DTR | RTS | OUT2 (the IRQ line) */
	outb(COM1 + 1, 0x01);   /* interrupt when data arrives: nobody gets
				   it until a task claims and binds SERIAL_GSI */
}

int serial_getc(void)
{
	if (!(inb(COM1 + 5) & 0x01))
		return -1;
	return inb(COM1);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	for (int spins = 0; !(inb(COM1 + 5) & 0x20) && spins < 100000; spins++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}
