/*
 * Kernel entry in C: bring up the CPU tables, memory, interrupts and the
 * clock, report what the loader handed over, then idle with the timer on.
 */
#include <stdint.h>

#include "apic.h"
#include "mapdb.h"
#include "percpu.h"
#include "root.h"
#include "sched.h"
#include "cmdline.h"
#include "cpu.h"
#include "fastpath.h"
#include "gdt.h"
#include "klog.h"
#include "layout.h"
#include "kmem.h"
#include "multiboot.h"
#include "paging.h"
#include "selftest.h"
#include "serial.h"
#include "timer.h"
#include "trap.h"

#include "lib/fmt.h"
#include "lib/string.h"

#ifndef MICA_VERSION
#define MICA_VERSION "unknown"
#endif

#define MAX_REGIONS  64
#define MAX_MODULES  BOOT_MAX_MODULES
#define MAX_RESERVED (8 + MAX_MODULES)

static char boot_cmdline[512];
static struct mm_region regions[MAX_REGIONS];
static int nregions;
static struct mm_range usable[MAX_REGIONS * 2];
static int nusable;

static struct boot_module modules[MAX_MODULES];
static int nmodules;

/* Boot data lies below 4 GiB; the boot page tables map the first 1 GiB. */
static const void *boot_ptr(uint32_t phys)
{
	if (phys >= (1u << 30))
		panic("boot: loader data at %x is above the first 1 GiB", phys);
	return phys_to_virt(phys);
}

static void copy_boot_string(char *dst, size_t size, uint32_t phys)
{
	const char *s = boot_ptr(phys);
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = 0;
}

static void apply_cmdline(void)
{
	char value[16];

	if (cmdline_get(boot_cmdline, "loglevel", value, sizeof(value))) {
		if (value[0] >= '0' && value[0] <= '3' && value[1] == 0)
			klog_threshold = value[0] - '0';
		else
			kwarn("cmdline: loglevel=%s ignored (0..3)\n", value);
	}
}

/*
 * A module's name is the last path component of the last word of its
 * string. GRUB passes only the words after the file name, iPXE and QEMU
 * put the file's path or URI first, so `module /boot/init init` (GRUB),
 * `module init init` (iPXE) and `-initrd "path/init init"` all say init.
 */
static void module_name(const char *string, char *name, size_t size)
{
	char word[128];
	int i = 0;

	while (cmdline_word(string, i, word, sizeof(word)))
		i++;
	if (i == 0 || !cmdline_word(string, i - 1, word, sizeof(word)))
		return;
	const char *base = strrchr(word, '/') ? strrchr(word, '/') + 1 : word;
	size_t n = strnlen(base, size - 1);
	memcpy(name, base, n);
	name[n] = 0;
}

static void read_boot_info(const struct multiboot_info *mbi,
			   struct mm_range *reserved, int *nreserved)
{
	if (!(mbi->flags & MBI_FLAG_MMAP))
		panic("boot: the loader gave no memory map (multiboot flag 6)");
	nregions = memmap_parse_multiboot(boot_ptr(mbi->mmap_addr), mbi->mmap_length,
					  regions, MAX_REGIONS);
	if (nregions < 0)
		panic("boot: malformed multiboot memory map");
	reserved[(*nreserved)++] = (struct mm_range){ mbi->mmap_addr,
						      mbi->mmap_addr + mbi->mmap_length };

	if (mbi->flags & MBI_FLAG_MODS) {
		const struct multiboot_module *m = boot_ptr(mbi->mods_addr);
		if (mbi->mods_count > MAX_MODULES)
			kwarn("boot: %u modules, only the first %d are used\n",
			      mbi->mods_count, MAX_MODULES);
		for (uint32_t i = 0; i < mbi->mods_count && i < MAX_MODULES; i++) {
			modules[i].start = m[i].mod_start;
			modules[i].end = m[i].mod_end;
			if (m[i].string)
				copy_boot_string(modules[i].string,
						 sizeof(modules[i].string), m[i].string);
			module_name(modules[i].string, modules[i].name, sizeof(modules[i].name));
			reserved[(*nreserved)++] = (struct mm_range){ m[i].mod_start, m[i].mod_end };
			nmodules++;
		}
	}
}

