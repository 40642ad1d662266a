/*
 * cpio archives in the "newc" format (what `cpio -H newc` writes; the
 * Linux initramfs format), read in place: the POSIX server's root
 * filesystem (a boot module handed to it read-only) and init's boot-module
 * bundle (docs/boot.md). Entries are found by path; nothing is copied.
 *
 * newc: each entry is a 110-byte ASCII header ("070701", then 13 fields of
 * 8 hex digits: ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize, check), the name (namesize
 * bytes with its NUL), padding to 4 bytes, the data, padding to 4 bytes.
 * The entry named "TRAILER!!!" ends the archive. A name is read up to its
 * first NUL: the bundle's writer (tools/mkbundle.c) pads names with more
 * NULs so that each entry's data starts on a page.
 *
 * Pure logic (host unit tests); every length is checked against the
 * archive's size before it is trusted.
 */
#ifndef MICA_LIB_CPIO_H
#define MICA_LIB_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpio_entry {
	const char *name;           /* NUL-terminated, inside the archive */
	const void *data;
	size_t size;
	uint32_t mode;              /* st_mode: type and permissions */
	uint32_t mtime;             /* seconds since the epoch */
};

/* The entry at *offset (start with 0): 1 and *offset moved past it, 0 at
 * the trailer or the archive's end, -1 when the archive is malformed
 * there (bad magic or a field, a length past the end). */
int cpio_next(const void *archive, size_t size, size_t *offset, struct cpio_entry *e);

/* The entry whose name is path: true and *e, or false. Leading "/" and
 * "./" are ignored on both sides ("/bin/x", "bin/x", "./bin/x" match). */
bool cpio_find(const void *archive, size_t size, const char *path, struct cpio_entry *e);

#endif
