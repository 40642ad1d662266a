/*
 * Faults turned into signals. An exception (its message has the registers) or a page fault
 * the server cannot answer (it reads the thread's registers with
 * thread_read_regs: a pager's message has none) becomes the signal Linux
 * sends, with si_code and si_addr as Linux's (arch/x86/kernel/traps.c,
 * arch/x86/mm/fault.c; SIGBUS BUS_ADRERR past a mapped file's end, as
 * mm/filemap.c): a handler runs on the faulting thread and, if it
 * returns, the instruction runs again; without one, or blocked or
 * ignored, the process ends by it.
 * (The FPU state a frame carries is signal_fpu.c's.)
 */
#include "layout.h"
#include "signals.h"
#include "syscall.h"

#define FPE_FLTDIV 3
#define FPE_FLTOVF 4
#define FPE_FLTUND 5
#define FPE_FLTRES 6
#define FPE_FLTINV 7

/* Linux's si_code for an x87 or SIMD exception from the exception bits
 * that are raised and not masked (fpu__exception_code). */
static int fpe_code(const struct thread *t, uint64_t vector)
{
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(16)));
	unsigned err;

	if (sys_thread_read_regs(t->kthread | THREAD_REGS_FPU, (uint64_t)fpu) < 0)
		return 0;
	if (vector == 16) {     /* x87: status word & ~control word */
		uint16_t cwd = (uint16_t)(fpu[0] | fpu[1] << 8), swd = (uint16_t)(fpu[2] | fpu[3] << 8);
		err = swd & ~cwd;
	} else {                /* SIMD: MXCSR's flags not masked */
		uint32_t mxcsr;
		memcpy(&mxcsr, fpu + FPU_MXCSR_OFFSET, 4);
		err = ~(mxcsr >> 7) & mxcsr;
	}
	if (err & 0x001)
		return FPE_FLTINV;
	if (err & 0x004)
		return FPE_FLTDIV;
	if (err & 0x008)
		return FPE_FLTOVF;
	if (err & 0x012)
		return FPE_FLTUND;
	if (err & 0x020)
		return FPE_FLTRES;
	return 0;
}

int signal_of_vector(const struct thread *t, uint64_t vector, int *code)
{
	*code = LINUX_SI_KERNEL;
	switch (vector) {
	case 0: *code = LINUX_FPE_INTDIV; return LINUX_SIGFPE;  /* divide error */
	case 16: case 19: *code = fpe_code(t, vector); return LINUX_SIGFPE;     /* x87, SIMD */
	case 1: case 3: *code = LINUX_TRAP_BRKPT; return LINUX_SIGTRAP;
	case 6: *code = LINUX_ILL_ILLOPN; return LINUX_SIGILL;  /* invalid opcode */
	case 17: *code = LINUX_BUS_ADRALN; return LINUX_SIGBUS; /* alignment check */
	default: return LINUX_SIGSEGV;  /* general protection and the rest: SI_KERNEL */
	}
}

bool signal_fault(struct thread *t, struct user_regs *r, int sig, int code, uint64_t addr)
{
	const struct linux_sigaction *act = &t->proc->actions[sig - 1];

	if ((t->sigmask & (1UL << (sig - 1))) || act->handler == LINUX_SIG_IGN ||
	    act->handler == LINUX_SIG_DFL)
		return false;
	t->sigpending |= 1UL << (sig - 1);
	t->siginfo[sig - 1] = (struct signal_source){ code, 0, 0, addr };
	return signal_deliver(t, r);
}

int signal_of_page_fault(const struct process *p, uint64_t addr, long err, int *code)
{
	const struct as_region *reg = as_region_at(&p->as, addr);

	/* A region of an object without the page: past a file's end. */
	if (err == -ERR_BAD_ADDRESS && reg && reg->kind == AS_OBJECT) {
		*code = LINUX_BUS_ADRERR;
		return LINUX_SIGBUS;
	}
	*code = err == -ERR_NO_RIGHTS ? LINUX_SEGV_ACCERR : LINUX_SEGV_MAPERR;
	return LINUX_SIGSEGV;
}

bool signal_page_fault(struct thread *t, uint64_t addr, int sig, int code)
{
	struct user_regs r;

	if (sys_thread_read_regs(t->kthread, (uint64_t)&r) < 0 ||
	    !signal_fault(t, &r, sig, code, addr))
		return false;
	return sys_thread_write_regs(t->kthread, (uint64_t)&r) == 0;
}
