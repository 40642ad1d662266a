/*
 * Kernel console log with levels. Output goes to the serial console.
 * The level threshold comes from the command line (loglevel=0..3).
 */
#ifndef MICA_KLOG_H
#define MICA_KLOG_H

#include "lib/ratelimit.h"

enum klog_level { KLOG_ERR = 0, KLOG_WARN = 1, KLOG_INFO = 2, KLOG_DEBUG = 3 };

extern int klog_threshold;

void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Unconditional output, no prefix (banners, register dumps). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line a user task can make the kernel repeat (its faults, its refused
 * calls): through the limiter rl (lib/ratelimit.h: a burst, then one a
 * second, with a "(last message repeated N times)" summary), so no task
 * floods the serial console through the kernel. klog_limited gives each
 * call site a limiter of its own. Lines past 255 characters are cut. */
void klog_limit(struct ratelimit *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define klog_limited(level, ...)                             \
	do {                                                 \
		static struct ratelimit limit_;              \
		klog_limit(&limit_, (level), __VA_ARGS__);   \
	} while (0)

#define kerr(...)   klog(KLOG_ERR, __VA_ARGS__)
#define kwarn(...)  klog(KLOG_WARN, __VA_ARGS__)
#define kinfo(...)  klog(KLOG_INFO, __VA_ARGS__)
#define kdebug(...) klog(KLOG_DEBUG, __VA_ARGS__)

/* Stop the machine: print why, where, and (in test builds) exit QEMU with
 * a failure status. For broken kernel invariants only, never for bad input
 * from user space. */
void panic_at(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define kassert(cond) \
	do { if (!(cond)) panic("assertion failed: %s", #cond); } while (0)

#endif
