/* IRQs as messages and I/O-port delegation, with the CMOS real-time
 * clock as the device (ports 0x70/0x71, ISA IRQ 8). */
#include "ktest.h"

#include "lib/io.h"

static uint8_t rtc_read(uint8_t reg)
{
	outb(0x70, 0x80 | reg);
	return inb(0x71);
}

static void rtc_write(uint8_t reg, uint8_t v)
{
	outb(0x70, 0x80 | reg);
	outb(0x71, v);
}

KTEST(ioport_map_checks)
{
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x3F8, 1), -ERR_RANGE);    /* the kernel's console */
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x20, 2), -ERR_RANGE);     /* the PIC */
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0xFFFF, 2), -ERR_RANGE);
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 0), -ERR_RANGE);
	KEXPECT(sys_ioport_map(ROOT_SLOT_MMIO, 0x70, 2), -ERR_WRONG_TYPE);
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
}

KTEST(irq_create_checks)
{
	cap_slot_t s = ktest_slot();

	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 99, s), -ERR_BUSY);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8 | (1UL << 40), s), -ERR_INVALID_ARG);
	KEXPECT(sys_irq_create(ROOT_SLOT_IOPORTS, 8, s), -ERR_WRONG_TYPE);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, ROOT_SLOT_TASK), -ERR_SLOT_IN_USE);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, s), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, ktest_slot()), -ERR_BUSY);   /* taken */
	KEXPECT(sys_irq_bind(s, ROOT_SLOT_TASK, 1), -ERR_WRONG_TYPE);
	KEXPECT(sys_cap_delete(s), 0);                                               /* released */
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, s), 0);
	KEXPECT(sys_cap_delete(s), 0);
	slot_free(s);
}

KTEST(irq_level_lines_are_shared)
{
	/* IOAPIC input 10: nothing of QEMU's pc machine is on it by default. */
	cap_slot_t a = ktest_slot(), b = ktest_slot(), c = ktest_slot();
	cap_slot_t n = ktest_create(CAP_NOTIFICATION);

	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 10 | IRQ_FLAG_LEVEL, a), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 10 | IRQ_FLAG_LEVEL, b), 0);
	/* Not with an edge-triggered or opposite-polarity owner. */
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 10, c), -ERR_BUSY);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 10 | IRQ_FLAG_LEVEL | IRQ_FLAG_ACTIVE_LOW, c),
		-ERR_BUSY);
	KEXPECT(sys_irq_bind(a, n, 1), 0);
	KEXPECT(sys_irq_ack(a), 0);
	/* Deleting the notification unbinds it; deleting one owner leaves
	 * the other. */
	KEXPECT(sys_cap_delete(n), 0);
	KEXPECT(sys_cap_delete(a), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 10, c), -ERR_BUSY);
	KEXPECT(sys_cap_delete(b), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 10, c), 0);   /* free again: edge is fine */
	KEXPECT(sys_cap_delete(c), 0);
	slot_free(a);
	slot_free(b);
	slot_free(c);
}

KTEST(irq_delivered_as_notification)
{
	cap_slot_t irq = ktest_slot(), n = ktest_create(CAP_NOTIFICATION);

	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, irq), 0);
	KEXPECT(sys_irq_bind(irq, n, 0x4), 0);
	/* Periodic interrupt at 1024 Hz (rate 6). */
	rtc_write(0x0A, (rtc_read(0x0A) & 0xF0) | 6);
	rtc_write(0x0B, rtc_read(0x0B) | 0x40);
	rtc_read(0x0C);
	int seen = 0;
	for (int i = 0; i < 3; i++) {
		long bits = sys_notify_wait(n, 0);
		if (bits == 0x4)
			seen++;
		rtc_read(0x0C);                 /* acknowledge the device */
		KEXPECT(sys_irq_ack(irq), 0);   /* and re-enable the line */
	}
	rtc_write(0x0B, rtc_read(0x0B) & ~0x40);
	rtc_read(0x0C);
	KEXPECT(seen, 3);
	KEXPECT(sys_irq_bind(irq, CAP_SLOT_NONE, 0), 0);
	sys_cap_delete(irq);
	sys_cap_delete(n);
}
