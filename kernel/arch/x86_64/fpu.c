/*
 * The user FPU state's format and the CPU's set-up for it (fpu.h).
 */
#include "fpu.h"
#include "cpu.h"

#include "klog.h"
#include "lib/string.h"

#define XFEATURE_X87 (1ULL << 0)
#define XFEATURE_SSE (1ULL << 1)
#define XFEATURE_AVX (1ULL << 2)

uint64_t fpu_xcr0;
static uint32_t fpu_mxcsr_mask = 0xFFBF;    /* fxsave's MXCSR_MASK; 0 there means this */

/* The addresses of fpu.h's xsave64/xrstor64 (linker.ld). */
extern const uint64_t fpu_patch_start[], fpu_patch_end[];

/* Without XSAVE: each xsave64 (REX.W 0F AE /4) becomes fxsave64 (/0),
 * each xrstor64 (/5) fxrstor64 (/1), by clearing bit 2 of the ModRM reg
 * field; the operand and the length stay. Once, on the boot CPU, before
 * any thread runs (the kernel image is mapped writable). */
static void fpu_patch_fxsave(void)
{
	for (const uint64_t *p = fpu_patch_start; p < fpu_patch_end; p++) {
		uint8_t *insn = (uint8_t *)*p;
		unsigned reg = insn[3] >> 3 & 7;

		if ((insn[0] & 0xF8) != 0x48 || insn[1] != 0x0F || insn[2] != 0xAE)
			panic("fpu: no xsave64/xrstor64 at %p", insn);
		if (reg == 4 || reg == 5)
			insn[3] &= ~0x20;
		else if (reg != 0 && reg != 1)
			panic("fpu: no xsave64/xrstor64 at %p", insn);
	}
	/* Serialize before the patched instructions run (SDM vol. 3, 8.1.3). */
	uint32_t r[4];
	cpuid(0, 0, r);
}

void fpu_init(bool xsave)
{
	uint8_t area[512] __attribute__((aligned(16)));
	uint32_t r[4], mask;

	memset(area, 0, sizeof(area));
	__asm__ volatile("fninit; fxsave64 (%0)" : : "r"(area) : "memory");
	memcpy(&mask, area + FPU_MXCSR_MASK_OFFSET, sizeof(mask));
	if (mask)
		fpu_mxcsr_mask = mask;

	cpuid(1, 0, r);
	bool has = r[2] & (1u << 26);   /* CPUID.1:ECX.XSAVE */
	cpuid(0, 0, r);
	if (!xsave || !has || r[0] < 0xD) {
		fpu_patch_fxsave();
		kinfo("cpu: FPU state by fxsave%s\n", xsave ? "" : " (noxsave)");
		return;
	}
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1ULL << 18)));     /* OSXSAVE */
	cpuid(0xD, 0, r);
	uint64_t xcr0 = ((uint64_t)r[3] << 32 | r[0]) & (XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX);
	if (xcr0 & XFEATURE_AVX) {
		cpuid(0xD, 2, r);       /* AVX's offset and size in the standard format */
		if (r[1] != FPU_YMM_HI_OFFSET || r[0] + r[1] > FPU_STATE_SIZE)
			xcr0 &= ~XFEATURE_AVX;
	}
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
	fpu_xcr0 = xcr0;
	kinfo("cpu: FPU state by xsave, XCR0 %lx\n", fpu_xcr0);
}

void fpu_init_state(uint8_t *area)
{
	memset(area, 0, FPU_STATE_SIZE);
	area[0] = 0x7F;                 /* FCW 0x037F */
	area[1] = 0x03;
	uint32_t mxcsr = 0x1F80;
	memcpy(area + FPU_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
	memcpy(area + FPU_MXCSR_MASK_OFFSET, &fpu_mxcsr_mask, sizeof(fpu_mxcsr_mask));
	if (fpu_xcr0) {         /* XSTATE_BV: x87 and SSE from the legacy region */
		uint64_t xstate_bv = XFEATURE_X87 | XFEATURE_SSE;
		memcpy(area + FPU_XSTATE_HEADER_OFFSET, &xstate_bv, sizeof(xstate_bv));
	}
}

const char *fpu_check(const uint8_t *area)
{
	uint32_t mxcsr;
	uint64_t header[8];

	memcpy(&mxcsr, area + FPU_MXCSR_OFFSET, sizeof(mxcsr));
	if (mxcsr & ~fpu_mxcsr_mask)
		return "MXCSR has reserved bits";
	if (!fpu_xcr0)
		return 0;
	memcpy(header, area + FPU_XSTATE_HEADER_OFFSET, sizeof(header));
	if (header[0] & ~fpu_xcr0)
		return "XSTATE_BV has features XCR0 has not";
	for (int i = 1; i < 8; i++)
		if (header[i])
			return "XSAVE header is compacted or has reserved bits";
	return 0;
}
