/*
 * The files of /proc whose bytes are made when they are read, in the
 * formats of Linux's proc(5): meminfo (from the server's pages and the
 * manifest's memory= allowance), cpuinfo (CPUID), uptime (the kernel's
 * clock), stat (CPU times: the processes', the server's, the rest),
 * loadavg (the runnable threads' averages), mounts (the server's file
 * systems), net/dev, route, tcp and udp (the netstack's interfaces,
 * routes and sockets: procfs_net.c), and those of /proc/PID
 * (procfs_pid.c). A
 * read makes the whole file and gives the part at the description's
 * offset; stat says size 0, as Linux.
 */
#include "clock.h"
#include "file.h"
#include "layout.h"
#include "memory.h"
#include "procfs.h"
#include "syscall.h"
#include "vdso_map.h"
#include "vfs.h"

#include "lib/fmt.h"
#include "proto/program.h"

#define TEXT_MAX (72 * 1024)    /* /proc/net/tcp: 448 lines of 150 */
#define KIB(pages) ((pages) * (PAGE_SIZE / 1024))

static char text[TEXT_MAX];
static size_t text_len;

void procfs_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vsnprintf(text + text_len, TEXT_MAX - text_len, fmt, ap);
	va_end(ap);
	text_len += (size_t)n < TEXT_MAX - text_len ? (size_t)n : TEXT_MAX - 1 - text_len;
}

bool procfs_append(const void *bytes, size_t n)
{
	bool all = n <= TEXT_MAX - text_len;

	if (!all)
		n = TEXT_MAX - text_len;
	memcpy(text + text_len, bytes, n);
	text_len += n;
	return all;
}

/* ---- meminfo ---- */

static void meminfo(void)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;
	uint64_t used, kept, total;

	memory_counts(&used, &kept);
	total = pi->memory ? pi->memory / PAGE_SIZE : used + kept;
	if (total < used)
		total = used;
	uint64_t cached = memory_cache_pages() + vfs_tmpfs_pages();
	/* Linux's show_val_kb: the name and colon in 16 columns, the number in 8. */
	static const char *const names[] = { "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:",
					     "Cached:", "SwapCached:", "SwapTotal:", "SwapFree:",
					     "Shmem:", "SReclaimable:" };
	uint64_t values[] = { total, total - used, total - used, 0, cached, 0, 0, 0,
			      vfs_tmpfs_pages(), 0 };
	for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		procfs_printf("%-16s%8lu kB\n", names[i], KIB(values[i]));
}

/* ---- cpuinfo ---- */

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* The flags Linux shows for CPUID's feature bits (names as in the Intel
 * and AMD manuals, as Linux spells them), one table per register. */
struct flag_word {
	uint32_t leaf;
	unsigned reg;                   /* 1 ebx, 2 ecx, 3 edx */
	const char *names[32];
};

