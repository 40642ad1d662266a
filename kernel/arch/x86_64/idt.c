#include "gdt.h"
#include "trap.h"

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

static struct idt_entry idt[256];

static void idt_set(unsigned v, uint64_t handler, unsigned ist, unsigned dpl)
{
	idt[v].offset_low = handler & 0xFFFF;
	idt[v].selector = SEL_KERNEL_CODE;
	idt[v].ist = ist;
	idt[v].type = 0x8E | (dpl << 5);   /* present, 64-bit interrupt gate */
	idt[v].offset_mid = (handler >> 16) & 0xFFFF;
	idt[v].offset_high = handler >> 32;
	idt[v].reserved = 0;
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		idt_set(v, trap_stub_table[v], 0, 0);
	idt_set(2, trap_stub_table[2], IST_NMI, 0);
	idt_set(8, trap_stub_table[8], IST_DOUBLE_FAULT, 0);
	idt_set(3, trap_stub_table[3], 0, 3);   /* int3 allowed from user mode */

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr));
}
