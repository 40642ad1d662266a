/* IRQs as messages and I/O-port delegation, with the CMOS real-time
 * clock as the device (ports 0x70/0x71, ISA IRQ 8). */
#include "child.h"

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

static volatile long port_read_by_child;

static void read_rtc_port(uint64_t arg)
{
	uint8_t v;

	__asm__ volatile("inb $0x71, %0" : "=a"(v));
	port_read_by_child = v;
}

/* A task's open ports are its own: switched to from us (0x70-0x71 open),
 * a task with none gets #GP for them, and ours work again after. */
KTEST(ioports_stay_with_their_task_across_switches)
{
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
	rtc_read(0x0A);
	port_read_by_child = -1;
	struct child *c = child_start(read_rtc_port, 0, 256 * 1024, CHILD_STOP, true);
	KCHECK(c);
	KCHECK(child_wait(c));
	KCHECK(c->stopped);
	KEXPECT(c->vector, 13);
	KEXPECT(port_read_by_child, -1);
	child_destroy(c);
	rtc_read(0x0A);         /* a #GP here would stop the test program */
}

/* Ports closed again: the bitmap goes with the last open port (its 8 KiB
 * of quota back), and ports are open again after a new ioport_map. */
KTEST(ioport_close_frees_the_bitmap)
{
	KEXPECT(sys_ioport_close(0x70, 0), -ERR_RANGE);
	KEXPECT(sys_ioport_close(0xFFFF, 2), -ERR_RANGE);
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x80, 1), 0);
	uint64_t used = ktest_info().quota_used;
	KEXPECT(sys_ioport_close(0x70, 2), 0);
	KEXPECT(ktest_info().quota_used, used);         /* 0x80 still open */
	KEXPECT(sys_ioport_close(0, 0x10000), 0);
	KEXPECT(ktest_info().quota_used, used - 8192);
	KEXPECT(sys_ioport_close(0x70, 2), 0);          /* none open: nothing to do */
	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
	KEXPECT(ktest_info().quota_used, used);
	rtc_read(0x0A);         /* a #GP here would stop the test program */
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

/*
 * A driver killed while its level-triggered line is masked awaiting its
 * acknowledgement. The RTC (IOAPIC input 8, claimed level-triggered here)
 * keeps its interrupt line high until register C is read, like a PCI
 * device nobody serviced.
 */
static void rtc_periodic(bool on)
{
	if (on)
		rtc_write(0x0A, (rtc_read(0x0A) & 0xF0) | 6);   /* 1024 Hz */
	rtc_write(0x0B, on ? rtc_read(0x0B) | 0x40 : rtc_read(0x0B) & ~0x40);
	rtc_read(0x0C);
}

static volatile long dying_driver_bits;

/* The doomed driver, in its own task: slot 1 the IRQ, 2 our event
 * notification. It binds its own notification, takes one interrupt, and
 * neither services the device nor acknowledges. */
static void dying_driver(uint64_t unused)
{
	if (sys_obj_create(CAP_NOTIFICATION, 3, 0) < 0 || sys_irq_bind(1, 3, 0x1) < 0)
		return;
	sys_notify_signal(2, 0x1);              /* bound */
	dying_driver_bits = sys_notify_wait(3, 0);
	sys_notify_signal(2, 0x2);              /* interrupted */
	sys_notify_wait(3, 0);                  /* forever: the line stays masked */
}

/* Start the dying driver with irq; returns it once it took an interrupt
 * (the RTC is running then). */
static struct child *start_dying_driver(cap_slot_t irq, bool move, cap_slot_t ev)
{
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);

	if (!c)
		return NULL;
	dying_driver_bits = 0;
	long err = move ? sys_cap_move(irq, c->task, 1) : child_give(c, irq, 1, CAP_RIGHTS_ALL);
	if (err < 0 || child_give(c, ev, 2, CAP_RIGHTS_ALL) < 0 || child_run(c, dying_driver, 0) < 0 ||
	    ktest_wait(ev, 2000) != 0x1) {
		child_destroy(c);
		return NULL;
	}
	rtc_periodic(true);
	if (ktest_wait(ev, 2000) != 0x2 || dying_driver_bits != 0x1) {
		child_destroy(c);
		return NULL;
	}
	return c;
}

