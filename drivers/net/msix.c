/*
 * MSI-X for a NIC driver (PCI 3.0, 6.8.2): init makes the message-
 * signalled IRQs and switches MSI-X on (PCI_MSIX, proto/pci.h); here each
 * message goes into the device's MSI-X table, in the memory BAR the
 * capability names (mapped at its physical address, nic_bar), and the
 * entry is unmasked.
 *
 * Every entry of the table is masked before init switches MSI-X on: a
 * restarted driver's device still holds the entries its last instance
 * wrote, whose vectors the kernel freed when that instance ended and may
 * since have given to another driver. Unmasked, an event between the
 * enable and our writes would fire a vector that is no longer ours (PCI
 * 3.0, 6.8.2: a masked entry only sets its pending bit, and the
 * message goes when it is unmasked, with the address and data it holds
 * then: ours). The table may be written while MSI-X is off.
 */
#include "driver.h"

#include "lib/io.h"

/* The MSI-X capability in the configuration space init copied, or 0. */
static unsigned msix_cap(const struct pci_device_info *pci)
{
	const uint8_t *cfg = pci->config;

	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	for (unsigned at = cfg[PCI_CAP_PTR] & 0xFC, hops = 0; at >= 0x40 && hops < 48;
	     at = cfg[at + 1] & 0xFC, hops++)
		if (at <= 256 - 12 && cfg[at] == PCI_CAP_ID_MSIX)
			return at;
	return 0;
}

static long msix_call(unsigned n, const cap_slot_t *slots, struct msg *m)
{
	*m = msg_make(PCI_MSIX, 1 + n);
	m->w[0] = n;
	for (unsigned i = 0; i < n; i++)
		m->w[1 + i] = slots[i];
	long err = ipc_call(PROGRAM_INIT_SLOT, m);
	return err ? err : -(long)ipc_tag_label(m->tag);
}

const char *nic_msix_setup(struct nic_device *nic, unsigned n, cap_slot_t *slots)
{
	const struct pci_device_info *pci = nic->pci;
	unsigned at = msix_cap(pci);
	static char why[64];
	struct msg m;

	if (!at)
		return "the device has no MSI-X capability";
	uint16_t flags;
	uint32_t table;
	memcpy(&flags, &pci->config[at + PCI_MSIX_FLAGS], 2);
	memcpy(&table, &pci->config[at + PCI_MSIX_TABLE], 4);
	unsigned bir = table & PCI_MSIX_BIR;
	uint64_t offset = table & ~(uint32_t)PCI_MSIX_BIR;
	if (n > (flags & PCI_MSIX_FLAGS_QSIZE) + 1u)
		return "the device's MSI-X table is too small";
	if (bir >= PCI_BARS || !nic_bar(nic, (int)bir) ||
	    offset + n * PCI_MSIX_ENTRY_SIZE > pci->bars[bir].size)
		return "the MSI-X table is not in a memory BAR";
	uintptr_t base = nic_bar(nic, (int)bir) + offset;
	unsigned size = (flags & PCI_MSIX_FLAGS_QSIZE) + 1u;
	if (offset + size * PCI_MSIX_ENTRY_SIZE > pci->bars[bir].size)
		size = (unsigned)((pci->bars[bir].size - offset) / PCI_MSIX_ENTRY_SIZE);
	for (unsigned i = 0; i < size; i++)
		mmio_write32(base + i * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL,
			     PCI_MSIX_ENTRY_MASKED);
	(void)mmio_read32(base + PCI_MSIX_ENTRY_CTRL);  /* the writes are done */
	for (unsigned i = 0; i < n; i++)
		slots[i] = slot_alloc();
	long err = msix_call(n, slots, &m);
	if (err < 0) {
		for (unsigned i = 0; i < n; i++)
			slot_free(slots[i]);
		fmt_snprintf(why, sizeof(why), "init refused: %s", mica_strerror(err));
		return why;
	}
	for (unsigned i = 0; i < n; i++) {
		uintptr_t e = base + i * PCI_MSIX_ENTRY_SIZE;
		mmio_write32(e + PCI_MSIX_ENTRY_ADDR_LO, (uint32_t)m.w[0]);
		mmio_write32(e + PCI_MSIX_ENTRY_ADDR_HI, 0);
		mmio_write32(e + PCI_MSIX_ENTRY_DATA, (uint32_t)m.w[1 + i]);
		mmio_write32(e + PCI_MSIX_ENTRY_CTRL, 0);
	}
	nic->msix_data = (uint32_t)m.w[1];
	return NULL;
}

void nic_msix_release(unsigned n, cap_slot_t *slots)
{
	struct msg m;

	msix_call(0, NULL, &m);         /* MSI-X off, the vectors freed */
	for (unsigned i = 0; i < n; i++) {
		sys_cap_delete(slots[i]);
		slot_free(slots[i]);
	}
}
