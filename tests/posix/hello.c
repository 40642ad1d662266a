/* The smallest POSIX test program: a line, its arguments, status 0.
 * Built static with musl and with glibc (posix-server/programs.list). */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("hello, world\n");
	for (int i = 1; i < argc; i++)
		printf("argv[%d] %s\n", i, argv[i]);
	return 0;
}
