/* Memory: mapping from memory capabilities, on-demand paging by a user
 * pager, map/grant/unmap between tasks through the mapping database. */
#include "child.h"

KTEST(mem_map_checks_arguments)
{
	struct mem_info info;
	uint64_t va = PROGRAM_OWN_BASE;

	KEXPECT(sys_mem_info(ROOT_SLOT_FIRST_RAM, (uint64_t)&info), 0);
	KCHECK(info.size >= (16UL << 20));
	KEXPECT(info.flags, 0);
	KEXPECT(sys_mem_info(ROOT_SLOT_MMIO, (uint64_t)&info), 0);
	KEXPECT(info.flags, MEM_INFO_MMIO);
	KEXPECT(sys_mem_info(ROOT_SLOT_TASK, (uint64_t)&info), -ERR_WRONG_TYPE);

	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, va + 1, 1, IPC_MAP_READ), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 123, va, 1, IPC_MAP_READ), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, va, 0, IPC_MAP_READ), -ERR_RANGE);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, 0xFFFF800000000000UL, 1, IPC_MAP_READ),
		-ERR_BAD_ADDRESS);
	struct mem_info ram;
	sys_mem_info(ROOT_SLOT_FIRST_RAM, (uint64_t)&ram);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, ram.size, va, 1, IPC_MAP_READ), -ERR_RANGE);
	/* Modules are given read-only. */
	KEXPECT(sys_mem_map(bootinfo->modules[0].slot, 0, va, 1, IPC_MAP_READ | IPC_MAP_WRITE),
		-ERR_NO_RIGHTS);
	KEXPECT(sys_mem_map(bootinfo->modules[0].slot, 0, va, 1, IPC_MAP_READ), 0);
	KEXPECT(((uint8_t *)va)[1], 'E');          /* the module is our own ELF file */
	KCHECK(!probe_writable((void *)va));
	KEXPECT(sys_mem_map(bootinfo->modules[0].slot, 0, va, 1, IPC_MAP_READ), -ERR_RANGE);
	KEXPECT(sys_mem_unmap(fpage(va, 12), MEM_UNMAP_SELF), 0);
	KEXPECT(sys_mem_unmap(fpage(va + PAGE_SIZE, 13), 0), -ERR_INVALID_ARG); /* misaligned */
	KEXPECT(sys_mem_unmap(fpage(va, 11), 0), -ERR_INVALID_ARG);            /* under a page */
	KEXPECT(sys_mem_unmap(fpage(va, 12), 0x80), -ERR_INVALID_ARG);
}

/* mem_phys: the physical run behind one's own pages (a driver's check of
 * the DMA memory its client says it shared). */
KTEST(mem_phys_tells_the_run_behind_own_pages)
{
	struct mem_info ram;
	uint64_t va = PROGRAM_OWN_BASE, pg = PAGE_SIZE;

	sys_mem_info(ROOT_SLOT_FIRST_RAM, (uint64_t)&ram);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, va, 3, IPC_MAP_READ), 0);
	KEXPECT(sys_mem_phys(va, 3), (long)ram.base);
	KEXPECT(sys_mem_phys(va + pg, 2), (long)(ram.base + pg));
	KEXPECT(sys_mem_phys(va, 4), -ERR_BAD_ADDRESS);            /* the fourth is not mapped */
	KEXPECT(sys_mem_phys(va + 1, 1), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_phys(va, 0), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_phys(va, MEM_PHYS_PAGES_MAX + 1), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_phys(0xFFFF800000000000UL, 1), -ERR_BAD_ADDRESS);
	/* Two pages mapped out of order are not one run. */
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 5 * pg, va + 4 * pg, 1, IPC_MAP_READ), 0);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, 4 * pg, va + 5 * pg, 1, IPC_MAP_READ), 0);
	KEXPECT(sys_mem_phys(va + 4 * pg, 1), (long)(ram.base + 5 * pg));
	KEXPECT(sys_mem_phys(va + 4 * pg, 2), -ERR_RANGE);
	KEXPECT(sys_mem_phys(va + 2 * pg, 2), -ERR_BAD_ADDRESS);   /* a hole */
	KEXPECT(sys_mem_unmap(fpage(va, 15), MEM_UNMAP_SELF), 0);
	KEXPECT(sys_mem_phys(va, 1), -ERR_BAD_ADDRESS);
}

