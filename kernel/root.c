/*
 * The root task: loaded by the kernel from a boot module, it receives
 * every resource the kernel does not keep for itself (RAM regions, the
 * device MMIO window, I/O ports, IRQ control, the modules) as capabilities.
 */
#include "root.h"
#include "fastpath.h"
#include "ipc.h"
#include "klog.h"
#include "machine.h"
#include "mapdb.h"
#include "ioport.h"
#include "memory_region.h"
#include "kmem.h"
#include "paging.h"
#include "sched.h"
#include "task.h"
#include "thread.h"

#include "lib/elf.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "uapi/bootinfo.h"
#include "uapi/ipc.h"

struct task *root_task;
struct thread *root_thread;

_Static_assert(USER_TOP == USER_SPACE_TOP, "the kernel's and user space's map agree");

#define MMIO_WINDOW_START 0xC0000000ULL
#define MMIO_WINDOW_END   0xFEC00000ULL   /* IOAPIC and local APIC above stay the kernel's */

/* A zeroed frame mapped at va in the root task (kernel-allocated, not
 * charged: the root image is part of booting). */
static void *map_new_page(struct task *t, uint64_t va, uint64_t flags)
{
	uint64_t frame = kmem_alloc_frame_zeroed();

	if (!frame)
		panic("root: out of memory loading the root task");
	if (mapdb_map(NULL, t, va, frame, flags))
		panic("root: cannot map %lx in the root task", va);
	return phys_to_virt(frame);
}

static void load_image(struct task *t, const struct boot_module *m, struct elf_image *img)
{
	const uint8_t *file = phys_to_virt(m->start);
	uint64_t size = m->end - m->start;
	int err = elf_parse(file, size, USER_TOP, img);

	if (err)
		panic("root: module '%s' is not a usable executable: %s", m->name, elf_strerror(err));
	for (int i = 0; i < img->nsegments; i++) {
		const struct elf_segment *s = &img->segments[i];
		uint64_t flags = (s->flags & ELF_SEG_WRITE ? PTE_WRITE : 0) |
				 (s->flags & ELF_SEG_EXEC ? 0 : PTE_NX);
		for (uint64_t va = s->vaddr & ~(PAGE_SIZE - 1); va < s->vaddr + s->memsz; va += PAGE_SIZE) {
			uint8_t *page = map_new_page(t, va, flags);
			/* The file bytes that fall in this page. */
			uint64_t lo = va > s->vaddr ? va : s->vaddr;
			uint64_t hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE
									  : s->vaddr + s->filesz;
			if (lo < hi)
				memcpy(page + (lo - va), file + s->offset + (lo - s->vaddr), hi - lo);
		}
	}
}

static void give(struct task *t, uint64_t slot, struct kobject *obj, uint8_t rights)
{
	if (!obj || cap_install(&t->caps, slot, obj, rights, 0))
		panic("root: cannot install capability %lu", slot);
	kobject_put(obj);
}

/* Take [start, end) out of the kernel's frame pool for user space. */
static void carve_user_memory(struct task *t, struct bootinfo *bi, uint64_t *slot,
			      const struct mm_range *usable, int nusable, uint64_t kmem_bytes)
{
	uint64_t kept = 0;

	for (int i = 0; i < nusable; i++) {
		uint64_t start = usable[i].start, end = usable[i].end;
		uint64_t len = end - start;
		if (kept + len <= kmem_bytes) {
			kept += len;
			continue;
		}
		uint64_t split = start + ((kmem_bytes - kept) & ~(LARGE_PAGE_SIZE - 1));
		if (split < start)
			split = start;
		kept = kmem_bytes;
		if (end - split < LARGE_PAGE_SIZE)
			continue;
		for (uint64_t pa = split; pa < end; pa += PAGE_SIZE)
			if (!frame_is_free(&kmem_frames, pa))
				panic("root: frame %lx in the user pool is in use", pa);
		frame_reserve_range(&kmem_frames, split, end);
		give(t, (*slot)++, &memory_region_create(split, end - split, false)->obj,
		     CAP_RIGHTS_ALL);
		bi->ram_count++;
		bi->ram_bytes += end - split;
		char size[32];
		kinfo("root: RAM region %lx-%lx (%s) for user space\n", split, end - 1,
		      fmt_bytes(size, sizeof(size), end - split));
	}
}

