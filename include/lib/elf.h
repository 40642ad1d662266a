/*
 * ELF64 executable checking, shared by the kernel (root task) and init
 * (every other program). elf_parse validates the header and every program
 * header against the file's size before anyone trusts an offset in them.
 */
#ifndef MICA_ELF_H
#define MICA_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

#define ELF_SEG_READ  0x4
#define ELF_SEG_WRITE 0x2
#define ELF_SEG_EXEC  0x1

struct elf_segment {
	uint64_t vaddr;         /* where it goes */
	uint64_t memsz;         /* bytes in memory (>= filesz; the rest is zero) */
	uint64_t offset;        /* where its bytes start in the file */
	uint64_t filesz;
	uint32_t flags;         /* ELF_SEG_* */
};

struct elf_image {
	uint64_t entry;
	uint64_t phoff;         /* the program headers: file offset, count (each 56 bytes) */
	unsigned phnum;
	uint64_t phdr_vaddr;    /* PT_PHDR's address, or 0 when it has none */
	uint64_t interp_offset; /* PT_INTERP (elf_parse_at): the interpreter's path in */
	uint64_t interp_size;   /* the file, its NUL included; size 0 when none */
	int nsegments;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
};

enum elf_error {
	ELF_OK = 0,
	ELF_TOO_SMALL = -1,     /* shorter than its headers say */
	ELF_BAD_MAGIC = -2,
	ELF_NOT_SUPPORTED = -3, /* not ELF64, little-endian, x86-64, executable */
	ELF_BAD_SEGMENT = -4,   /* a segment outside the file or user space, or overlapping */
	ELF_TOO_MANY = -5,      /* more than ELF_MAX_SEGMENTS loadable segments */
	ELF_NEEDS_INTERPRETER = -6, /* PT_INTERP: dynamically linked (elf_parse only) */
};

/* Validate data[0..size) as a static x86-64 ET_EXEC executable whose loadable
 * segments lie below user_top; fill image. Returns ELF_OK or an error. */
int elf_parse(const void *data, size_t size, uint64_t user_top, struct elf_image *image);

/* The same for an x86-64 executable of type ET_EXEC or ET_DYN (a PIE, a
 * shared object): an ET_DYN file's addresses (entry, segments, PT_PHDR)
 * are moved up by bias, ET_EXEC's are taken as they are. A file that asks
 * for an interpreter (PT_INTERP) says where its path is (interp_offset,
 * interp_size: inside the file, NUL-terminated, or ELF_BAD_SEGMENT). */
int elf_parse_at(const void *data, size_t size, uint64_t user_top, uint64_t bias,
		 struct elf_image *image);

/* A short description of an elf_error. */
const char *elf_strerror(int err);

#endif
