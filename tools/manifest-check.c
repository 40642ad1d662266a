/*
 * Check a boot manifest on the host with init's own parser
 * (init/manifest.c), so that a manifest init would refuse fails `make`
 * with the file, the line and what is wrong, before anything boots. The
 * Makefile runs it on the manifest it puts in the ISO and the TFTP tree.
 *
 * Usage: manifest-check FILE [NAME]
 *   NAME is how messages call the file (default FILE): make checks a
 *   copy, but names the MANIFEST= it came from.
 * Exit status: 0 the manifest parses (nothing is printed); 1 it does
 * not, with "NAME:LINE: what is wrong" on stderr; 2 usage, or the file
 * cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "manifest.h"

#define MANIFEST_MAX_BYTES (1 << 20)

int main(int argc, char **argv)
{
	static char text[MANIFEST_MAX_BYTES];
	static struct manifest m;
	char err[160];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s FILE [NAME]\n", argv[0]);
		return 2;
	}
	const char *name = argc == 3 ? argv[2] : argv[1];
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "%s: cannot read: %s\n", name, strerror(errno));
		return 2;
	}
	size_t len = fread(text, 1, sizeof(text), f);
	int failed = ferror(f) || !feof(f);
	fclose(f);
	if (failed) {
		fprintf(stderr, "%s: cannot read it whole (at most %d bytes)\n", name,
			MANIFEST_MAX_BYTES);
		return 2;
	}
	unsigned line = manifest_parse(text, len, &m, err, sizeof(err));
	if (line) {
		fprintf(stderr, "%s:%u: %s\n", name, line, err);
		return 1;
	}
	return 0;
}
