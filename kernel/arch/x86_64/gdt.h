/* Segments, TSS and the kernel stacks used on entry from user mode. */
#ifndef MICA_GDT_H
#define MICA_GDT_H

/* Selector layout fixed by SYSCALL/SYSRET (see MSR_STAR in gdt.c). */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_DATA   (0x20 | 3)
#define SEL_USER_CODE   (0x28 | 3)
#define SEL_TSS         0x30

/* Interrupt stack table slots for exceptions that must not use a
 * possibly broken stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2

#define IO_BITMAP_BYTES 8192
#define TSS_RSP0        4               /* offset of rsp0 in struct tss */

#ifndef __ASSEMBLER__
#include <stdint.h>

void gdt_init(void);

/* The task-state segment (Intel SDM vol. 3, 8.7, 64-bit TSS). */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	uint8_t io_bitmap[IO_BITMAP_BYTES + 1];  /* 1 = denied; last byte 0xFF */
} __attribute__((packed));
extern struct tss gdt_tss;

/* Stack the CPU switches to on an interrupt or exception from user mode
 * (the TSS's rsp0, unaligned in the packed TSS); the system call entry
 * (switch.S) takes it from there too. */
static inline void gdt_set_kernel_stack(uint64_t rsp0)
{
	__builtin_memcpy(&gdt_tss.rsp[0], &rsp0, sizeof(rsp0));
}

/* Make bitmap (IO_BITMAP_BYTES, 1 = denied; NULL = deny all) the one the
 * CPU checks for user-mode port access; only its bytes [lo, hi) may allow
 * a port (the rest are 0xFF). Called at every switch to a task's thread
 * (inline: most find it in force already). No bitmap is the TSS's I/O map
 * base past the TSS's limit (every port denied, Intel SDM vol. 1, 19.5.2):
 * one store, the bitmap copied in the TSS stays for the next switch back.
 * Another task's bitmap is copied in, just its bytes [lo, hi), after the
 * bytes the one before opened are denied again. */
extern const uint8_t *gdt_loaded_io_bitmap;
void gdt_switch_io_bitmap(const uint8_t *bitmap, unsigned lo, unsigned hi);
static inline void gdt_load_io_bitmap(const uint8_t *bitmap, unsigned lo, unsigned hi)
{
	if (bitmap != gdt_loaded_io_bitmap)
		gdt_switch_io_bitmap(bitmap, lo, hi);
}

/* bitmap changed or is about to be freed: forget the loaded copy. */
void gdt_io_bitmap_changed(const uint8_t *bitmap);
#endif

#endif
