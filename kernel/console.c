/*
 * The serial console from user space: debug_write prints for anybody (the
 * kernel's log output, unprefixed); serial_read takes input and
 * serial_line sets the line shown under the log, for whoever holds the
 * serial port's IRQ (the console program).
 *
 * The held line: while it is on the screen, the cursor is on it and
 * nothing else is on its row. Output first erases it (CR, erase to end of
 * line); at the end of a write that ended its line the line is drawn
 * again (CR, text, erase the rest, cursor back to its column). Output
 * that stops mid-line leaves it hidden until a later write ends that line.
 */
#include "console.h"
#include "decode.h"
#include "irq.h"
#include "klog.h"
#include "layout.h"
#include "sched.h"
#include "serial.h"
#include "syscall.h"
#include "task.h"
#include "uaccess.h"

#include "lib/fmt.h"
#include "uapi/errors.h"

static struct {
	char text[SERIAL_LINE_MAX];
	unsigned len, cursor;           /* len 0: no line */
	const struct irq *owner;        /* who set it (not a reference) */
	bool shown;                     /* on the screen, cursor at `cursor` */
} line;
static bool mid_line;                   /* output began a row it has not ended */

static void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

static void line_erase(void)
{
	if (line.shown)
		serial_puts("\r\033[K");
	line.shown = false;
}

static void line_draw(void)
{
	char back[16];

	serial_putc('\r');
	for (unsigned i = 0; i < line.len; i++)
		serial_putc(line.text[i]);
	serial_puts("\033[K");
	if (line.cursor < line.len) {
		fmt_snprintf(back, sizeof(back), "\033[%uD", line.len - line.cursor);
		serial_puts(back);
	}
	line.shown = true;
}

void console_putc(char c)
{
	if (c == '\a') {               /* the bell: nothing moves, the line stays */
		serial_putc(c);
		return;
	}
	line_erase();
	serial_putc(c);
	mid_line = c != '\n';
}

void console_flush(void)
{
	if (line.len && !line.shown && !mid_line)
		line_draw();
}

void console_line_drop(const struct irq *irq)
{
	if (irq && line.owner != irq)
		return;
	line_erase();
	line.len = 0;
	line.owner = NULL;
}

long sys_debug_write(uint64_t buf, uint64_t len)
{
	char kbuf[256];
	long result = (long)len;

	if (len > 4096)
		REJECT(ERR_INVALID_ARG, "length %lu over 4096", len);
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < sizeof(kbuf) ? len - done : sizeof(kbuf);
		if (copy_from_user(current->task, kbuf, buf + done, n)) {
			result = reject(__func__, __LINE__, ERR_BAD_ADDRESS,
					"buffer %lx+%lu not readable", buf, len);
			break;
		}
		for (uint64_t i = 0; i < n; i++)
			console_putc(kbuf[i]);
		done += n;
	}
	console_flush();
	return result;
}

/* The caller's IRQ capability in slot, if it is the serial port's. */
static long decode_serial_irq(const char *fn, int line_nr, uint64_t slot, struct irq **out)
{
	struct cap *c;
	long err = decode_cap(fn, line_nr, slot, CAP_IRQ, CAP_RIGHT_READ, &c);

	if (err)
		return err;
	*out = (struct irq *)c->obj;
	if ((*out)->gsi != SERIAL_GSI)
		return reject(fn, line_nr, ERR_INVALID_ARG, "IRQ %u is not the serial port's (%u)",
			      (*out)->gsi, SERIAL_GSI);
	return 0;
}

long sys_serial_read(uint64_t slot, uint64_t buf, uint64_t len)
{
	struct irq *irq;
	char in[64];
	uint64_t n = 0;
	int ch;

	DECODE_OR_RETURN(decode_serial_irq(__func__, __LINE__, slot, &irq));
	if (len > sizeof(in))
		len = sizeof(in);
	/* Check the buffer before a byte is taken from the UART. */
	if (len && (buf >= USER_TOP || len > USER_TOP - buf ||
		    !user_page_ptr(current->task, buf, true) ||
		    !user_page_ptr(current->task, buf + len - 1, true)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not writable", buf, len);
	while (n < len && (ch = serial_getc()) >= 0)
		in[n++] = (char)ch;
	if (n && copy_to_user(current->task, buf, in, n))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not writable", buf, n);
	return (long)n;
}

long sys_serial_line(uint64_t slot, uint64_t buf, uint64_t len, uint64_t cursor)
{
	struct irq *irq;
	char text[SERIAL_LINE_MAX];

	DECODE_OR_RETURN(decode_serial_irq(__func__, __LINE__, slot, &irq));
	if (len > SERIAL_LINE_MAX)
		REJECT(ERR_INVALID_ARG, "line of %lu bytes, over %u", len, SERIAL_LINE_MAX);
	if (cursor > len)
		REJECT(ERR_INVALID_ARG, "cursor %lu past the line's end (%lu)", cursor, len);
	if (len && copy_from_user(current->task, text, buf, len))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not readable", buf, len);
	for (uint64_t i = 0; i < len; i++)
		if (text[i] < ' ' || text[i] > '~')
			REJECT(ERR_INVALID_ARG, "byte %lu of the line is %#x, not printable", i,
			       (unsigned char)text[i]);

	for (uint64_t i = 0; i < len; i++)
		line.text[i] = text[i];
	line.len = (unsigned)len;
	line.cursor = (unsigned)cursor;
	line.owner = len ? irq : NULL;
	if (line.shown && len) {
		line_draw();            /* over the old one */
	} else {
		line_erase();
		console_flush();
	}
	return 0;
}