static const struct flag_word flag_words[] = {
	{ 1, 3, { "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL,
		  "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL, "dts",
		  "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe" } },
	{ 0x80000001, 3, { [11] = "syscall", [20] = "nx", [22] = "mmxext", [25] = "fxsr_opt",
			   [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm", [30] = "3dnowext",
			   [31] = "3dnow" } },
	{ 1, 2, { "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2",
		  "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca",
		  "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes",
		  "xsave", NULL, "avx", "f16c", "rdrand", "hypervisor" } },
	{ 0x80000001, 2, { "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a",
			   "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt",
			   NULL, "lwp", "fma4", "tce", NULL, "nodeid_msr", NULL, "tbm", "topoext",
			   "perfctr_core", "perfctr_nb", NULL, "bpext", "ptsc", "perfctr_llc",
			   "mwaitx" } },
	{ 7, 1, { "fsgsbase", "tsc_adjust", NULL, "bmi1", "hle", "avx2", NULL, "smep", "bmi2",
		  "erms", "invpcid", "rtm", "cqm", NULL, "mpx", "rdt_a", "avx512f", "avx512dq",
		  "rdseed", "adx", "smap", "avx512ifma", NULL, "clflushopt", "clwb", "intel_pt",
		  "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl" } },
	{ 7, 2, { NULL, "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512_vbmi2", NULL,
		  "gfni", "vaes", "vpclmulqdq", "avx512_vnni", "avx512_bitalg", NULL,
		  "avx512_vpopcntdq", NULL, "la57", [22] = "rdpid", [25] = "cldemote",
		  [27] = "movdiri", [28] = "movdir64b" } },
	{ 7, 3, { [2] = "avx512_4vnniw", [3] = "avx512_4fmaps", [4] = "fsrm",
		  [8] = "avx512_vp2intersect", [10] = "md_clear", [14] = "serialize",
		  [16] = "tsxldtrk", [18] = "pconfig", [19] = "arch_lbr", [22] = "amx_bf16",
		  [23] = "avx512_fp16", [24] = "amx_tile", [25] = "amx_int8" } },
};

static void cpuinfo(void)
{
	uint32_t r[4], max, ext, sig[4];
	char vendor[13], brand[49];

	cpuid(0, 0, r);
	max = r[0];
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	cpuid(1, 0, sig);
	cpuid(0x80000000, 0, r);
	ext = r[0];
	memset(brand, 0, sizeof(brand));
	for (uint32_t i = 0; i < 3 && ext >= 0x80000004; i++) {
		cpuid(0x80000002 + i, 0, r);
		memcpy(brand + 16 * i, r, 16);
	}
	const char *name = brand;
	while (*name == ' ')
		name++;
	unsigned family = (sig[0] >> 8) & 0xF, model = (sig[0] >> 4) & 0xF;
	if (family == 0xF)
		family += (sig[0] >> 20) & 0xFF;
	if (family >= 6)
		model |= ((sig[0] >> 16) & 0xF) << 4;
	procfs_printf("processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
		      "model name\t: %s\nstepping\t: %u\nphysical id\t: 0\nsiblings\t: 1\n"
		      "core id\t\t: 0\ncpu cores\t: 1\napicid\t\t: %u\nfpu\t\t: yes\n"
		      "fpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t:",
		      vendor, family, model, *name ? name : "unknown", sig[0] & 0xF, sig[1] >> 24,
		      max);
	for (unsigned w = 0; w < sizeof(flag_words) / sizeof(flag_words[0]); w++) {
		const struct flag_word *fw = &flag_words[w];
		if ((fw->leaf < 0x80000000 && fw->leaf > max) || (fw->leaf >= 0x80000000 && fw->leaf > ext))
			continue;
		cpuid(fw->leaf, 0, r);
		for (unsigned bit = 0; bit < 32; bit++)
			if (fw->names[bit] && (r[fw->reg] >> bit & 1))
				procfs_printf(" %s", fw->names[bit]);
	}
	procfs_printf("\nclflush size\t: %u\ncache_alignment\t: %u\n\n", (sig[1] >> 8 & 0xFF) * 8,
		      (sig[1] >> 8 & 0xFF) * 8);
}

/* ---- uptime, mounts ---- */

static void uptime(void)
{
	uint64_t cs = (uint64_t)sys_clock() / 10000000;      /* hundredths of a second */

	/* The idle time is not measured: 0. */
	procfs_printf("%lu.%02lu 0.00\n", cs / 100, cs % 100);
}

/* /proc/stat: one CPU (cpu and cpu0 alike) whose user time is the CPU
 * time of the POSIX processes (all of them since the server started:
 * the kernel's count of their threads), system time the server's own
 * thread's (the work it does for them), idle the rest of the time since
 * boot — which includes the other Mica servers' and the kernel's, whose
 * counts the server cannot read. In clock ticks (USER_HZ, 100 a second).
 * btime is CLOCK_REALTIME at boot (in seconds: its offset from the kernel
 * clock, realtime.c); processes the pids and tids given; procs_running the
 * threads not waiting in a call. Interrupts and context switches are not
 * counted (0). */
/* Threads of live processes (all), and those of them not waiting in a
 * call nor stopped (runnable), other than skip (NULL: none). */
static uint64_t threads_runnable(const struct thread *skip, uint64_t *all)
{
	uint64_t running = 0, alive = 0;

	for (unsigned i = 0; i < THREAD_MAX; i++) {
		const struct thread *t = &threads[i];
		if (t->state != THREAD_RUNNING || t->proc->state != PROCESS_RUNNING)
			continue;
		alive++;
		running += !t->blocked && !t->proc->stopped && t != skip;
	}
	if (all)
		*all = alive;
	return running;
}

static void stat(void)
{
	const uint64_t ns_per_tick = 1000000000 / LINUX_CLOCKS_PER_SEC;
	uint64_t now = (uint64_t)sys_clock(), server = 0;
	const uint64_t btime = (uint64_t)vdso_realtime_offset() / 1000000000;

	sys_thread_read_regs(PROGRAM_THREAD_SLOT | THREAD_REGS_CPUTIME, (uint64_t)&server);
	uint64_t user = processes_cpu_ns() / ns_per_tick, system = server / ns_per_tick;
	uint64_t total = now / ns_per_tick, idle = total > user + system ? total - user - system : 0;
	uint64_t running = threads_runnable(NULL, NULL);
	for (unsigned cpu = 0; cpu < 2; cpu++)
		procfs_printf(cpu ? "cpu0 %lu 0 %lu %lu 0 0 0 0 0 0\n" : "cpu  %lu 0 %lu %lu 0 0 0 0 0 0\n",
			      user, system, idle);
	procfs_printf("intr 0\nctxt 0\nbtime %lu\nprocesses %d\nprocs_running %lu\n"
		      "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		      btime, pids_given(), running);
}

/* Linux's load averages (kernel/sched/loadavg.c): exponentially
 * decaying averages over 1, 5 and 15 minutes of the runnable threads,
 * sampled every 5 s on the server's timer (timer.c arms it for
 * load_next_sample; signal_timers calls load_sample), in 11-bit fixed
 * point with Linux's factors. A sample the timer was late for (the
 * server busy) is taken by the next reader, without the reading thread
 * (which Linux's sample, taken by a tick, seldom sees). */
#define LOAD_PERIOD   5000000000ULL     /* ns between samples (Linux's LOAD_FREQ) */
#define LOAD_SAMPLES  2000              /* past these, an average is the count itself */

static uint64_t load_avg[3], load_next;    /* averages; ns of sys_clock of the next sample */

/* The samples due by now, each counting active (fixed point). */
static void load_catch_up(uint64_t now, uint64_t active)
{
	static const uint64_t decay[3] = { 1884, 2014, 2037 };      /* EXP_1, EXP_5, EXP_15 */

	if (!load_next || now < load_next)
		return;
	uint64_t samples = 1 + (now - load_next) / LOAD_PERIOD;
	load_next += samples * LOAD_PERIOD;
	for (unsigned k = 0; k < 3; k++) {
		if (samples > LOAD_SAMPLES)
			load_avg[k] = active;
		for (uint64_t i = 0; i < samples && samples <= LOAD_SAMPLES; i++) {
			uint64_t next = load_avg[k] * decay[k] + active * (LOAD_ONE - decay[k]);
			if (active >= load_avg[k])
				next += LOAD_ONE - 1;   /* Linux's calc_load: up when rising */
			load_avg[k] = next / LOAD_ONE;
		}
	}
}

uint64_t load_next_sample(void)
{
	if (!load_next)
		load_next = (uint64_t)sys_clock() + LOAD_PERIOD;
	return load_next;
}

void load_sample(uint64_t now)
{
	if (load_next && now >= load_next)
		load_catch_up(now, threads_runnable(NULL, NULL) * LOAD_ONE);
}

void load_averages(const struct thread *asking, uint64_t load_out[3], uint64_t *running,
		   uint64_t *all)
{
	uint64_t others = threads_runnable(asking, all);

	load_next_sample();
	load_catch_up((uint64_t)sys_clock(), others * LOAD_ONE);
	for (unsigned k = 0; k < 3; k++)
		load_out[k] = load_avg[k];
	*running = others + (asking != NULL);
}

/* /proc/loadavg: the three averages to hundredths (Linux's rounding),
 * the runnable threads (the reader's among them) and all threads, the
 * last pid given. */
static void loadavg(const struct process *p)
{
	uint64_t load[3], running, all;

	load_averages(p->current, load, &running, &all);
	for (unsigned k = 0; k < 3; k++) {
		uint64_t v = load[k] + LOAD_ONE / 200;
		procfs_printf("%lu.%02lu ", v >> LOAD_SHIFT,
			      ((v & (LOAD_ONE - 1)) * 100) >> LOAD_SHIFT);
	}
	procfs_printf("%lu/%lu %d\n", running, all, pids_given());
}

static void mounts(void)
{
	procfs_printf("rootfs / rootfs ro 0 0\n"
		      "devtmpfs /dev devtmpfs rw,mode=755 0 0\n"
		      "proc /proc proc rw 0 0\n"
		      "tmpfs /tmp tmpfs rw,size=%luk 0 0\n"
		      "tmpfs /var tmpfs rw,size=%luk 0 0\n",
		      KIB((uint64_t)TMPFS_PAGES), KIB((uint64_t)TMPFS_PAGES));
}

/* ---- the read ---- */

bool procfs_file(int node)
{
	const struct vfs_node *n = &vfs_nodes[node];

	return n->fs == FS_PROC && n->type == VFS_FILE && n->device >= PROC_MEMINFO;
}

long procfs_read(struct process *p, struct file *f, uint64_t buf, uint64_t len, uint64_t *off)
{
	text_len = 0;
	text[0] = 0;
	switch (vfs_nodes[f->node].device) {
	case PROC_MEMINFO: meminfo(); break;
	case PROC_CPUINFO: cpuinfo(); break;
	case PROC_UPTIME: uptime(); break;
	case PROC_STAT: stat(); break;
	case PROC_LOADAVG: loadavg(p); break;
	case PROC_MOUNTS: mounts(); break;
	case PROC_PID_STAT: case PROC_PID_STATUS: case PROC_PID_CMDLINE: case PROC_PID_COMM:
	case PROC_FDINFO: case PROC_PID_MAPS: case PROC_PID_ENVIRON: case PROC_TASK_STAT:
	case PROC_TASK_STATUS: case PROC_TASK_COMM: {
		long r = procfs_pid_file(f->node);
		if (r < 0)
			return r;
		break;
	}
	case PROC_NET_DEV: case PROC_NET_ROUTE: case PROC_NET_TCP: case PROC_NET_UDP: {
		long r = procfs_net(p, vfs_nodes[f->node].device, *off);
		if (r < 0 || r == SYSCALL_BLOCK)
			return r;
		break;
	}
	}
	if (*off >= text_len)
		return 0;
	uint64_t n = text_len - *off < len ? text_len - *off : len;
	if (as_copy_out(&p->as, buf, text + *off, n) < 0)
		return -LINUX_EFAULT;
	*off += n;
	return (long)n;
}
