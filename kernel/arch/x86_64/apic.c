#include "apic.h"
#include "cpu.h"
#include "klog.h"
#include "paging.h"
#include "trap.h"

#define LAPIC_ID         0x020
#define LAPIC_VERSION    0x030
#define LAPIC_EOI        0x0B0
#define LAPIC_IRR        0x200   /* 8 registers, 16 bytes apart */
#define LAPIC_ISR        0x100   /* in service: 8 registers, 16 bytes apart */
#define LAPIC_ICR_LOW    0x300   /* interrupt command: writing it sends */
#define ICR_TO_SELF      (1u << 18)   /* destination shorthand 01: self */
#define LAPIC_SVR        0x0F0
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR  0x390
#define LAPIC_TIMER_DIV  0x3E0

#define LVT_MASKED   (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define TIMER_DIV_16 0x3

static volatile uint32_t *lapic;

static inline uint32_t lapic_read(uint32_t reg) { return lapic[reg / 4]; }
static inline void lapic_write(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

static void pic_disable(void)
{
	/* Remap both PICs away from the exception vectors, then mask them. */
	outb(0x20, 0x11); outb(0xA0, 0x11);
	outb(0x21, VEC_PIC_BASE); outb(0xA1, VEC_PIC_BASE + 8);
	outb(0x21, 4); outb(0xA1, 2);
	outb(0x21, 1); outb(0xA1, 1);
	outb(0x21, 0xFF); outb(0xA1, 0xFF);
}

void lapic_init(void)
{
	pic_disable();
	uint64_t base = rdmsr(MSR_APIC_BASE);
	wrmsr(MSR_APIC_BASE, base | (1 << 11));          /* global enable */
	lapic = phys_to_virt(base & 0xFFFFF000);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);    /* software enable */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, 0x400);             /* NMI */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	kinfo("apic: local APIC id %u version %#x at %lx\n",
	      lapic_read(LAPIC_ID) >> 24, lapic_read(LAPIC_VERSION) & 0xFF,
	      base & 0xFFFFF000);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_free_run(void)
{
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFF);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_TIMER_INIT, 0);
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CUR);
}

bool lapic_pending(unsigned vector)
{
	return lapic_read(LAPIC_IRR + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

void lapic_self_ipi(unsigned vector)
{
	lapic_write(LAPIC_ICR_LOW, ICR_TO_SELF | (vector & 0xFF));  /* fixed delivery */
}

bool lapic_in_service(unsigned vector)
{
	return lapic_read(LAPIC_ISR + 0x10 * (vector / 32)) & (1u << (vector % 32));
}

void lapic_timer_start(uint32_t count)
{
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, count);
}
