/*
 * A program's life as init sees it: it claims its device, gets an address
 * space (its image, start-up pages, stack, heap, device memory and files),
 * a task with init as pager and supervisor, and at its end gives all of
 * it back.
 */
#include "init.h"
#include "name_service.h"

#include "lib/loader.h"
#include "proto/nameservice.h"

struct manifest manifest;
struct program programs[MANIFEST_MAX_PROGRAMS];

struct program *program_of(uint64_t badge, uint64_t base)
{
	if (badge < base || badge >= base + manifest.nprograms)
		return NULL;
	return &programs[badge - base];
}

struct program *program_named(const struct msg *m)
{
	char name[INIT_NAME_WORDS * 8 + 1] = { 0 };

	memcpy(name, m->w, INIT_NAME_WORDS * 8);
	for (unsigned i = 0; i < manifest.nprograms; i++)
		if (!strcmp(programs[i].m->name, name))
			return &programs[i];
	return NULL;
}

/* Give each program its `pci` device: claim it, and its I/O BARs become
 * port ranges it gets. */
bool program_claim_device(struct program *p)
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
		if (bar->kind == PCI_BAR_MEM && !mmio_contains(bar->base, bar->size)) {
			printf("init: %s: BAR %d at %lx is outside the device window\n", m->name, i,
			       bar->base);
			return false;
		}
		if (bar->kind == PCI_BAR_IO && p->nports < PROGRAM_MAX_PORT_RANGES) {
			p->port_first[p->nports] = (uint32_t)bar->base;
			p->port_count[p->nports++] = (uint32_t)bar->size;
		}
	}
	d->owner = p->index;
	p->dev = d;
	return true;
}

/* ---- the address space ---- */

/* Device memory at its physical address, read/write and uncached, for
 * the pages of [base, base + size) inside the device window that no
 * region holds yet (two BARs may share a page). */
