/* Exceptions as messages: a handler that fixes and resumes, one that
 * changes registers, syscall redirection, and threads without handlers. */
#include "child.h"

static volatile uint64_t fault_result;

static void child_ud2(uint64_t value)
{
	__asm__ volatile("ud2");
	fault_result = value;            /* reached only if the handler resumed us */
}

KTEST(exception_handler_fixes_and_resumes)
{
	fault_result = 0;
	struct child *c = child_start(child_ud2, 7, 256 * 1024, CHILD_SKIP_UD2, true);
	KCHECK(c);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(c->exceptions, 1);
	KEXPECT(fault_result, 7);
	child_destroy(c);
}

static void child_int3(uint64_t unused)
{
	uint64_t rax = 0;
	__asm__ volatile("int3" : "+a"(rax));
	fault_result = rax;
}

KTEST(exception_handler_sets_registers)
{
	fault_result = 0;
	struct child *c = child_start(child_int3, 0, 256 * 1024, CHILD_SET_RAX, true);
	KCHECK(c);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(fault_result, 1234);
	child_destroy(c);
}

KTEST(exception_handler_stops_thread)
{
	struct child *c = child_start(child_ud2, 7, 256 * 1024, CHILD_STOP, true);
	fault_result = 0;
	KCHECK(c);
	KCHECK(child_wait(c));
	KEXPECT(c->stopped, 1);
	KEXPECT(c->vector, 6);
	KEXPECT(c->label, IPC_LABEL_EXCEPTION);
	KCHECK(!child_exited(c));
	KEXPECT(fault_result, 0);
	child_destroy(c);
}

KTEST(unhandled_fault_stops_and_notifies_supervisor)
{
	fault_result = 0;
	/* No exception handler: the kernel stops the thread and signals the
	 * task's supervisor notification (child_wait waits for that). */
	struct child *c = child_start(child_ud2, 5, 256 * 1024, CHILD_STOP, false);
	KCHECK(c);
	KCHECK(child_wait(c));
	KEXPECT(c->stopped, 0);          /* the handler never saw it */
	KCHECK(!child_exited(c));
	KEXPECT(fault_result, 0);
	/* Resuming re-runs the faulting instruction: it stops again. */
	KEXPECT(sys_thread_resume(c->thread), 0);
	KCHECK(child_wait(c));
	KEXPECT(fault_result, 0);
	child_destroy(c);
}

/* A task that faults over and over without a handler cannot flood the
 * serial console through the kernel's fault lines: they are rate-limited
 * (test_kernel.py counts them), and a summary comes with the next line
 * let through a second later. */
KTEST(unhandled_fault_lines_are_rate_limited)
{
	cap_slot_t timer = ktest_create(CAP_NOTIFICATION);
	struct child *c = child_start(child_ud2, 5, 256 * 1024, CHILD_STOP, false);
	KCHECK(c);
	KCHECK(child_wait(c));
	for (int i = 0; i < 200; i++) {
		KEXPECT(sys_thread_resume(c->thread), 0);
		KCHECK(child_wait(c));
	}
	KEXPECT(ktest_wait(timer, 1100), KTEST_TIMED_OUT);
	KEXPECT(sys_thread_resume(c->thread), 0);
	KCHECK(child_wait(c));
	KCHECK(!child_exited(c));
	child_destroy(c);
	sys_obj_destroy(timer);
	sys_cap_delete(timer);
}

static void child_raw_syscall(uint64_t unused)
{
	long ret;
	/* An unmodified program's `syscall`: number 60 (Linux exit) with
	 * arguments, which the handler answers instead of the kernel. */
	__asm__ volatile("syscall" : "=a"(ret) : "a"(60), "D"(40), "S"(2) : "rcx", "r11", "memory");
	fault_result = (uint64_t)ret;
	/* Also redirected: this child cannot even exit through the kernel,
	 * so it parks on an instruction the handler refuses. */
	__asm__ volatile("ud2");
}

