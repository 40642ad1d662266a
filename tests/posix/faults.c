/*
 * A process that faults: `faults segv` writes through a null pointer,
 * `faults ill` runs an invalid instruction. Linux kills it with SIGSEGV or
 * SIGILL; so must Mica, and the lines before must have come out.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "segv";

	printf("faults: %s next\n", what);
	fflush(stdout);
	if (!strcmp(what, "ill"))
		__asm__ volatile("ud2");
	*(volatile int *)0 = 1;
	printf("faults: still alive\n");
	return 0;
}
