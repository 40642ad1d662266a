/*
 * The calendar time an MC146818-compatible real-time clock (the PC's
 * CMOS clock) holds, as its registers read (rtc.c), turned into seconds
 * since the Unix epoch. Pure: unit-tested on the host
 * (tests/unit/test_rtc_date.c). The registers are those of the
 * MC146818A data sheet (and the PC's CMOS map): seconds 0x00, minutes
 * 0x02, hours 0x04, day of month 0x07, month 0x08, year 0x09, status
 * register B 0x0B (bit 2 DM: binary, else BCD; bit 1 24/12: 24-hour,
 * else 12-hour with bit 7 of the hours PM), and the century at 0x32
 * (IBM PC/AT; ACPI's FADT names it the same by default).
 */
#ifndef MICA_POSIX_RTC_DATE_H
#define MICA_POSIX_RTC_DATE_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_SECONDS      0x00
#define RTC_MINUTES      0x02
#define RTC_HOURS        0x04
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH        0x08
#define RTC_YEAR         0x09
#define RTC_STATUS_A     0x0A
#define RTC_STATUS_B     0x0B
#define RTC_CENTURY      0x32

#define RTC_A_UIP        0x80   /* update in progress: the time registers change */
#define RTC_B_24HOUR     0x02
#define RTC_B_BINARY     0x04   /* DM: binary, else BCD */
#define RTC_HOURS_PM     0x80   /* 12-hour mode */

/* One reading of the clock's registers, as they are (BCD or binary). */
struct rtc_regs {
	uint8_t seconds, minutes, hours, day, month, year, century, status_b;
};

/* Seconds since 1970-01-01 00:00:00 UTC of the date and time in r (the
 * clock holds UTC, as QEMU's `-rtc base=utc` and Linux's default keep
 * it): >= 0, or -1 for registers that are not a valid date and time
 * (a BCD digit above 9, a field out of range, a date before 1970). The
 * century register is taken when it holds 19..99 (as BCD or binary
 * like the others), else the year is 20YY. */
int64_t rtc_epoch_seconds(const struct rtc_regs *r);

/* Days from 1970-01-01 to year-month-day (month 1..12, day 1..31,
 * year >= 1970; not checked here). */
int64_t rtc_days_since_epoch(unsigned year, unsigned month, unsigned day);

#endif
