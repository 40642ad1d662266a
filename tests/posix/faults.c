/*
 * A process that faults: `faults segv` writes through a null pointer,
 * `faults ill` runs an invalid instruction, `faults ro` writes to a page
 * it made read-only. Linux kills it with SIGSEGV or SIGILL; so must Mica,
 * and the lines before must have come out.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "segv";

	printf("faults: %s next\n", what);
	fflush(stdout);
	if (!strcmp(what, "ill"))
		__asm__ volatile("ud2");
	if (!strcmp(what, "ro")) {
		volatile char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		page[0] = 1;
		mprotect((void *)page, 4096, PROT_READ);
		printf("faults: read %d\n", page[0]);
		fflush(stdout);
		page[0] = 2;
	}
	*(volatile int *)0 = 1;
	printf("faults: still alive\n");
	return 0;
}
