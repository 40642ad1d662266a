/* What init hands a program: its arguments and DMA memory. */
#include "lib/mica.h"
#include "proto/dma.h"
#include "proto/init.h"
#include "proto/nameservice.h"
#include "proto/program.h"

void *dma_alloc(size_t size, uint64_t *phys)
{
	struct ipc_buffer *b = ipc_buffer();
	uint64_t window = b->recv_window;
	struct msg m = msg_make(DMA_ALLOC, 1);

	m.w[0] = size;
	b->recv_window = fpage(PROGRAM_DMA_BASE, 32);
	long err = ipc_call(PROGRAM_INIT_SLOT, &m);
	b->recv_window = window;
	if (err || ipc_tag_label(m.tag))
		return NULL;
	*phys = m.w[0];
	return (void *)m.w[1];
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
