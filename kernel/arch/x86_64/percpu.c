#include "percpu.h"
#include "cpu.h"
#include "fpu.h"
#include "gdt.h"

struct percpu cpu0;

void percpu_init(bool fast, bool xsave)
{
	wrmsr(MSR_GS_BASE, (uint64_t)&cpu0);
	wrmsr(MSR_KERNEL_GS, 0);
	/* SYSCALL: kernel CS 0x08 (SS 0x10); SYSRET base 0x18 -> user SS
	 * 0x20, CS 0x28. Mask IF, DF, TF and AC on entry. */
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
	wrmsr(MSR_STAR, (0x18ULL << 48) | ((uint64_t)SEL_KERNEL_CODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(fast ? syscall_entry : syscall_entry_general));
	wrmsr(MSR_FMASK, 0x40700);
	/* SSE for user code: CR0.MP on, EM and TS off; CR0.NE on, so an
	 * unmasked x87 exception is #MF (vector 16) to the thread's handler,
	 * not the PC's FERR#/IRQ 13; CR4.OSFXSR and OSXMMEXCPT. The kernel
	 * itself never uses FPU registers (fxsave/fxrstor do not raise a
	 * pending x87 exception). CR4.TSD off: user code may read the TSC
	 * (rdtsc, rdtscp), as the POSIX server's vDSO does for the clock. */
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 | 0x22) & ~0xCULL;
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 = (cr4 | (1 << 9) | (1 << 10)) & ~(1ULL << 2);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	__asm__ volatile("fninit");
	fpu_init(xsave);
}