KTEST(mem_map_read_write)
{
	uint32_t *p = ktest_pages(2);

	KCHECK(p);
	p[0] = 0xCAFE;
	p[1024] = 0xF00D;                   /* second page */
	KEXPECT(p[0] + p[1024], 0xCAFE + 0xF00D);
	KCHECK(probe_writable(p));
	ktest_pages_free(p, 2);
	KCHECK(!probe_writable(p));
}

static volatile uint64_t child_result;

static void child_touch(uint64_t value)
{
	/* Every page touched here (code, stack, this global) comes from the
	 * pager on demand. */
	child_result = value * 2;
}

KTEST(pager_maps_on_demand)
{
	child_result = 0;
	struct child *c = child_start(child_touch, 21, 256 * 1024, CHILD_STOP, true);
	KCHECK(c);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(child_result, 42);
	KCHECK(c->page_faults >= 3);        /* code, stack, data at least */
	KEXPECT(c->stopped, 0);
	child_destroy(c);
}

/*
 * Map, grant and recursive unmap between tasks. Relay children hold, in
 * their own capability tables: slot 0 their endpoint, slot 1 the next
 * relay's endpoint (if any), slot 2 the test's "done" endpoint.
 */
#define WINDOW (PROGRAM_OWN_BASE + (2UL << 30))
#define RELAY_OWN 0
#define RELAY_NEXT 1
#define RELAY_DONE 2
enum { OP_TAKE = 1, OP_PROBE = 2, OP_QUIT = 3 };

/* Each message: op in the label; for OP_TAKE a map/grant item into the
 * window, w[0] = forward to the next relay (1/0), w[1] = rights to give. */
static void relay(uint64_t index)
{
	struct ipc_buffer *b = ipc_buffer();

	b->recv_window = fpage(WINDOW, 12);
	for (;;) {
		struct msg m;
		if (ipc_recv(RELAY_OWN, CAP_SLOT_NONE, &m))
			return;
		uint64_t op = ipc_tag_label(m.tag), items = ipc_tag_items(m.tag);
		if (op == OP_QUIT)
			return;
		struct msg done = msg_make(op, 4);
		done.w[0] = index;
		done.w[1] = items;
		if (op == OP_TAKE && m.w[0] && items) {
			b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, m.w[1], WINDOW);
			b->items[0][1] = fpage(WINDOW, 12);
			struct msg fwd = { .tag = ipc_tag(OP_TAKE, 2, 1), .w = { 1, m.w[1] } };
			/* The last relay has no next: the send just fails. */
			if (ipc_send(RELAY_NEXT | IPC_NONBLOCK, &fwd) == -ERR_WOULD_BLOCK)
				ipc_send(RELAY_NEXT, &fwd);
		}
		/* Read what arrived before probing: the probe writes. Never
		 * read without a fresh item: the window may be unmapped. */
		done.w[3] = items ? *(volatile uint64_t *)WINDOW : 0;
		done.w[2] = probe_writable((void *)WINDOW);
		ipc_send(RELAY_DONE, &done);
	}
}

struct relay_chain {
	struct child *c[3];
	cap_slot_t ep[3], done;
	int n;
};

static bool chain_start(struct relay_chain *ch, int n)
{
	ch->n = n;
	ch->done = ktest_create(CAP_ENDPOINT);
	for (int i = 0; i < n; i++) {
		ch->ep[i] = ktest_create(CAP_ENDPOINT);
		ch->c[i] = child_create(256 * 1024, CHILD_STOP, true);
		if (!ch->c[i])
			return false;
	}
	for (int i = 0; i < n; i++) {
		if (child_give(ch->c[i], ch->ep[i], RELAY_OWN, CAP_RIGHT_READ) ||
		    (i + 1 < n && child_give(ch->c[i], ch->ep[i + 1], RELAY_NEXT, CAP_RIGHT_WRITE)) ||
		    child_give(ch->c[i], ch->done, RELAY_DONE, CAP_RIGHT_WRITE) ||
		    child_run(ch->c[i], relay, (uint64_t)i))
			return false;
	}
	return true;
}

/* Collect one "done" per relay expected; results indexed by relay. */
static bool chain_collect(struct relay_chain *ch, int count, uint64_t items[],
			  uint64_t writable[], uint64_t value[])
{
	for (int k = 0; k < count; k++) {
		struct msg m;
		if (ipc_recv(ch->done, CAP_SLOT_NONE, &m))
			return false;
		uint64_t i = m.w[0];
		if (i >= (uint64_t)ch->n)
			return false;
		items[i] = m.w[1];
		writable[i] = m.w[2];
		value[i] = m.w[3];
	}
	return true;
}