static void print_memory_map(void)
{
	char count[32], size[32];

	kinfo("mem: memory map from the loader (%s):\n",
	      fmt_count(count, sizeof(count), (unsigned)nregions, "region", "regions"));
	for (int i = 0; i < nregions; i++)
		kinfo("mem:   %016lx-%016lx %10s %s\n", regions[i].base,
		      regions[i].base + regions[i].len - 1,
		      fmt_bytes(size, sizeof(size), regions[i].len),
		      memmap_type_name(regions[i].type));
	uint64_t total = memmap_total(usable, nusable);
	kinfo("mem: usable frames: %s in %s\n", fmt_bytes(size, sizeof(size), total),
	      fmt_count(count, sizeof(count), (unsigned)nusable, "range", "ranges"));
}

static void print_modules(void)
{
	char count[32];

	kinfo("boot: %s\n", fmt_count(count, sizeof(count), (unsigned)nmodules, "module", "modules"));
	for (int i = 0; i < nmodules; i++) {
		const char *name = modules[i].name;
		const unsigned char *data = phys_to_virt(modules[i].start);
		uint64_t size = modules[i].end - modules[i].start;
		const char *kind = size >= 4 && data[0] == 0x7F && data[1] == 'E' &&
			data[2] == 'L' && data[3] == 'F' ? "ELF" : "data";
		kinfo("boot:   module %d: %s at %lx, %lu bytes, %s (\"%s\")\n", i,
		      *name ? name : "(unnamed)", modules[i].start, size, kind,
		      modules[i].string);
	}
}

/* A 2 MiB stretch of the physical map is cached if it holds any RAM. */
static uint64_t holds_ram(uint64_t start, uint64_t end)
{
	for (int i = 0; i < nregions; i++)
		if (regions[i].type == MM_AVAILABLE && regions[i].base < end &&
		    regions[i].base + regions[i].len > start)
			return 1;
	return 0;
}

/* Kernel memory pool: kmem=MiB, or a quarter of RAM, at least 16 MiB. */
static uint64_t kernel_pool_bytes(void)
{
	char value[16];
	uint64_t total = memmap_total(usable, nusable);
	uint64_t bytes = total / 4;

	if (cmdline_get(boot_cmdline, "kmem", value, sizeof(value))) {
		uint64_t mib = 0;
		const char *p = value;
		while (*p >= '0' && *p <= '9' && mib < (1 << 20))
			mib = mib * 10 + (uint64_t)(*p++ - '0');
		if (*p || mib < 8 || (mib << 20) >= total)
			kwarn("cmdline: kmem=%s ignored (MiB, at least 8, below the RAM size)\n", value);
		else
			bytes = mib << 20;
	}
	if (bytes < (16ULL << 20))
		bytes = total < (32ULL << 20) ? total / 2 : 16ULL << 20;
	return bytes;
}

/* Start the root task (root=NAME, default init) if there is such a module;
 * never returns then. Without one the kernel just idles. */
static void start_root_task(void)
{
	char name[32] = "init";
	bool explicit = cmdline_get(boot_cmdline, "root", name, sizeof(name));
	bool found = false;

	for (int i = 0; i < nmodules; i++)
		found |= !strcmp(modules[i].name, name);
	if (!found) {
		if (explicit)
			panic("root: no boot module named '%s'", name);
		kwarn("root: no boot module named '%s'; no user space to start\n", name);
		return;
	}
	if (cmdline_get(boot_cmdline, "nofastpath", NULL, 0)) {
		fastpath_enabled = false;
		kinfo("ipc: fast path off (nofastpath)\n");
	}
	percpu_init(fastpath_enabled, !cmdline_get(boot_cmdline, "noxsave", NULL, 0));
	sched_init();
	mapdb_init();
	root_task_create(name, modules, nmodules, boot_cmdline, usable, nusable,
			 kernel_pool_bytes());
	kinfo("mica: boot complete, entering user space\n");
	sched_start();
}

