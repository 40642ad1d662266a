/*
 * Program loading for pagers: an ELF64 executable from memory into a
 * client address space (lib/aspace.h). Used by init for every program it
 * starts, and by the POSIX server for the processes it runs.
 *
 * Pure logic: pages come from the address space's ops.
 */
#ifndef MICA_LIB_LOADER_H
#define MICA_LIB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/aspace.h"

/* What a loaded executable looks like in its address space: what a
 * process's start-up needs (the auxiliary vector's AT_ENTRY, AT_PHDR,
 * AT_PHNUM) and where its image ends (a POSIX process's brk starts
 * there). */
struct loader_image {
	uint64_t entry;             /* the entry point */
	uint64_t phdr;              /* the program headers' address in the client's
				       space (PT_PHDR, or where a loaded segment holds
				       them); 0 when no segment does */
	uint64_t phnum;             /* how many (each 56 bytes) */
	uint64_t end;               /* the end of the highest segment, page aligned */
	const char *interp;         /* PT_INTERP: the interpreter's path (in the file),
				       or NULL for a static program */
};

/*
 * Check file[0..size) as an x86-64 executable (lib/elf.h: ET_EXEC at its
 * own addresses, or ET_DYN, a PIE or a dynamic loader, moved up by
 * dyn_base, a page-aligned address; one asking for an interpreter says
 * which in image->interp and the caller loads it) whose loadable segments
 * all lie in [lo, hi), then
 * give each segment an AS_ANON region with its rights (R, W, X from the
 * program header) and pages holding its bytes (the rest zero); *image
 * describes the result. Returns NULL, or a short reason ("segment outside
 * the program window", "out of memory", an elf_strerror text); on failure
 * the address space may hold some of the segments: release it.
 */
const char *loader_load(struct aspace *as, const void *file, size_t size, uint64_t lo,
			uint64_t hi, uint64_t dyn_base, struct loader_image *image);

/* Where a pager keeps a file's pages to share (the POSIX server's file
 * cache, memory.c): page(ctx, offset) is a page holding the file's
 * 4 KiB at offset (page aligned) for as_adopt, or NULL (then the loader
 * copies); unused(ctx, page) when the address space did not take it. */
struct loader_pages {
	void *(*page)(void *ctx, uint64_t offset);
	void (*unused)(void *ctx, void *page);
	void *ctx;
};

/* loader_load, but a page of a segment that is the file's bytes whole
 * (a page-aligned 4 KiB of the file, none of the segment's zeros) is
 * pages's, shared copy-on-write with every address space that maps it
 * (as_adopt), not a copy; the rest as loader_load. pages NULL: all copied. */
const char *loader_load_shared(struct aspace *as, const void *file, size_t size, uint64_t lo,
			       uint64_t hi, uint64_t dyn_base, const struct loader_pages *pages,
			       struct loader_image *image);

/* Load an ET_EXEC executable as loader_load, for a caller that needs
 * only the entry point (init's programs). */
const char *loader_load_elf(struct aspace *as, const void *file, size_t size, uint64_t lo,
			    uint64_t hi, uint64_t *entry);

#endif
