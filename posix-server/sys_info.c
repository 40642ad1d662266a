/*
 * What a process can ask about the system: uname, the clocks (all from
 * the kernel's clock since boot: there is no calendar time yet, so
 * CLOCK_REALTIME starts at the epoch) and random bytes.
 */
#include "syscall.h"

long posix_uname(struct process *p, struct user_regs *r)
{
	static const struct linux_utsname u = {
		.sysname = "Linux", .nodename = "mica", .release = "6.1.0-mica",
		.version = "#1 Mica POSIX server", .machine = "x86_64", .domainname = "(none)",
	};

	return as_copy_out(&p->as, r->rdi, &u, sizeof(u)) < 0 ? -LINUX_EFAULT : 0;
}

long posix_clock_gettime(struct process *p, struct user_regs *r)
{
	uint64_t ns = (uint64_t)sys_clock();
	struct linux_timespec ts = { .sec = (int64_t)(ns / 1000000000), .nsec = (int64_t)(ns % 1000000000) };

	switch (r->rdi) {
	case LINUX_CLOCK_REALTIME: case LINUX_CLOCK_MONOTONIC: case LINUX_CLOCK_PROCESS_CPUTIME_ID:
	case LINUX_CLOCK_THREAD_CPUTIME_ID: case LINUX_CLOCK_MONOTONIC_RAW:
	case LINUX_CLOCK_REALTIME_COARSE: case LINUX_CLOCK_MONOTONIC_COARSE:
	case LINUX_CLOCK_BOOTTIME:
		break;
	default:
		return -LINUX_EINVAL;
	}
	return as_copy_out(&p->as, r->rsi, &ts, sizeof(ts)) < 0 ? -LINUX_EFAULT : 0;
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
