/* The way back from a system call: `sysret` when the frame is as
 * `syscall` left it, `iretq` once thread_write_regs rewrote it, so rcx and
 * r11 come back as written (sysret would load them with rip and rflags). */
#include "ktest.h"

uint64_t entry_seen_rcx, entry_seen_r11;
volatile int entry_probe_ran;
static cap_slot_t entry_ep;

/* Blocks in a system call (recv), where the test rewrites its registers. */
static void entry_waiter(uint64_t unused)
{
	struct msg m;

	ipc_recv(entry_ep, CAP_SLOT_NONE, &m);
}

/* Where the rewritten thread resumes: record rcx and r11 as they arrived,
 * then wait for good (the test destroys the thread). */
void entry_probe(void);
void entry_probe_done(void);
__asm__(".text\n"
	".globl entry_probe\n"
	"entry_probe:\n"
	"	movq %rcx, entry_seen_rcx(%rip)\n"
	"	movq %r11, entry_seen_r11(%rip)\n"
	"	andq $-16, %rsp\n"
	"	call entry_probe_done\n"
	"	ud2\n");

void entry_probe_done(void)
{
	struct msg m;

	entry_probe_ran = 1;
	for (;;)
		ipc_recv(entry_ep, CAP_SLOT_NONE, &m);
}

KTEST(syscall_return_keeps_rewritten_rcx_r11)
{
	struct user_regs r;

	entry_ep = ktest_create(CAP_ENDPOINT);
	entry_seen_rcx = entry_seen_r11 = 0;
	entry_probe_ran = 0;
	cap_slot_t t = ktest_spawn(entry_waiter, 0, 150);
	ktest_settle();                                 /* it waits in recv */
	KEXPECT(sys_thread_read_regs(t, (uint64_t)&r), 0);
	r.rip = (uint64_t)entry_probe;
	r.rcx = 0x1234567812345678UL;
	r.r11 = 0x8765432187654321UL;
	KEXPECT(sys_thread_write_regs(t, (uint64_t)&r), 0);
	struct msg m = msg_make(1, 0);                  /* its recv returns */
	KEXPECT(ipc_send(entry_ep, &m), 0);
	ktest_settle();
	KEXPECT(entry_probe_ran, 1);
	KEXPECT(entry_seen_rcx, 0x1234567812345678UL);
	KEXPECT(entry_seen_r11, 0x8765432187654321UL);
	sys_obj_destroy(t);
	ktest_join(t);
	sys_cap_delete(entry_ep);
}

/* A `syscall` in the last two bytes of user space returns to the
 * non-canonical 0x800000000000, where neither sysret nor iretq may go: the
 * thread takes a general-protection fault there, the kernel carries on. */
static volatile int top_returned;

static void top_jumper(uint64_t target)
{
	__asm__ volatile("call *%0" : : "r"(target), "a"((uint64_t)SYS_yield)
			 : "rcx", "r11", "memory");
	top_returned = 1;
}

KTEST(syscall_at_the_top_of_user_space_faults)
{
	uint64_t page = USER_SPACE_TOP - PAGE_SIZE;
	uint8_t *scratch = ktest_pages(1);      /* page i of the first RAM region */
	struct user_regs r;

	KCHECK(scratch);
	KEXPECT(sys_mem_map(ROOT_SLOT_FIRST_RAM, (uint64_t)scratch - ROOT_RAM_WINDOW, page, 1,
			    IPC_MAP_READ | IPC_MAP_WRITE | IPC_MAP_EXEC), 0);
	((volatile uint8_t *)page)[PAGE_SIZE - 2] = 0x0F;     /* syscall */
	((volatile uint8_t *)page)[PAGE_SIZE - 1] = 0x05;
	top_returned = 0;
	cap_slot_t t = ktest_spawn(top_jumper, USER_SPACE_TOP - 2, 150);
	ktest_settle();                                 /* it faulted: stopped */
	KEXPECT(top_returned, 0);
	KEXPECT(sys_thread_read_regs(t, (uint64_t)&r), 0);
	KEXPECT(r.rip, USER_SPACE_TOP);
	sys_obj_destroy(t);
	ktest_join(t);
	KEXPECT(sys_mem_unmap(fpage(page, 12), MEM_UNMAP_SELF), 0);
	ktest_pages_free(scratch, 1);
}