KTEST(syscall_redirection_round_trip)
{
	fault_result = 0;
	struct child *c = child_create(256 * 1024, CHILD_SYSCALL_ADD, true);
	KCHECK(c);
	struct task_config cfg = { .fields = TASK_CFG_REDIRECT, .redirect = 1 };
	KEXPECT(sys_task_configure(c->task, (uint64_t)&cfg), 0);
	KEXPECT(child_run(c, child_raw_syscall, 0), 0);
	KCHECK(child_wait(c));
	KEXPECT(c->exceptions, 1);
	KEXPECT(fault_result, 42);
	KEXPECT(c->vector, 6);           /* then stopped at the ud2 */
	child_destroy(c);
}

KTEST(thread_registers_read_write)
{
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	struct user_regs r;

	KCHECK(c);
	KEXPECT(child_run(c, child_ud2, 3), 0);
	KCHECK(child_wait(c));              /* stopped at the ud2 */
	KEXPECT(sys_thread_read_regs(c->thread, (uint64_t)&r), 0);
	KEXPECT(r.rip, c->rip);
	KEXPECT(sys_thread_read_regs(ROOT_SLOT_THREAD, (uint64_t)&r), -ERR_BUSY);
	KEXPECT(sys_thread_read_regs(c->thread, 0x10), -ERR_BAD_ADDRESS);
	/* Step over the ud2 by hand and resume: the store runs. */
	sys_thread_read_regs(c->thread, (uint64_t)&r);
	r.rip += 2;
	fault_result = 0;
	struct user_regs bad = r;
	bad.rip = 0xFFFF800000000000UL;
	KEXPECT(sys_thread_write_regs(c->thread, (uint64_t)&bad), -ERR_INVALID_ARG);
	KEXPECT(sys_thread_write_regs(c->thread, (uint64_t)&r), 0);
	c->stopped = 0;
	KEXPECT(sys_thread_resume(c->thread), 0);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(fault_result, 3);
	child_destroy(c);
}

/* Loads 'value' into xmm0, stops at a ud2, then stores xmm0's low word
 * (what the handler left there) in fault_result. */
static void child_xmm_ud2(uint64_t value)
{
	uint64_t out;

	__asm__ volatile("movq %1, %%xmm0\n\tud2\n\tmovq %%xmm0, %0"
			 : "=r"(out) : "r"(value) : "xmm0");
	fault_result = out;
}

KTEST(thread_fpu_state_read_write)
{
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(16)));
	uint64_t xmm0;
	uint32_t mxcsr;
	struct user_regs r;

	KCHECK(c);
	KEXPECT(child_run(c, child_xmm_ud2, 0x1122334455667788UL), 0);
	KCHECK(child_wait(c));              /* stopped at the ud2 */
	KEXPECT(sys_thread_suspend(c->thread), 0);      /* not blocked: stopped */
	KEXPECT(sys_thread_read_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), 0);
	memcpy(&xmm0, fpu + 160, 8);        /* XMM0 at byte 160 of the fxsave area */
	KEXPECT(xmm0, 0x1122334455667788UL);
	memcpy(&mxcsr, fpu + FPU_MXCSR_OFFSET, 4);
	KEXPECT(mxcsr, 0x1F80);             /* as every thread starts */
	KEXPECT(sys_thread_read_regs(ROOT_SLOT_THREAD | THREAD_REGS_FPU, (uint64_t)fpu), -ERR_BUSY);
	KEXPECT(sys_thread_read_regs(c->thread | THREAD_REGS_FPU, 0x10), -ERR_BAD_ADDRESS);
	/* A reserved MXCSR bit would fault fxrstor: refused, nothing changed. */
	uint32_t bad = 0xFFFF0000U;
	uint8_t keep[FPU_STATE_SIZE] __attribute__((aligned(16)));
	memcpy(keep, fpu, sizeof(keep));
	memcpy(fpu + FPU_MXCSR_OFFSET, &bad, 4);
	KEXPECT(sys_thread_write_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), -ERR_INVALID_ARG);
	memcpy(fpu, keep, sizeof(fpu));
	xmm0 = 0xCAFEF00DUL;
	memcpy(fpu + 160, &xmm0, 8);
	KEXPECT(sys_thread_write_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), 0);
	sys_thread_read_regs(c->thread, (uint64_t)&r);
	r.rip += 2;
	KEXPECT(sys_thread_write_regs(c->thread, (uint64_t)&r), 0);
	fault_result = 0;
	c->stopped = 0;
	KEXPECT(sys_thread_resume(c->thread), 0);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(fault_result, 0xCAFEF00DUL);
	child_destroy(c);
}

