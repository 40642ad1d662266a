/* A hostile task tries what it must not: every attempt fails for it alone. */
#include "child.h"

static const uint64_t read_only_word = 0x1111;
static volatile long hostile_results[8];

enum attack {
	READ_SECRET, WRITE_READ_ONLY, PORT_IN, CLI, HLT, WRITE_CR3, READ_KERNEL, WRMSR,
	USE_CAPS, ATTACKS
};

static void hostile(uint64_t attack)
{
	switch (attack) {
	case READ_SECRET:
		hostile_results[0] = *(volatile uint8_t *)ktest_secret;
		break;
	case WRITE_READ_ONLY:
		*(volatile uint64_t *)&read_only_word = 0x2222;
		break;
	case PORT_IN: {
		uint8_t v;
		__asm__ volatile("inb $0x60, %0" : "=a"(v));
		hostile_results[0] = v;
		break;
	}
	case CLI:
		__asm__ volatile("cli");
		break;
	case HLT:
		__asm__ volatile("hlt");
		break;
	case WRITE_CR3:
		__asm__ volatile("mov %0, %%cr3" : : "r"(0UL));
		break;
	case READ_KERNEL:
		hostile_results[0] = *(volatile uint64_t *)0xFFFFFFFF80100000UL;
		break;
	case WRMSR:
		__asm__ volatile("wrmsr" : : "c"(0xC0000082), "a"(0), "d"(0));
		break;
	case USE_CAPS: {
		/* Its capability table is empty: whatever slot it names. */
		struct msg m = msg_make(1, 0);
		hostile_results[0] = sys_notify_signal(5, 1);
		hostile_results[1] = ipc_call(ROOT_SLOT_TASK, &m);
		hostile_results[2] = sys_obj_destroy(ROOT_SLOT_TASK);
		hostile_results[3] = sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, 0x500000000UL, 1, 3);
		hostile_results[4] = sys_cap_copy(0, CAP_SLOT_SELF, 1, CAP_RIGHTS_ALL, 0);
		hostile_results[5] = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, 8, 3);
		hostile_results[6] = sys_ioport_map(ROOT_SLOT_IOPORTS, 0x60, 1);
		hostile_results[7] = 1;
		break;
	}
	}
}

KTEST(isolation_hostile_task_is_contained)
{
	static const struct {
		uint64_t vector;        /* 14 = page fault refused by the pager */
		bool write;
	} expect[] = {
		[READ_SECRET] = { 14, false }, [WRITE_READ_ONLY] = { 14, true },
		[PORT_IN] = { 13, false }, [CLI] = { 13, false }, [HLT] = { 13, false },
		[WRITE_CR3] = { 13, false }, [READ_KERNEL] = { 14, false }, [WRMSR] = { 13, false },
	};
	struct task_info before = ktest_info();

	for (unsigned a = 0; a < USE_CAPS; a++) {
		hostile_results[0] = -1;
		struct child *c = child_start(hostile, a, 256 * 1024, CHILD_STOP, true);
		KCHECK(c);
		KCHECK(child_wait(c));
		if (!c->stopped || c->vector != expect[a].vector) {
			printf("    attack %u: stopped %d vector %lu\n", a, c->stopped, c->vector);
			KCHECK(0);
		}
		if (a == READ_SECRET)
			KEXPECT(c->address, (uint64_t)ktest_secret);
		if (expect[a].vector == 14)
			KEXPECT((c->error & 2) != 0, expect[a].write);
		KEXPECT(hostile_results[0], -1);    /* it never got a value */
		child_destroy(c);
	}
	KEXPECT(ktest_secret[0], 't');
	KEXPECT(read_only_word, 0x1111);

	struct child *c = child_start(hostile, USE_CAPS, 256 * 1024, CHILD_STOP, true);
	KCHECK(c);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	for (int i = 0; i < 7; i++)
		KEXPECT(hostile_results[i], -ERR_INVALID_CAP);
	KEXPECT(hostile_results[7], 1);
	child_destroy(c);
	/* All of it came back. */
	struct task_info after = ktest_info();
	KEXPECT(after.quota_used, before.quota_used);
}
