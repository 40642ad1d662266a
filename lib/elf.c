#include <stdbool.h>

#include "lib/elf.h"

struct elf64_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PT_INTERP 3
#define PT_PHDR 6
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62

static void copy_bytes(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
}

/* elf_parse, and with allow_dyn an ET_DYN file too, moved up by bias. */
static int parse(const void *data, size_t size, uint64_t user_top, bool allow_dyn, uint64_t bias,
		 struct elf_image *image)
{
	const unsigned char *bytes = data;
	struct elf64_ehdr eh;

	if (size < sizeof(eh))
		return ELF_TOO_SMALL;
	copy_bytes(&eh, bytes, sizeof(eh));
	if (eh.ident[0] != 0x7F || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F')
		return ELF_BAD_MAGIC;
	if (eh.ident[4] != 2 || eh.ident[5] != 1 || eh.machine != EM_X86_64 ||
	    !(eh.type == ET_EXEC || (eh.type == ET_DYN && allow_dyn)))
		return ELF_NOT_SUPPORTED;
	if (eh.type == ET_EXEC)
		bias = 0;
	if (eh.phentsize != sizeof(struct elf64_phdr))
		return ELF_NOT_SUPPORTED;
	if (eh.phoff > size || (uint64_t)eh.phnum * sizeof(struct elf64_phdr) > size - eh.phoff)
		return ELF_TOO_SMALL;

	if (eh.entry > UINT64_MAX - bias)
		return ELF_BAD_SEGMENT;
	image->entry = eh.entry + bias;
	image->phoff = eh.phoff;
	image->phnum = eh.phnum;
	image->phdr_vaddr = 0;
	image->interp_offset = image->interp_size = 0;
	image->nsegments = 0;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf64_phdr ph;
		copy_bytes(&ph, bytes + eh.phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type == PT_INTERP) {
			if (!allow_dyn)
				return ELF_NEEDS_INTERPRETER;
			if (ph.filesz == 0 || ph.offset > size || ph.filesz > size - ph.offset ||
			    bytes[ph.offset + ph.filesz - 1] != 0)
				return ELF_BAD_SEGMENT;
			image->interp_offset = ph.offset;
			image->interp_size = ph.filesz;
			continue;
		}
		if (ph.vaddr > UINT64_MAX - bias)
			return ELF_BAD_SEGMENT;
		ph.vaddr += bias;
		if (ph.type == PT_PHDR)
			image->phdr_vaddr = ph.vaddr;
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > size || ph.filesz > size - ph.offset)
			return ELF_BAD_SEGMENT;
		if (ph.vaddr >= user_top || ph.memsz > user_top - ph.vaddr || ph.vaddr < 0x1000)
			return ELF_BAD_SEGMENT;
		for (int k = 0; k < image->nsegments; k++) {
			const struct elf_segment *o = &image->segments[k];
			uint64_t a0 = ph.vaddr & ~0xFFFULL, a1 = (ph.vaddr + ph.memsz + 0xFFF) & ~0xFFFULL;
			uint64_t b0 = o->vaddr & ~0xFFFULL, b1 = (o->vaddr + o->memsz + 0xFFF) & ~0xFFFULL;
			if (a0 < b1 && b0 < a1)
				return ELF_BAD_SEGMENT;
		}
		if (image->nsegments == ELF_MAX_SEGMENTS)
			return ELF_TOO_MANY;
		struct elf_segment *s = &image->segments[image->nsegments++];
		s->vaddr = ph.vaddr;
		s->memsz = ph.memsz;
		s->offset = ph.offset;
		s->filesz = ph.filesz;
		s->flags = ph.flags & 7;
	}
	if (image->nsegments == 0)
		return ELF_BAD_SEGMENT;
	int entry_ok = 0;
	for (int k = 0; k < image->nsegments; k++) {
		const struct elf_segment *s = &image->segments[k];
		if (image->entry >= s->vaddr && image->entry < s->vaddr + s->memsz &&
		    (s->flags & ELF_SEG_EXEC))
			entry_ok = 1;
	}
	return entry_ok ? ELF_OK : ELF_BAD_SEGMENT;
}

int elf_parse(const void *data, size_t size, uint64_t user_top, struct elf_image *image)
{
	return parse(data, size, user_top, false, 0, image);
}

int elf_parse_at(const void *data, size_t size, uint64_t user_top, uint64_t bias,
		 struct elf_image *image)
{
	return parse(data, size, user_top, true, bias, image);
}

const char *elf_strerror(int err)
{
	switch (err) {
	case ELF_OK: return "ok";
	case ELF_TOO_SMALL: return "file shorter than its headers";
	case ELF_BAD_MAGIC: return "not an ELF file";
	case ELF_NOT_SUPPORTED: return "not a 64-bit little-endian x86-64 executable";
	case ELF_BAD_SEGMENT: return "a loadable segment is outside the file or user space, overlaps another, or the entry point is not in code";
	case ELF_TOO_MANY: return "too many loadable segments";
	case ELF_NEEDS_INTERPRETER: return "a dynamically linked program (PT_INTERP): not supported";
	default: return "unknown error";
	}
}
