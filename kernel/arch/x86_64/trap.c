#include "trap.h"
#include "apic.h"
#include "cpu.h"
#include "fault.h"
#include "klog.h"
#include "sched.h"

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault",
	"coprocessor segment overrun", "invalid TSS", "segment not present",
	"stack fault", "general protection", "page fault", "reserved",
	"x87 floating point", "alignment check", "machine check",
	"SIMD floating point", "virtualization", "control protection",
	"reserved", "reserved", "reserved", "reserved", "reserved", "reserved",
	"hypervisor injection", "VMM communication", "security", "reserved",
};

static struct {
	irq_handler_fn fn;
	void *ctx;
} handlers[256];

void irq_set_handler(unsigned vector, irq_handler_fn fn, void *ctx)
{
	kassert(vector >= VEC_EXCEPTIONS && vector < 256);
	if (!fn) {
		handlers[vector].fn = NULL;
		return;
	}
	handlers[vector].ctx = ctx;
	handlers[vector].fn = fn;
}

void trap_dump(const struct trap_frame *f)
{
	kprintf("  rip %016lx  cs %04lx  rflags %016lx\n", f->rip, f->cs, f->rflags);
	kprintf("  rsp %016lx  ss %04lx  error %016lx\n", f->rsp, f->ss, f->error);
	kprintf("  rax %016lx  rbx %016lx  rcx %016lx\n", f->rax, f->rbx, f->rcx);
	kprintf("  rdx %016lx  rsi %016lx  rdi %016lx\n", f->rdx, f->rsi, f->rdi);
	kprintf("  rbp %016lx  r8  %016lx  r9  %016lx\n", f->rbp, f->r8, f->r9);
	kprintf("  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r10, f->r11, f->r12);
	kprintf("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
	kprintf("  cr2 %016lx  cr3 %016lx\n", read_cr2(), read_cr3());
}

static void page_fault_reason(uint64_t error)
{
	kprintf("  page fault: %s %s access in %s mode%s\n",
		error & 1 ? "protection violation on" : "not-present page,",
		error & 16 ? "instruction fetch" : error & 2 ? "write" : "read",
		error & 4 ? "user" : "kernel",
		error & 8 ? ", reserved bit set" : "");
}

static void exception(struct trap_frame *f)
{
	kprintf("\nEXCEPTION %lu (%s) in %s mode\n", f->vector,
		exception_names[f->vector], (f->cs & 3) ? "user" : "kernel");
	if (f->vector == 14) {
		kprintf("  faulting address %016lx\n", read_cr2());
		page_fault_reason(f->error);
	}
	trap_dump(f);
	panic("unhandled exception %lu (%s) at rip %lx", f->vector,
	      exception_names[f->vector], f->rip);
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector < VEC_EXCEPTIONS) {
		if ((f->cs & 3) && f->vector != 2 && f->vector != 8 && f->vector != 18)
			fault_user_trap(f);     /* the thread's handler decides */
		else
			exception(f);
		goto out;
	}
	if (f->vector == VEC_SPURIOUS)
		return;                 /* no EOI for spurious interrupts */
	/* A masked legacy PIC's stray comes without the local APIC's
	 * in-service bit and wants no EOI; a device's MSI a driver aimed at
	 * one of its vectors sets it, and is ended below as any vector
	 * without a handler (without an EOI every interrupt of this priority
	 * or lower would wait for ever). */
	if (f->vector >= VEC_PIC_BASE && f->vector < VEC_PIC_BASE + 16 &&
	    !lapic_in_service((unsigned)f->vector))
		return;
	if (handlers[f->vector].fn)
		handlers[f->vector].fn(f, handlers[f->vector].ctx);
	else
		/* A driver may program its device's MSI-X table with any
		 * vector: rate-limited. */
		klog_limited(KLOG_WARN, "trap: interrupt on vector %lu with no handler\n",
			     f->vector);
	lapic_eoi();
out:
	if (current && (sched_need_resched || current->state != THREAD_READY))
		schedule();
}
