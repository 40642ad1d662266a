/* The CMOS clock's registers as seconds since the epoch
 * (posix-server/rtc_date.c); expected values from Python's
 * calendar.timegm. */
#include "rtc_date.h"
#include "unit.h"

#define BCD_24 RTC_B_24HOUR
#define BIN_24 (RTC_B_24HOUR | RTC_B_BINARY)

TEST(rtc_bcd_24_hour_with_century_register)
{
	struct rtc_regs r = { .seconds = 0x42, .minutes = 0x27, .hours = 0x16, .day = 0x01,
			      .month = 0x12, .year = 0x26, .century = 0x20, .status_b = BCD_24 };

	CHECK_EQ(rtc_epoch_seconds(&r), 1796142462);
	r.century = 0x19;       /* 1926: before the epoch */
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = (struct rtc_regs){ .seconds = 0x01, .minutes = 0x05, .hours = 0x00, .day = 0x15,
			       .month = 0x06, .year = 0x99, .century = 0x19, .status_b = BCD_24 };
	CHECK_EQ(rtc_epoch_seconds(&r), 929405101);
}

TEST(rtc_binary_and_no_century_register_is_20yy)
{
	struct rtc_regs r = { .seconds = 0, .minutes = 0, .hours = 12, .day = 29, .month = 2,
			      .year = 0, .century = 0xFF, .status_b = BIN_24 };

	CHECK_EQ(rtc_epoch_seconds(&r), 951825600);     /* 2000-02-29: a leap day */
	r = (struct rtc_regs){ .seconds = 59, .minutes = 59, .hours = 23, .day = 31, .month = 12,
			       .year = 24, .century = 0, .status_b = BIN_24 };
	CHECK_EQ(rtc_epoch_seconds(&r), 1735689599);
	r = (struct rtc_regs){ .seconds = 0, .minutes = 30, .hours = 0, .day = 31, .month = 12,
			       .year = 99, .century = 20, .status_b = BIN_24 };
	CHECK_EQ(rtc_epoch_seconds(&r), 4102360200);
}

TEST(rtc_12_hour_mode_midnight_and_noon)
{
	/* 12 AM is 00:mm, 12 PM 12:mm, 4 PM 16:mm. */
	struct rtc_regs r = { .seconds = 0x42, .minutes = 0x27, .hours = 0x12, .day = 0x01,
			      .month = 0x12, .year = 0x26, .century = 0x20, .status_b = 0 };

	CHECK_EQ(rtc_epoch_seconds(&r), 1796084862);
	r.hours = 0x12 | RTC_HOURS_PM;
	CHECK_EQ(rtc_epoch_seconds(&r), 1796128062);
	r.hours = 0x04 | RTC_HOURS_PM;
	CHECK_EQ(rtc_epoch_seconds(&r), 1796142462);
	r.status_b = RTC_B_BINARY;      /* binary 12-hour */
	r = (struct rtc_regs){ .seconds = 42, .minutes = 27, .hours = 4 | RTC_HOURS_PM, .day = 1,
			       .month = 12, .year = 26, .status_b = RTC_B_BINARY };
	CHECK_EQ(rtc_epoch_seconds(&r), 1796142462);
	r.hours = 0;            /* no hour 0 in 12-hour mode */
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r.hours = 13;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
}

TEST(rtc_invalid_registers_are_refused)
{
	const struct rtc_regs good = { .seconds = 0x42, .minutes = 0x27, .hours = 0x16, .day = 0x01,
				       .month = 0x12, .year = 0x26, .century = 0x20,
				       .status_b = BCD_24 };
	struct rtc_regs r = good;

	CHECK_EQ(rtc_epoch_seconds(&r), 1796142462);
	r.seconds = 0x4A;       /* not a BCD digit */
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.seconds = 0x60;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.minutes = 0x60;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.hours = 0x24;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.month = 0x13;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.month = 0x00;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.day = 0x00;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.month = 0x02; r.day = 0x29;         /* 2026 is not a leap year */
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.month = 0x04; r.day = 0x31;
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.status_b = BIN_24; r.year = 100;    /* binary year past 99 */
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
	r = good; r.status_b = BIN_24;                  /* BCD bytes read as binary: 0x42 s */
	CHECK_EQ(rtc_epoch_seconds(&r), (uint64_t)-1);
}

TEST(rtc_days_since_epoch_across_leap_years)
{
	CHECK_EQ(rtc_days_since_epoch(1970, 1, 1), 0);
	CHECK_EQ(rtc_days_since_epoch(1972, 3, 1), 790);        /* 1972-02-29 counted */
	CHECK_EQ(rtc_days_since_epoch(2100, 3, 1), 47541);      /* 2100 is not a leap year */
}
