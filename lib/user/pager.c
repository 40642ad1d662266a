/* Page-fault answers from an address space record (include/lib/pager.h). */
#include "lib/mica.h"
#include "lib/pager.h"

long pager_answer(struct aspace *as, struct msg *m)
{
	uint64_t addr = m->w[0], access = m->w[1], source;
	unsigned rights;
	long err = as_fault(as, addr, access, &source, &rights);

	if (err)
		return err;
	struct ipc_buffer *b = ipc_buffer();
	b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, rights, addr & ~(PAGE_SIZE - 1));
	b->items[0][1] = fpage(source, 12);
	m->tag = ipc_tag(IPC_REPLY_RESUME, 0, 1);
	return 0;
}
