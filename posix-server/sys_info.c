/*
 * What a process can ask about the system: the clocks (all from
 * the kernel's clock since boot; CLOCK_REALTIME plus the vDSO's offset,
 * which realtime.c keeps and sets; the CPU-time clocks in cputime.c),
 * their resolutions, and random bytes (uname: sys_host.c).
 * The vDSO (vdso/) reads the same clocks without a system call.
 */
#include "clock.h"
#include "syscall.h"
#include "vdso_map.h"

/* The kernel clock's time for a clock id that is not a CPU-time clock:
 * true and *ns (REALTIME is the kernel clock plus the vDSO's offset, so
 * that the vDSO reads the same), or false. */
static bool system_clock(int64_t id, uint64_t *ns)
{
	switch (id) {
	case LINUX_CLOCK_REALTIME: case LINUX_CLOCK_REALTIME_COARSE:
		*ns = (uint64_t)sys_clock() + (uint64_t)vdso_realtime_offset();
		return true;
	case LINUX_CLOCK_MONOTONIC: case LINUX_CLOCK_MONOTONIC_RAW:
	case LINUX_CLOCK_MONOTONIC_COARSE: case LINUX_CLOCK_BOOTTIME:
		*ns = (uint64_t)sys_clock();
		return true;
	}
	return false;
}

long posix_clock_gettime(struct process *p, struct user_regs *r)
{
	int64_t id = (int64_t)(int32_t)r->rdi;
	uint64_t ns;

	if (!system_clock(id, &ns)) {
		long err = cpu_clock(p, id, &ns);      /* cputime.c */
		if (err)
			return err;
	}
	struct linux_timespec ts = ns_timespec(ns);
	return as_copy_out(&p->as, r->rsi, &ts, sizeof(ts)) < 0 ? -LINUX_EFAULT : 0;
}

/* clock_getres(2): Linux's values, 1 ns for the clocks read from the TSC
 * (its high-resolution timers; the CPU-time clocks too), the timer tick
 * for the COARSE ones. A CPU-time clock of a process or thread that does
 * not exist is EINVAL, as clock_gettime says (glibc's
 * clock_getcpuclockid asks this way, res NULL). */
long posix_clock_getres(struct process *p, struct user_regs *r)
{
	int64_t id = (int64_t)(int32_t)r->rdi;
	uint64_t ns;

	if (id == LINUX_CLOCK_REALTIME_COARSE || id == LINUX_CLOCK_MONOTONIC_COARSE) {
		ns = vdso_tick_ns();
	} else if (system_clock(id, &ns)) {
		ns = 1;
	} else {
		long err = cpu_clock(p, id, &ns);
		if (err)
			return err;
		ns = 1;
	}
	struct linux_timespec ts = ns_timespec(ns);
	if (r->rsi && as_copy_out(&p->as, r->rsi, &ts, sizeof(ts)) < 0)
		return -LINUX_EFAULT;
	return 0;
}

/* time and gettimeofday: CLOCK_REALTIME's seconds (and microseconds),
 * for programs that do not use the vDSO. */
long posix_time(struct process *p, struct user_regs *r)
{
	uint64_t ns;

	system_clock(LINUX_CLOCK_REALTIME, &ns);
	int64_t sec = (int64_t)(ns / 1000000000);
	if (r->rdi && as_copy_out(&p->as, r->rdi, &sec, sizeof(sec)) < 0)
		return -LINUX_EFAULT;
	return sec;
}

long posix_gettimeofday(struct process *p, struct user_regs *r)
{
	uint64_t ns;

	system_clock(LINUX_CLOCK_REALTIME, &ns);
	struct linux_timeval tv = { (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000 / 1000) };
	struct linux_timezone zone;     /* settimeofday's (realtime.c) */

	vdso_timezone(&zone.minuteswest, &zone.dsttime);
	if (r->rdi && as_copy_out(&p->as, r->rdi, &tv, sizeof(tv)) < 0)
		return -LINUX_EFAULT;
	if (r->rsi && as_copy_out(&p->as, r->rsi, &zone, sizeof(zone)) < 0)
		return -LINUX_EFAULT;
	return 0;
}

long posix_getrandom(struct process *p, struct user_regs *r)
{
	uint8_t chunk[256];
	uint64_t buf = r->rdi, len = r->rsi, done = 0;

	if (r->rdx & ~7UL)
		return -LINUX_EINVAL;
	/* Linux gives at most 32 MiB - 1 a call. */
	if (len > (32UL << 20) - 1)
		len = (32UL << 20) - 1;
	while (done < len) {
		uint64_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		random_fill(chunk, n);
		if (as_copy_out(&p->as, buf + done, chunk, n) < 0)
			return done ? (long)done : -LINUX_EFAULT;
		done += n;
	}
	return (long)done;
}
