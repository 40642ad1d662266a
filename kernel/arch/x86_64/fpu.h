/*
 * The user FPU state: x87, SSE and, where the CPU has XSAVE, AVX. A
 * thread's state is one FPU_STATE_SIZE area in the XSAVE standard
 * format (Intel SDM vol. 1, 13.4: the fxsave legacy region, the XSAVE
 * header at FPU_XSTATE_HEADER_OFFSET, AVX's upper halves at
 * FPU_YMM_HI_OFFSET); without XSAVE only its legacy region is used.
 * The kernel itself never uses FPU registers.
 */
#ifndef MICA_FPU_H
#define MICA_FPU_H

#include <stdbool.h>
#include <stdint.h>

#include "uapi/thread.h"

/* The XCR0 the kernel set (x87, SSE and AVX of those the CPU has), or 0
 * without XSAVE (then fxsave/fxrstor). */
extern uint64_t fpu_xcr0;

/* Boot: CR4.OSXSAVE and XCR0 where the CPU has XSAVE (after CR4.OSFXSR)
 * and xsave is true (false: `noxsave` on the command line); else the
 * switch's xsave64/xrstor64 are patched into fxsave64/fxrstor64 (below). */
void fpu_init(bool xsave);

/* The state a new thread starts with (fninit's, MXCSR 0x1F80). */
void fpu_init_state(uint8_t *area);

/* 0 when area may be loaded into a thread (fpu_restore cannot fault on
 * it), else a reason for the log: MXCSR's reserved bits, XSTATE_BV past
 * XCR0, a compacted or reserved XSAVE header. */
const char *fpu_check(const uint8_t *area);

/*
 * The switch's save and restore, a few instructions on every context
 * switch (getpid through the POSIX server makes two). No test or branch:
 * each is xsave64/xrstor64 with EDX:EAX all ones, the requested-feature
 * bitmap that means every component XCR0 enables (Intel SDM vol. 1,
 * 13.8: RFBM = XCR0 AND EDX:EAX), kept by the compiler in registers from
 * save to restore; the area is a memory operand, so its offset in the
 * thread needs no separate lea. Each instruction's address goes into the
 * section .fpu_patch; on a CPU without XSAVE fpu_init rewrites them once
 * at boot into fxsave64/fxrstor64, which have the same encoding but the
 * ModRM reg field (REX.W 0F AE /4 and /5 against /0 and /1; SDM vol. 2).
 */
typedef uint8_t fpu_area[FPU_STATE_SIZE];

static inline __attribute__((always_inline)) void fpu_save(fpu_area *area)
{
	__asm__ volatile("1: xsave64 %0\n"
			 ".pushsection .fpu_patch, \"a\"\n.quad 1b\n.popsection"
			 : "=m"(*area) : "a"(~0u), "d"(~0u));
}

static inline __attribute__((always_inline)) void fpu_restore(const fpu_area *area)
{
	__asm__ volatile("1: xrstor64 %0\n"
			 ".pushsection .fpu_patch, \"a\"\n.quad 1b\n.popsection"
			 : : "m"(*area), "a"(~0u), "d"(~0u));
}

#endif
