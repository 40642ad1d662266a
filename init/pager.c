/*
 * init as pager of its programs: a page fault is answered from the
 * program's address space record (lib/aspace.h); its I/O ports ride along
 * with the first page it gets.
 */
#include "init.h"

#include "lib/pager.h"
#include "proto/netq.h"

static void *page_alloc(void *ctx)
{
	return ram_page_alloc();
}

static void page_free(void *ctx, void *page)
{
	ram_page_free(page);
}

static bool prepare(void *ctx, uint64_t source)
{
	return mmio_page_prepare(source);
}

/* The table of a program's pages: a run of init's pages. */
static void *table_alloc(void *ctx, size_t bytes)
{
	int64_t first = ram_run_alloc(bytes / PAGE_SIZE, IPC_MAP_READ | IPC_MAP_WRITE);

	return first < 0 ? NULL : ram_page_at((uint64_t)first);
}

static void table_free(void *ctx, void *table, size_t bytes)
{
	ram_run_free(((uint64_t)table - ROOT_RAM_WINDOW) / PAGE_SIZE, bytes / PAGE_SIZE);
}

const struct as_ops program_as_ops = { page_alloc, page_free, prepare, table_alloc, table_free,
				       NULL, NULL, NULL, NULL, NULL, NULL };

/*
 * A driver's client died while the driver was inside its poll: the rings
 * and pool the client mapped to it at NETQ_DRIVER_AREA (proto/netq.h) were
 * revoked under it. One blank page of the driver's own stands in wherever
 * it touches that window, so that the poll ends instead of the driver;
 * the driver sees its client dead right after and unmaps the window
 * (drivers/net/driver.c). Only drivers, only that window; the page goes
 * with the driver (program_release).
 */
static bool client_area_fault(struct program *p, struct msg *m)
{
	uint64_t addr = m->w[0];
	struct ipc_buffer *b = ipc_buffer();

	if (!p->dev || addr < NETQ_DRIVER_AREA ||
	    addr - NETQ_DRIVER_AREA >= 1ULL << NETQ_AREA_MAX_LOG2)
		return false;
	if (!p->blank && !(p->blank = ram_page_alloc()))
		return false;
	printf_limit(&p->log_limit,
		     "init: %s: page fault at %lx in its client's area, which is gone: a blank page "
		     "stands in\n", p->m->name, addr);
	b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE,
					addr & ~(PAGE_SIZE - 1));
	b->items[0][1] = fpage((uint64_t)p->blank, 12);
	m->tag = ipc_tag(IPC_REPLY_RESUME, 0, 1);
	/* A fault served is progress, not a hang: the driver waited for us
	 * (busy restarting its client, say) and could not beat meanwhile; a
	 * poll through a vanished heap faults page by page (the window is
	 * bounded, each page faults once). Without this the watchdog took a
	 * loaded host's slow faults for a hung driver (test_restart). */
	p->heartbeat_missed = 0;
	return true;
}

bool pager_fault(struct program *p, struct msg *m)
{
	struct ipc_buffer *b = ipc_buffer();
	unsigned nitems = 1;

	if (pager_answer(&p->as, m) < 0)
		return client_area_fault(p, m);
	/* Its I/O ports, as naturally aligned power-of-two flexpages. */
	for (unsigned i = 0; !p->ports_given && i < p->nports; i++) {
		uint64_t first = p->port_first[i], count = p->port_count[i];
		unsigned log2 = log2_ceil(count);
		if ((1UL << log2) == count && first % count == 0 && nitems < IPC_MAX_ITEMS) {
			b->items[nitems][0] = ipc_item_word0(IPC_ITEM_IOPORT, 0, 0);
			b->items[nitems][1] = (first << 12) | log2;
			nitems++;
		}
	}
	p->ports_given = true;
	m->tag = ipc_tag(IPC_REPLY_RESUME, 0, nitems);
	return true;
}
