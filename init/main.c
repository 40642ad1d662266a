/*
 * init: the root task. It owns all user memory (sigma0), reads the boot
 * manifest, loads each program from its boot module, pages it on demand,
 * serves names, and restarts programs that die, as the manifest says.
 *
 * One thread, one loop: page faults and exceptions of its programs, name
 * service requests (all on one endpoint, told apart by badge and label)
 * and death notices (a bound notification).
 */
#include "manifest.h"
#include "names.h"
#include "pci.h"

#include "lib/elf.h"
#include "lib/mica.h"
#include "proto/dma.h"
#include "proto/init.h"
#include "proto/nameservice.h"
#include "proto/program.h"

#define INIT_PRIORITY 200

#define BADGE_PROGRAM   0x100   /* + index: a program's fault/exception messages */
#define BADGE_CLIENT    0x200   /* + index: its name-service requests */

/* On `deaths` (bit i: program i ended) also the supervisor's timer. */
#define DEATHS_BIT_TIMER (1UL << 62)

/* Restart policy: a crash or hang waits BACKOFF_FIRST_MS, doubling with
 * each crash in a row up to BACKOFF_MAX_MS; a program up for STABLE_MS
 * starts counting from 0 again. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   10000
#define STABLE_MS        5000

static const struct bootinfo *bi;
static cap_slot_t service_ep, service_reply, deaths;
static struct mem_info ram, mmio;

/* ---- physical memory (sigma0) ---- */

static uint8_t *ram_used;       /* one byte per page of the first RAM region */
static uint64_t ram_pages, ram_next;    /* no free page below ram_next */

/* The lowest free page: a program restarted gets the pages its last
 * instance had, and init's page tables for its window stop growing. */
static void *page_alloc(void)
{
	for (; ram_next < ram_pages; ram_next++) {
		if (ram_used[ram_next])
			continue;
		uint64_t va = ROOT_RAM_WINDOW + ram_next * PAGE_SIZE;
		/* Executable too: a program can get no more than we have, and
		 * its code lives in these pages. */
		if (sys_mem_map(ROOT_SLOT_FIRST_RAM, ram_next * PAGE_SIZE, va, 1,
				IPC_MAP_READ | IPC_MAP_WRITE | IPC_MAP_EXEC) < 0)
			return NULL;
		ram_used[ram_next] = 1;
		memset((void *)va, 0, PAGE_SIZE);
		return (void *)va;
	}
	return NULL;
}

/* n pages (a power of two), physically contiguous and aligned to their
 * size in page numbers (so they form one flexpage in our window). Returns
 * the first page's index, or -1. */
static int64_t pages_alloc_contiguous(uint64_t n)
{
	for (uint64_t first = 0; first + n <= ram_pages; first += n) {
		uint64_t i = 0;
		while (i < n && !ram_used[first + i])
			i++;
		if (i < n)
			continue;
		uint64_t va = ROOT_RAM_WINDOW + first * PAGE_SIZE;
		if (sys_mem_map(ROOT_SLOT_FIRST_RAM, first * PAGE_SIZE, va, n,
				IPC_MAP_READ | IPC_MAP_WRITE) < 0)
			return -1;
		memset((void *)va, 0, n * PAGE_SIZE);
		memset(ram_used + first, 1, n);
		return (int64_t)first;
	}
	return -1;
}

/* Free a page: revoke it from everyone it went to, and from us. */
static void page_free(void *p)
{
	uint64_t i = ((uint64_t)p - ROOT_RAM_WINDOW) / PAGE_SIZE;

	sys_mem_unmap(fpage((uint64_t)p, 12), MEM_UNMAP_SELF);
	ram_used[i] = 0;
	if (i < ram_next)
		ram_next = i;
}

static bool ram_init(void)
{
	if (bi->ram_count == 0 || sys_mem_info(ROOT_SLOT_FIRST_RAM, (uint64_t)&ram) < 0)
		return false;
	ram_pages = ram.size / PAGE_SIZE;
	/* The page-use map itself: its first pages, mapped by hand. */
	uint64_t map_pages = (ram_pages + PAGE_SIZE - 1) / PAGE_SIZE;
	if (sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, ROOT_RAM_WINDOW, map_pages,
			IPC_MAP_READ | IPC_MAP_WRITE) < 0)
		return false;
	ram_used = (uint8_t *)ROOT_RAM_WINDOW;
	memset(ram_used, 0, map_pages * PAGE_SIZE);
	for (uint64_t i = 0; i < map_pages; i++)
		ram_used[i] = 1;
	ram_next = map_pages;
	sys_mem_info(ROOT_SLOT_MMIO, (uint64_t)&mmio);
	return true;
}

