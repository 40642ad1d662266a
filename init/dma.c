/*
 * DMA memory for drivers (DMA_ALLOC, proto/dma.h): physically contiguous
 * runs in the program's DMA window, charged to its dma= allowance. A dead
 * program's runs are kept for its next instance, never given to another
 * program: a device it shared them with (a client's pool in a driver) may
 * still write there until that instance attaches again.
 */
#include "init.h"

long dma_request(struct program *p, struct msg *m)
{
	uint64_t want = m->w[0];
	struct grant *g = NULL;

	if (want == 0 || want > p->m->dma)
		return want ? ERR_NO_MEMORY : ERR_INVALID_ARG;
	uint64_t size = 1UL << (want <= PAGE_SIZE ? 12 : log2_ceil(want));
	for (unsigned i = 0; i < PROGRAM_MAX_DMA && !g; i++)
		if (!p->dma[i].pages)
			g = &p->dma[i];
	if (!g || p->dma_used + size > p->m->dma)
		return ERR_NO_MEMORY;
	/* A run the last instance had, of this size, or a new one. */
	struct grant *kept = NULL;
	for (unsigned i = 0; i < PROGRAM_MAX_DMA && !kept; i++)
		if (p->dma_kept[i].pages == size / PAGE_SIZE)
			kept = &p->dma_kept[i];
	long err = grant_run(p, g, PROGRAM_DMA_BASE, PROGRAM_DMA_SIZE, size / PAGE_SIZE,
			     kept ? (int64_t)kept->first : -1, IPC_MAP_READ | IPC_MAP_WRITE);
	if (err)
		return -err;
	if (kept)
		kept->pages = 0;
	/* A driver resets its device before it asks for DMA memory: only now
	 * may the device master the bus again (pci.h). */
	if (p->dev)
		pci_set_state(p->dev, PCI_DEV_LIVE);
	p->dma_used += size;
	m->tag = ipc_tag(0, 3, 1);
	m->w[0] = ram_phys(g->first);
	m->w[1] = g->va;
	m->w[2] = size;
	return 0;
}

void dma_release(struct program *p)
{
	/* What the last instance did not take back is freed now. */
	for (unsigned i = 0; i < PROGRAM_MAX_DMA; i++) {
		if (p->dma_kept[i].pages)
			ram_run_free(p->dma_kept[i].first, p->dma_kept[i].pages);
		p->dma_kept[i].pages = 0;
	}
	/* Revoked from the program and everyone it mapped it to; ours stays. */
	for (unsigned i = 0; i < PROGRAM_MAX_DMA; i++) {
		struct grant *g = &p->dma[i];
		if (!g->pages)
			continue;
		sys_mem_unmap(fpage((uint64_t)ram_page_at(g->first), log2_ceil(g->pages * PAGE_SIZE)), 0);
		p->dma_kept[i] = *g;
		g->pages = 0;
	}
	p->dma_used = 0;
}

long dma_check_request(struct program *p, struct msg *m)
{
	uint64_t phys = m->w[0], size = m->w[1];

	if (!p->dev)
		return ERR_NO_RIGHTS;
	if (size == 0 || phys + size < phys)
		return ERR_INVALID_ARG;
	for (unsigned i = 0; i < manifest.nprograms; i++)
		for (unsigned k = 0; k < PROGRAM_MAX_DMA; k++) {
			const struct grant *g = &programs[i].dma[k];
			uint64_t first = ram_phys(g->first);
			uint64_t bytes = g->pages * PAGE_SIZE;
			if (g->pages && size <= bytes && phys >= first && phys - first <= bytes - size) {
				*m = msg_make(0, 0);
				return 0;
			}
		}
	return ERR_RANGE;
}
