/* The vDSO's pages and where processes see them (vdso_map.h). */
#include "vdso_map.h"
#include "layout.h"
#include "vdso/vdso_data.h"

#include "lib/aspace.h"
#include "lib/mica.h"
#include "uapi/ipc.h"

#define VDSO_IMAGE_MAX (2 * POSIX_PAGE_SIZE)

/* The image (vdso/vdso_image.S): in the server's executable pages, as a
 * mapping that allows execution can only be given from one. */
extern const char vdso_image[], vdso_image_end[];

/* The data page: the server's, written here (so present) before any
 * process maps it. */
static uint8_t vdso_page[VDSO_DATA_SIZE] __attribute__((aligned(4096)));
static uint64_t image_size;     /* bytes mapped: the image, page-rounded */

long vdso_init(void)
{
	struct vdso_data *d = (struct vdso_data *)vdso_page;
	uint64_t size = (uint64_t)(vdso_image_end - vdso_image);
	struct clock_params clock;
	long err;

	if (size == 0 || size > VDSO_IMAGE_MAX || (uint64_t)vdso_image % POSIX_PAGE_SIZE)
		return -ERR_INVALID_ARG;
	if ((err = sys_clock_params((uint64_t)&clock)) < 0)
		return err;
	d->clock = clock;
	d->realtime_offset = 0;         /* until vdso_set_realtime_offset (rtc.c's reading) */
	d->tz_minuteswest = 0;
	d->tz_dsttime = 0;
	d->seq = 0;
	image_size = (size + POSIX_PAGE_SIZE - 1) & ~(POSIX_PAGE_SIZE - 1);
	/* Touch the image's pages: the kernel maps to processes only pages
	 * present in the server. */
	for (uint64_t off = 0; off < image_size; off += POSIX_PAGE_SIZE)
		(void)*(const volatile char *)(vdso_image + off);
	return 0;
}

long vdso_map(struct aspace *as)
{
	long err = as_add(as, POSIX_VVAR_BASE, VDSO_DATA_SIZE, IPC_MAP_READ, AS_SHARED,
			  (uint64_t)vdso_page, false);

	if (err)
		return err;
	return as_add(as, POSIX_VDSO_BASE, image_size, IPC_MAP_READ | IPC_MAP_EXEC, AS_SHARED,
		      (uint64_t)vdso_image, false);
}

bool vdso_overlaps(uint64_t va, uint64_t len)
{
	return va < POSIX_VDSO_BASE + image_size && POSIX_VVAR_BASE < va + len;
}

void vdso_set_realtime_offset(int64_t offset)
{
	volatile struct vdso_data *d = (volatile struct vdso_data *)vdso_page;

	/* The sequence lock (vdso_data.h): odd while the offset changes. x86
	 * keeps stores in order; the compiler is kept from moving them. */
	d->seq = d->seq + 1;
	__asm__ volatile("" ::: "memory");
	d->realtime_offset = offset;
	__asm__ volatile("" ::: "memory");
	d->seq = d->seq + 1;
}

void vdso_set_timezone(int32_t minuteswest, int32_t dsttime)
{
	volatile struct vdso_data *d = (volatile struct vdso_data *)vdso_page;

	d->seq = d->seq + 1;
	__asm__ volatile("" ::: "memory");
	d->tz_minuteswest = minuteswest;
	d->tz_dsttime = dsttime;
	__asm__ volatile("" ::: "memory");
	d->seq = d->seq + 1;
}

void vdso_timezone(int32_t *minuteswest, int32_t *dsttime)
{
	const struct vdso_data *d = (const struct vdso_data *)vdso_page;

	*minuteswest = d->tz_minuteswest;
	*dsttime = d->tz_dsttime;
}

int64_t vdso_realtime_offset(void)
{
	return ((const struct vdso_data *)vdso_page)->realtime_offset;
}

uint64_t vdso_tick_ns(void)
{
	return ((const struct vdso_data *)vdso_page)->clock.tick_ns;
}