/* ---- modules ---- */

static bool module_mapped[BOOTINFO_MAX_MODULES];

static const struct bootinfo_module *find_module(const char *name, const uint8_t **data)
{
	for (uint64_t k = 0; k < bi->module_count; k++) {
		const struct bootinfo_module *m = &bi->modules[k];
		if (strcmp(m->name, name))
			continue;
		uint64_t va = ROOT_MODULE_WINDOW + k * ROOT_MODULE_SPAN;
		uint64_t pages = (m->size + PAGE_SIZE - 1) / PAGE_SIZE;
		/* Mapped once, kept: modules are read-only and reused on restart. */
		if (!module_mapped[k]) {
			if (sys_mem_map(m->slot, 0, va, pages, IPC_MAP_READ) < 0)
				return NULL;
			module_mapped[k] = true;
		}
		*data = (const uint8_t *)va;
		return m;
	}
	return NULL;
}

/* ---- programs ---- */

#define MAX_PAGES 1024

struct backing {
	uint64_t va;            /* in the program */
	void *page;             /* ours */
	unsigned rights;
};

#define MAX_DMA 8
#define MAX_PORT_RANGES 3       /* the manifest's, and the device's I/O BARs */

struct program {
	const struct manifest_program *m;
	int index;
	enum program_state state;
	unsigned restarts, crashes;     /* restarts in all; crashes in a row */
	uint64_t started_at, restart_at;        /* ms of uptime */
	struct program_heartbeat *hb;   /* ours, when it has heartbeat= */
	uint64_t hb_beats, hb_next;     /* at the last look; when to look next */
	unsigned hb_missed;
	cap_slot_t task, thread, irqs[MANIFEST_MAX_IRQS], dev_irq;
	struct pci_found *dev;
	bool ports_given;
	unsigned nports;
	uint32_t port_first[MAX_PORT_RANGES], port_count[MAX_PORT_RANGES];
	struct {
		uint64_t va, first, pages;      /* in the program; our page index */
	} dma[MAX_DMA];
	unsigned ndma;
	struct {
		uint64_t first, pages;          /* our page index; 0 pages: none */
	} kept[MAX_DMA];                        /* a dead instance's, for the next */
	uint64_t dma_used;
	unsigned npages;
	struct backing pages[MAX_PAGES];
	uint64_t seg_lo[ELF_MAX_SEGMENTS], seg_hi[ELF_MAX_SEGMENTS];
	int nsegs;
};

static struct manifest manifest;
static struct program programs[MANIFEST_MAX_PROGRAMS];

static uint64_t now_ms(void)
{
	return (uint64_t)sys_clock() / 1000000;
}

static struct backing *backing_find(struct program *p, uint64_t va)
{
	for (unsigned i = 0; i < p->npages; i++)
		if (p->pages[i].va == va)
			return &p->pages[i];
	return NULL;
}

static struct backing *backing_add(struct program *p, uint64_t va, unsigned rights)
{
	if (p->npages == MAX_PAGES)
		return NULL;
	void *page = page_alloc();
	if (!page)
		return NULL;
	struct backing *b = &p->pages[p->npages++];
	b->va = va;
	b->page = page;
	b->rights = rights;
	return b;
}

static void program_release(struct program *p)
{
	/* First silence the device: its memory is about to be reused. */
	if (p->dev)
		pci_set_state(p->dev, PCI_DEV_QUIET);
	if (p->thread) {
		sys_obj_destroy(p->thread);
		sys_cap_delete(p->thread);
		slot_free(p->thread);
	}
	if (p->task) {
		sys_obj_destroy(p->task);
		sys_cap_delete(p->task);
		slot_free(p->task);
	}
	p->task = p->thread = 0;
	for (unsigned i = 0; i < p->npages; i++)
		page_free(p->pages[i].page);
	p->npages = 0;
	/* DMA memory is revoked from the program but kept for its next
	 * instance: a device it shared the memory with (a client's pool in a
	 * driver) may still write there until that instance attaches again,
	 * so the memory must not go to anybody else. What the last instance
	 * did not take back is freed now. */
	for (unsigned i = 0; i < MAX_DMA; i++) {
		for (uint64_t k = 0; k < p->kept[i].pages; k++)
			page_free((void *)(ROOT_RAM_WINDOW + (p->kept[i].first + k) * PAGE_SIZE));
		p->kept[i].pages = 0;
	}
	for (unsigned i = 0; i < p->ndma; i++) {
		uint64_t va = ROOT_RAM_WINDOW + p->dma[i].first * PAGE_SIZE;
		sys_mem_unmap(fpage(va, log2_ceil(p->dma[i].pages * PAGE_SIZE)), 0);
		p->kept[i].first = p->dma[i].first;
		p->kept[i].pages = p->dma[i].pages;
	}
	p->ndma = 0;
	p->dma_used = 0;
	p->hb = NULL;
	names_release(p->index);
}