/* Loads 0x5A.. into all of ymm1, stops at a ud2, then stores the low
 * word of ymm1's upper half (what the handler left there) in fault_result. */
static void child_ymm_ud2(uint64_t unused)
{
	static const uint8_t fill[32] = { [0 ... 31] = 0x5A };
	uint64_t out;

	(void)unused;
	__asm__ volatile("vmovdqu %1, %%ymm1\n\tud2\n\tvextractf128 $1, %%ymm1, %%xmm1\n\t"
			 "movq %%xmm1, %0\n\tvzeroupper" : "=r"(out) : "m"(fill) : "xmm1");
	fault_result = out;
}

/* Whether the kernel enabled AVX's state (CPUID OSXSAVE, XCR0 bit 2). */
static bool avx_enabled(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (!(c & (1u << 27)))
		return false;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return (a & 7) == 7;
}

KTEST(thread_fpu_state_has_avx_upper_halves)
{
	if (!avx_enabled())
		return;         /* nothing to test on a CPU without AVX */
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	uint8_t fpu[FPU_STATE_SIZE] __attribute__((aligned(64)));
	uint8_t keep[FPU_STATE_SIZE] __attribute__((aligned(64)));
	uint64_t word, xstate_bv;
	struct user_regs r;

	KCHECK(c);
	KEXPECT(child_run(c, child_ymm_ud2, 0), 0);
	KCHECK(child_wait(c));              /* stopped at the ud2 */
	KEXPECT(sys_thread_suspend(c->thread), 0);
	KEXPECT(sys_thread_read_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), 0);
	memcpy(&word, fpu + FPU_YMM_HI_OFFSET + 16, 8);    /* ymm1's upper half */
	KEXPECT(word, 0x5A5A5A5A5A5A5A5AUL);
	memcpy(&xstate_bv, fpu + FPU_XSTATE_HEADER_OFFSET, 8);
	KEXPECT(xstate_bv & 4, 4);          /* AVX not in its initial state */
	memcpy(keep, fpu, sizeof(keep));
	/* What xrstor would fault on is refused, nothing changed. */
	xstate_bv |= 1ULL << 62;
	memcpy(fpu + FPU_XSTATE_HEADER_OFFSET, &xstate_bv, 8);
	KEXPECT(sys_thread_write_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), -ERR_INVALID_ARG);
	memcpy(fpu, keep, sizeof(fpu));
	fpu[FPU_XSTATE_HEADER_OFFSET + 8] = 1;      /* XCOMP_BV: compacted */
	KEXPECT(sys_thread_write_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), -ERR_INVALID_ARG);
	memcpy(fpu, keep, sizeof(fpu));
	fpu[FPU_XSTATE_HEADER_OFFSET + 40] = 1;     /* reserved */
	KEXPECT(sys_thread_write_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), -ERR_INVALID_ARG);
	memcpy(fpu, keep, sizeof(fpu));
	word = 0x0BADCAFE0BADCAFEUL;
	memcpy(fpu + FPU_YMM_HI_OFFSET + 16, &word, 8);
	KEXPECT(sys_thread_write_regs(c->thread | THREAD_REGS_FPU, (uint64_t)fpu), 0);
	sys_thread_read_regs(c->thread, (uint64_t)&r);
	r.rip += 2;
	KEXPECT(sys_thread_write_regs(c->thread, (uint64_t)&r), 0);
	fault_result = 0;
	c->stopped = 0;
	KEXPECT(sys_thread_resume(c->thread), 0);
	KCHECK(child_wait(c));
	KCHECK(child_exited(c));
	KEXPECT(fault_result, 0x0BADCAFE0BADCAFEUL);
	child_destroy(c);
}

