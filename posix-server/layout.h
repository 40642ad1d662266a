/*
 * A POSIX process's address space: Linux's x86_64 layout, without
 * randomization (docs/posix.md has the picture). The server decides every
 * address here; nothing else in posix-server/ writes an address literal.
 *
 *   0x0000_7FFF_FFFF_F000  +-----------------------------------+ POSIX_STACK_TOP
 *                          | stack: argv, envp, auxv strings   |
 *                          | and vectors at the top, grows down| POSIX_STACK_SIZE (8 MiB)
 *                          +-----------------------------------+
 *                          |              (unused)             |
 *                          +-----------------------------------+
 *                          | the vDSO's image (AT_SYSINFO_EHDR)| POSIX_VDSO_BASE
 *   0x0000_7FFF_F7FF_0000  | its data page (vvar), read-only   | POSIX_VVAR_BASE
 *                          +-----------------------------------+
 *                          |              (unused)             |
 *                          +-----------------------------------+
 *                          | the interpreter (PT_INTERP: ld.so)|
 *   0x0000_7FF0_0000_0000  +-----------------------------------+ POSIX_MMAP_TOP, POSIX_INTERP_BASE
 *                          | mmap without MAP_FIXED: the       |
 *                          | lowest free range                 |
 *   0x0000_7F00_0000_0000  +-----------------------------------+ POSIX_MMAP_BASE
 *                          |              (unused)             |
 *                          +-----------------------------------+
 *                          | brk heap: from the image's end,   | at most POSIX_BRK_MAX
 *                          | grows up                          |
 *                          +-----------------------------------+
 *                          | a static PIE's segments (ET_DYN)  |
 *   0x0000_5555_5555_4000  +-----------------------------------+ POSIX_DYN_BASE
 *                          |              (unused)             |
 *                          +-----------------------------------+
 *                          | the executable's segments, as     |
 *                          | linked (ET_EXEC)                  |
 *   0x0000_0000_0001_0000  +-----------------------------------+ POSIX_IMAGE_LO
 *                          | never mapped (Linux's             |
 *                          | mmap_min_addr)                    |
 *   0x0000_0000_0000_0000  +-----------------------------------+
 */
#ifndef MICA_POSIX_LAYOUT_H
#define MICA_POSIX_LAYOUT_H

#include "uapi/address_map.h"

#define POSIX_PAGE_SIZE     4096UL
#define POSIX_IMAGE_LO      0x0000000000010000UL
#define POSIX_IMAGE_HI      POSIX_MMAP_BASE
#define POSIX_DYN_BASE      0x0000555555554000UL  /* Linux's, without randomization */
#define POSIX_BRK_MAX       (1UL << 30)
#define POSIX_MMAP_BASE     0x00007F0000000000UL
#define POSIX_MMAP_TOP      0x00007FF000000000UL
#define POSIX_INTERP_BASE   POSIX_MMAP_TOP
#define POSIX_STACK_TOP     0x00007FFFFFFFF000UL
#define POSIX_STACK_SIZE    (8UL << 20)
#define POSIX_VVAR_BASE     0x00007FFFF7FF0000UL  /* vdso_map.c: the data page, */
#define POSIX_VDSO_BASE     (POSIX_VVAR_BASE + 0x1000UL) /* then the image */

#endif