/* Copy the executable's segments into fresh pages of ours. */
static const char *load_image(struct program *p, uint64_t *entry)
{
	const uint8_t *file;
	const struct bootinfo_module *mod = find_module(p->m->module, &file);
	static struct elf_image img;

	if (!mod)
		return "no such boot module";
	int err = elf_parse(file, mod->size, PROGRAM_IMAGE_TOP, &img);
	if (err)
		return elf_strerror(err);
	p->nsegs = img.nsegments;
	for (int i = 0; i < img.nsegments; i++) {
		const struct elf_segment *s = &img.segments[i];
		unsigned rights = IPC_MAP_READ | (s->flags & ELF_SEG_WRITE ? IPC_MAP_WRITE : 0) |
				  (s->flags & ELF_SEG_EXEC ? IPC_MAP_EXEC : 0);
		p->seg_lo[i] = s->vaddr & ~(PAGE_SIZE - 1);
		p->seg_hi[i] = s->vaddr + s->memsz;
		for (uint64_t va = p->seg_lo[i]; va < p->seg_hi[i]; va += PAGE_SIZE) {
			struct backing *b = backing_add(p, va, rights);
			if (!b)
				return "out of memory";
			uint64_t lo = va > s->vaddr ? va : s->vaddr;
			uint64_t hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE
									  : s->vaddr + s->filesz;
			if (lo < hi)
				memcpy((uint8_t *)b->page + (lo - va), file + s->offset + (lo - s->vaddr),
				       hi - lo);
		}
	}
	*entry = img.entry;
	return NULL;
}

/* An IRQ capability for the program in its slot dest; ours (in *mine)
 * is made on first use and kept across restarts. */
static long give_irq(struct program *p, cap_slot_t *mine, uint64_t gsi_flags, cap_slot_t dest)
{
	long err;

	if (!*mine) {
		*mine = slot_alloc();
		if ((err = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, gsi_flags, *mine)) < 0) {
			slot_free(*mine);
			*mine = 0;
			return err;
		}
	}
	return sys_cap_copy(*mine, p->task, dest, CAP_RIGHTS_ALL, 0);
}