KTEST(thread_calls_check_state)
{
	cap_slot_t t = ktest_slot();
	struct thread_config cfg = { .fields = THREAD_CFG_PRIORITY, .priority = 255 };

	KEXPECT(sys_obj_create(CAP_THREAD, t, CAP_SLOT_SELF), 0);
	KEXPECT(sys_thread_configure(t, (uint64_t)&cfg), -ERR_INVALID_ARG); /* above ours */
	cfg.fields = 1UL << 40;
	KEXPECT(sys_thread_configure(t, (uint64_t)&cfg), -ERR_INVALID_ARG);
	cfg.fields = THREAD_CFG_IPC_BUFFER;
	cfg.ipc_buffer = 0x1234;
	KEXPECT(sys_thread_configure(t, (uint64_t)&cfg), -ERR_BAD_ADDRESS);
	cfg.fields = THREAD_CFG_PAGER;
	cfg.pager = ROOT_SLOT_IOPORTS;
	KEXPECT(sys_thread_configure(t, (uint64_t)&cfg), -ERR_WRONG_TYPE);
	KEXPECT(sys_thread_configure(t, 0), -ERR_BAD_ADDRESS);
	KEXPECT(sys_thread_start(t, 0xFFFF800000000000UL, 0, 0), -ERR_BAD_ADDRESS);
	KEXPECT(sys_thread_resume(t), 0);   /* never started: nothing happens */
	KEXPECT(sys_obj_create(CAP_THREAD, ktest_slot(), ROOT_SLOT_IOPORTS), -ERR_WRONG_TYPE);
	KEXPECT(sys_obj_destroy(t), 0);
	KEXPECT(sys_thread_start(t, 0x400000, 0x1000, 0), -ERR_INVALID_CAP);
	KEXPECT(sys_cap_delete(t), 0);
	KEXPECT(sys_obj_destroy(ROOT_SLOT_TASK), -ERR_INVALID_ARG);
	KEXPECT(sys_obj_destroy(ROOT_SLOT_FIRST_RAM), -ERR_WRONG_TYPE);
}

/* A thread created by a priority-0 thread gets priority 0, not more than
 * its creator's: starting it does not preempt the creator. */
static uint8_t low_stack[16384] __attribute__((aligned(16)));
static volatile long low_child_ran, low_preempted;
static cap_slot_t low_done;

static void low_child(uint64_t unused)
{
	low_child_ran = 1;
	sys_notify_signal(low_done, 1);
}

static void low_creator(uint64_t slot)
{
	if (sys_obj_create(CAP_THREAD, slot, CAP_SLOT_SELF) < 0)
		return;
	uint64_t sp = thread_stack_prepare(low_stack, sizeof(low_stack), low_child);
	if (sys_thread_start(slot, (uint64_t)thread_trampoline, sp, 0) < 0)
		return;
	low_preempted = low_child_ran;
}

KTEST(thread_priority_at_most_creators)
{
	cap_slot_t child = ktest_slot();

	low_done = ktest_create(CAP_NOTIFICATION);
	low_child_ran = 0;
	low_preempted = -1;
	cap_slot_t t = ktest_spawn(low_creator, child, 0);
	ktest_join(t);
	long done = sys_notify_wait(low_done, 0);      /* the child runs now */
	KEXPECT(low_preempted, 0);
	KEXPECT(done, 1);
	sys_cap_delete(child);
	sys_cap_delete(low_done);
}

/* Only someone else sets a task's supervisor: a supervised task can
 * neither remove nor replace its own, whether it names itself with
 * CAP_SLOT_SELF or with a capability to its own task. The bits must be
 * 1..2^63-1. */
static volatile long self_supervisor_result[2];

