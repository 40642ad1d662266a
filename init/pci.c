/*
 * PCI configuration mechanism #1 (ports 0xCF8/0xCFC), enumeration and BAR
 * sizing. init does this once at start; drivers get the result.
 */
#include "pci.h"

#include "lib/io.h"
#include "lib/mica.h"

static struct pci_found found[PCI_MAX_DEVICES];
static unsigned nfound;

static uint32_t address(uint8_t bus, uint8_t devfn, uint8_t reg)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (reg & 0xFC);
}

static uint32_t cfg_read32(uint8_t bus, uint8_t devfn, uint8_t reg)
{
	outl(0xCF8, address(bus, devfn, reg));
	return inl(0xCFC);
}

static void cfg_write32(uint8_t bus, uint8_t devfn, uint8_t reg, uint32_t v)
{
	outl(0xCF8, address(bus, devfn, reg));
	outl(0xCFC, v);
}

static uint16_t cfg_read16(uint8_t bus, uint8_t devfn, uint8_t reg)
{
	return (uint16_t)(cfg_read32(bus, devfn, reg) >> ((reg & 2) * 8));
}

static void cfg_write16(uint8_t bus, uint8_t devfn, uint8_t reg, uint16_t v)
{
	uint32_t old = cfg_read32(bus, devfn, reg);
	unsigned shift = (reg & 2) * 8;

	cfg_write32(bus, devfn, reg, (old & ~(0xFFFFu << shift)) | (uint32_t)v << shift);
}

/* Size one BAR by writing all ones (decoding off meanwhile); returns how
 * many BAR registers it used (2 for a 64-bit memory BAR). */
static int size_bar(uint8_t bus, uint8_t devfn, int i, struct pci_bar *bar)
{
	uint8_t reg = (uint8_t)(PCI_BAR0 + 4 * i);
	uint32_t lo = cfg_read32(bus, devfn, reg);

	cfg_write32(bus, devfn, reg, 0xFFFFFFFFu);
	uint32_t mask = cfg_read32(bus, devfn, reg);
	cfg_write32(bus, devfn, reg, lo);
	if (lo & 1) {
		uint32_t m = mask & ~3u;
		if (m == 0)
			return 1;
		bar->kind = PCI_BAR_IO;
		bar->base = lo & ~3u;
		bar->size = (~m + 1) & 0xFFFF;
		return 1;
	}
	uint64_t m = mask & ~0xFu, base = lo & ~0xFu;
	int used = 1;
	if (((lo >> 1) & 3) == 2 && i < PCI_BARS - 1) {
		uint8_t hreg = (uint8_t)(reg + 4);
		uint32_t hi = cfg_read32(bus, devfn, hreg);
		cfg_write32(bus, devfn, hreg, 0xFFFFFFFFu);
		uint32_t hmask = cfg_read32(bus, devfn, hreg);
		cfg_write32(bus, devfn, hreg, hi);
		m |= (uint64_t)hmask << 32;
		base |= (uint64_t)hi << 32;
		used = 2;
	} else {
		m |= 0xFFFFFFFF00000000ull;
	}
	if (m == 0xFFFFFFFF00000000ull || m == 0)
		return used;
	bar->kind = PCI_BAR_MEM;
	bar->base = base;
	bar->size = ~m + 1;
	bar->prefetchable = (lo >> 3) & 1;
	return used;
}

static void scan_bus(uint8_t bus, int depth);