static long program_start(struct program *p)
{
	const struct manifest_program *m = p->m;
	uint64_t entry = 0;
	long err;
	const char *why = load_image(p, &entry);

	if (why) {
		printf("init: %s: cannot load module '%s': %s\n", m->name, m->module, why);
		program_release(p);
		p->state = PROGRAM_NOT_STARTED;
		return -ERR_INVALID_ARG;
	}
	/* Start-up information and the IPC buffer. */
	struct backing *info = backing_add(p, PROGRAM_INFO_ADDR, IPC_MAP_READ);
	struct backing *ipc = backing_add(p, PROGRAM_IPC_BUFFER, IPC_MAP_READ | IPC_MAP_WRITE);
	struct backing *hb = m->heartbeat_ms ? backing_add(p, PROGRAM_HEARTBEAT_ADDR,
							    IPC_MAP_READ | IPC_MAP_WRITE) : NULL;
	if (!info || !ipc || (m->heartbeat_ms && !hb)) {
		program_release(p);
		p->state = PROGRAM_NOT_STARTED;
		return -ERR_NO_MEMORY;
	}
	struct program_info *pi = info->page;
	pi->magic = PROGRAM_INFO_MAGIC;
	memcpy(pi->name, m->name, sizeof(pi->name) - 1);
	memcpy(pi->args, m->args, sizeof(pi->args) - 1);
	pi->restarts = p->restarts;
	pi->priority = m->priority;
	pi->heartbeat_ms = m->heartbeat_ms;
	if (p->dev) {
		pi->pci = p->dev->info;
		pi->pci.irq_slot = PROGRAM_IRQ_SLOT + m->nirqs;
	}
	((struct ipc_buffer *)ipc->page)->user[0] = PROGRAM_IPC_BUFFER;

	p->task = slot_alloc();
	p->thread = slot_alloc();
	cap_slot_t badged = slot_alloc(), client = slot_alloc();
	struct thread_config cfg = {
		.fields = THREAD_CFG_TASK | THREAD_CFG_PAGER | THREAD_CFG_EXCEPTION |
			  THREAD_CFG_IPC_BUFFER | THREAD_CFG_PRIORITY | THREAD_CFG_NAME,
		.task = p->task, .pager = badged, .exception = badged,
		.ipc_buffer = PROGRAM_IPC_BUFFER, .priority = m->priority,
	};
	memcpy(cfg.name, m->name, sizeof(cfg.name) - 1);
	struct task_config tcfg = { .fields = TASK_CFG_SUPERVISOR, .supervisor = deaths,
				    .supervisor_bits = 1UL << p->index };
	if ((err = sys_obj_create(CAP_TASK, p->task, m->quota)) < 0 ||
	    (err = sys_obj_create(CAP_THREAD, p->thread, p->task)) < 0 ||
	    (err = sys_cap_copy(service_ep, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE,
				BADGE_PROGRAM + (uint64_t)p->index)) < 0 ||
	    (err = sys_cap_copy(service_ep, CAP_SLOT_SELF, client,
				CAP_RIGHT_WRITE | CAP_RIGHT_GRANT,
				BADGE_CLIENT + (uint64_t)p->index)) < 0 ||
	    (err = sys_cap_move(client, p->task, PROGRAM_INIT_SLOT)) < 0 ||
	    (err = sys_thread_configure(p->thread, (uint64_t)&cfg)) < 0 ||
	    (err = sys_task_configure(p->task, (uint64_t)&tcfg)) < 0)
		goto fail;
	if ((err = sys_cap_copy(p->thread, p->task, PROGRAM_THREAD_SLOT, CAP_RIGHTS_ALL, 0)) < 0 ||
	    (err = sys_cap_copy(badged, p->task, PROGRAM_PAGER_SLOT, CAP_RIGHT_WRITE, 0)) < 0)
		goto fail;
	for (unsigned i = 0; i < m->nirqs; i++)
		if ((err = give_irq(p, &p->irqs[i], m->irqs[i], PROGRAM_IRQ_SLOT + i)) < 0)
			goto fail;
	if (p->dev && p->dev->info.irq_line != 0xFF &&
	    (err = give_irq(p, &p->dev_irq, p->dev->info.irq_line | IRQ_FLAG_LEVEL,
			    PROGRAM_IRQ_SLOT + m->nirqs)) < 0)
		goto fail;
	for (unsigned i = 0; i < p->nports; i++)
		if ((err = sys_ioport_map(ROOT_SLOT_IOPORTS, p->port_first[i], p->port_count[i])) < 0)
			goto fail;
	p->ports_given = false;
	if (p->dev)
		pci_set_state(p->dev, PCI_DEV_PROBE);
	if ((err = sys_thread_start(p->thread, entry, PROGRAM_STACK_TOP - 8,
				    PROGRAM_INFO_ADDR)) < 0)
		goto fail;
	sys_cap_delete(badged);
	slot_free(badged);
	slot_free(client);
	p->state = PROGRAM_RUNNING;
	p->started_at = now_ms();
	if (hb) {
		p->hb = hb->page;
		p->hb_beats = 0;
		p->hb_missed = 0;
		p->hb_next = p->started_at + m->heartbeat_ms;
	}
	return 0;
fail:
	printf("init: %s: cannot start: %s\n", m->name, mica_strerror(err));
	sys_cap_delete(badged);
	sys_cap_delete(client);
	slot_free(badged);
	slot_free(client);
	program_release(p);
	p->state = PROGRAM_NOT_STARTED;
	return err;
}

/* How a program ended. */
enum death { DIED_EXIT, DIED_CRASH, DIED_KILL };

static void program_restart(struct program *p)
{
	p->restarts++;
	if (program_start(p) == 0)
		printf("init: %s restarted (%u restarts so far)\n", p->m->name, p->restarts);
}

/* A program ended: free everything it held, then restart it as its
 * policy says: a kill at once; a crash or hang after a backoff, and not
 * more than retries= times in a row. */
