/* The CMOS clock's registers as seconds since the epoch (rtc_date.h). */
#include "rtc_date.h"

static bool leap(unsigned year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned month_days(unsigned year, unsigned month)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[month - 1] + (month == 2 && leap(year));
}

int64_t rtc_days_since_epoch(unsigned year, unsigned month, unsigned day)
{
	int64_t days = 0;

	for (unsigned y = 1970; y < year; y++)
		days += leap(y) ? 366 : 365;
	for (unsigned m = 1; m < month; m++)
		days += month_days(year, m);
	return days + day - 1;
}

/* A register's value: binary as it is, or two BCD digits; -1 for a
 * BCD digit above 9. */
static int decode(uint8_t v, bool binary)
{
	if (binary)
		return v;
	if ((v & 0x0F) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0F);
}

int64_t rtc_epoch_seconds(const struct rtc_regs *r)
{
	bool binary = r->status_b & RTC_B_BINARY;
	bool pm = !(r->status_b & RTC_B_24HOUR) && (r->hours & RTC_HOURS_PM);
	int sec = decode(r->seconds, binary), min = decode(r->minutes, binary);
	int hour = decode(r->status_b & RTC_B_24HOUR ? r->hours : r->hours & ~RTC_HOURS_PM, binary);
	int day = decode(r->day, binary), month = decode(r->month, binary);
	int year = decode(r->year, binary), century = decode(r->century, binary);

	if (sec < 0 || min < 0 || hour < 0 || day < 0 || month < 0 || year < 0)
		return -1;
	if (!(r->status_b & RTC_B_24HOUR)) {
		/* 12-hour: 12 AM is midnight, 12 PM noon. */
		if (hour < 1 || hour > 12)
			return -1;
		hour = hour % 12 + (pm ? 12 : 0);
	}
	if (year > 99)
		return -1;
	year += century >= 19 && century <= 99 ? century * 100 : 2000;
	if (sec > 59 || min > 59 || hour > 23 || month < 1 || month > 12 || day < 1 ||
	    (unsigned)day > month_days((unsigned)year, (unsigned)month) || year < 1970)
		return -1;
	return ((rtc_days_since_epoch((unsigned)year, (unsigned)month, (unsigned)day) * 24 + hour) * 60 +
		min) * 60 + sec;
}
