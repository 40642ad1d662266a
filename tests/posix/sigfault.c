/*
 * Signals from faults, differential: the same lines on Linux and on
 * Mica. A SIGSEGV handler sees si_code SEGV_MAPERR or SEGV_ACCERR and
 * si_addr the address; one that fixes the cause (mprotect) and returns
 * has the instruction run again; one that leaves with siglongjmp goes on
 * there, every time; a stack overflow's handler runs on the alternate
 * stack. SIGFPE (integer divide, an unmasked x87 divide by zero) and
 * SIGILL (ud2) with their si_code and si_addr the instruction's. The
 * frame carries the FPU state: a handler that clobbers every xmm
 * register and MXCSR leaves the interrupted code's as they were, starts
 * with MXCSR 0x1f80, and sees the interrupted xmm0 in uc_mcontext's
 * fpregs. SIGALRM's handler reaches a loop that makes no system call.
 * Without a handler, or with SIGSEGV blocked, the fault ends the
 * process: the parent's wait says SIGSEGV, no core (RLIMIT_CORE 0).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf jump;
static volatile int got_signo, got_code, addr_is_ip, fix_page;
static volatile uintptr_t got_addr, fpstate_xmm0;
static volatile unsigned handler_mxcsr;
static char *page;

static unsigned get_mxcsr(void)
{
	unsigned m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

/* Every xmm register and MXCSR changed: what a handler that computes
 * with SSE does to the registers it was given. */
static void clobber_sse(void)
{
	unsigned m = 0x7f80;    /* FTZ off, every exception masked, round down */
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tmovdqa %%xmm0, %%xmm1\n\tmovdqa %%xmm0, %%xmm2\n\t"
			 "movdqa %%xmm0, %%xmm3\n\tmovdqa %%xmm0, %%xmm4\n\tmovdqa %%xmm0, %%xmm5\n\t"
			 "movdqa %%xmm0, %%xmm6\n\tmovdqa %%xmm0, %%xmm7\n\tmovdqa %%xmm0, %%xmm8\n\t"
			 "movdqa %%xmm0, %%xmm9\n\tmovdqa %%xmm0, %%xmm10\n\tmovdqa %%xmm0, %%xmm11\n\t"
			 "movdqa %%xmm0, %%xmm12\n\tmovdqa %%xmm0, %%xmm13\n\tmovdqa %%xmm0, %%xmm14\n\t"
			 "movdqa %%xmm0, %%xmm15\n\tldmxcsr %0"
			 : : "m"(m) : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	got_signo = si->si_signo;
	got_code = si->si_code;
	got_addr = (uintptr_t)si->si_addr;
	addr_is_ip = (uintptr_t)si->si_addr == (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	handler_mxcsr = get_mxcsr();
	fpstate_xmm0 = uc->uc_mcontext.fpregs ? uc->uc_mcontext.fpregs->_xmm[0].element[0] : 0;
	clobber_sse();
	if (fix_page) {
		mprotect(page, 4096, PROT_READ | PROT_WRITE);
		return;                 /* the write runs again */
	}
	siglongjmp(jump, sig);
}

static volatile int alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	clobber_sse();
	alarmed++;
}

static void on_usr1(int sig)
{
	(void)sig;
	handler_mxcsr = get_mxcsr();
	clobber_sse();
}

static void catch(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, NULL);
}

static const char *code_name(int sig, int code)
{
	if (sig == SIGSEGV)
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
	if (sig == SIGFPE)
		return code == FPE_INTDIV ? "FPE_INTDIV" : code == FPE_FLTDIV ? "FPE_FLTDIV" : "other";
	if (sig == SIGILL)
		return code == ILL_ILLOPN ? "ILL_ILLOPN" : "other";
	return "other";
}

static void report(const char *what)
{
	printf("%s: signal %d %s addr %s\n", what, got_signo, code_name(got_signo, got_code),
	       addr_is_ip ? "= rip" : got_addr == (uintptr_t)page ? "= page"
	       : got_addr == 0 ? "0" : "elsewhere");
}

static volatile int deep = 1;

static int depth(int n)
{
	volatile char pad[1024];

	pad[0] = (char)n;
	return deep ? depth(n + 1) + pad[0] : 0;
}

/* A child that faults (SIGSEGV blocked if `blocked`): how it ended. */
static void child_fault(const char *what, int blocked)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct rlimit core = { 0, 0 };
		sigset_t set;
		setrlimit(RLIMIT_CORE, &core);
		signal(SIGSEGV, SIG_DFL);
		if (blocked) {
			catch(SIGSEGV, 0);
			sigemptyset(&set);
			sigaddset(&set, SIGSEGV);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		*(volatile int *)(uintptr_t)deep = 1;    /* address 1: nothing there */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("%s: signaled %d signal %d core %d\n", what, WIFSIGNALED(status),
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0, WCOREDUMP(status) ? 1 : 0);
}

