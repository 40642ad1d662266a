/*
 * sysinfo(2): what free, uptime and top ask the system for in one call
 * (Linux's struct sysinfo, include/uapi/linux/sysinfo.h): the time since
 * boot in seconds, the memory the server's processes have (as
 * /proc/meminfo counts it: the manifest's memory= allowance, what is
 * used of it, tmpfs's pages as shared), no swap, the processes there
 * are now, and the load averages /proc/loadavg shows (procfs.c:
 * load_averages). mem_unit is 1: the sizes are in bytes.
 */
#include "file.h"
#include "memory.h"
#include "procfs.h"
#include "syscall.h"
#include "vfs.h"
#include "proto/program.h"

/* Linux's struct sysinfo on x86_64 (112 bytes). */
struct linux_sysinfo {
	int64_t uptime;                 /* seconds since boot */
	uint64_t loads[3];              /* 1, 5, 15 minutes, << 16 */
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char reserved[4];
};
_Static_assert(sizeof(struct linux_sysinfo) == 112, "Linux's struct sysinfo");

long posix_sysinfo(struct process *p, struct user_regs *r)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;
	uint64_t used, kept;
	struct linux_sysinfo si = { .mem_unit = 1 };

	memory_counts(&used, &kept);
	uint64_t total = pi->memory ? pi->memory / PAGE_SIZE : used + kept;
	if (total < used)
		total = used;
	si.uptime = (int64_t)((uint64_t)sys_clock() / 1000000000);
	si.totalram = total * PAGE_SIZE;
	si.freeram = (total - used) * PAGE_SIZE;
	si.sharedram = vfs_tmpfs_pages() * PAGE_SIZE;
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		si.procs += processes[i].state != PROCESS_FREE;
	uint64_t load[3], running, all;
	load_averages(p->current, load, &running, &all);
	for (unsigned k = 0; k < 3; k++)
		si.loads[k] = load[k] << (16 - LOAD_SHIFT);     /* SI_LOAD_SHIFT */
	return as_copy_out(&p->as, r->rdi, &si, sizeof(si)) < 0 ? -LINUX_EFAULT : 0;
}
