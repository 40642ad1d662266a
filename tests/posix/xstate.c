/*
 * The extended FPU state in signal frames, differential (Linux's
 * arch/x86 signal frame: uapi asm/sigcontext.h's struct _fpstate_64 and
 * _fpx_sw_bytes; Intel SDM vol. 1, 13.4 for the XSAVE area). Where the
 * CPU and the system have AVX (CPUID and XCR0 say, printed first), a
 * frame's fpstate (uc_mcontext.fpregs) is an XSAVE area: uc_flags has
 * UC_FP_XSTATE, the fxsave part's software bytes say FP_XSTATE_MAGIC1,
 * a size that covers AVX, the features XCR0 has, and FP_XSTATE_MAGIC2
 * follows the area. The upper halves of ymm registers set before a
 * signal survive a handler that clobbers them; the handler starts with
 * them zero and finds them in the frame; a handler's change there takes
 * at rt_sigreturn; a frame without MAGIC1, or whose XSTATE_BV drops AVX,
 * gives zero upper halves; a frame with a reserved header word set ends
 * the process by SIGSEGV. AT_MINSIGSTKSZ is given and covers a frame on
 * an alternate stack. An alarm ends a run that would hang.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif
#define UC_FP_XSTATE 0x1
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define SW_BYTES 464            /* struct _fpx_sw_bytes in the fxsave area */
#define XMM0 160
#define HEADER 512

enum mode { OBSERVE, CHANGE, NO_MAGIC1, NO_AVX_BIT, BAD_HEADER, ALTSTACK };

static volatile enum mode mode;
static volatile int flags_xstate, aligned, magic1, sizes, xfeatures_ok, magic2, saw_upper,
	started_zero;
static volatile uintptr_t frame_used;
#define XFEATURE_TILE_DATA (1ull << 18)

static uint64_t xcr0;
static unsigned ymm_offset, ymm_end;

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static int have_avx(void)
{
	unsigned r[4], lo, hi;

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)) || !(r[2] & (1u << 28)))    /* OSXSAVE, AVX */
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	xcr0 = (uint64_t)hi << 32 | lo;
	if ((xcr0 & 7) != 7)
		return 0;
	cpuid(0xD, 2, r);
	ymm_offset = r[1];
	ymm_end = r[0] + r[1];
	return 1;
}

static void fill(uint8_t *b, uint8_t v)
{
	memset(b, v, 32);
}

static int upper_is(const uint8_t *ymm, uint8_t v)
{
	for (int i = 16; i < 32; i++)
		if (ymm[i] != v)
			return 0;
	return 1;
}

static int hi_is(const uint8_t *hi, uint8_t v)
{
	for (int i = 0; i < 16; i++)
		if (hi[i] != v)
			return 0;
	return 1;
}

static void handler(int sig, siginfo_t *si, void *ctx)
{
	static const uint8_t junk[32] = { [0 ... 31] = 0xEE };
	uint8_t ymm1[32];
	ucontext_t *uc = ctx;
	uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t w[3];
	uint64_t xf;

	(void)sig;
	(void)si;
	__asm__ volatile("vmovdqu %%ymm1, %0" : "=m"(ymm1));
	started_zero = upper_is(ymm1, 0);
	/* Clobber what the interrupted code had. */
	__asm__ volatile("vmovdqu %0, %%ymm1\n\tvmovdqu %0, %%ymm2\n\tvmovdqu %0, %%ymm3"
			 : : "m"(junk) : "xmm1", "xmm2", "xmm3");
	if (mode == ALTSTACK) {
		stack_t ss;
		sigaltstack(NULL, &ss);
		frame_used = (uintptr_t)ss.ss_sp + ss.ss_size - ((uintptr_t)uc - 8);
		return;
	}
	flags_xstate = !!(uc->uc_flags & UC_FP_XSTATE);
	aligned = ((uintptr_t)fp & 63) == 0;
	memcpy(w, fp + SW_BYTES, sizeof(w));
	memcpy(&xf, fp + SW_BYTES + 8, sizeof(xf));
	magic1 = w[0] == FP_XSTATE_MAGIC1;
	uint32_t xstate_size;
	memcpy(&xstate_size, fp + SW_BYTES + 16, 4);
	sizes = w[1] == xstate_size + 4 && xstate_size >= ymm_end;
	/* Linux leaves out of a frame the state a process must ask for
	 * first (arch_prctl ARCH_REQ_XCOMP_PERM): AMX's tile data, XCR0 bit
	 * 18 (XFEATURE_MASK_USER_DYNAMIC), on hosts that have it. */
	xfeatures_ok = xf == (xcr0 & ~XFEATURE_TILE_DATA);
	memcpy(&w[2], fp + xstate_size, 4);
	magic2 = w[2] == FP_XSTATE_MAGIC2;
	saw_upper = hi_is(fp + ymm_offset + 16, 0x11);     /* ymm1's upper half */
	uint64_t bv;
	switch (mode) {
	case CHANGE:            /* ymm2 becomes 0x33 in both halves */
		memset(fp + XMM0 + 2 * 16, 0x33, 16);
		memset(fp + ymm_offset + 2 * 16, 0x33, 16);
		break;
	case NO_MAGIC1:         /* the fxsave part only: ymm3's upper half not loaded */
		memset(fp + XMM0 + 3 * 16, 0x44, 16);
		memset(fp + ymm_offset + 3 * 16, 0x44, 16);
		memset(fp + SW_BYTES, 0, 4);
		break;
	case NO_AVX_BIT:        /* AVX's state initial: every upper half zero */
		memcpy(&bv, fp + HEADER, 8);
		bv &= ~4ULL;
		memcpy(fp + HEADER, &bv, 8);
		break;
	case BAD_HEADER:        /* a reserved header word: xrstor refuses */
		memset(fp + HEADER + 16, 1, 1);
		break;
	default:
		break;
	}
}