static void program_died(struct program *p, const char *how, enum death cause)
{
	uint64_t now = now_ms();
	bool was_stable = now - p->started_at >= STABLE_MS;

	program_release(p);
	if (cause == DIED_EXIT) {
		p->state = PROGRAM_EXITED;
		printf("init: %s %s\n", p->m->name, how);
		return;
	}
	if (p->m->restart == RESTART_NEVER) {
		p->state = PROGRAM_DOWN;
		printf("init: %s %s; restart=never, left down\n", p->m->name, how);
		return;
	}
	if (cause == DIED_KILL) {
		printf("init: %s %s at %lu ms; restarting\n", p->m->name, how, now);
		program_restart(p);
		return;
	}
	if (was_stable)
		p->crashes = 0;
	if (p->crashes >= p->m->retries) {
		p->state = PROGRAM_DOWN;
		printf("init: %s %s; gave up after %u crashes in a row, left down\n", p->m->name,
		       how, p->crashes + 1);
		return;
	}
	p->crashes++;
	uint64_t delay = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < p->crashes && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	p->state = PROGRAM_WAITING;
	p->restart_at = now + delay;
	printf("init: %s %s; restarting in %lu ms (%u of %u)\n", p->m->name, how, delay,
	       p->crashes, p->m->retries);
}

/* The supervisor's clock: restarts whose backoff ended, and the
 * watchdog's look at each heartbeat. Then the timer is armed for the
 * next of either. */
static void supervise(void)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (unsigned i = 0; i < manifest.nprograms; i++) {
		struct program *p = &programs[i];
		if (p->state == PROGRAM_WAITING && p->restart_at <= now)
			program_restart(p);
		if (p->state == PROGRAM_RUNNING && p->hb && p->hb_next <= now) {
			volatile struct program_heartbeat *hb = p->hb;
			uint64_t beats = hb->beats;
			if (hb->busy && beats == p->hb_beats)
				p->hb_missed++;
			else
				p->hb_missed = 0;
			p->hb_beats = beats;
			p->hb_next = now + p->m->heartbeat_ms;
			if (p->hb_missed >= 2) {
				char how[64];
				fmt_snprintf(how, sizeof(how), "hung (busy, no heartbeat for %lu ms)",
					     2 * (uint64_t)p->m->heartbeat_ms);
				program_died(p, how, DIED_CRASH);
			}
		}
		if (p->state == PROGRAM_WAITING && p->restart_at < next)
			next = p->restart_at;
		if (p->state == PROGRAM_RUNNING && p->hb && p->hb_next < next)
			next = p->hb_next;
	}
	if (next != UINT64_MAX)
		sys_notify_timer(deaths, DEATHS_BIT_TIMER, next * 1000000);
}

/* ---- paging and exceptions ---- */

static bool in_mmio(struct program *p, uint64_t va)
{
	for (unsigned i = 0; i < p->m->nmmio; i++)
		if (va >= p->m->mmio_base[i] && va - p->m->mmio_base[i] < p->m->mmio_size[i])
			return true;
	for (int i = 0; p->dev && i < PCI_BARS; i++) {
		const struct pci_bar *bar = &p->dev->info.bars[i];
		if (bar->kind == PCI_BAR_MEM && va >= (bar->base & ~(PAGE_SIZE - 1)) &&
		    va < bar->base + bar->size)
			return true;
	}
	return false;
}

/* Our address of the DMA page the program has at va, or 0. */
static uint64_t dma_page(struct program *p, uint64_t va)
{
	for (unsigned i = 0; i < p->ndma; i++)
		if (va >= p->dma[i].va && va < p->dma[i].va + p->dma[i].pages * PAGE_SIZE)
			return ROOT_RAM_WINDOW + p->dma[i].first * PAGE_SIZE + (va - p->dma[i].va);
	return 0;
}

