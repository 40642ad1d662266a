/*
 * The vDSO of POSIX processes (man 7 vdso): the clocks without a system
 * call. Linked as a small shared object (vdso.lds, vdso.map), mapped by
 * the server into every process (vdso_map.c) and named by
 * AT_SYSINFO_EHDR; glibc and musl find these functions by name and
 * version (LINUX_2.6) and call them instead of the system calls.
 *
 * CLOCK_REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME and the COARSE ones
 * are the kernel's clock read from the TSC with the kernel's own function
 * (clock_from_tsc, uapi/clock.h) and parameters (the data page just below
 * the image), so a reading equals what the system call would have
 * returned at that moment: never earlier than one taken before it. Other
 * clocks (CPU time) go to the system call. Position-independent, no
 * relocations, no writable data; results as the system calls give them
 * (0 or -errno).
 */
#include <stddef.h>
#include <stdint.h>

#include "vdso/vdso_data.h"

#define CLOCK_REALTIME          0
#define CLOCK_MONOTONIC         1
#define CLOCK_MONOTONIC_RAW     4
#define CLOCK_REALTIME_COARSE   5
#define CLOCK_MONOTONIC_COARSE  6
#define CLOCK_BOOTTIME          7

#define NR_gettimeofday   96
#define NR_time           201
#define NR_clock_gettime  228
#define NR_clock_getres   229

#define NS_PER_S 1000000000ULL

struct timespec_abi { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_abi { int64_t tv_sec; int64_t tv_usec; };
struct timezone_abi { int tz_minuteswest; int tz_dsttime; };

/* The image's own ELF header (the linker's symbol): the data page is the
 * page below it. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static const volatile struct vdso_data *vdso_data(void)
{
	return (const volatile struct vdso_data *)((uintptr_t)__ehdr_start - VDSO_DATA_SIZE);
}

static long syscall2(long nr, long a, long b)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

/* The TSC, not read before the instructions ahead of it (lfence). */
static uint64_t tsc_read(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

/* The clock id's time in nanoseconds into *ns: 1, or 0 for a clock not
 * read here. */
static int clock_ns(long id, uint64_t *ns)
{
	const volatile struct vdso_data *d = vdso_data();
	uint32_t seq;
	uint64_t t;

	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC && id != CLOCK_MONOTONIC_RAW &&
	    id != CLOCK_REALTIME_COARSE && id != CLOCK_MONOTONIC_COARSE && id != CLOCK_BOOTTIME)
		return 0;
	do {
		while ((seq = d->seq) & 1)
			__asm__ volatile("pause");
		__asm__ volatile("" ::: "memory");
		struct clock_params p = {
			.tsc_base = d->clock.tsc_base, .mult = d->clock.mult,
		};
		int64_t offset = d->realtime_offset;
		t = clock_from_tsc(&p, tsc_read());
		if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)
			t += (uint64_t)offset;
		__asm__ volatile("" ::: "memory");
	} while (d->seq != seq);
	*ns = t;
	return 1;
}

int __vdso_clock_gettime(long id, struct timespec_abi *ts)
{
	uint64_t ns;

	if (!clock_ns(id, &ns))
		return (int)syscall2(NR_clock_gettime, id, (long)ts);
	ts->tv_sec = (int64_t)(ns / NS_PER_S);
	ts->tv_nsec = (int64_t)(ns % NS_PER_S);
	return 0;
}

/* As the system call: 1 ns for the clocks read from the TSC, the timer
 * tick for the COARSE ones (what Linux promises for them), the system
 * call for the rest. res may be NULL. */
int __vdso_clock_getres(long id, struct timespec_abi *res)
{
	uint64_t ns;

	if (id == CLOCK_REALTIME_COARSE || id == CLOCK_MONOTONIC_COARSE)
		ns = vdso_data()->clock.tick_ns;
	else if (id == CLOCK_REALTIME || id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_RAW ||
		 id == CLOCK_BOOTTIME)
		ns = 1;
	else
		return (int)syscall2(NR_clock_getres, id, (long)res);
	if (res) {
		res->tv_sec = (int64_t)(ns / NS_PER_S);
		res->tv_nsec = (int64_t)(ns % NS_PER_S);
	}
	return 0;
}

int __vdso_gettimeofday(struct timeval_abi *tv, struct timezone_abi *tz)
{
	uint64_t ns;

	if (tv) {
		clock_ns(CLOCK_REALTIME, &ns);
		tv->tv_sec = (int64_t)(ns / NS_PER_S);
		tv->tv_usec = (int64_t)(ns % NS_PER_S / 1000);
	}
	if (tz) {
		/* settimeofday's zone (the clock itself is UTC), as the
		 * system call; read under the sequence lock too. */
		const volatile struct vdso_data *d = vdso_data();
		uint32_t seq;
		int west, dst;
		do {
			while ((seq = d->seq) & 1)
				__asm__ volatile("pause");
			__asm__ volatile("" ::: "memory");
			west = d->tz_minuteswest;
			dst = d->tz_dsttime;
			__asm__ volatile("" ::: "memory");
		} while (d->seq != seq);
		tz->tz_minuteswest = west;
		tz->tz_dsttime = dst;
	}
	return 0;
}

int64_t __vdso_time(int64_t *t)
{
	uint64_t ns;

	clock_ns(CLOCK_REALTIME, &ns);
	if (t)
		*t = (int64_t)(ns / NS_PER_S);
	return (int64_t)(ns / NS_PER_S);
}

/* One CPU: always CPU 0 of node 0. */
int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	(void)cache;
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

/* The names without the prefix, as Linux's vDSO has them too. */
int clock_gettime(long, struct timespec_abi *) __attribute__((weak, alias("__vdso_clock_gettime")));
int clock_getres(long, struct timespec_abi *) __attribute__((weak, alias("__vdso_clock_getres")));
int gettimeofday(struct timeval_abi *, struct timezone_abi *)
	__attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
