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

/* Boot: CR4.OSXSAVE and XCR0 where the CPU has XSAVE (after CR4.OSFXSR). */
void fpu_init(void);

/* The state a new thread starts with (fninit's, MXCSR 0x1F80). */
void fpu_init_state(uint8_t *area);

/* 0 when area may be loaded into a thread (fpu_restore cannot fault on
 * it), else a reason for the log: MXCSR's reserved bits, XSTATE_BV past
 * XCR0, a compacted or reserved XSAVE header. */
const char *fpu_check(const uint8_t *area);

static inline __attribute__((always_inline)) void fpu_save(uint8_t *area)
{
	if (fpu_xcr0)
		__asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)fpu_xcr0),
				 "d"((uint32_t)(fpu_xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline __attribute__((always_inline)) void fpu_restore(const uint8_t *area)
{
	if (fpu_xcr0)
		__asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)fpu_xcr0),
				 "d"((uint32_t)(fpu_xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

#endif
