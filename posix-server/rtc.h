/*
 * The PC's CMOS real-time clock (MC146818A: index port 0x70, data port
 * 0x71), read once as the server starts to give CLOCK_REALTIME its start
 * (docs/posix.md, "Time"). The server reads it itself, as a driver reads
 * its device, with the ports the manifest gives it (`ioports
 * 0x70-0x71`): the kernel keeps only its own clock since boot. The clock
 * is never written (settimeofday changes the server's offset only, as
 * Linux's does until hwclock or NTP's 11-minute mode writes it back).
 */
#ifndef MICA_POSIX_RTC_H
#define MICA_POSIX_RTC_H

#include <stdint.h>

#include "proto/program.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71

/* The clock's time in seconds since the epoch into *sec: 0; -1 when the
 * program was not given ports 0x70-0x71 (pi), the clock stayed in an
 * update, or its registers are not a valid date (rtc_date.h); *why then
 * says which. */
int rtc_read(const struct program_info *pi, int64_t *sec, const char **why);

#endif