static long add_device_memory(struct program *p, uint64_t base, uint64_t size)
{
	uint64_t lo = base & ~(PAGE_SIZE - 1), hi = (base + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	while (lo < hi) {
		if (as_region_at(&p->as, lo) || !mmio_contains(lo, PAGE_SIZE)) {
			lo += PAGE_SIZE;
			continue;
		}
		uint64_t end = lo + PAGE_SIZE;
		while (end < hi && !as_region_at(&p->as, end) && mmio_contains(end, PAGE_SIZE))
			end += PAGE_SIZE;
		long err = as_add(&p->as, lo, end - lo, IPC_MAP_READ | IPC_MAP_WRITE, AS_SHARED,
				  mmio_window_addr(lo), true);
		if (err)
			return err;
		lo = end;
	}
	return 0;
}

/* The program's files (manifest `file`): boot modules, read-only, mapped
 * from where they lie (no copy). */
static const char *add_files(struct program *p, struct program_info *pi)
{
	static char why[96];

	for (unsigned k = 0; k < p->m->nfiles; k++) {
		const char *name = p->m->files[k];
		struct module mod;
		uint64_t va = PROGRAM_FILE_BASE + k * PROGRAM_FILE_SPAN;
		if (!module_find(name, &mod)) {
			fmt_snprintf(why, sizeof(why), "file '%s': no such boot module (manifest line %u)",
				     name, p->m->line);
			return why;
		}
		if ((uint64_t)mod.data & (PAGE_SIZE - 1)) {
			fmt_snprintf(why, sizeof(why), "file '%s': not on a page in the bundle "
				     "(tools/mkbundle.c puts it there)", name);
			return why;
		}
		if (mod.size > PROGRAM_FILE_SPAN) {
			char span[32];
			fmt_snprintf(why, sizeof(why), "file '%s': larger than %s", name,
				     fmt_bytes(span, sizeof(span), PROGRAM_FILE_SPAN));
			return why;
		}
		if (mod.size && as_add(&p->as, va, (mod.size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1),
				       IPC_MAP_READ, AS_SHARED, (uint64_t)mod.data, false) < 0)
			return "out of address-space regions";
		memcpy(pi->files[k].name, name, strnlen(name, sizeof(pi->files[k].name) - 1));
		pi->files[k].addr = va;
		pi->files[k].size = mod.size;
		pi->nfiles = k + 1;
	}
	return NULL;
}

/*
 * Everything the program's address space holds at its start: its image,
 * the start-up information, its IPC buffer, the heartbeat page, stack and
 * heap (zero pages on first touch), its device's memory and its files.
 * NULL, or why it cannot start.
 */
static const char *space_build(struct program *p, uint64_t *entry,
			       struct program_heartbeat **heartbeat)
{
	const struct manifest_program *m = p->m;
	struct module mod;
	static char why[96];

	/* The executable is read where the loader put it (in the bundle or
	 * not): its segments are copied into the program's own pages. */
	as_init(&p->as, &program_as_ops, p, PROGRAM_MAX_PAGES);
	const char *err = !module_find(m->module, &mod)
		? "no such boot module"
		: loader_load_elf(&p->as, mod.data, mod.size, PROGRAM_IMAGE_BASE, PROGRAM_IMAGE_TOP,
				  entry);
	if (err) {
		fmt_snprintf(why, sizeof(why), "cannot load module '%s': %s", m->module, err);
		return why;
	}
	struct program_info *pi = as_preset(&p->as, PROGRAM_INFO_ADDR, IPC_MAP_READ);
	struct ipc_buffer *ipc = as_preset(&p->as, PROGRAM_IPC_BUFFER, IPC_MAP_READ | IPC_MAP_WRITE);
	*heartbeat = m->heartbeat_ms ? as_preset(&p->as, PROGRAM_HEARTBEAT_ADDR,
						 IPC_MAP_READ | IPC_MAP_WRITE) : NULL;
	if (!pi || !ipc || (m->heartbeat_ms && !*heartbeat) ||
	    as_add(&p->as, PROGRAM_STACK_TOP - PROGRAM_STACK_SIZE, PROGRAM_STACK_SIZE,
		   IPC_MAP_READ | IPC_MAP_WRITE, AS_ANON, 0, false) < 0 ||
	    as_add(&p->as, PROGRAM_HEAP_BASE, PROGRAM_HEAP_SIZE, IPC_MAP_READ | IPC_MAP_WRITE,
		   AS_ANON, 0, false) < 0)
		return "out of memory";
	pi->magic = PROGRAM_INFO_MAGIC;
	memcpy(pi->name, m->name, sizeof(pi->name) - 1);
	memcpy(pi->args, m->args, sizeof(pi->args) - 1);
	pi->restarts = p->restarts;
	pi->priority = m->priority;
	pi->heartbeat_ms = m->heartbeat_ms;
	pi->memory = m->memory;
	pi->ioport_first = m->ioport_first;
	pi->ioport_count = m->ioport_count;
	if (p->dev) {
		pi->pci = p->dev->info;
		pi->pci.irq_slot = PROGRAM_IRQ_SLOT + m->nirqs;
	}
	ipc->user[0] = PROGRAM_IPC_BUFFER;
	for (unsigned i = 0; i < m->nmmio; i++)
		if (add_device_memory(p, m->mmio_base[i], m->mmio_size[i]) < 0)
			return "device memory overlaps its image";
	for (int i = 0; p->dev && i < PCI_BARS; i++) {
		const struct pci_bar *bar = &p->dev->info.bars[i];
		if (bar->kind == PCI_BAR_MEM && add_device_memory(p, bar->base, bar->size) < 0)
			return "device memory overlaps its image";
	}
	return add_files(p, pi);
}

/* ---- the task ---- */

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
	return sys_cap_copy(*mine, p->task.task, dest, CAP_RIGHTS_ALL, 0);
}

/* Its capabilities: init's endpoint (requests, and as pager of threads it
 * makes), its thread, its IRQs; its I/O ports come with its first page. */