static void chain_send(struct relay_chain *ch, int i, uint64_t op, unsigned kind,
		       void *page, unsigned rights, bool forward)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m = { .tag = ipc_tag(op, 2, page ? 1 : 0), .w = { forward, rights } };

	if (page) {
		b->items[0][0] = ipc_item_word0(kind, rights, WINDOW);
		b->items[0][1] = fpage((uint64_t)page, 12);
	}
	ipc_send(ch->ep[i], &m);
}

static void chain_stop(struct relay_chain *ch)
{
	for (int i = 0; i < ch->n; i++) {
		if (ch->c[i]) {
			chain_send(ch, i, OP_QUIT, 0, NULL, 0, false);
			child_destroy(ch->c[i]);
		}
		sys_cap_delete(ch->ep[i]);
		slot_free(ch->ep[i]);
	}
	sys_cap_delete(ch->done);
	slot_free(ch->done);
}

KTEST(map_chain_and_recursive_unmap)
{
	struct relay_chain ch;
	uint64_t items[3], writable[3], value[3];
	uint64_t *page = ktest_pages(1);

	KCHECK(page);
	*page = 0x5EED;
	KCHECK(chain_start(&ch, 3));
	/* Us -> relay 0 -> relay 1 -> relay 2: three levels below us. */
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ | IPC_MAP_WRITE, true);
	KCHECK(chain_collect(&ch, 3, items, writable, value));
	for (int i = 0; i < 3; i++) {
		KEXPECT(value[i], 0x5EED);
		KEXPECT(writable[i], 1);
	}
	/* Flush what we gave away, keep our own mapping. */
	KEXPECT(sys_mem_unmap(fpage((uint64_t)page, 12), 0), 0);
	KCHECK(probe_writable(page));
	for (int i = 0; i < 3; i++)
		chain_send(&ch, i, OP_PROBE, 0, NULL, 0, false);
	KCHECK(chain_collect(&ch, 3, items, writable, value));
	for (int i = 0; i < 3; i++)
		KEXPECT(writable[i], 0);
	chain_stop(&ch);
	ktest_pages_free(page, 1);
}

KTEST(map_read_only_is_enforced)
{
	struct relay_chain ch;
	uint64_t items[1], writable[1], value[1];
	uint64_t *page = ktest_pages(1);

	KCHECK(page);
	*page = 77;
	KCHECK(chain_start(&ch, 1));
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 1);
	KEXPECT(writable[0], 0);         /* readable, not writable */
	KEXPECT(value[0], 77);
	chain_stop(&ch);
	ktest_pages_free(page, 1);
}

KTEST(unmap_write_only_keeps_read_access)
{
	struct relay_chain ch;
	uint64_t items[2], writable[2], value[2];
	uint64_t *page = ktest_pages(1);

	KCHECK(page);
	*page = 1234;
	KCHECK(chain_start(&ch, 2));
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ | IPC_MAP_WRITE, true);
	KCHECK(chain_collect(&ch, 2, items, writable, value));
	KEXPECT(writable[0], 1);
	KEXPECT(writable[1], 1);
	/* Revoke write access below us; both keep reading. */
	KEXPECT(sys_mem_unmap(fpage((uint64_t)page, 12), MEM_UNMAP_WRITE_ONLY), 0);
	KCHECK(probe_writable(page));
	for (int i = 0; i < 2; i++)
		chain_send(&ch, i, OP_PROBE, 0, NULL, 0, false);
	KCHECK(chain_collect(&ch, 2, items, writable, value));
	KEXPECT(writable[0], 0);
	KEXPECT(writable[1], 0);
	chain_stop(&ch);
	ktest_pages_free(page, 1);
}

/* mem_unmap_list: two pages, each lent to a relay, revoked in one call
 * (write access only: probe_writable reads first, so reading stays); a list with a bad entry anywhere changes nothing. */
