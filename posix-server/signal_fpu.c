/*
 * The FPU state a signal frame carries, laid out as Linux's
 * (arch/x86/kernel/fpu/signal.c, uapi asm/sigcontext.h): an XSAVE area
 * in the standard format, 64-aligned above the rt_sigframe and named by
 * uc_mcontext.fpstate (glibc's uc_mcontext.fpregs). Its fxsave part's
 * software-reserved bytes (struct _fpx_sw_bytes) say FP_XSTATE_MAGIC1,
 * the area's size and the features in it (XCR0), and FP_XSTATE_MAGIC2
 * follows the area; uc_flags has UC_FP_XSTATE. Without XSAVE (the
 * kernel then keeps x87 and SSE only) the frame's is the 512-byte fxsave
 * area without them. The handler starts with the state a new thread has;
 * rt_sigreturn loads the frame's, the XSAVE part only when both magics
 * and the sizes are right (else the fxsave part, the rest initial), as
 * Linux's check_xstate_in_sigframe. The kernel reads and writes a
 * thread's state with thread_read_regs/thread_write_regs and
 * THREAD_REGS_FPU, in this same format (include/uapi/thread.h).
 */
#include "signals.h"
#include "syscall.h"

#define FPSTATE_ALIGN 64
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define FP_XSTATE_MAGIC2_SIZE 4
#define FX_SW_BYTES_OFFSET 464          /* struct _fpx_sw_bytes in the fxsave area */
#define FXSAVE_SIZE 512
#define XFEATURES_FP_SSE 3ULL

struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "struct _fpx_sw_bytes is 48 bytes");

/* XCR0 and the XSAVE area's size for it (CPUID 0xD.0 EBX), what the
 * kernel enabled; xcr0 0 without XSAVE (CPUID 1 ECX.OSXSAVE clear). */
static struct {
	bool known;
	uint64_t xcr0;
	uint32_t size;
} xstate;

static void xstate_learn(void)
{
	uint32_t a = 1, b, c = 0, d;

	if (xstate.known)
		return;
	xstate.known = true;
	xstate.size = FXSAVE_SIZE;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (!(c & (1u << 27)))
		return;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	uint64_t xcr0 = (uint64_t)d << 32 | a;
	a = 0xD;
	c = 0;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (b > FPU_STATE_SIZE || b < FPU_XSTATE_HEADER_OFFSET + 64)
		return;         /* the kernel would not have enabled it */
	xstate.xcr0 = xcr0;
	xstate.size = b;
}

bool signal_fpu_xsave(void)
{
	xstate_learn();
	return xstate.xcr0 != 0;
}

uint64_t signal_frame_max(void)
{
	/* Linux's init_sigframe_size: the rt_sigframe, its alignment, the
	 * FPU state with MAGIC2 and its alignment, rounded up to 16. */
	uint64_t n = sizeof(struct linux_rt_sigframe) + 15 + 63;

	xstate_learn();
	n += xstate.size + (xstate.xcr0 ? FP_XSTATE_MAGIC2_SIZE : 0);
	return (n + 15) & ~15ULL;
}

/* The state a new thread has (fninit, default MXCSR; every XSAVE
 * component initial): the handler's. */
static long fpu_reset(const struct thread *t)
{
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(64)));
	uint32_t mxcsr = 0x1F80;

	memset(fpu, 0, sizeof(fpu));
	fpu[0] = 0x7F;          /* FCW 0x037F */
	fpu[1] = 0x03;
	memcpy(fpu + FPU_MXCSR_OFFSET, &mxcsr, 4);
	return sys_thread_write_regs(t->kthread | THREAD_REGS_FPU, (uint64_t)fpu);
}