static long task_fill(struct program *p, cap_slot_t badged, cap_slot_t client)
{
	const struct manifest_program *m = p->m;
	long err;

	if ((err = sys_cap_move(client, p->task.task, PROGRAM_INIT_SLOT)) < 0 ||
	    (err = sys_cap_copy(p->task.thread, p->task.task, PROGRAM_THREAD_SLOT, CAP_RIGHTS_ALL,
				0)) < 0 ||
	    (err = sys_cap_copy(badged, p->task.task, PROGRAM_PAGER_SLOT, CAP_RIGHT_WRITE, 0)) < 0)
		return err;
	for (unsigned i = 0; i < m->nirqs; i++)
		if ((err = give_irq(p, &p->irqs[i], m->irqs[i], PROGRAM_IRQ_SLOT + i)) < 0)
			return err;
	if (p->dev && p->dev->info.irq_line != 0xFF &&
	    (err = give_irq(p, &p->dev_irq, p->dev->info.irq_line | IRQ_FLAG_LEVEL,
			    PROGRAM_IRQ_SLOT + m->nirqs)) < 0)
		return err;
	for (unsigned i = 0; i < p->nports; i++)
		if ((err = sys_ioport_map(ROOT_SLOT_IOPORTS, p->port_first[i], p->port_count[i])) < 0)
			return err;
	p->ports_given = false;
	return 0;
}

/* Why a task could not be made: what its quota asked of init's and what
 * is left of it, and how to give init more (a user adding to the image or
 * the manifest meets this first). */
static const char *quota_left(uint64_t asked)
{
	static char why[160];
	char a[32], left[32];
	struct task_info ti;

	if (sys_task_info(ROOT_SLOT_TASK, (uint64_t)&ti) < 0)
		return "";
	fmt_snprintf(why, sizeof(why),
		     " (its quota %s; init's kernel quota has %s left: more memory, or the "
		     "kernel command line's kmem=, gives init more)",
		     fmt_bytes(a, sizeof(a), asked),
		     fmt_bytes(left, sizeof(left),
			       ti.quota_limit > ti.quota_used ? ti.quota_limit - ti.quota_used : 0));
	return why;
}

long program_start(struct program *p)
{
	const struct manifest_program *m = p->m;
	struct program_heartbeat *heartbeat = NULL;
	uint64_t entry = 0;
	cap_slot_t badged = slot_alloc(), client = slot_alloc();
	long err = -ERR_INVALID_ARG;
	const char *why = space_build(p, &entry, &heartbeat);

	if (why) {
		printf("init: %s: %s\n", m->name, why);
		goto fail;
	}
	struct task_spec spec = {
		.quota = m->quota, .priority = m->priority, .name = m->name,
		.pager = badged, .exception = badged, .ipc_buffer = PROGRAM_IPC_BUFFER,
		.supervisor = supervisor_notif, .supervisor_bits = 1UL << p->index,
	};
	if ((err = sys_cap_copy(service_ep, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE,
				BADGE_PROGRAM + (uint64_t)p->index)) < 0 ||
	    (err = sys_cap_copy(service_ep, CAP_SLOT_SELF, client, CAP_RIGHT_WRITE | CAP_RIGHT_GRANT,
				BADGE_CLIENT + (uint64_t)p->index)) < 0 ||
	    (err = task_new(&spec, &p->task)) < 0 || (err = task_fill(p, badged, client)) < 0)
		goto fail_said;
	if (p->dev)
		pci_set_state(p->dev, PCI_DEV_PROBE);
	if ((err = sys_thread_start(p->task.thread, entry, PROGRAM_STACK_TOP - 8,
				    PROGRAM_INFO_ADDR)) < 0)
		goto fail_said;
	sys_cap_delete(badged);
	slot_free(badged);
	slot_free(client);
	p->state = PROGRAM_RUNNING;
	p->started_at = now_ms();
	heartbeat_start(p, heartbeat);
	return 0;
fail_said:
	printf("init: %s: cannot start: %s%s\n", m->name, mica_strerror(err),
	       err == -ERR_NO_MEMORY ? quota_left(m->quota) : "");
fail:
	sys_cap_delete(badged);
	sys_cap_delete(client);
	slot_free(badged);
	slot_free(client);
	program_release(p);
	p->state = PROGRAM_NOT_STARTED;
	return err;
}

void program_release(struct program *p)
{
	/* First silence the device: its memory is about to be reused. */
	if (p->dev)
		pci_set_state(p->dev, PCI_DEV_QUIET);
	msix_release(p);
	task_delete(&p->task);
	if (p->blank)
		ram_page_free(p->blank);
	p->blank = NULL;
	as_release(&p->as);
	pages_release(p);
	dma_release(p);
	p->heartbeat = NULL;
	names_release(p->index);
}
