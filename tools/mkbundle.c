/*
 * Write the boot-module bundle (docs/boot.md): one cpio archive in the
 * "newc" format (cpio(5); what `cpio -H newc` writes, the Linux initramfs
 * format) holding boot modules as files named by their module names, which
 * init reads as if each were a boot module of its own. GRUB and iPXE then
 * load a fixed number of modules (init, manifest, bundle) however many
 * programs and files the image has; iPXE's multiboot loader takes at most
 * 8 (MAX_MODULES in its src/arch/x86/image/multiboot.c).
 *
 * Every entry's data starts on a 4 KiB boundary of the archive, so that
 * init can map an entry (a manifest `file`) into a program page by page
 * from where the loader put the bundle, with no copy: the loader puts the
 * bundle on a page (the kernel's Multiboot header asks for page-aligned
 * modules), and each name is padded with NULs up to the length that
 * brings its data there (namesize counts them). The name ends at its
 * first NUL for lib/cpio.c as for GNU cpio, so the padding is invisible:
 * `cpio -t < build/bundle` lists the modules, `cpio -i` extracts them.
 *
 * Usage: mkbundle OUT FILE:NAME...
 *   NAME: 1 to 31 characters, no '/' and no ':' (a boot module's name, as
 *   init's manifest says it); each NAME once. OUT is written whole or not
 *   at all (a temporary file renamed over it).
 * Exit status: 0 written; 1 a file cannot be read or OUT written; 2 usage
 * or a bad NAME.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096L
#define HEADER 110                  /* "070701" and 13 fields of 8 hex digits */
#define NAME_MAX_LEN 31             /* init's names: MANIFEST_NAME_LEN - 1 */
#define MODE_FILE 0100444           /* a regular file, read-only */

static long pad4(long n)
{
	return (n + 3) & ~3L;
}

/* n bytes of buf, or n NULs when buf is NULL; false when writing fails. */
static int put(FILE *out, const void *buf, long n)
{
	static const char zeros[PAGE];

	while (!buf && n > PAGE) {
		if (fwrite(zeros, 1, PAGE, out) != PAGE)
			return 0;
		n -= PAGE;
	}
	return n == 0 || fwrite(buf ? buf : zeros, 1, (size_t)n, out) == (size_t)n;
}

/* One entry: header, name padded with NULs to namesize, padding to 4
 * bytes, data, padding to 4 bytes. at: the entry's offset; returns the
 * next entry's, or -1 when writing fails. */
static long put_entry(FILE *out, long at, unsigned ino, unsigned mode, const char *name,
		      long namesize, const void *data, long size)
{
	char header[HEADER + 1];

	snprintf(header, sizeof(header),
		 "070701%08X%08X%08X%08X%08X%08X%08lX%08X%08X%08X%08X%08lX%08X",
		 ino, mode, 0u, 0u, 1u, 0u, (unsigned long)size, 0u, 0u, 0u, 0u,
		 (unsigned long)namesize, 0u);
	long len = (long)strlen(name);
	long data_at = pad4(at + HEADER + namesize), end = pad4(data_at + size);
	if (!put(out, header, HEADER) || !put(out, name, len) ||
	    !put(out, NULL, data_at - at - HEADER - len) || !put(out, data, size) ||
	    !put(out, NULL, end - data_at - size))
		return -1;
	return end;
}

/* The namesize (the name, its NUL and more NULs) that puts the data of
 * an entry at offset at on the first page boundary the name leaves room
 * for. */
static long aligned_namesize(long at, const char *name)
{
	long end = at + HEADER + (long)strlen(name) + 1;

	return (end + PAGE - 1) / PAGE * PAGE - at - HEADER;
}

static char *read_file(const char *path, long *size)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (*size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)*size + 1)) && fread(buf, 1, (size_t)*size, f) != (size_t)*size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mkbundle OUT FILE:NAME...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *name = strrchr(argv[i], ':');
		size_t len = name ? strlen(name + 1) : 0;
		if (!name || len == 0 || len > NAME_MAX_LEN || strchr(name + 1, '/')) {
			fprintf(stderr, "mkbundle: %s: want FILE:NAME, NAME 1..%d characters, no '/'\n",
				argv[i], NAME_MAX_LEN);
			return 2;
		}
		for (int j = 2; j < i; j++)
			if (!strcmp(strrchr(argv[j], ':') + 1, name + 1)) {
				fprintf(stderr, "mkbundle: module %s named twice\n", name + 1);
				return 2;
			}
	}

	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	FILE *out = fopen(tmp, "wb");
	if (!out) {
		fprintf(stderr, "mkbundle: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	long at = 0;
	for (int i = 2; i < argc && at >= 0; i++) {
		char *colon = strrchr(argv[i], ':'), *name = colon + 1;
		long size = 0;
		*colon = 0;
		char *data = read_file(argv[i], &size);
		if (!data) {
			fprintf(stderr, "mkbundle: %s: %s\n", argv[i], strerror(errno ? errno : EIO));
			fclose(out);
			remove(tmp);
			return 1;
		}
		at = put_entry(out, at, (unsigned)i - 1, MODE_FILE, name, aligned_namesize(at, name),
			       data, size);
		free(data);
	}
	if (at >= 0)
		at = put_entry(out, at, 0, 0, "TRAILER!!!", (long)sizeof("TRAILER!!!"), NULL, 0);
	if (at < 0 || fclose(out) != 0 || rename(tmp, argv[1]) != 0) {
		fprintf(stderr, "mkbundle: %s: %s\n", argv[1], strerror(errno));
		remove(tmp);
		return 1;
	}
	return 0;
}