/* Deliberate faults for the boot tests: kfault=pf|ud|de|gp. */
static void inject_fault(void)
{
	char what[8];

	if (!cmdline_get(boot_cmdline, "kfault", what, sizeof(what)))
		return;
	kinfo("kfault: injecting '%s'\n", what);
	if (!strcmp(what, "pf"))
		*(volatile uint64_t *)0x1000 = 0xDEAD;
	else if (!strcmp(what, "ud"))
		__asm__ volatile("ud2");
	else if (!strcmp(what, "de"))
		__asm__ volatile("xor %%ecx, %%ecx; div %%ecx" ::: "eax", "ecx", "edx");
	else if (!strcmp(what, "gp"))
		*(volatile uint64_t *)0x8000000000000000ULL = 1;
	else
		kwarn("kfault: unknown fault '%s' (pf, ud, de, gp)\n", what);
}

void kmain(uint32_t magic, uint32_t mbi_phys)
{
	serial_init();
	kprintf("\nMica %s (x86_64 microkernel)\n", MICA_VERSION);
	if (magic != MULTIBOOT_LOADER_MAGIC)
		panic("boot: not started by a Multiboot loader (magic %x)", magic);

	const struct multiboot_info *mbi = boot_ptr(mbi_phys);
	if (mbi->flags & MBI_FLAG_CMDLINE)
		copy_boot_string(boot_cmdline, sizeof(boot_cmdline), mbi->cmdline);
	apply_cmdline();
	gdt_init();
	idt_init();

	char loader[64] = "unknown";
	if (mbi->flags & MBI_FLAG_LOADER)
		copy_boot_string(loader, sizeof(loader), mbi->boot_loader_name);
	kinfo("boot: loaded by %s\n", loader);
	kinfo("boot: command line \"%s\"\n", boot_cmdline);
	cpu_print_info();

	/* Never hand out: the first 1 MiB (BIOS, real-mode data), the kernel
	 * image, the loader's structures and the modules. */
	struct mm_range reserved[MAX_RESERVED];
	int nreserved = 0;
	uint64_t kernel_start = (uint64_t)_load_start - KERNEL_VMA;
	uint64_t kernel_end = (uint64_t)_kernel_end - KERNEL_VMA;
	reserved[nreserved++] = (struct mm_range){ 0, 0x100000 };
	reserved[nreserved++] = (struct mm_range){ kernel_start, kernel_end };
	reserved[nreserved++] = (struct mm_range){ mbi_phys, mbi_phys + sizeof(*mbi) };
	read_boot_info(mbi, reserved, &nreserved);

	int dropped;
	nusable = memmap_usable(regions, nregions, reserved, nreserved, usable,
				MAX_REGIONS * 2, &dropped);
	if (dropped)
		kwarn("mem: %d memory ranges ignored (table full)\n", dropped);
	print_memory_map();
	char size[32], frames[32];
	kinfo("mem: kernel image %lx-%lx (%s)\n", kernel_start, kernel_end,
	      fmt_bytes(size, sizeof(size), kernel_end - kernel_start));

	kmem_init(usable, nusable);
	uint64_t top = 0;
	for (int i = 0; i < nregions; i++)
		if (regions[i].type == MM_AVAILABLE && regions[i].base + regions[i].len > top)
			top = regions[i].base + regions[i].len;
	paging_init(top, holds_ram);
	kinfo("mem: %s free after paging setup (%s)\n",
	      fmt_bytes(size, sizeof(size), kmem_frames.free * FRAME_SIZE),
	      fmt_count(frames, sizeof(frames), kmem_frames.free, "frame", "frames"));
	print_modules();

	lapic_init();
	ioapic_init();
	timer_init();
	irq_enable();
	inject_fault();
#ifdef MICA_TEST
	if (cmdline_get(boot_cmdline, "kselftest", 0, 0))
		selftest_run();
#endif

	start_root_task();
	kinfo("mica: boot complete, idle\n");
	uint64_t next_report = 1000;
	for (;;) {
		cpu_idle();
		if (timer_uptime_ms() >= next_report) {
			kinfo("timer: uptime %lu s, %lu ticks\n",
			      timer_uptime_ms() / 1000, timer_ticks());
			next_report = next_report < 60000 ? 60000 : next_report + 60000;
		}
	}
}
