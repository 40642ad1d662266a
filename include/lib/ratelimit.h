/*
 * Rate limiting for log lines that can repeat: one limiter per call site
 * (or per thing logged about), shared by the kernel and user programs.
 *
 * A limiter lets RATELIMIT_BURST lines through at once, then one line per
 * RATELIMIT_INTERVAL_NS (its budget grows by one line per interval, up to
 * the burst, so a site that has been quiet gets its whole burst back).
 * Lines over the budget are held back and counted; the next line that
 * gets through is preceded by a summary of them:
 *
 *   netecho: udp-echo: echo: error 12
 *   netecho: (last message repeated 171234 times)
 *   netecho: udp-echo: echo: error 12
 *
 * The summary comes with the next line that passes, so a flood that stops
 * for good leaves its last count unsaid until that site logs again.
 * Pure logic: the caller passes the clock; no system calls. A limiter is
 * all zeros before its first use (a static one needs no initialiser).
 * User programs use printf_limited (lib/mica.h), the kernel klog_limited
 * (kernel/klog.h).
 */
#ifndef MICA_LIB_RATELIMIT_H
#define MICA_LIB_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_BURST       10
#define RATELIMIT_INTERVAL_NS 1000000000ULL     /* 1 s */

struct ratelimit {
	uint64_t refilled_at;   /* ns: the budget counts from here */
	uint32_t budget;        /* lines that may pass now */
	uint32_t held;          /* lines held back since the last that passed */
	bool started;
};

/* Whether a line logged at now_ns (a clock that does not go back) may
 * pass. When it may, *held is how many lines were held back before it
 * (and the count starts again from 0); otherwise this one is counted. */
bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ns, uint32_t *held);

/* For a line that must print whatever the budget (the one that ends a
 * series, like a program left down for good): how many lines were held
 * back before it (the count starts again from 0). Takes from the budget
 * if there is any. */
uint32_t ratelimit_force(struct ratelimit *rl, uint64_t now_ns);

/* The summary of held lines for the line about to pass, in buf (size
 * bytes, NUL-terminated, newline-ended): "PREFIX: (last message repeated
 * N times)\n", PREFIX being line's text before its first ": " (none if it
 * has no such separator). Returns buf. */
char *ratelimit_summary(char *buf, size_t size, const char *line, uint32_t held);

/* A token bucket for packets (ICMP errors: RFC 1812 4.3.2.8, Linux's
 * icmp(7) icmp_msgs_per_sec and icmp_msgs_burst): it starts full with
 * burst tokens and gains rate tokens a second, up to burst. All zeros
 * before its first use. */
struct token_bucket {
	uint64_t at_ns;         /* tokens are counted up to here */
	uint32_t tokens;
	bool started;
};

/* Take one token at now_ns (a clock that does not go back): true, or
 * false when the bucket is empty (nothing taken). rate: tokens a second,
 * at least 1. */
bool token_take(struct token_bucket *b, uint64_t now_ns, uint32_t rate, uint32_t burst);

#endif
