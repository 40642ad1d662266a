/*
 * The vDSO in POSIX processes (docs/posix.md, "The vDSO"): the image built
 * from vdso/ and its data page, kept by the server and mapped read-only
 * into every process's address space at POSIX_VVAR_BASE (data) and
 * POSIX_VDSO_BASE (image, AT_SYSINFO_EHDR).
 */
#ifndef MICA_POSIX_VDSO_MAP_H
#define MICA_POSIX_VDSO_MAP_H

#include <stdbool.h>
#include <stdint.h>

struct aspace;

/* Copy the image into the server's pages and write the data page from
 * the kernel's clock parameters (clock_params). 0, or a negative ERR_*
 * (the image does not fit, the kernel refused). Once, at start. */
long vdso_init(void);

/* Add the data page and the image to as (a new process's address space;
 * fork copies them with the other regions). 0, or as_add's errors. */
long vdso_map(struct aspace *as);

/* Whether [va, va + len) touches the data page or the image: they are
 * the server's pages, shared by every process, so never writable. */
bool vdso_overlaps(uint64_t va, uint64_t len);

/* CLOCK_REALTIME minus the kernel clock, nanoseconds (the same the vDSO
 * adds; >= 0: realtime is never set before the boot, as Linux refuses). */
int64_t vdso_realtime_offset(void);
/* Set it, for every process at once (the data page's sequence lock keeps
 * a reader from mixing the old and the new). */
void vdso_set_realtime_offset(int64_t offset);
/* settimeofday's zone (struct timezone), which gettimeofday gives back. */
void vdso_set_timezone(int32_t minuteswest, int32_t dsttime);
void vdso_timezone(int32_t *minuteswest, int32_t *dsttime);

/* The kernel's timer tick in nanoseconds (the COARSE clocks' resolution). */
uint64_t vdso_tick_ns(void);

#endif
