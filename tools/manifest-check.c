/*
 * Check a boot manifest on the host with init's own parser
 * (init/manifest.c), so that a manifest init would refuse fails `make`
 * with the file, the line and what is wrong, before anything boots. The
 * Makefile runs it on the manifest it puts in the ISO and the TFTP tree.
 *
 * Usage: manifest-check FILE [NAME [MODULE...]]
 *   NAME is how messages call the file (default FILE): make checks a
 *   copy, but names the MANIFEST= it came from. MODULEs, if given, are
 *   the boot modules there will be (the loader's and the bundle's): each
 *   program's `module` and `file` must be one of them. Every `lookup`
 *   must name a private name a program of the manifest registers
 *   (manifest_check_lookups).
 * Exit status: 0 the manifest parses and names only given modules
 * (nothing is printed); 1 it does not, with "NAME:LINE: what is wrong"
 * on stderr (LINE: the program's); 2 usage, or the file cannot be read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "manifest.h"

#define MANIFEST_MAX_BYTES (1 << 20)

static bool is_module(const char *name, char **modules, int nmodules)
{
	for (int i = 0; i < nmodules; i++)
		if (strcmp(modules[i], name) == 0)
			return true;
	return false;
}

/* Returns 0, or the line of the first program naming a boot module not
 * among modules[0..nmodules), with the message in err. */
static unsigned check_modules(const struct manifest *m, char **modules, int nmodules,
			      char *err, size_t err_size)
{
	for (unsigned i = 0; i < m->nprograms; i++) {
		const struct manifest_program *p = &m->programs[i];
		if (!is_module(p->module, modules, nmodules)) {
			snprintf(err, err_size,
				 "program %s: no boot module '%s' (the Makefile's MODULES and BUNDLE "
				 "list them)", p->name, p->module);
			return p->line;
		}
		for (unsigned f = 0; f < p->nfiles; f++)
			if (!is_module(p->files[f], modules, nmodules)) {
				snprintf(err, err_size, "program %s: file '%s' is no boot module",
					 p->name, p->files[f]);
				return p->line;
			}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char text[MANIFEST_MAX_BYTES];
	static struct manifest m;
	char err[256];

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE [NAME [MODULE...]]\n", argv[0]);
		return 2;
	}
	const char *name = argc >= 3 ? argv[2] : argv[1];
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
	if (!line)
		line = manifest_check_lookups(&m, err, sizeof(err));
	if (!line && argc > 3)
		line = check_modules(&m, argv + 3, argc - 3, err, sizeof(err));
	if (line) {
		fprintf(stderr, "%s:%u: %s\n", name, line, err);
		return 1;
	}
	return 0;
}