int main(void)
{
	int i;

	setvbuf(stdout, NULL, _IONBF, 0);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	catch(SIGSEGV, 0);

	/* A null write, caught and left with siglongjmp, five times. */
	for (i = 0; i < 5; i++)
		if (!sigsetjmp(jump, 1))
			*(volatile int *)0 = i;
	report("null write x5");

	/* A write to a read-only page: the handler makes it writable and
	 * returns; the write happens. */
	page[0] = 1;
	mprotect(page, 4096, PROT_READ);
	fix_page = 1;
	((volatile char *)page)[0] = 42;
	fix_page = 0;
	report("read-only write");
	printf("read-only write: retried, page[0] = %d\n", page[0]);

	/* A read of an unmapped page. */
	munmap(page, 4096);
	if (!sigsetjmp(jump, 1))
		(void)*(volatile char *)page;
	report("unmapped read");

	/* SSE registers and MXCSR live across the fault: the handler's
	 * clobbering does not reach them. */
	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fix_page = 1;
	{
		uint64_t in = 0x1234567890abcdefULL, out0 = 0, out15 = 0;
		unsigned m = 0x9fc0, mout = 0;     /* FTZ, DAZ, every exception masked */
		__asm__ volatile("movq %3, %%xmm0\n\tmovq %3, %%xmm15\n\tldmxcsr %4\n\t"
				 "movb $7, (%5)\n\t"
				 "movq %%xmm0, %0\n\tmovq %%xmm15, %1\n\tstmxcsr %2"
				 : "=r"(out0), "=r"(out15), "=m"(mout)
				 : "r"(in), "m"(m), "r"(page) : "xmm0", "xmm15", "memory");
		printf("sse across fault: xmm0 %s xmm15 %s mxcsr %#x\n",
		       out0 == in ? "kept" : "changed", out15 == in ? "kept" : "changed", mout);
		printf("sse across fault: handler mxcsr %#x, frame xmm0 %s\n", handler_mxcsr,
		       fpstate_xmm0 == (uint32_t)in ? "as interrupted" : "other");
		unsigned def = 0x1f80;
		__asm__ volatile("ldmxcsr %0" : : "m"(def));
	}
	fix_page = 0;

	/* The same across a system call (kill of itself, inline). */
	signal(SIGUSR1, on_usr1);
	{
		uint64_t in = 0x0fedcba987654321ULL, out = 0;
		long nr = SYS_kill, ret;
		__asm__ volatile("movq %3, %%xmm1\n\tsyscall\n\tmovq %%xmm1, %1"
				 : "=a"(ret), "=r"(out)
				 : "a"(nr), "r"(in), "D"((long)getpid()), "S"((long)SIGUSR1)
				 : "rcx", "r11", "xmm1", "memory");
		printf("sse across kill: ret %ld xmm1 %s\n", ret, out == in ? "kept" : "changed");
	}

	/* SIGFPE: integer divide by zero. */
	catch(SIGFPE, 0);
	if (!sigsetjmp(jump, 1)) {
		volatile int zero = 0, x = 1;
		x = x / zero;
	}
	report("divide by zero");

	/* SIGFPE from the x87: divide by zero with its exception unmasked
	 * (raised at the next x87 instruction). (An SSE one would be the
	 * same, but QEMU 7.2's TCG never raises SIMD exceptions.) */
	got_signo = 0;
	if (!sigsetjmp(jump, 1)) {
		unsigned short cw = 0x37f & ~0x4;       /* ZM clear */
		__asm__ volatile("fldcw %0\n\tfld1\n\tfldz\n\tfdivrp\n\tfwait\n\tfstp %%st(0)"
				 : : "m"(cw));
	}
	{
		unsigned short cw = 0x37f;
		__asm__ volatile("fnclex\n\tfldcw %0" : : "m"(cw));
	}
	report("x87 divide by zero");

	/* SIGILL: ud2. */
	catch(SIGILL, 0);
	if (!sigsetjmp(jump, 1))
		__asm__ volatile("ud2");
	report("ud2");

	/* A stack overflow: its handler runs on the alternate stack. */
	{
		stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0 };
		sigaltstack(&ss, NULL);
		catch(SIGSEGV, SA_ONSTACK);
		got_signo = 0;
		if (!sigsetjmp(jump, 1))
			depth(0);
		printf("stack overflow: signal %d %s\n", got_signo, code_name(got_signo, got_code));
	}

	/* A caught signal reaches a loop that makes no system call. */
	{
		struct itimerval it = { { 0, 0 }, { 0, 100000 } };
		volatile unsigned long n = 0;
		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
		while (!alarmed)
			n++;
		printf("busy loop: SIGALRM handler ran %d\n", alarmed);
	}

	child_fault("uncaught", 0);
	child_fault("blocked", 1);
	printf("sigfault: done\n");
	return 0;
}