KTEST(irq_unacknowledged_line_reaches_the_next_driver)
{
	cap_slot_t irq = ktest_slot(), ev = ktest_create(CAP_NOTIFICATION);
	cap_slot_t n = ktest_create(CAP_NOTIFICATION);

	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8 | IRQ_FLAG_LEVEL, irq), 0);
	struct child *c = start_dying_driver(irq, false, ev);
	KCHECK(c);
	/* It died with the line masked and its interrupt unacknowledged;
	 * the device still asserts it. The next instance binds the same IRQ
	 * (init keeps its capability across restarts) and gets it at once. */
	child_destroy(c);
	KEXPECT(sys_irq_bind(irq, n, 0x2), 0);
	long bits = ktest_wait(n, 500);
	rtc_read(0x0C);
	KEXPECT(sys_irq_ack(irq), 0);
	/* And the one after that, as a working driver would. */
	long again = ktest_wait(n, 500);
	rtc_periodic(false);
	KEXPECT(sys_irq_ack(irq), 0);
	KEXPECT(sys_cap_delete(irq), 0);
	sys_cap_delete(ev);
	sys_cap_delete(n);
	KEXPECT(bits, 0x2);
	KEXPECT(again, 0x2);
}

/* Two owners share the line; the other one dies without acknowledging.
 * keep: we keep a capability to its IRQ (as init does across restarts),
 * so only its notification dies with it; else its IRQ object goes too. */
static void shared_line_with_dead_owner(bool keep)
{
	cap_slot_t mine = ktest_slot(), theirs = ktest_slot();
	cap_slot_t ev = ktest_create(CAP_NOTIFICATION), n = ktest_create(CAP_NOTIFICATION);

	KEXPECT(sys_ioport_map(ROOT_SLOT_IOPORTS, 0x70, 2), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8 | IRQ_FLAG_LEVEL, mine), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8 | IRQ_FLAG_LEVEL, theirs), 0);
	KEXPECT(sys_irq_bind(mine, n, 0x2), 0);
	struct child *c = start_dying_driver(theirs, !keep, ev);
	KCHECK(c);
	long first = ktest_wait(n, 500);
	rtc_read(0x0C);                         /* we service "our" device */
	KEXPECT(sys_irq_ack(mine), 0);
	/* The line stays masked: the other owner has not acknowledged. */
	long held = ktest_wait(n, 50);
	child_destroy(c);
	long after = ktest_wait(n, 500);      /* its death unmasks the line */
	rtc_read(0x0C);
	KEXPECT(sys_irq_ack(mine), 0);
	long again = ktest_wait(n, 500);
	rtc_periodic(false);
	KEXPECT(sys_irq_ack(mine), 0);
	KEXPECT(sys_cap_delete(mine), 0);
	if (keep)
		KEXPECT(sys_cap_delete(theirs), 0);
	slot_free(theirs);
	sys_cap_delete(ev);
	sys_cap_delete(n);
	KEXPECT(first, 0x2);
	KEXPECT(held, KTEST_TIMED_OUT);
	KEXPECT(after, 0x2);
	KEXPECT(again, 0x2);
	/* The input is free again. */
	cap_slot_t edge = ktest_slot();
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, edge), 0);
	KEXPECT(sys_cap_delete(edge), 0);
	slot_free(edge);
}

KTEST(irq_shared_line_survives_a_dead_owner)
{
	shared_line_with_dead_owner(false);
}

KTEST(irq_shared_line_survives_a_dead_owners_notification)
{
	shared_line_with_dead_owner(true);
}

/* Message-signalled IRQs (IRQ_FLAG_MSI): the message to program, the
 * vector range, the limit, and the vector freed with the object. */
