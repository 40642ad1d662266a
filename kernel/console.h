/*
 * The kernel's output to the serial console, all of it (klog, kprintf,
 * debug_write), and the line the console program shows under it
 * (serial_line, console.c): output that comes while that line is on the
 * screen first erases it; when a write ends at a line boundary the line
 * (its text and cursor) is drawn again below. docs/kernel.md, console.
 */
#ifndef MICA_CONSOLE_H
#define MICA_CONSOLE_H

struct irq;

/* One character of output ('\n' is sent as CR LF). */
void console_putc(char c);
/* The end of one write: draw the held line again if the output ended
 * its line. */
void console_flush(void);
/* Forget the held line if irq set it (NULL: whoever did): the IRQ is
 * being destroyed, or the kernel panics. Erases it from the screen. */
void console_line_drop(const struct irq *irq);

#endif
