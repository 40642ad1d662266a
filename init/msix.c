/*
 * MSI-X for drivers (PCI_MSIX, proto/pci.h): init holds the IRQ control
 * and configuration space, so it makes the message-signalled IRQ objects,
 * gives copies to the driver and switches MSI-X on; the driver masks its
 * device's table before it asks and writes the messages into it after
 * (in a BAR it has mapped: drivers/net/msix.c). Unlike an
 * INTx line, which is kept across restarts, a program's vectors are
 * destroyed when it ends (or asks again): the kernel has only IRQ_MSI_MAX,
 * and a new instance is given fresh ones.
 */
#include "init.h"

void msix_release(struct program *p)
{
	/* Off first: a message sent between would land on a freed vector. */
	if (p->dev)
		pci_msix_set(p->dev, false);
	for (unsigned i = 0; i < p->nmsix; i++) {
		sys_obj_destroy(p->msix[i]);    /* the program's copy dies with it */
		sys_cap_delete(p->msix[i]);
		slot_free(p->msix[i]);
	}
	p->nmsix = 0;
}

_Static_assert(PCI_MSIX_MAX + 1 <= IPC_REG_WORDS, "n and a word a vector in registers");

long msix_request(struct program *p, struct msg *m)
{
	uint64_t n = m->w[0];
	uint64_t data[PCI_MSIX_MAX];
	long r = 0;

	if (!p->dev || n > PCI_MSIX_MAX)
		return ERR_INVALID_ARG;
	for (unsigned i = 0; i < n; i++)
		if (m->w[1 + i] < PROGRAM_FIRST_FREE_SLOT || m->w[1 + i] > 0xFFFF)
			return ERR_INVALID_ARG;
	if (n > pci_msix_size(p->dev))
		return ERR_RANGE;
	msix_release(p);
	for (unsigned i = 0; i < n; i++) {
		cap_slot_t mine = slot_alloc();
		if ((r = sys_irq_create(ROOT_SLOT_IRQ_CONTROL, IRQ_FLAG_MSI, mine)) < 0) {
			slot_free(mine);
			break;
		}
		p->msix[p->nmsix++] = mine;
		data[i] = msi_data(r);
		long err = sys_cap_copy(mine, p->task.task, m->w[1 + i], CAP_RIGHTS_ALL, 0);
		if (err < 0) {
			r = err == -ERR_NO_MEMORY ? err : -ERR_INVALID_ARG;
			break;
		}
	}
	if (r < 0) {
		msix_release(p);
		return -r;
	}
	if (n)
		pci_msix_set(p->dev, true);
	m->tag = ipc_tag(0, 1 + n, 0);
	m->w[0] = msi_address(r);
	for (unsigned i = 0; i < n; i++)
		m->w[1 + i] = data[i];
	return 0;
}