/* ymm1..3 from in, a SIGUSR1 to itself, then ymm1..3 into out: no
 * library code between, which might use them. */
static void round_trip(const uint8_t in[3][32], uint8_t out[3][32])
{
	long nr = SYS_kill;
	__asm__ volatile("vmovdqu 0(%[in]), %%ymm1\n\t"
			 "vmovdqu 32(%[in]), %%ymm2\n\t"
			 "vmovdqu 64(%[in]), %%ymm3\n\t"
			 "syscall\n\t"
			 "vmovdqu %%ymm1, 0(%[out])\n\t"
			 "vmovdqu %%ymm2, 32(%[out])\n\t"
			 "vmovdqu %%ymm3, 64(%[out])\n\t"
			 "vzeroupper"
			 : "+a"(nr)
			 : "D"((long)getpid()), "S"((long)SIGUSR1), [in] "r"(in), [out] "r"(out)
			 : "rcx", "r11", "memory", "xmm1", "xmm2", "xmm3");
}

static void run(enum mode m, uint8_t out[3][32])
{
	uint8_t in[3][32];

	fill(in[0], 0x11);
	fill(in[1], 0x22);
	fill(in[2], 0x44);
	mode = m;
	round_trip((const uint8_t (*)[32])in, out);
}

static const char *yes(int b)
{
	return b ? "yes" : "no";
}

int main(void)
{
	struct sigaction sa;
	uint8_t out[3][32];

	alarm(20);
	setvbuf(stdout, NULL, _IOLBF, 0);
	int avx = have_avx();
	printf("avx: %s\n", yes(avx));
	unsigned long minsig = getauxval(AT_MINSIGSTKSZ);
	printf("AT_MINSIGSTKSZ given: %s\n", yes(minsig > 0));
	if (!avx)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);

	run(OBSERVE, out);
	printf("uc_flags has UC_FP_XSTATE: %s\n", yes(flags_xstate));
	printf("fpstate 64-aligned: %s\n", yes(aligned));
	printf("FP_XSTATE_MAGIC1: %s\n", yes(magic1));
	printf("xstate_size covers AVX, extended_size 4 more: %s\n", yes(sizes));
	printf("xfeatures are XCR0's: %s\n", yes(xfeatures_ok));
	printf("FP_XSTATE_MAGIC2 after the area: %s\n", yes(magic2));
	printf("handler starts with ymm1's upper half zero: %s\n", yes(started_zero));
	printf("handler finds ymm1's upper half in the frame: %s\n", yes(saw_upper));
	printf("ymm1 ymm2 ymm3 survive the handler: %s %s %s\n", yes(upper_is(out[0], 0x11)),
	       yes(upper_is(out[1], 0x22)), yes(upper_is(out[2], 0x44)));

	run(CHANGE, out);
	printf("the handler's ymm2 in the frame taken: %s (ymm1 kept %s)\n",
	       yes(upper_is(out[1], 0x33) && out[1][0] == 0x33), yes(upper_is(out[0], 0x11)));

	run(NO_MAGIC1, out);
	printf("without MAGIC1: xmm3 taken %s, upper halves zero %s %s\n", yes(out[2][0] == 0x44),
	       yes(upper_is(out[2], 0)), yes(upper_is(out[0], 0)));

	run(NO_AVX_BIT, out);
	printf("XSTATE_BV without AVX: upper halves zero %s %s, xmm1 kept %s\n",
	       yes(upper_is(out[0], 0)), yes(upper_is(out[1], 0)), yes(out[0][0] == 0x11));

	pid_t pid = fork();
	if (pid == 0) {
		run(BAD_HEADER, out);
		printf("bad XSAVE header: child went on\n");
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("bad XSAVE header: child %s\n",
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? "killed by SIGSEGV" : "not killed");

	stack_t ss = { .ss_size = minsig < 16384 ? 16384 : minsig };
	ss.ss_sp = malloc(ss.ss_size);
	sigaltstack(&ss, NULL);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	frame_used = 0;
	run(ALTSTACK, out);
	printf("frame on the alternate stack within AT_MINSIGSTKSZ: %s\n",
	       yes(frame_used > 0 && frame_used <= minsig));
	printf("ymm1 survives a handler on the alternate stack: %s\n", yes(upper_is(out[0], 0x11)));
	return 0;
}
