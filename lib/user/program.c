/* What init hands a program: DMA memory, pages, files, threads, the
 * heartbeat, and the control protocol (proto/init.h, proto/program.h). */
#include "lib/mica.h"
#include "proto/dma.h"
#include "proto/init.h"
#include "proto/program.h"

/* A one-word request to init that maps memory into window (a flexpage):
 * 0 or a negative error; the reply in *m. */
static long memory_call(uint64_t label, uint64_t word, uint64_t window, struct msg *m)
{
	struct ipc_buffer *b = ipc_buffer();
	uint64_t saved = b->recv_window;

	*m = msg_make(label, 1);
	m->w[0] = word;
	b->recv_window = window;
	long err = ipc_call(PROGRAM_INIT_SLOT, m);
	b->recv_window = saved;
	return err ? err : -(long)ipc_tag_label(m->tag);
}

void *dma_alloc(size_t size, uint64_t *phys)
{
	struct msg m;

	if (memory_call(DMA_ALLOC, size, fpage(PROGRAM_DMA_BASE, log2_ceil(PROGRAM_DMA_SIZE)), &m))
		return NULL;
	*phys = m.w[0];
	return (void *)m.w[1];
}

void *pages_alloc(size_t size, long *err)
{
	struct msg m;
	long e = memory_call(INIT_PAGES_ALLOC, size,
			     fpage(PROGRAM_PAGES_BASE, log2_ceil(PROGRAM_PAGES_SIZE)), &m);

	if (err)
		*err = e;
	return e ? NULL : (void *)m.w[0];
}

long pages_free(void *pages)
{
	struct msg m;

	return memory_call(INIT_PAGES_FREE, (uint64_t)pages, 0, &m);
}

long dma_check(uint64_t phys, uint64_t size)
{
	struct msg m = msg_make(DMA_CHECK, 2);

	m.w[0] = phys;
	m.w[1] = size;
	long err = ipc_call(PROGRAM_INIT_SLOT, &m);
	return err ? err : -(long)ipc_tag_label(m.tag);
}

const void *program_file(const char *name, size_t *size)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;

	for (uint64_t k = 0; k < pi->nfiles && k < PROGRAM_MAX_FILES; k++) {
		if (strncmp(pi->files[k].name, name, sizeof(pi->files[k].name)))
			continue;
		*size = pi->files[k].size;
		return (const void *)pi->files[k].addr;
	}
	return NULL;
}

long program_thread(void (*fn)(uint64_t), uint64_t arg, size_t stack_size, const char *name)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;
	uint8_t *mem = mem_heap(stack_size + 2 * PAGE_SIZE);

	if (!mem)
		return -ERR_NO_MEMORY;
	struct ipc_buffer *ib = (struct ipc_buffer *)(((uintptr_t)mem + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
	return thread_spawn(fn, arg, (uint8_t *)ib + PAGE_SIZE, stack_size, ib,
			    (unsigned)pi->priority, name, PROGRAM_PAGER_SLOT);
}

void program_busy(bool busy)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;
	volatile struct program_heartbeat *hb = (struct program_heartbeat *)PROGRAM_HEARTBEAT_ADDR;

	if (!pi->heartbeat_ms)
		return;
	hb->beats++;
	hb->busy = busy;
}

long init_control(uint64_t label, const char *name, uint64_t word, struct msg *m)
{
	*m = msg_make(label, INIT_NAME_WORDS);
	if (name)
		memcpy(m->w, name, strnlen(name, INIT_NAME_WORDS * 8 - 1));
	else
		m->w[0] = word;
	long err = ipc_call(PROGRAM_INIT_SLOT, m);
	return err ? err : -(long)ipc_tag_label(m->tag);
}
