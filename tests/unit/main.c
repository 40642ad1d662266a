#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	void (*fn)(void);
} tests[MAX_TESTS];
static int ntests;
int unit_failed_now;

void unit_register(const char *name, void (*fn)(void))
{
	if (ntests == MAX_TESTS) {
		fprintf(stderr, "unit: more than %d tests\n", MAX_TESTS);
		exit(2);
	}
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void unit_fail(const char *file, int line, const char *what)
{
	printf("    %s:%d: check failed: %s\n", file, line, what);
	unit_failed_now = 1;
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < ntests; i++) {
		if (!selected(tests[i].name, argc, argv))
			continue;
		unit_failed_now = 0;
		tests[i].fn();
		printf("test %s: %s\n", tests[i].name, unit_failed_now ? "FAIL" : "OK");
		if (unit_failed_now)
			failed++;
		else
			passed++;
	}
	if (passed + failed == 0) {
		printf("unit: no test matches\n");
		return 2;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
