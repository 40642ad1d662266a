/*
 * The vDSO's data page (vvar): one page the POSIX server writes and every
 * process maps read-only just below the vDSO's image (layout.h:
 * POSIX_VVAR_BASE, POSIX_VDSO_BASE). Shared by the server (vdso_map.c)
 * and the vDSO's code (vdso.c). docs/posix.md, "The vDSO".
 */
#ifndef MICA_POSIX_VDSO_DATA_H
#define MICA_POSIX_VDSO_DATA_H

#include <stdint.h>

#include "uapi/clock.h"

#define VDSO_DATA_SIZE 4096UL

struct vdso_data {
	/* Even while the fields below are stable; the server makes it odd
	 * before changing them and even again after (a sequence lock:
	 * readers retry when it was odd or changed across their read). */
	uint32_t seq;
	uint32_t reserved;
	struct clock_params clock;      /* the kernel's (clock_params) */
	int64_t realtime_offset;        /* CLOCK_REALTIME minus the kernel clock, ns */
	int32_t tz_minuteswest;         /* settimeofday's zone, gettimeofday gives it */
	int32_t tz_dsttime;
};

#endif