KTEST(irq_msi_create_checks)
{
	cap_slot_t s = ktest_slot(), n = ktest_create(CAP_NOTIFICATION);
	char buf[8];

	KEXPECT(sys_irq_create(ROOT_SLOT_IOPORTS, IRQ_FLAG_MSI, s), -ERR_WRONG_TYPE);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI | 8, s), -ERR_INVALID_ARG);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI | IRQ_FLAG_LEVEL, s),
		-ERR_INVALID_ARG);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, ROOT_SLOT_TASK),
		-ERR_SLOT_IN_USE);
	long r = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s);
	KCHECK(r > 0);
	KEXPECT(msi_address(r), 0xFEE00000u);           /* the boot CPU, APIC ID 0 */
	KCHECK(msi_data(r) >= 0x40 && msi_data(r) < 0x40 + IRQ_MSI_MAX);
	KEXPECT(sys_irq_bind(s, n, 0x8), 0);
	KEXPECT(sys_irq_ack(s), 0);                     /* nothing to re-arm */
	KCHECK(sys_notify_wait(n | IPC_NONBLOCK, 0) <= 0);  /* nothing arrived */
	/* It is no IOAPIC input: not the serial port's either. */
	KEXPECT(sys_serial_read(s, (uint64_t)buf, sizeof(buf)), -ERR_INVALID_ARG);
	KEXPECT(sys_irq_bind(s, CAP_SLOT_NONE, 0), 0);
	/* Destroyed, its vector is the first free one again. */
	KEXPECT(sys_cap_delete(s), 0);
	long again = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s);
	KEXPECT(msi_data(again), msi_data(r));
	KEXPECT(sys_cap_delete(s), 0);
	sys_cap_delete(n);
	slot_free(s);
}

KTEST(irq_msi_vectors_are_bounded)
{
	cap_slot_t s[IRQ_MSI_MAX + 1];
	uint64_t seen = 0;

	for (int i = 0; i < IRQ_MSI_MAX; i++) {
		s[i] = ktest_slot();
		long r = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s[i]);
		KCHECK(r > 0);
		KCHECK(!(seen & 1UL << (msi_data(r) - 0x40)));  /* each its own vector */
		seen |= 1UL << (msi_data(r) - 0x40);
	}
	s[IRQ_MSI_MAX] = ktest_slot();
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s[IRQ_MSI_MAX]), -ERR_BUSY);
	/* A task dying gives its vectors back: one destroyed here, by object. */
	KEXPECT(sys_obj_destroy(s[5]), 0);
	KEXPECT(sys_cap_delete(s[5]), 0);
	long r = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s[IRQ_MSI_MAX]);
	KCHECK(r > 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s[5]), -ERR_BUSY);
	for (int i = 0; i <= IRQ_MSI_MAX; i++)
		if (i != 5)
			KEXPECT(sys_cap_delete(s[i]), 0);
	for (int i = 0; i <= IRQ_MSI_MAX; i++)
		slot_free(s[i]);
}

static volatile long msi_taken_by_child;

/* Takes every MSI vector it can (IRQ control in slot 5), binds the last
 * to a notification of its own, and ends (its task is destroyed after). */
static void msi_hoarder(uint64_t arg)
{
	long n = 0;

	(void)arg;
	if (sys_obj_create(CAP_NOTIFICATION, 6, 0) < 0)
		return;
	while (n < IRQ_MSI_MAX + 4 && sys_irq_create(5, IRQ_FLAG_MSI, (cap_slot_t)(8 + n)) > 0)
		n++;
	if (n > 0 && sys_irq_bind((cap_slot_t)(8 + n - 1), 6, 0x1) < 0)
		n = -1;
	msi_taken_by_child = n;
}

/* A task holding MSI objects is destroyed: every vector is free again. */
KTEST(irq_msi_vectors_freed_with_their_task)
{
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);

	KCHECK(c);
	msi_taken_by_child = -2;
	KEXPECT(child_give(c, ROOT_SLOT_IRQ_CONTROL, 5, CAP_RIGHTS_ALL), 0);
	KEXPECT(child_run(c, msi_hoarder, 0), 0);
	KCHECK(child_wait(c));
	KEXPECT(msi_taken_by_child, IRQ_MSI_MAX);
	cap_slot_t s = ktest_slot();
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, s), -ERR_BUSY);
	child_destroy(c);
	cap_slot_t all[IRQ_MSI_MAX];
	for (int i = 0; i < IRQ_MSI_MAX; i++) {
		all[i] = ktest_slot();
		KCHECK(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, all[i]) > 0);
	}
	for (int i = 0; i < IRQ_MSI_MAX; i++) {
		KEXPECT(sys_cap_delete(all[i]), 0);
		slot_free(all[i]);
	}
	slot_free(s);
}