void root_task_create(const char *root_name, const struct boot_module *mods, int nmods,
		      const char *cmdline, const struct mm_range *usable, int nusable,
		      uint64_t kmem_bytes)
{
	const struct boot_module *root = NULL;

	for (int i = 0; i < nmods && !root; i++)
		if (!strcmp(mods[i].name, root_name))
			root = &mods[i];
	if (!root)
		panic("root: no boot module named '%s' (set root=NAME)", root_name);

	/* Its quota: the kernel pool less a reserve for the kernel itself. */
	struct task *t = task_create(NULL, ~0ULL >> 1);   /* limit fixed below */
	if (!t)
		panic("root: no memory for the root task");
	root_task = t;
	memcpy(t->name, root->name, sizeof(t->name) - 1);

	struct bootinfo *bi;
	struct elf_image img;
	load_image(t, root, &img);
	for (uint64_t va = ROOT_STACK_TOP - ROOT_STACK_SIZE; va < ROOT_STACK_TOP; va += PAGE_SIZE)
		map_new_page(t, va, PTE_WRITE | PTE_NX);
	map_new_page(t, ROOT_IPC_BUFFER, PTE_WRITE | PTE_NX);
	bi = map_new_page(t, BOOTINFO_ADDR, PTE_NX);
	bi->magic = BOOTINFO_MAGIC;

	struct thread *th = thread_create(t, t);
	if (!th)
		panic("root: no memory for the root thread");
	th->priority = THREAD_PRIORITY_MAX;
	root_thread = th;
	th->ipc_buffer = ROOT_IPC_BUFFER;
	ipc_buffer_forget(th);
	memcpy(th->name, root->name, THREAD_NAME_LEN - 1);

	give(t, ROOT_SLOT_TASK, &t->obj, CAP_RIGHTS_ALL);
	kobject_get(&t->obj);           /* give() dropped the creation reference */
	give(t, ROOT_SLOT_THREAD, &th->obj, CAP_RIGHTS_ALL);
	kobject_get(&th->obj);
	give(t, ROOT_SLOT_IRQ_CONTROL, kobject_alloc(NULL, CAP_IRQ_CONTROL, sizeof(struct kobject)),
	     CAP_RIGHTS_ALL);
	give(t, ROOT_SLOT_IOPORTS, &ioport_range_create(0, 65536)->obj, CAP_RIGHTS_ALL);
	give(t, ROOT_SLOT_MMIO, &memory_region_create(MMIO_WINDOW_START,
						      MMIO_WINDOW_END - MMIO_WINDOW_START, true)->obj,
	     CAP_RIGHTS_ALL);

	uint64_t slot = ROOT_SLOT_FIRST_RAM;
	carve_user_memory(t, bi, &slot, usable, nusable, kmem_bytes);
	for (int i = 0; i < nmods && i < BOOTINFO_MAX_MODULES; i++) {
		uint64_t start = mods[i].start & ~(PAGE_SIZE - 1);
		uint64_t end = (mods[i].end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		struct bootinfo_module *bm = &bi->modules[bi->module_count++];
		memcpy(bm->name, mods[i].name, sizeof(bm->name) - 1);
		bm->size = mods[i].end - mods[i].start;
		bm->slot = slot;
		give(t, slot++, &memory_region_create(start, end - start, false)->obj,
		     CAP_RIGHT_READ);
	}
	bi->first_free_slot = slot;
	size_t n = strnlen(cmdline, sizeof(bi->cmdline) - 1);
	memcpy(bi->cmdline, cmdline, n);

	/* Everything left in the kernel pool, less 1 MiB, is the root's to
	 * spend on kernel objects (and pass on to the tasks it makes). */
	uint64_t reserve = 1ULL << 20, pool = kmem_frames.free * FRAME_SIZE;
	t->quota_limit = t->quota_used + (pool > reserve ? pool - reserve : 0);
	bi->kernel_quota = t->quota_limit;

	thread_start(th, img.entry, ROOT_STACK_TOP - 8, BOOTINFO_ADDR);
	char regions[32], ram[32], modules[32], quota[32];
	kinfo("root: task '%s' entry %lx, %s (%s), %s, quota %s\n", t->name, img.entry,
	      fmt_count(regions, sizeof(regions), bi->ram_count, "RAM region", "RAM regions"),
	      fmt_bytes(ram, sizeof(ram), bi->ram_bytes),
	      fmt_count(modules, sizeof(modules), bi->module_count, "module", "modules"),
	      fmt_bytes(quota, sizeof(quota), t->quota_limit));
}

void root_thread_exited(uint64_t status)
{
	kinfo("root task exited with status %lu (IPC fast path taken %lu times)\n",
	      status, fastpath_hits);
	machine_exit(status ? MACHINE_EXIT_FAIL : MACHINE_EXIT_PASS);
}

void root_thread_stopped(const char *why)
{
	kwarn("root task: thread %s stopped: %s\n", root_thread->name, why);
#ifdef MICA_TEST
	kinfo("root task failed: the test kernel ends the run\n");
	machine_exit(MACHINE_EXIT_FAIL);
#endif
}