KTEST(unmap_list_revokes_every_entry)
{
	struct relay_chain ch;
	uint64_t items[2], writable[2], value[2], list[3];
	uint64_t *page = ktest_pages(2), *other = page + PAGE_SIZE / 8;

	KCHECK(page);
	*page = 5;
	*other = 6;
	KCHECK(chain_start(&ch, 2));
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ | IPC_MAP_WRITE, false);
	chain_send(&ch, 1, OP_TAKE, IPC_ITEM_MAP, other, IPC_MAP_READ | IPC_MAP_WRITE, false);
	KCHECK(chain_collect(&ch, 2, items, writable, value));
	KEXPECT(writable[0], 1);
	KEXPECT(writable[1], 1);
	KEXPECT(value[1], 6);

	list[0] = fpage((uint64_t)page, 12);
	list[1] = fpage((uint64_t)other, 12);
	list[2] = fpage((uint64_t)other, 11);                   /* under a page */
	KEXPECT(sys_mem_unmap_list((uint64_t)list, 3, MEM_UNMAP_WRITE_ONLY), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_unmap_list((uint64_t)list, 0, MEM_UNMAP_WRITE_ONLY), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_unmap_list((uint64_t)list, MEM_UNMAP_LIST_MAX + 1, 0), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_unmap_list((uint64_t)list, 2, 0x80), -ERR_INVALID_ARG);
	KEXPECT(sys_mem_unmap_list(0, 2, MEM_UNMAP_WRITE_ONLY), -ERR_BAD_ADDRESS);
	KEXPECT(sys_mem_unmap_list(0xFFFFFFFF80000000UL, 2, MEM_UNMAP_WRITE_ONLY), -ERR_BAD_ADDRESS);
	list[2] = fpage(0x40000000, 30);        /* 1 GiB, and two pages more: too many */
	KEXPECT(sys_mem_unmap_list((uint64_t)list, 3, MEM_UNMAP_WRITE_ONLY), -ERR_INVALID_ARG);
	for (int i = 0; i < 2; i++)
		chain_send(&ch, i, OP_PROBE, 0, NULL, 0, false);
	KCHECK(chain_collect(&ch, 2, items, writable, value));
	KEXPECT(writable[0], 1);                /* nothing was revoked */
	KEXPECT(writable[1], 1);

	KEXPECT(sys_mem_unmap_list((uint64_t)list, 2, MEM_UNMAP_WRITE_ONLY), 0);
	KCHECK(probe_writable(page));           /* ours stay */
	KCHECK(probe_writable(other));
	for (int i = 0; i < 2; i++)
		chain_send(&ch, i, OP_PROBE, 0, NULL, 0, false);
	KCHECK(chain_collect(&ch, 2, items, writable, value));
	KEXPECT(writable[0], 0);
	KEXPECT(writable[1], 0);
	chain_stop(&ch);
	ktest_pages_free(page, 2);
}

KTEST(grant_moves_the_page)
{
	struct relay_chain ch;
	uint64_t items[1], writable[1], value[1];
	uint64_t *page = ktest_pages(1);

	KCHECK(page);
	*page = 99;
	KCHECK(chain_start(&ch, 1));
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_GRANT, page, IPC_MAP_READ | IPC_MAP_WRITE, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 1);
	KEXPECT(writable[0], 1);
	KEXPECT(value[0], 99);
	KCHECK(!probe_writable(page));   /* gone from us */
	chain_stop(&ch);
	ktest_pages_free(page, 1);
}

KTEST(map_outside_window_is_dropped)
{
	struct relay_chain ch;
	uint64_t items[1], writable[1], value[1];
	uint64_t *page = ktest_pages(1);
	struct ipc_buffer *b = ipc_buffer();

	KCHECK(page);
	KCHECK(chain_start(&ch, 1));
	/* Destination outside the relay's one-page window: not delivered. */
	struct msg m = { .tag = ipc_tag(OP_TAKE, 2, 1), .w = { 0, IPC_MAP_READ } };
	b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ, WINDOW + PAGE_SIZE);
	b->items[0][1] = fpage((uint64_t)page, 12);
	KEXPECT(ipc_send(ch.ep[0], &m), 0);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 0);
	KEXPECT(writable[0], 0);
	chain_stop(&ch);
	ktest_pages_free(page, 1);
}

/* Mapping a page again where the receiver has it from the same mapping
 * extends its rights (L4's rule; a pager answers a write fault on a page
 * it had mapped read-only so, docs/abi.md). */
KTEST(map_again_extends_rights)
{
	struct relay_chain ch;
	uint64_t items[1], writable[1], value[1];
	uint64_t *page = ktest_pages(1);

	KCHECK(page);
	*page = 4321;
	KCHECK(chain_start(&ch, 1));
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 1);
	KEXPECT(writable[0], 0);
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ | IPC_MAP_WRITE, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 1);
	KEXPECT(writable[0], 1);
	KEXPECT(value[0], 4321);
	/* Another page at the same place is still refused. */
	uint64_t *other = ktest_pages(1);
	KCHECK(other);
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, other, IPC_MAP_READ | IPC_MAP_WRITE, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 0);
	chain_stop(&ch);
	ktest_pages_free(page, 1);
	ktest_pages_free(other, 1);
}

