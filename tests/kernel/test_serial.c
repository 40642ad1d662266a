/* The serial console's calls for the holder of its IRQ: serial_read and
 * serial_line check their capability, buffer and line before acting. */
#include "ktest.h"

KTEST(serial_calls_check_their_arguments)
{
	cap_slot_t serial = ktest_slot(), rtc = ktest_slot(), readonly = ktest_slot();
	char buf[8];
	static const char prompt[] = "ktest> typed";
	char too_long[SERIAL_LINE_MAX + 1];

	memset(too_long, 'x', sizeof(too_long));
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, SERIAL_GSI, serial), 0);
	KEXPECT(sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, rtc), 0);
	KEXPECT(sys_cap_copy(serial, CAP_SLOT_SELF, readonly, CAP_RIGHT_WRITE, 0), 0);

	/* Only the serial port's IRQ, with the right to read it. */
	KEXPECT(sys_serial_read(rtc, (uint64_t)buf, sizeof(buf)), -ERR_INVALID_ARG);
	KEXPECT(sys_serial_line(rtc, (uint64_t)prompt, 6, 6), -ERR_INVALID_ARG);
	KEXPECT(sys_serial_line(ROOT_SLOT_TASK, (uint64_t)prompt, 6, 6), -ERR_WRONG_TYPE);
	KEXPECT(sys_serial_line(readonly, (uint64_t)prompt, 6, 6), -ERR_NO_RIGHTS);
	KEXPECT(sys_serial_read(serial, 0x1000, sizeof(buf)), -ERR_BAD_ADDRESS);

	/* The line: bounded, a cursor inside it, readable and printable. */
	KEXPECT(sys_serial_line(serial, (uint64_t)too_long, sizeof(too_long), 0), -ERR_INVALID_ARG);
	KEXPECT(sys_serial_line(serial, (uint64_t)prompt, 6, 7), -ERR_INVALID_ARG);
	KEXPECT(sys_serial_line(serial, 0x1000, 6, 0), -ERR_BAD_ADDRESS);
	KEXPECT(sys_serial_line(serial, 0xFFFF800000000000UL, 6, 0), -ERR_BAD_ADDRESS);
	KEXPECT(sys_serial_line(serial, (uint64_t)"ab\033[2J", 6, 0), -ERR_INVALID_ARG);
	KEXPECT(sys_serial_line(serial, (uint64_t)"ab\n", 3, 0), -ERR_INVALID_ARG);

	/* Shown, moved, taken away; then shown again and dropped with the
	 * IRQ that set it (so the log below carries no stale line). */
	KEXPECT(sys_serial_line(serial, (uint64_t)too_long, SERIAL_LINE_MAX, SERIAL_LINE_MAX), 0);
	KEXPECT(sys_serial_line(serial, (uint64_t)prompt, sizeof(prompt) - 1, 3), 0);
	KEXPECT(sys_serial_line(serial, 0, 0, 0), 0);
	KEXPECT(sys_serial_line(serial, (uint64_t)prompt, sizeof(prompt) - 1, 0), 0);
	KEXPECT(sys_cap_delete(readonly), 0);
	KEXPECT(sys_cap_delete(serial), 0);
	KEXPECT(sys_cap_delete(rtc), 0);
	slot_free(serial);
	slot_free(rtc);
	slot_free(readonly);
}
