#include <stddef.h>

#include "gdt.h"
#include "layout.h"

#include "lib/string.h"

_Static_assert(offsetof(struct tss, rsp) == TSS_RSP0, "switch.S reads the TSS's rsp0");

struct tss gdt_tss;
const uint8_t *gdt_loaded_io_bitmap;
static uint64_t gdt[8];
static uint8_t ist_stacks[2][KERNEL_STACK_SIZE] __attribute__((aligned(16)));

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void gdt_init(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFF;    /* 0x08 kernel code, 64-bit */
	gdt[2] = 0x00CF92000000FFFF;    /* 0x10 kernel data */
	gdt[3] = 0x00CFFA000000FFFF;    /* 0x18 user code, 32-bit (unused; SYSRET layout) */
	gdt[4] = 0x00CFF2000000FFFF;    /* 0x20 user data */
	gdt[5] = 0x00AFFA000000FFFF;    /* 0x28 user code, 64-bit */

	memset(&gdt_tss, 0, sizeof(gdt_tss));
	gdt_tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)&ist_stacks[0][KERNEL_STACK_SIZE];
	gdt_tss.ist[IST_NMI - 1] = (uint64_t)&ist_stacks[1][KERNEL_STACK_SIZE];
	gdt_tss.iomap_base = sizeof(struct tss);       /* no map: every port denied */
	memset(gdt_tss.io_bitmap, 0xFF, sizeof(gdt_tss.io_bitmap));
	uint64_t base = (uint64_t)&gdt_tss, limit = sizeof(gdt_tss) - 1;
	gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		 (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[7] = base >> 32;

	struct descriptor_ptr ptr = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"mov %2, %%ds\n\t"
		"mov %2, %%es\n\t"
		"mov %2, %%ss\n\t"
		"ltr %w3"
		:
		: "m"(ptr), "i"(SEL_KERNEL_CODE), "r"(SEL_KERNEL_DATA), "r"(SEL_TSS)
		: "rax", "memory");
}


/* Whose bitmap the TSS holds (NULL: none, every byte 0xFF), and its
 * bytes that may allow a port: [span_lo, span_hi). */
static const uint8_t *tss_holds;
static unsigned span_lo, span_hi;

#define IOMAP_IN_TSS  __builtin_offsetof(struct tss, io_bitmap)
#define IOMAP_NONE    sizeof(struct tss)      /* past the limit: no map */

/* Deny every port the held bitmap opened. */
static void deny_held(void)
{
	for (unsigned i = span_lo; i < span_hi; i++)
		gdt_tss.io_bitmap[i] = 0xFF;
	span_lo = span_hi = 0;
	tss_holds = NULL;
}

void gdt_switch_io_bitmap(const uint8_t *bitmap, unsigned lo, unsigned hi)
{
	gdt_loaded_io_bitmap = bitmap;
	if (!bitmap) {
		gdt_tss.iomap_base = IOMAP_NONE;
		return;
	}
	if (bitmap != tss_holds) {
		deny_held();
		if (hi > IO_BITMAP_BYTES)
			hi = IO_BITMAP_BYTES;
		for (unsigned i = lo; i < hi; i++)
			gdt_tss.io_bitmap[i] = bitmap[i];
		if (hi > lo) {
			span_lo = lo;
			span_hi = hi;
		}
		tss_holds = bitmap;
	}
	gdt_tss.iomap_base = IOMAP_IN_TSS;
}

void gdt_io_bitmap_changed(const uint8_t *bitmap)
{
	if (bitmap == tss_holds)
		deny_held();
	if (bitmap == gdt_loaded_io_bitmap) {
		gdt_loaded_io_bitmap = NULL;
		gdt_tss.iomap_base = IOMAP_NONE;
	}
}