bool signal_fpu_push(struct thread *t, uint64_t *sp, uint64_t *fpstate)
{
	uint8_t fpu[FPU_STATE_SIZE + FP_XSTATE_MAGIC2_SIZE] __attribute__((aligned(64)));
	uint64_t size, at;

	*fpstate = 0;
	xstate_learn();
	if (sys_thread_read_regs(t->kthread | THREAD_REGS_FPU, (uint64_t)fpu) < 0)
		return true;    /* no state to save: fpstate stays null */
	size = xstate.size;
	if (xstate.xcr0) {
		struct fpx_sw_bytes sw = {
			.magic1 = FP_XSTATE_MAGIC1, .extended_size = (uint32_t)size + FP_XSTATE_MAGIC2_SIZE,
			.xfeatures = xstate.xcr0, .xstate_size = (uint32_t)size,
		};
		uint64_t xstate_bv;
		uint32_t magic2 = FP_XSTATE_MAGIC2;

		memcpy(fpu + FX_SW_BYTES_OFFSET, &sw, sizeof(sw));
		/* As Linux's save_xstate_epilog: x87 and SSE always in, so a
		 * reader of the fxsave part alone reads them right. */
		memcpy(&xstate_bv, fpu + FPU_XSTATE_HEADER_OFFSET, 8);
		xstate_bv |= XFEATURES_FP_SSE;
		memcpy(fpu + FPU_XSTATE_HEADER_OFFSET, &xstate_bv, 8);
		memcpy(fpu + size, &magic2, sizeof(magic2));
		size += FP_XSTATE_MAGIC2_SIZE;
	}
	at = (*sp - size) & ~(uint64_t)(FPSTATE_ALIGN - 1);
	if (as_copy_out(&t->proc->as, at, fpu, size) < 0)
		return false;
	*sp = at;
	*fpstate = at;
	return true;
}

void signal_fpu_enter(struct thread *t)
{
	fpu_reset(t);
}

bool signal_fpu_return(struct thread *t, uint64_t fpstate)
{
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(64)));
	struct fpx_sw_bytes sw;
	uint32_t magic2 = 0;

	if (!fpstate) {         /* as Linux: no saved state is the initial one */
		fpu_reset(t);
		return true;
	}
	xstate_learn();
	if (as_copy_in(&t->proc->as, fpu, fpstate, FXSAVE_SIZE) < 0)
		return false;
	memcpy(&sw, fpu + FX_SW_BYTES_OFFSET, sizeof(sw));
	bool full = xstate.xcr0 && sw.magic1 == FP_XSTATE_MAGIC1 &&
		    sw.xstate_size >= FPU_XSTATE_HEADER_OFFSET + 64 && sw.xstate_size <= xstate.size &&
		    sw.extended_size == sw.xstate_size + FP_XSTATE_MAGIC2_SIZE &&
		    as_copy_in(&t->proc->as, &magic2, fpstate + sw.xstate_size, 4) == 0 &&
		    magic2 == FP_XSTATE_MAGIC2;
	memset(fpu + FXSAVE_SIZE, 0, sizeof(fpu) - FXSAVE_SIZE);
	if (full) {
		uint64_t xstate_bv;

		if (as_copy_in(&t->proc->as, fpu + FXSAVE_SIZE, fpstate + FXSAVE_SIZE,
			       sw.xstate_size - FXSAVE_SIZE) < 0)
			return false;
		/* The features the frame names, the rest initial (Linux's
		 * xrstor with the frame's xfeatures). */
		memcpy(&xstate_bv, fpu + FPU_XSTATE_HEADER_OFFSET, 8);
		xstate_bv &= sw.xfeatures | ~xstate.xcr0;
		memcpy(fpu + FPU_XSTATE_HEADER_OFFSET, &xstate_bv, 8);
	} else if (xstate.xcr0) {
		uint64_t xstate_bv = XFEATURES_FP_SSE;  /* the fxsave part, the rest initial */
		memcpy(fpu + FPU_XSTATE_HEADER_OFFSET, &xstate_bv, 8);
	}
	return sys_thread_write_regs(t->kthread | THREAD_REGS_FPU, (uint64_t)fpu) == 0;
}
