/*
 * ticker: log lines at a steady pace, for tests of the serial console
 * (log output arriving while a line is being typed): `count=N period=MS`
 * prints "ticker: tick K of N" every MS milliseconds, then exits. With
 * `crash=N` it crashes at once on its first N runs (for init's count of
 * crashes in a row). With `clock=1` each line ends with the kernel clock
 * in milliseconds ("at clock T ms"), for the test that the clock keeps
 * real time (tests/system/test_clock.py).
 */
#include "lib/mica.h"
#include "proto/program.h"

static unsigned long number(const char *args, const char *key, unsigned long otherwise)
{
	char text[16];
	unsigned long n = 0;

	if (!program_arg(args, key, text, sizeof(text)) || !text[0])
		return otherwise;
	for (const char *p = text; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	return n;
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	unsigned long count = number(pi->args, "count", 10), period = number(pi->args, "period", 100);
	int show_clock = number(pi->args, "clock", 0) != 0;
	cap_slot_t timer = slot_alloc();

	if (pi->restarts < number(pi->args, "crash", 0)) {
		printf("ticker: crashing on purpose\n");
		__asm__ volatile("movl $1, 0x10" ::: "memory");   /* unmapped: a page fault */
	}

	if (sys_obj_create(CAP_NOTIFICATION, timer, 0) < 0)
		return 1;
	for (unsigned long k = 1; k <= count; k++) {
		sys_notify_timer(timer, 1, (uint64_t)sys_clock() + period * 1000000);
		sys_notify_wait(timer, 0);
		if (show_clock)
			printf("ticker: tick %lu of %lu at clock %lu ms\n", k, count,
			       (uint64_t)sys_clock() / 1000000);
		else
			printf("ticker: tick %lu of %lu\n", k, count);
	}
	return 0;
}