/* The page tables a mapping needed are freed, and their charge returned
 * to the receiver's quota, when the last mapping in them is revoked. */
KTEST(unmap_frees_empty_page_tables)
{
	struct relay_chain ch;
	uint64_t items[1], writable[1], value[1];
	struct task_info before, mapped, after;
	uint64_t *page = ktest_pages(1);

	KCHECK(page);
	KCHECK(chain_start(&ch, 1));
	chain_send(&ch, 0, OP_PROBE, 0, NULL, 0, false);       /* running, waiting */
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(sys_task_info(ch.c[0]->task, (uint64_t)&before), 0);
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 1);
	KEXPECT(sys_task_info(ch.c[0]->task, (uint64_t)&mapped), 0);
	KCHECK(mapped.quota_used >= before.quota_used + 4096 + 64);   /* a table and a record */
	KEXPECT(sys_mem_unmap(fpage((uint64_t)page, 12), 0), 0);
	KEXPECT(sys_task_info(ch.c[0]->task, (uint64_t)&after), 0);
	KEXPECT(after.quota_used, before.quota_used);
	/* Mapped again: the tables are made (and charged) again. */
	chain_send(&ch, 0, OP_TAKE, IPC_ITEM_MAP, page, IPC_MAP_READ, false);
	KCHECK(chain_collect(&ch, 1, items, writable, value));
	KEXPECT(items[0], 1);
	KEXPECT(sys_task_info(ch.c[0]->task, (uint64_t)&after), 0);
	KEXPECT(after.quota_used, mapped.quota_used);
	chain_stop(&ch);
	ktest_pages_free(page, 1);
}

/* A page table is freed when its last mapping goes, not before: the
 * kernel counts each table's present entries (kmem_pt_used) instead of
 * reading them, so a table whose other mapping sits far from the one
 * unmapped must stay, charged and still mapping it; and tables it keeps
 * zeroed for reuse count as free memory. */
/* Unmap va, the last mapping of its tables: the task's quota and the
 * free memory are back where they were before the tables were made. */
static void unmap_last(uint64_t va, const struct task_info *before)
{
	struct task_info after;

	KEXPECT(sys_mem_unmap(fpage(va, 12), MEM_UNMAP_SELF), 0);
	KEXPECT(sys_task_info(CAP_SLOT_SELF, (uint64_t)&after), 0);
	KEXPECT(after.quota_used, before->quota_used);
	KEXPECT(after.free_frames + after.small_block_frames,
		before->free_frames + before->small_block_frames);
}

KTEST(page_table_kept_until_its_last_mapping_goes)
{
	const uint64_t va = PROGRAM_OWN_BASE + (8UL << 30), far = va + 300 * PAGE_SIZE;
	struct task_info before, mapped, after;
	volatile uint64_t *page = ktest_pages(1);

	KCHECK(page);
	*page = 0x6d69636170616765ULL;
	uint64_t offset = (uint64_t)page - ROOT_RAM_WINDOW;   /* of the first RAM region */
	KEXPECT(sys_task_info(CAP_SLOT_SELF, (uint64_t)&before), 0);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, offset, va, 1, IPC_MAP_READ), 0);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, offset, far, 1, IPC_MAP_READ), 0);
	KEXPECT(sys_task_info(CAP_SLOT_SELF, (uint64_t)&mapped), 0);
	KCHECK(mapped.quota_used >= before.quota_used + 2 * PAGE_SIZE);   /* a directory and a table */
	KEXPECT(sys_mem_unmap(fpage(va, 12), MEM_UNMAP_SELF), 0);
	KEXPECT(sys_task_info(CAP_SLOT_SELF, (uint64_t)&after), 0);
	KCHECK(after.quota_used >= before.quota_used + 2 * PAGE_SIZE);    /* both kept */
	KEXPECT(*(volatile uint64_t *)far, 0x6d69636170616765ULL);
	unmap_last(far, &before);
	/* Made again from the kept tables, and gone again. */
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, offset, far, 1, IPC_MAP_READ), 0);
	KEXPECT(*(volatile uint64_t *)far, 0x6d69636170616765ULL);
	unmap_last(far, &before);
	ktest_pages_free((void *)page, 1);
}
