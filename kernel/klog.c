#include "klog.h"
#include "console.h"
#include "cpu.h"
#include "timer.h"
#include "machine.h"

#include "lib/fmt.h"
#include "lib/ratelimit.h"

int klog_threshold = KLOG_INFO;

static const char *const level_tag[] = { "ERROR: ", "warning: ", "", "debug: " };

static void klog_putc(void *ctx, char c)
{
	(void)ctx;
	console_putc(c);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(klog_putc, 0, fmt, ap);
	va_end(ap);
	console_flush();
}

void klog(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > klog_threshold)
		return;
	uint64_t ms = timer_uptime_ms();
	kprintf("[%5lu.%03lu] %s", (unsigned long)(ms / 1000),
		(unsigned long)(ms % 1000), level_tag[level & 3]);
	va_start(ap, fmt);
	fmt_vformat(klog_putc, 0, fmt, ap);
	va_end(ap);
	console_flush();
}

void klog_limit(struct ratelimit *rl, int level, const char *fmt, ...)
{
	char line[256], summary[96];
	uint32_t held;
	va_list ap;

	if (level > klog_threshold || !ratelimit_pass(rl, timer_uptime_ns(), &held))
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held)
		klog(level, "%s", ratelimit_summary(summary, sizeof(summary), line, held));
	klog(level, "%s", line);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	console_line_drop(NULL);
	kprintf("\nPANIC at %s:%d: ", file, line);
	va_start(ap, fmt);
	fmt_vformat(klog_putc, 0, fmt, ap);
	va_end(ap);
	kprintf("\n");
	machine_halt_failure();
}