/* Answer a page fault in m; false: refuse it. */
static bool page_fault(struct program *p, struct msg *m)
{
	uint64_t addr = m->w[0], access = m->w[1], va = addr & ~(PAGE_SIZE - 1);
	struct ipc_buffer *b = ipc_buffer();
	struct backing *k = backing_find(p, va);
	unsigned nitems = 0;
	uint64_t source;
	unsigned rights;

	if (k) {
		source = (uint64_t)k->page;
		rights = k->rights;
	} else if ((va >= PROGRAM_STACK_TOP - PROGRAM_STACK_SIZE && va < PROGRAM_STACK_TOP) ||
		   (va >= PROGRAM_HEAP_BASE && va < PROGRAM_HEAP_BASE + PROGRAM_HEAP_SIZE)) {
		/* Stack and heap: a zero page on first touch. */
		if (!(k = backing_add(p, va, IPC_MAP_READ | IPC_MAP_WRITE)))
			return false;
		source = (uint64_t)k->page;
		rights = k->rights;
	} else if ((source = dma_page(p, va))) {
		rights = IPC_MAP_READ | IPC_MAP_WRITE;
	} else if (in_mmio(p, va) && va >= mmio.base && va - mmio.base < mmio.size) {
		/* Device memory: ours first (uncached), then theirs. */
		source = ROOT_MMIO_WINDOW + (va - mmio.base);
		sys_mem_map(ROOT_SLOT_MMIO, va - mmio.base, source, 1, IPC_MAP_READ | IPC_MAP_WRITE);
		rights = IPC_MAP_READ | IPC_MAP_WRITE;
	} else {
		return false;
	}
	if ((access & 2) && !(rights & IPC_MAP_WRITE))
		return false;           /* write to read-only */
	if ((access & 16) && !(rights & IPC_MAP_EXEC))
		return false;
	b->items[nitems][0] = ipc_item_word0(IPC_ITEM_MAP, rights, va);
	b->items[nitems][1] = fpage(source, 12);
	nitems++;
	/* Its I/O ports ride along with its first page, as naturally aligned
	 * power-of-two flexpages. */
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

/* ---- DMA memory ---- */

/* DMA_ALLOC: contiguous pages, mapped into the caller in one item. */
static long dma_request(struct program *p, struct msg *m)
{
	struct ipc_buffer *b = ipc_buffer();

	if (m->w[0] == 0 || m->w[0] > p->m->dma)
		return m->w[0] ? ERR_NO_MEMORY : ERR_INVALID_ARG;
	unsigned log2 = m->w[0] <= PAGE_SIZE ? 12 : log2_ceil(m->w[0]);
	uint64_t size = 1UL << log2;
	if (p->dma_used + size > p->m->dma || p->ndma == MAX_DMA)
		return ERR_NO_MEMORY;
	/* Place it in the program's DMA window, aligned to its size. */
	uint64_t va = PROGRAM_DMA_BASE;
	for (unsigned i = 0; i < p->ndma; i++)
		if (p->dma[i].va + p->dma[i].pages * PAGE_SIZE > va)
			va = p->dma[i].va + p->dma[i].pages * PAGE_SIZE;
	va = (va + size - 1) & ~(size - 1);
	if (va + size > PROGRAM_DMA_BASE + PROGRAM_DMA_SIZE)
		return ERR_NO_MEMORY;
	int64_t first = -1;
	for (unsigned i = 0; i < MAX_DMA && first < 0; i++)
		if (p->kept[i].pages == size / PAGE_SIZE) {
			first = (int64_t)p->kept[i].first;
			p->kept[i].pages = 0;
			memset((void *)(ROOT_RAM_WINDOW + (uint64_t)first * PAGE_SIZE), 0, size);
		}
	if (first < 0 && (first = pages_alloc_contiguous(size / PAGE_SIZE)) < 0)
		return ERR_NO_MEMORY;
	/* A driver resets its device before it asks for DMA memory: only now
	 * may the device master the bus again (pci.h). */
	if (p->dev)
		pci_set_state(p->dev, PCI_DEV_LIVE);
	p->dma[p->ndma].va = va;
	p->dma[p->ndma].first = (uint64_t)first;
	p->dma[p->ndma].pages = size / PAGE_SIZE;
	p->ndma++;
	p->dma_used += size;
	m->tag = ipc_tag(0, 3, 1);
	m->w[0] = ram.base + (uint64_t)first * PAGE_SIZE;
	m->w[1] = va;
	m->w[2] = size;
	b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE, va);
	b->items[0][1] = fpage(ROOT_RAM_WINDOW + (uint64_t)first * PAGE_SIZE, log2);
	return 0;
}

/* ---- devices ---- */

/* Give each program its `pci` device: claim it, and its I/O BARs become
 * port ranges it gets. false: the manifest names a device that is not
 * there (or already taken); the program is not started. */
static bool claim_device(struct program *p)
{
	const struct manifest_program *m = p->m;
	struct pci_found *d = NULL;

	p->nports = 0;
	if (m->ioport_count) {
		p->port_first[p->nports] = m->ioport_first;
		p->port_count[p->nports++] = m->ioport_count;
	}
	if (m->pci == PCI_MATCH_NONE)
		return true;
	if (m->pci == PCI_MATCH_ID)
		d = pci_find_id(m->pci_a, m->pci_b);
	else
		d = pci_find_slot((uint8_t)m->pci_a, (uint8_t)m->pci_b);
	if (!d || d->owner >= 0) {
		if (m->pci == PCI_MATCH_ID)
			printf("init: %s: no free PCI device %04x:%04x (manifest line %u)\n", m->name,
			       m->pci_a, m->pci_b, m->line);
		else
			printf("init: %s: no free PCI device at %02x:%02x.%x (manifest line %u)\n",
			       m->name, m->pci_a, m->pci_b >> 3, m->pci_b & 7, m->line);
		return false;
	}
	for (int i = 0; i < PCI_BARS; i++) {
		const struct pci_bar *bar = &d->info.bars[i];
		if (bar->kind == PCI_BAR_MEM &&
		    (bar->base < mmio.base || bar->base + bar->size > mmio.base + mmio.size)) {
			printf("init: %s: BAR %d at %lx is outside the device window\n", m->name, i,
			       bar->base);
			return false;
		}
		if (bar->kind == PCI_BAR_IO && p->nports < MAX_PORT_RANGES) {
			p->port_first[p->nports] = (uint32_t)bar->base;
			p->port_count[p->nports++] = (uint32_t)bar->size;
		}
	}
	d->owner = p->index;
	p->dev = d;
	return true;
}

