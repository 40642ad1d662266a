/*
 * The serial console from user space: debug_write prints for anybody (the
 * kernel's log output, unprefixed), serial_read takes input for whoever
 * holds the serial port's IRQ.
 */
#include "decode.h"
#include "irq.h"
#include "klog.h"
#include "layout.h"
#include "sched.h"
#include "serial.h"
#include "syscall.h"
#include "task.h"
#include "uaccess.h"

#include "uapi/errors.h"

long sys_debug_write(uint64_t buf, uint64_t len)
{
	char kbuf[256];

	if (len > 4096)
		REJECT(ERR_INVALID_ARG, "length %lu over 4096", len);
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < sizeof(kbuf) ? len - done : sizeof(kbuf);
		if (copy_from_user(current->task, kbuf, buf + done, n))
			REJECT(ERR_BAD_ADDRESS, "buffer %lx+%lu not readable", buf, len);
		for (uint64_t i = 0; i < n; i++)
			kprintf("%c", kbuf[i]);
		done += n;
	}
	return (long)len;
}

long sys_serial_read(uint64_t slot, uint64_t buf, uint64_t len)
{
	struct irq *irq;
	char in[64];
	uint64_t n = 0;
	int ch;

	LOOKUP_OBJECT(irq, slot, CAP_IRQ, CAP_RIGHT_READ);
	if (irq->gsi != SERIAL_GSI)
		REJECT(ERR_INVALID_ARG, "IRQ %u is not the serial port's (%u)", irq->gsi,
		       SERIAL_GSI);
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
