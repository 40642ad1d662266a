#include "apic.h"
#include "klog.h"
#include "paging.h"
#include "trap.h"

/* The IOAPIC at its standard address (QEMU's pc and q35 machines). */
#define IOAPIC_PHYS 0xFEC00000
#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPIC_VER 0x01
#define IOREDTBL(n) (0x10 + 2 * (n))

#define RED_MASKED     (1u << 16)
#define RED_LEVEL      (1u << 15)
#define RED_ACTIVE_LOW (1u << 13)

static volatile uint32_t *ioapic;
static unsigned inputs;

static uint32_t ioapic_read(uint32_t reg)
{
	ioapic[IOREGSEL / 4] = reg;
	return ioapic[IOWIN / 4];
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	ioapic[IOREGSEL / 4] = reg;
	ioapic[IOWIN / 4] = v;
}

void ioapic_init(void)
{
	ioapic = phys_to_virt(IOAPIC_PHYS);
	inputs = ((ioapic_read(IOAPIC_VER) >> 16) & 0xFF) + 1;
	if (inputs > VEC_IRQ_COUNT)
		inputs = VEC_IRQ_COUNT;
	for (unsigned i = 0; i < inputs; i++) {
		ioapic_write(IOREDTBL(i), RED_MASKED | (VEC_IRQ_BASE + i));
		ioapic_write(IOREDTBL(i) + 1, 0);
	}
	kinfo("apic: IOAPIC at %x with %u inputs, all masked\n", IOAPIC_PHYS, inputs);
}

unsigned ioapic_inputs(void)
{
	return inputs;
}

void ioapic_route(unsigned gsi, unsigned vector, int level_triggered, int active_low)
{
	kassert(gsi < inputs);
	uint32_t lo = vector | (level_triggered ? RED_LEVEL : 0) |
		      (active_low ? RED_ACTIVE_LOW : 0) | RED_MASKED;
	ioapic_write(IOREDTBL(gsi) + 1, 0);   /* destination: APIC id 0 */
	ioapic_write(IOREDTBL(gsi), lo);
}

void ioapic_mask(unsigned gsi, int masked)
{
	kassert(gsi < inputs);
	uint32_t lo = ioapic_read(IOREDTBL(gsi));
	ioapic_write(IOREDTBL(gsi), masked ? lo | RED_MASKED : lo & ~RED_MASKED);
}
