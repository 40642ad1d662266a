/* Rate limiting for repeating log lines: include/lib/ratelimit.h. */
#include "lib/ratelimit.h"
#include "lib/fmt.h"
#include "lib/string.h"

bool ratelimit_pass(struct ratelimit *rl, uint64_t now_ns, uint32_t *held)
{
	if (!rl->started) {
		rl->started = true;
		rl->budget = RATELIMIT_BURST;
		rl->refilled_at = now_ns;
	}
	if (now_ns > rl->refilled_at) {
		uint64_t grown = (now_ns - rl->refilled_at) / RATELIMIT_INTERVAL_NS;
		if (rl->budget + grown >= RATELIMIT_BURST) {
			rl->budget = RATELIMIT_BURST;
			rl->refilled_at = now_ns;
		} else {
			rl->budget += (uint32_t)grown;
			rl->refilled_at += grown * RATELIMIT_INTERVAL_NS;
		}
	}
	if (rl->budget == 0) {
		if (rl->held < UINT32_MAX)
			rl->held++;
		return false;
	}
	rl->budget--;
	*held = rl->held;
	rl->held = 0;
	return true;
}

uint32_t ratelimit_force(struct ratelimit *rl, uint64_t now_ns)
{
	uint32_t held;

	if (ratelimit_pass(rl, now_ns, &held))
		return held;
	held = rl->held - 1;    /* this line was counted as held */
	rl->held = 0;
	return held;
}

char *ratelimit_summary(char *buf, size_t size, const char *line, uint32_t held)
{
	const char *colon = strchr(line, ':');
	char count[32];

	while (colon && colon[1] != ' ')
		colon = strchr(colon + 1, ':');
	int prefix = colon ? (int)(colon - line) : 0;

	fmt_count(count, sizeof(count), held, "time", "times");
	fmt_snprintf(buf, size, "%.*s%s(last message repeated %s)\n", prefix, line,
		     colon ? ": " : "", count);
	return buf;
}

bool token_take(struct token_bucket *b, uint64_t now_ns, uint32_t rate, uint32_t burst)
{
	if (!b->started) {
		b->started = true;
		b->tokens = burst;
		b->at_ns = now_ns;
	}
	uint64_t gained = (now_ns - b->at_ns) * rate / 1000000000ULL;
	if (gained) {
		b->tokens = gained + b->tokens > burst ? burst : b->tokens + (uint32_t)gained;
		b->at_ns += gained * 1000000000ULL / rate;
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}