static void scan_function(uint8_t bus, uint8_t devfn, int depth)
{
	uint32_t id = cfg_read32(bus, devfn, PCI_VENDOR_ID);
	uint8_t header = (uint8_t)(cfg_read32(bus, devfn, 0x0C) >> 16);

	if ((header & 0x7F) == 1) {             /* a bridge: its secondary bus */
		uint8_t secondary = (uint8_t)(cfg_read32(bus, devfn, 0x18) >> 8);
		if (secondary > bus && depth < 8)
			scan_bus(secondary, depth + 1);
		return;
	}
	if ((header & 0x7F) != 0 || nfound == PCI_MAX_DEVICES)
		return;
	struct pci_found *d = &found[nfound++];
	struct pci_device_info *in = &d->info;
	d->owner = -1;
	in->present = 1;
	in->bus = bus;
	in->dev = devfn >> 3;
	in->fn = devfn & 7;
	in->vendor = (uint16_t)id;
	in->device = (uint16_t)(id >> 16);
	uint16_t cmd = cfg_read16(bus, devfn, PCI_COMMAND);
	cfg_write16(bus, devfn, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (int i = 0; i < PCI_BARS;)
		i += size_bar(bus, devfn, i, &in->bars[i]);
	cfg_write16(bus, devfn, PCI_COMMAND, cmd);
	uint32_t irq = cfg_read32(bus, devfn, PCI_INTERRUPT_LINE);
	uint8_t line = (uint8_t)irq, pin = (uint8_t)(irq >> 8);
	/* On the PC machine the firmware routes INTx to ISA IRQ `line`, which
	 * is the IOAPIC input of the same number. */
	in->irq_line = pin && line < 24 ? line : 0xFF;
	for (int r = 0; r < 256; r += 4) {
		uint32_t v = cfg_read32(bus, devfn, (uint8_t)r);
		memcpy(&in->config[r], &v, 4);
	}
	printf("init: pci %02x:%02x.%x %04x:%04x class %06x irq %d", bus, in->dev, in->fn,
	       in->vendor, in->device, cfg_read32(bus, devfn, PCI_CLASS_REVISION) >> 8,
	       in->irq_line == 0xFF ? -1 : in->irq_line);
	for (int i = 0; i < PCI_BARS; i++)
		if (in->bars[i].kind)
			printf(" %s%d=%lx+%lx", in->bars[i].kind == PCI_BAR_IO ? "io" : "mem", i,
			       in->bars[i].base, in->bars[i].size);
	printf("\n");
}

static void scan_bus(uint8_t bus, int depth)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		if ((uint16_t)cfg_read32(bus, (uint8_t)(dev << 3), PCI_VENDOR_ID) == 0xFFFF)
			continue;
		uint8_t header = (uint8_t)(cfg_read32(bus, (uint8_t)(dev << 3), 0x0C) >> 16);
		int fns = header & 0x80 ? 8 : 1;
		for (int fn = 0; fn < fns; fn++) {
			uint8_t devfn = (uint8_t)(dev << 3 | fn);
			if ((uint16_t)cfg_read32(bus, devfn, PCI_VENDOR_ID) != 0xFFFF)
				scan_function(bus, devfn, depth);
		}
	}
}

unsigned pci_scan(void)
{
	nfound = 0;
	scan_bus(0, 0);
	return nfound;
}

struct pci_found *pci_find_id(uint16_t vendor, uint16_t device)
{
	for (unsigned i = 0; i < nfound; i++)
		if (found[i].owner < 0 && found[i].info.vendor == vendor &&
		    found[i].info.device == device)
			return &found[i];
	return NULL;
}

struct pci_found *pci_find_slot(uint8_t bus, uint8_t devfn)
{
	for (unsigned i = 0; i < nfound; i++)
		if (found[i].info.bus == bus && (found[i].info.dev << 3 | found[i].info.fn) == devfn)
			return &found[i];
	return NULL;
}

void pci_set_state(const struct pci_found *d, enum pci_dev_state s)
{
	const struct pci_device_info *in = &d->info;
	uint8_t devfn = (uint8_t)(in->dev << 3 | in->fn);
	uint16_t cmd = cfg_read16(in->bus, devfn, PCI_COMMAND);

	if (s == PCI_DEV_LIVE)
		cmd = (cmd | PCI_COMMAND_MASTER) & ~PCI_COMMAND_INTX_OFF;
	else
		cmd = (cmd & ~PCI_COMMAND_MASTER) | PCI_COMMAND_INTX_OFF;
	if (s != PCI_DEV_QUIET)
		cmd |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
	cfg_write16(in->bus, devfn, PCI_COMMAND, cmd);
}

/* The MSI-X capability's offset in configuration space, 0 if none: the
 * capability list walked live, at most 48 hops (PCI 3.0, 6.7). */
static uint8_t msix_cap(uint8_t bus, uint8_t devfn)
{
	if (!(cfg_read16(bus, devfn, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t at = (uint8_t)cfg_read32(bus, devfn, PCI_CAP_PTR) & 0xFC;
	for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
		uint32_t head = cfg_read32(bus, devfn, at);
		if ((uint8_t)head == PCI_CAP_ID_MSIX)
			return at;
		at = (uint8_t)(head >> 8) & 0xFC;
	}
	return 0;
}

unsigned pci_msix_size(const struct pci_found *d)
{
	const struct pci_device_info *in = &d->info;
	uint8_t devfn = (uint8_t)(in->dev << 3 | in->fn), at = msix_cap(in->bus, devfn);

	return at ? (cfg_read16(in->bus, devfn, (uint8_t)(at + PCI_MSIX_FLAGS)) &
		     PCI_MSIX_FLAGS_QSIZE) + 1 : 0;
}

void pci_msix_set(const struct pci_found *d, bool on)
{
	const struct pci_device_info *in = &d->info;
	uint8_t devfn = (uint8_t)(in->dev << 3 | in->fn), at = msix_cap(in->bus, devfn);

	if (!at)
		return;
	uint8_t reg = (uint8_t)(at + PCI_MSIX_FLAGS);
	uint16_t flags = cfg_read16(in->bus, devfn, reg) & ~PCI_MSIX_FLAGS_MASKALL;
	cfg_write16(in->bus, devfn, reg, on ? flags | PCI_MSIX_FLAGS_ENABLE
					    : flags & ~PCI_MSIX_FLAGS_ENABLE);
}
