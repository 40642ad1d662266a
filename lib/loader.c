/* Program loading (include/lib/loader.h). */
#include "lib/elf.h"
#include "lib/loader.h"
#include "lib/string.h"
#include "uapi/ipc.h"

static unsigned segment_rights(uint32_t flags)
{
	return IPC_MAP_READ | (flags & ELF_SEG_WRITE ? IPC_MAP_WRITE : 0) |
	       (flags & ELF_SEG_EXEC ? IPC_MAP_EXEC : 0);
}

/* The checked image img of file into as. */
static const char *load(struct aspace *as, const void *file, const struct elf_image *img,
			uint64_t lo, const struct loader_pages *pages, struct loader_image *image)
{
	for (int i = 0; i < img->nsegments; i++)
		if (img->segments[i].vaddr < lo)
			return "segment outside the program window";
	image->phdr = img->phdr_vaddr;
	image->phnum = img->phnum;
	image->end = 0;
	for (int i = 0; i < img->nsegments; i++) {
		const struct elf_segment *s = &img->segments[i];
		/* Without PT_PHDR, the headers are where a segment loads the
		 * file's bytes that hold them (as Linux finds them). */
		if (!img->phdr_vaddr && img->phoff >= s->offset && img->phoff < s->offset + s->filesz)
			image->phdr = s->vaddr + (img->phoff - s->offset);
		uint64_t first = s->vaddr & ~(AS_PAGE_SIZE - 1);
		uint64_t end = (s->vaddr + s->memsz + AS_PAGE_SIZE - 1) & ~(AS_PAGE_SIZE - 1);
		if (end > image->end)
			image->end = end;
		if (as_add(as, first, end - first, segment_rights(s->flags), AS_ANON, 0, false) < 0)
			return "segments overlap or too many regions";
		/* Every page now, with the file's bytes where it has them. */
		for (uint64_t va = first; va < end; va += AS_PAGE_SIZE) {
			uint64_t at = s->offset + (va - s->vaddr);
			if (pages && va >= s->vaddr && va + AS_PAGE_SIZE <= s->vaddr + s->filesz &&
			    !(at & (AS_PAGE_SIZE - 1))) {
				void *shared = pages->page(pages->ctx, at);
				if (shared && as_adopt(as, va, shared) == 0)
					continue;
				if (shared)
					pages->unused(pages->ctx, shared);
			}
			uint8_t *page = as_page(as, va);
			if (!page)
				return "out of memory";
			uint64_t from = va > s->vaddr ? va : s->vaddr;
			uint64_t to = va + AS_PAGE_SIZE < s->vaddr + s->filesz ? va + AS_PAGE_SIZE
									   : s->vaddr + s->filesz;
			if (from < to)
				memcpy(page + (from - va), (const uint8_t *)file + s->offset + (from - s->vaddr),
				       to - from);
		}
	}
	image->entry = img->entry;
	image->interp = img->interp_size ? (const char *)file + img->interp_offset : NULL;
	return NULL;
}

const char *loader_load_shared(struct aspace *as, const void *file, size_t size, uint64_t lo,
			       uint64_t hi, uint64_t dyn_base, const struct loader_pages *pages,
			       struct loader_image *image)
{
	struct elf_image img;
	int err = elf_parse_at(file, size, hi, dyn_base, &img);

	return err ? elf_strerror(err) : load(as, file, &img, lo, pages, image);
}

const char *loader_load(struct aspace *as, const void *file, size_t size, uint64_t lo,
			uint64_t hi, uint64_t dyn_base, struct loader_image *image)
{
	return loader_load_shared(as, file, size, lo, hi, dyn_base, NULL, image);
}

const char *loader_load_elf(struct aspace *as, const void *file, size_t size, uint64_t lo,
			    uint64_t hi, uint64_t *entry)
{
	struct loader_image image;
	struct elf_image img;
	int e = elf_parse(file, size, hi, &img);
	const char *err = e ? elf_strerror(e) : load(as, file, &img, lo, NULL, &image);

	if (!err)
		*entry = image.entry;
	return err;
}
