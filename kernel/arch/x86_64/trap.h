/* Interrupt and exception entry: the saved register frame and dispatch. */
#ifndef MICA_TRAP_H
#define MICA_TRAP_H

#include <stdint.h>

/* Registers as entry.S saves them, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
};

/* Vector assignment. */
#define VEC_EXCEPTIONS   32      /* 0..31: CPU exceptions */
#define VEC_IRQ_BASE     32      /* IOAPIC input n -> vector 32 + n */
#define VEC_IRQ_COUNT    24
#define VEC_MSI_BASE     0x40    /* message-signalled: 0x40..0x5F, given out by irq.c */
#define VEC_MSI_COUNT    32
#define VEC_PIC_BASE     0xE0    /* legacy PIC, remapped and masked */
#define VEC_TIMER        0xF0    /* local APIC timer */
#define VEC_SPURIOUS     0xFF
/* The vector word of a frame built by `syscall` entry (switch.S), and of
 * one whose registers were rewritten since (thread_set_regs): the exit
 * returns with sysret only for VEC_SYSCALL, which holds rcx and r11 as
 * `syscall` left them. */
#define VEC_SYSCALL           0x100
#define VEC_SYSCALL_REWRITTEN 0x101

typedef void (*irq_handler_fn)(struct trap_frame *frame, void *ctx);

void idt_init(void);

/* Install the handler for an interrupt vector (32..255); replaces any
 * earlier one. */
void irq_set_handler(unsigned vector, irq_handler_fn fn, void *ctx);

/* The entry stubs for the 256 vectors (entry.S). */
extern const uint64_t trap_stub_table[256];

/* Called from entry.S for every vector. */
void trap_dispatch(struct trap_frame *frame);

/* Print the registers of a frame (and CR2 for a page fault). */
void trap_dump(const struct trap_frame *frame);

#endif