static void child_drop_supervisor(uint64_t unused)
{
	struct task_config cfg = { .fields = TASK_CFG_SUPERVISOR, .supervisor = CAP_SLOT_NONE };

	self_supervisor_result[0] = sys_task_configure(CAP_SLOT_SELF, (uint64_t)&cfg);
	self_supervisor_result[1] = sys_task_configure(1, (uint64_t)&cfg);  /* its own task */
}

KTEST(task_cannot_change_its_own_supervisor)
{
	cap_slot_t n = ktest_create(CAP_NOTIFICATION);
	struct task_config cfg = { .fields = TASK_CFG_SUPERVISOR, .supervisor = n,
				   .supervisor_bits = 1 };

	KEXPECT(sys_task_configure(CAP_SLOT_SELF, (uint64_t)&cfg), -ERR_NO_RIGHTS);
	KEXPECT(sys_task_configure(ROOT_SLOT_TASK, (uint64_t)&cfg), -ERR_NO_RIGHTS);
	sys_cap_delete(n);

	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	KCHECK(c);
	cfg.supervisor = child_supervisor;
	cfg.supervisor_bits = 0;
	KEXPECT(sys_task_configure(c->task, (uint64_t)&cfg), -ERR_INVALID_ARG);
	cfg.supervisor_bits = 1UL << 63;
	KEXPECT(sys_task_configure(c->task, (uint64_t)&cfg), -ERR_INVALID_ARG);
	self_supervisor_result[0] = self_supervisor_result[1] = 1;
	KEXPECT(child_give(c, c->task, 1, CAP_RIGHTS_ALL), 0);
	KEXPECT(child_run(c, child_drop_supervisor, 0), 0);
	ktest_settle();                                 /* it tried and exited */
	long bits = sys_notify_wait(child_supervisor | IPC_NONBLOCK, 0);
	bool exited = child_exited(c);
	child_destroy(c);
	KCHECK(exited);
	KEXPECT(self_supervisor_result[0], -ERR_NO_RIGHTS);
	KEXPECT(self_supervisor_result[1], -ERR_NO_RIGHTS);
	KCHECK(bits > 0 && (bits & (1L << c->index)));  /* its exit was reported */
}

/* Destroying a task stops every thread running in it, even threads other
 * tasks paid for, and even when the task destroys itself. */
static void child_block_forever(uint64_t unused)
{
	struct msg m;
	ipc_recv(0, CAP_SLOT_NONE, &m);     /* slot 0: an endpoint nobody sends to */
	fault_result = 99;
}

static void child_destroy_own_task(uint64_t unused)
{
	sys_obj_destroy(1);                  /* slot 1: its own task */
	fault_result = 98;                   /* never reached */
}

KTEST(task_destroy_stops_its_threads)
{
	struct task_info before = ktest_info();
	cap_slot_t ep = ktest_create(CAP_ENDPOINT);
	uint64_t info[3];

	fault_result = 0;
	struct child *c = child_create(256 * 1024, CHILD_STOP, true);
	KCHECK(c);
	KEXPECT(child_give(c, ep, 0, CAP_RIGHT_READ), 0);
	KEXPECT(child_run(c, child_block_forever, 0), 0);
	ktest_settle();                      /* it paged itself in and blocked */
	KCHECK(c->page_faults > 0);
	KEXPECT(sys_obj_destroy(c->task), 0);
	KEXPECT(sys_cap_info(c->thread, (uint64_t)info), 0);
	KEXPECT(info[0], CAP_NULL);          /* the thread is gone with it */
	KEXPECT(fault_result, 0);
	child_destroy(c);

	c = child_create(256 * 1024, CHILD_STOP, true);
	KCHECK(c);
	KEXPECT(child_give(c, c->task, 1, CAP_RIGHTS_ALL), 0);
	KEXPECT(child_run(c, child_destroy_own_task, 0), 0);
	ktest_settle();
	KCHECK(child_exited(c));             /* its thread died with its task */
	KEXPECT(fault_result, 0);
	child_destroy(c);
	sys_cap_delete(ep);
	slot_free(ep);
	KEXPECT(ktest_info().quota_used, before.quota_used);
}