/* A program's thread still exists (an exit signal may be older than its
 * last restart). */
static bool thread_alive(cap_slot_t thread)
{
	uint64_t info[3];

	return sys_cap_info(thread, (uint64_t)info) == 0 && info[0] == CAP_THREAD;
}

/* ---- control (the console) ---- */

static struct program *program_named(const struct msg *m)
{
	char name[INIT_NAME_WORDS * 8 + 1] = { 0 };

	memcpy(name, m->w, INIT_NAME_WORDS * 8);
	for (unsigned i = 0; i < manifest.nprograms; i++)
		if (!strcmp(programs[i].m->name, name))
			return &programs[i];
	return NULL;
}

static long memory_report(struct msg *m)
{
	struct init_memory mem = { .ram_pages = ram_pages };
	struct task_info ti;

	for (uint64_t i = 0; i < ram_pages; i++)
		mem.ram_pages_free += !ram_used[i];
	if (sys_task_info(ROOT_SLOT_TASK, (uint64_t)&ti) == 0) {
		mem.kernel_frames_free = ti.free_frames;
		mem.quota_used = ti.quota_used;
		mem.quota_limit = ti.quota_limit;
	}
	*m = msg_from_words(0, (const uint64_t *)&mem, INIT_MEMORY_WORDS);
	return 0;
}

/* A request of the control protocol (proto/init.h); the answer in *m. */
static void control_request(struct program *from, struct msg *m)
{
	uint64_t label = ipc_tag_label(m->tag);
	struct program *p = label == INIT_KILL || label == INIT_START ? program_named(m) : NULL;
	long err = 0;

	if (!from->m->control) {
		err = ERR_NO_RIGHTS;
	} else if (label == INIT_MEMORY) {
		memory_report(m);
		return;
	} else if (label == INIT_PROGRAM) {
		if (m->w[0] >= manifest.nprograms) {
			err = ERR_RANGE;
		} else {
			p = &programs[m->w[0]];
			uint64_t now = now_ms();
			uint64_t w[INIT_NAME_WORDS + 4] = { 0 };
			memcpy(w, p->m->name, strnlen(p->m->name, INIT_NAME_WORDS * 8));
			w[4] = p->state;
			w[5] = p->restarts;
			w[6] = p->crashes;
			w[7] = p->state == PROGRAM_WAITING && p->restart_at > now ? p->restart_at - now : 0;
			*m = msg_from_words(0, w, INIT_NAME_WORDS + 4);
			return;
		}
	} else if (label == INIT_KILL) {
		if (!p)
			err = ERR_INVALID_ARG;
		else if (p->state != PROGRAM_RUNNING)
			err = ERR_BUSY;
		else
			program_died(p, "killed", DIED_KILL);
	} else if (label == INIT_START) {
		if (!p) {
			err = ERR_INVALID_ARG;
		} else if (p->state == PROGRAM_RUNNING || p->state == PROGRAM_WAITING) {
			err = ERR_BUSY;
		} else if (p->state == PROGRAM_NOT_STARTED && !p->dev && p->m->pci != PCI_MATCH_NONE &&
			   !claim_device(p)) {
			err = ERR_RANGE;
		} else {
			p->crashes = 0;
			printf("init: starting %s (asked by %s)\n", p->m->name, from->m->name);
			err = program_start(p) < 0 ? ERR_RANGE : 0;
		}
	} else {
		err = ERR_NO_SYSCALL;
	}
	*m = msg_make((uint64_t)err, 0);
}

/* ---- main loop ---- */

static struct program *program_of(uint64_t badge, uint64_t base)
{
	if (badge < base || badge >= base + manifest.nprograms)
		return NULL;
	return &programs[badge - base];
}

