/*
 * Memory init hands a program in runs of 2^k pages: the run placing used
 * by DMA memory (dma.c) and by pages for programs that page clients of
 * their own (INIT_PAGES_ALLOC / INIT_PAGES_FREE, proto/init.h).
 */
#include "init.h"

long grant_run(struct program *p, struct grant *g, uint64_t base, uint64_t size, uint64_t n,
	       int64_t first, unsigned rights)
{
	uint64_t bytes = n * PAGE_SIZE, va;
	struct ipc_buffer *b = ipc_buffer();

	if (!as_find_free(&p->as, base, base + size, bytes, bytes, &va))
		return -ERR_NO_MEMORY;
	bool fresh = first < 0;
	if (!fresh)
		memset(ram_page_at((uint64_t)first), 0, bytes);
	else if ((first = ram_run_alloc(n, rights)) < 0)
		return -ERR_NO_MEMORY;
	long err = as_add(&p->as, va, bytes, rights, AS_SHARED, (uint64_t)ram_page_at((uint64_t)first),
			  false);
	if (err) {
		if (fresh)
			ram_run_free((uint64_t)first, n);
		return err;
	}
	g->va = va;
	g->first = (uint64_t)first;
	g->pages = n;
	b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, rights, va);
	b->items[0][1] = fpage((uint64_t)ram_page_at(g->first), log2_ceil(bytes));
	return 0;
}

static struct grant *chunk_free_slot(struct program *p)
{
	for (unsigned i = 0; i < PROGRAM_MAX_CHUNKS; i++)
		if (!p->chunks[i].pages)
			return &p->chunks[i];
	return NULL;
}

long pages_request(struct program *p, struct msg *m)
{
	uint64_t want = m->w[0];

	if (want == 0 || want > INIT_PAGES_MAX)
		return ERR_INVALID_ARG;
	uint64_t size = 1UL << (want <= PAGE_SIZE ? 12 : log2_ceil(want));
	struct grant *g = chunk_free_slot(p);
	if (!g || p->chunks_used + size > p->m->memory)
		return ERR_NO_MEMORY;
	long err = grant_run(p, g, PROGRAM_PAGES_BASE, PROGRAM_PAGES_SIZE, size / PAGE_SIZE, -1,
			     IPC_MAP_READ | IPC_MAP_WRITE | IPC_MAP_EXEC);
	if (err)
		return -err;
	p->chunks_used += size;
	m->tag = ipc_tag(0, 2, 1);
	m->w[0] = g->va;
	m->w[1] = size;
	return 0;
}

long pages_free_request(struct program *p, struct msg *m)
{
	for (unsigned i = 0; i < PROGRAM_MAX_CHUNKS; i++) {
		struct grant *g = &p->chunks[i];
		if (!g->pages || g->va != m->w[0])
			continue;
		as_remove(&p->as, g->va, g->pages * PAGE_SIZE);
		ram_run_free(g->first, g->pages);
		p->chunks_used -= g->pages * PAGE_SIZE;
		g->pages = 0;
		*m = msg_make(0, 0);
		return 0;
	}
	return ERR_INVALID_ARG;
}

void pages_release(struct program *p)
{
	for (unsigned i = 0; i < PROGRAM_MAX_CHUNKS; i++) {
		if (p->chunks[i].pages)
			ram_run_free(p->chunks[i].first, p->chunks[i].pages);
		p->chunks[i].pages = 0;
	}
	p->chunks_used = 0;
}
