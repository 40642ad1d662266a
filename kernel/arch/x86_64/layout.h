/*
 * Virtual memory layout of the kernel (shared by C and assembly).
 *
 *   0xFFFF FFFF FFFF FFFF  +------------------------------+
 *                          | kernel image window (2 GiB)  |  KERNEL_VMA + phys
 *   0xFFFF FFFF 8000 0000  +------------------------------+
 *                          |            unused            |
 *   0xFFFF 8xxx xxxx xxxx  +------------------------------+
 *                          | physical map: all RAM and    |  PHYS_MAP_BASE + phys
 *                          | the 32-bit MMIO hole         |
 *   0xFFFF 8000 0000 0000  +------------------------------+
 *                          |    non-canonical hole        |
 *   0x0000 7FFF FFFF FFFF  +------------------------------+
 *                          | user space (per task)        |
 *   0x0000 0000 0000 0000  +------------------------------+
 *
 * The kernel is loaded at physical KERNEL_PHYS (1 MiB).
 */
#ifndef MICA_LAYOUT_H
#define MICA_LAYOUT_H

#define KERNEL_VMA        0xFFFFFFFF80000000
#define KERNEL_PHYS       0x100000
#define PHYS_MAP_BASE     0xFFFF800000000000
#define USER_TOP          0x0000800000000000   /* = USER_SPACE_TOP (uapi/address_map.h;
						   root.c checks), here for assembly */
#define KERNEL_STACK_SIZE 16384
#define PAGE_SIZE         4096
#define LARGE_PAGE_SIZE   0x200000

#ifndef __ASSEMBLER__
/* The kernel image's bounds (linker.ld), virtual addresses. */
extern char _load_start[], _kernel_end[];
#endif

#endif