static void serve(void)
{
	struct msg m;
	bool have_reply = false;

	for (;;) {
		long err = have_reply ? ipc_reply_recv(service_ep, service_reply, &m)
				      : ipc_recv(service_ep, service_reply, &m);
		have_reply = false;
		if (err)
			continue;
		uint64_t label = ipc_tag_label(m.tag);
		struct program *p;
		if (label == IPC_LABEL_NOTIFY) {
			for (unsigned i = 0; i < manifest.nprograms; i++)
				if ((m.badge & (1UL << i)) && programs[i].state == PROGRAM_RUNNING &&
				    !thread_alive(programs[i].thread))
					program_died(&programs[i], "exited", DIED_EXIT);
			supervise();
			continue;
		}
		if ((p = program_of(m.badge, BADGE_PROGRAM))) {
				if (label == IPC_LABEL_PAGE_FAULT && page_fault(p, &m)) {
				have_reply = true;
				continue;
			}
			if (label == IPC_LABEL_PAGE_FAULT)
				printf("init: %s: page fault at %lx (ip %lx, %s) refused\n", p->m->name,
				       m.w[0], m.w[2], m.w[1] & 2 ? "write" : "read");
			else
				printf("init: %s: exception %lu at ip %lx\n", p->m->name,
				       ipc_buffer()->words[USER_REGS_WORDS], m.w[0]);
			/* Leave it stopped; the reply object is freed with it. */
			m = msg_make(IPC_REPLY_STOP, 0);
			ipc_reply(service_reply, &m);
			program_died(p, "crashed", DIED_CRASH);
			supervise();
			continue;
		}
		if ((p = program_of(m.badge, BADGE_CLIENT)) && label == DMA_ALLOC) {
			long e = dma_request(p, &m);
			if (e)
				m = msg_make((uint64_t)e, 0);
			have_reply = true;
			continue;
		}
		if ((p = program_of(m.badge, BADGE_CLIENT)) && label >= INIT_PROGRAM) {
			control_request(p, &m);
			supervise();
			have_reply = true;
			continue;
		}
		if ((p = program_of(m.badge, BADGE_CLIENT))) {
			bool deferred;
			long e = name_request(p->index, &m, &service_reply, &deferred);
			if (!deferred) {
				m = msg_make((uint64_t)e, 0);
				have_reply = true;
			}
			continue;
		}
	}
}

int main(uint64_t arg)
{
	bi = (const struct bootinfo *)arg;
	printf("init: Mica root task, %lu MiB of RAM, %lu modules\n", bi->ram_bytes >> 20,
	       bi->module_count);
	if (!ram_init()) {
		printf("init: no usable RAM region\n");
		return 1;
	}
	/* PCI configuration space is ours alone. */
	if (sys_ioport_map(ROOT_SLOT_IOPORTS, 0xCF8, 8) == 0)
		printf("init: %u PCI functions\n", pci_scan());
	service_ep = slot_alloc();
	service_reply = slot_alloc();
	deaths = slot_alloc();
	sys_obj_create(CAP_ENDPOINT, service_ep, 0);
	sys_obj_create(CAP_REPLY, service_reply, 0);
	sys_obj_create(CAP_NOTIFICATION, deaths, 0);
	ipc_buffer()->recv_cap_slot = slot_alloc();
	struct thread_config cfg = { .fields = THREAD_CFG_NOTIFY | THREAD_CFG_PRIORITY,
				     .notification = deaths, .priority = INIT_PRIORITY };
	sys_thread_configure(ROOT_SLOT_THREAD, (uint64_t)&cfg);

	const uint8_t *text;
	const struct bootinfo_module *mod = find_module("manifest", &text);
	if (!mod) {
		printf("init: no boot module named 'manifest': nothing to start\n");
		return 1;
	}
	char err[160];
	unsigned line = manifest_parse((const char *)text, mod->size, &manifest, err, sizeof(err));
	if (line) {
		printf("init: manifest:%u: %s\n", line, err);
		printf("init: nothing started\n");
		return 1;
	}
	printf("init: manifest: %u programs\n", manifest.nprograms);
	for (unsigned i = 0; i < manifest.nprograms; i++) {
		programs[i].m = &manifest.programs[i];
		programs[i].index = (int)i;
		if (!claim_device(&programs[i])) {
			programs[i].state = PROGRAM_NOT_STARTED;
			continue;
		}
		if (program_start(&programs[i]) == 0)
			printf("init: started %s (priority %u, quota %lu KiB)\n", programs[i].m->name,
			       programs[i].m->priority, programs[i].m->quota >> 10);
	}
	supervise();
	serve();
	return 0;
}
