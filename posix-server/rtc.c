/* The CMOS clock read once at start (rtc.h). */
#include "rtc.h"
#include "rtc_date.h"

#include "lib/io.h"

/* Polls of the update-in-progress flag before giving up: the flag stays
 * set for at most 2 ms of each second (MC146818A data sheet, "Update
 * cycle"), far below this many port reads. */
#define RTC_UIP_POLLS 200000
#define RTC_READ_TRIES 8

static uint8_t cmos_read(uint8_t reg)
{
	outb(RTC_PORT_INDEX, reg);      /* bit 7 clear: NMIs stay enabled */
	return inb(RTC_PORT_DATA);
}

/* Wait until no update is in progress: then the time registers hold
 * still for at least 244 us. False when the flag never cleared. */
static bool not_updating(void)
{
	for (unsigned i = 0; i < RTC_UIP_POLLS; i++)
		if (!(cmos_read(RTC_STATUS_A) & RTC_A_UIP))
			return true;
	return false;
}

static bool read_regs(struct rtc_regs *r)
{
	if (!not_updating())
		return false;
	r->seconds = cmos_read(RTC_SECONDS);
	r->minutes = cmos_read(RTC_MINUTES);
	r->hours = cmos_read(RTC_HOURS);
	r->day = cmos_read(RTC_DAY_OF_MONTH);
	r->month = cmos_read(RTC_MONTH);
	r->year = cmos_read(RTC_YEAR);
	r->century = cmos_read(RTC_CENTURY);
	r->status_b = cmos_read(RTC_STATUS_B);
	return true;
}

static bool same(const struct rtc_regs *a, const struct rtc_regs *b)
{
	return a->seconds == b->seconds && a->minutes == b->minutes && a->hours == b->hours &&
	       a->day == b->day && a->month == b->month && a->year == b->year &&
	       a->century == b->century && a->status_b == b->status_b;
}

int rtc_read(const struct program_info *pi, int64_t *sec, const char **why)
{
	struct rtc_regs a, b;

	if (pi->ioport_first > RTC_PORT_INDEX ||
	    pi->ioport_first + pi->ioport_count < RTC_PORT_DATA + 1) {
		*why = "not given its ports (manifest: ioports 0x70-0x71)";
		return -1;
	}
	/* Read until two readings in a row agree: an update between the
	 * wait and the reads would otherwise mix two seconds. */
	for (unsigned i = 0; i < RTC_READ_TRIES; i++) {
		if (!read_regs(&a) || !read_regs(&b)) {
			*why = "update in progress never ended";
			return -1;
		}
		if (!same(&a, &b))
			continue;
		if ((*sec = rtc_epoch_seconds(&a)) < 0) {
			*why = "its registers are not a valid date";
			return -1;
		}
		return 0;
	}
	*why = "readings never agreed";
	return -1;
}
