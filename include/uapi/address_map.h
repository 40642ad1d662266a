/*
 * The one map of a native Mica program's address space: where every
 * window lives. Nothing else writes an address literal; docs/boot.md
 * ("A program's address space") has the same picture with the reasons.
 *
 * User space is [0, USER_SPACE_TOP). The kernel lays out the root task's
 * start-up pages (BOOTINFO_ADDR, ROOT_IPC_BUFFER, the root stack); init
 * gives every program it starts the same shape (PROGRAM_*), so the user
 * runtime finds its start-up information at one address either way.
 *
 *   0x0000_8000_0000_0000  +------------------------------------+ USER_SPACE_TOP
 *                          | start-up information (read-only)   | PROGRAM_INFO_ADDR = BOOTINFO_ADDR
 *   0x0000_7FFF_FFFF_E000  +------------------------------------+
 *                          | the first thread's IPC buffer      | PROGRAM_IPC_BUFFER = ROOT_IPC_BUFFER
 *   0x0000_7FFF_FFFF_D000  +------------------------------------+
 *                          | heartbeat page (heartbeat=MS only) | PROGRAM_HEARTBEAT_ADDR
 *   0x0000_7FFF_FFFF_C000  +------------------------------------+
 *                          |              (unused)              |
 *   0x0000_7FFF_FFF0_0000  +------------------------------------+ PROGRAM_STACK_TOP = ROOT_STACK_TOP
 *                          | first thread's stack, grows down   | 64 KiB (root task: 256 KiB)
 *                          +------------------------------------+
 *                          |              (unused)              |
 *   0x0000_6000_0400_0000  +------------------------------------+
 *                          | heap: zero pages on first touch    | PROGRAM_HEAP_BASE, 64 MiB
 *   0x0000_6000_0000_0000  +------------------------------------+
 *                          | pages from init (INIT_PAGES_ALLOC) | PROGRAM_PAGES_BASE, 1 TiB
 *   0x0000_5800_0000_0000  +------------------------------------+
 *                          | DMA memory from init (DMA_ALLOC)   | PROGRAM_DMA_BASE, 4 GiB
 *   0x0000_5000_0000_0000  +------------------------------------+
 *                          | the program's own windows: where   | PROGRAM_OWN_BASE, 16 TiB
 *                          | it receives what servers map to it |   NETQ_DRIVER_AREA (1 GiB, a driver)
 *                          | (queue areas, socket buffers)      |   then its own choice
 *   0x0000_4000_0000_0000  +------------------------------------+
 *                          | files from init (manifest `file`), | PROGRAM_FILE_BASE, file k at
 *                          | read-only                          |   + k * PROGRAM_FILE_SPAN
 *   0x0000_3800_0000_0000  +------------------------------------+
 *                          | root task only: device memory      | ROOT_MMIO_WINDOW
 *   0x0000_3000_0000_0000  +------------------------------------+
 *                          | root task only: boot modules       | ROOT_MODULE_WINDOW, module k at
 *   0x0000_2000_0000_0000  +------------------------------------+   + k * ROOT_MODULE_SPAN
 *                          | root task only: RAM, page i at     | ROOT_RAM_WINDOW
 *                          | + i * 4 KiB                        |
 *   0x0000_1000_0000_0000  +------------------------------------+ PROGRAM_IMAGE_TOP
 *                          | the executable's segments; a       |
 *                          | driver's device registers at their |
 *                          | physical address (below 4 GiB)     |
 *   0x0000_0000_0040_0000  +------------------------------------+ PROGRAM_IMAGE_BASE (lib/user/user.ld)
 *                          | never mapped (NULL pointers fault) |
 *   0x0000_0000_0000_0000  +------------------------------------+
 *
 * POSIX processes (the POSIX server's clients) have Linux's layout, not
 * this one (posix-server/layout.h); only the kernel's USER_SPACE_TOP
 * applies to them.
 */
#ifndef MICA_UAPI_ADDRESS_MAP_H
#define MICA_UAPI_ADDRESS_MAP_H

#define USER_SPACE_TOP          0x0000800000000000UL

/* Start-up pages: the kernel's for the root task, init's for the rest. */
#define BOOTINFO_ADDR           0x00007FFFFFFFE000UL   /* struct bootinfo */
#define ROOT_IPC_BUFFER         0x00007FFFFFFFD000UL
#define ROOT_STACK_TOP          0x00007FFFFFF00000UL
#define ROOT_STACK_SIZE         (256 * 1024UL)

#define PROGRAM_INFO_ADDR       BOOTINFO_ADDR           /* struct program_info */
#define PROGRAM_IPC_BUFFER      ROOT_IPC_BUFFER
#define PROGRAM_HEARTBEAT_ADDR  0x00007FFFFFFFC000UL   /* struct program_heartbeat */
#define PROGRAM_STACK_TOP       ROOT_STACK_TOP
#define PROGRAM_STACK_SIZE      (64 * 1024UL)

/* Memory init backs or hands out (proto/init.h). */
#define PROGRAM_HEAP_BASE       0x0000600000000000UL   /* mem_heap() */
#define PROGRAM_HEAP_SIZE       (64UL << 20)
#define PROGRAM_PAGES_BASE      0x0000580000000000UL   /* INIT_PAGES_ALLOC */
#define PROGRAM_PAGES_SIZE      (1UL << 40)
#define PROGRAM_DMA_BASE        0x0000500000000000UL   /* DMA_ALLOC */
#define PROGRAM_DMA_SIZE        (1UL << 32)

/* Windows the program places itself, for what servers map into it. */
#define PROGRAM_OWN_BASE        0x0000400000000000UL
#define PROGRAM_OWN_SIZE        (1UL << 44)
#define NETQ_DRIVER_AREA        PROGRAM_OWN_BASE       /* a driver's client area (proto/netq.h) */

/* Files init hands a program (manifest `file`), read-only. */
#define PROGRAM_FILE_BASE       0x0000380000000000UL
#define PROGRAM_FILE_SPAN       (1UL << 30)            /* largest file; file k at + k * span */

/* The root task's own windows (init; the kernel tests, which run as the
 * root task, use them the same way). */
#define ROOT_MMIO_WINDOW        0x0000300000000000UL   /* device memory, at + (phys - base) */
#define ROOT_MODULE_WINDOW      0x0000200000000000UL   /* boot modules */
#define ROOT_MODULE_SPAN        (1UL << 30)            /* module k at + k * span */
#define ROOT_RAM_WINDOW         0x0000100000000000UL   /* RAM page i at + i * 4 KiB */

/* The executable: linked at PROGRAM_IMAGE_BASE (lib/user/user.ld); a
 * loader refuses segments outside [PROGRAM_IMAGE_BASE, PROGRAM_IMAGE_TOP). */
#define PROGRAM_IMAGE_BASE      0x0000000000400000UL
#define PROGRAM_IMAGE_TOP       ROOT_RAM_WINDOW

#endif
