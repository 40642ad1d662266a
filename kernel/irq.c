#include "irq.h"
#include "apic.h"
#include "console.h"
#include "decode.h"
#include "klog.h"
#include "notification.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"
#include "trap.h"

#include "uapi/errors.h"

/*
 * The IRQ objects of each IOAPIC input. A level-triggered line may be
 * shared (PCI INTx: several devices, each with its own driver): when it
 * fires it is masked, every bound owner is signalled, and it is unmasked
 * once each of them has acknowledged. An edge-triggered line has one owner.
 */
#define IRQ_SHARE_MAX 4

static struct irq *owners[VEC_IRQ_COUNT][IRQ_SHARE_MAX];
static unsigned pending[VEC_IRQ_COUNT];         /* owners yet to acknowledge */

/*
 * Message-signalled IRQs: each has a vector of its own, so there is no
 * line to mask and nobody to share with. The device's write is edge-like:
 * the owner is counted and signalled, and trap_dispatch sends the EOI at
 * once. Signals coalesce in the notification word until the driver waits
 * again; irq_ack has nothing to do.
 */
static struct irq *msi_owners[VEC_MSI_COUNT];
_Static_assert(VEC_MSI_COUNT == IRQ_MSI_MAX && VEC_MSI_BASE >= VEC_IRQ_BASE + VEC_IRQ_COUNT &&
	       VEC_MSI_BASE + VEC_MSI_COUNT <= VEC_PIC_BASE, "MSI vectors clash");

static void msi_interrupt(struct trap_frame *frame, void *ctx)
{
	struct irq *irq = ctx;

	(void)frame;
	if (!irq->notif)
		return;
	irq->count++;
	notification_signal(irq->notif, irq->bits);
}

unsigned irq_msi_free(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VEC_MSI_COUNT; i++)
		n += !msi_owners[i];
	return n;
}

struct irq *irq_claim_msi(struct task *charged)
{
	unsigned i = 0;

	while (i < VEC_MSI_COUNT && msi_owners[i])
		i++;
	if (i == VEC_MSI_COUNT)
		return NULL;
	struct irq *irq = kobject_alloc(charged, CAP_IRQ, sizeof(*irq));
	if (!irq)
		return NULL;
	irq->gsi = IRQ_GSI_MSI;
	irq->vector = VEC_MSI_BASE + i;
	msi_owners[i] = irq;
	irq_set_handler(irq->vector, msi_interrupt, irq);
	return irq;
}

static void msi_destroy(struct irq *irq)
{
	irq_set_handler(irq->vector, NULL, NULL);
	msi_owners[irq->vector - VEC_MSI_BASE] = NULL;
	if (irq->notif) {
		kobject_put(&irq->notif->obj);
		irq->notif = NULL;
	}
}

static void irq_interrupt(struct trap_frame *frame, void *ctx)
{
	unsigned gsi = (unsigned)(uintptr_t)ctx;

	ioapic_mask(gsi, 1);
	for (int i = 0; i < IRQ_SHARE_MAX; i++) {
		struct irq *irq = owners[gsi][i];
		if (!irq || !irq->notif || irq->awaiting_ack)
			continue;
		irq->count++;
		irq->awaiting_ack = true;
		pending[gsi]++;
		notification_signal(irq->notif, irq->bits);
	}
}

/* An owner is done with the current interrupt (acknowledged, unbound or
 * gone): unmask when nobody else still handles it. */
static void done(struct irq *irq)
{
	if (irq->awaiting_ack) {
		irq->awaiting_ack = false;
		pending[irq->gsi]--;
	}
	if (pending[irq->gsi] == 0)
		for (int i = 0; i < IRQ_SHARE_MAX; i++)
			if (owners[irq->gsi][i] && owners[irq->gsi][i]->notif) {
				ioapic_mask(irq->gsi, 0);
				return;
			}
}

bool irq_can_claim(unsigned gsi, bool level, bool active_low)
{
	if (gsi >= ioapic_inputs())
		return false;
	int used = 0;
	for (int i = 0; i < IRQ_SHARE_MAX; i++) {
		struct irq *o = owners[gsi][i];
		if (!o)
			continue;
		used++;
		if (!level || !o->level || o->active_low != active_low)
			return false;
	}
	return used < IRQ_SHARE_MAX;
}

struct irq *irq_claim(struct task *charged, unsigned gsi, bool level, bool active_low)
{
	if (!irq_can_claim(gsi, level, active_low))
		return NULL;
	struct irq *irq = kobject_alloc(charged, CAP_IRQ, sizeof(*irq));
	if (!irq)
		return NULL;
	irq->gsi = gsi;
	irq->level = level;
	irq->active_low = active_low;
	bool first = true;
	for (int i = 0; i < IRQ_SHARE_MAX; i++)
		first &= !owners[gsi][i];
	for (int i = 0; i < IRQ_SHARE_MAX; i++)
		if (!owners[gsi][i]) {
			owners[gsi][i] = irq;
			break;
		}
	if (first) {
		ioapic_route(gsi, VEC_IRQ_BASE + gsi, level, active_low);   /* masked */
		irq_set_handler(VEC_IRQ_BASE + gsi, irq_interrupt, (void *)(uintptr_t)gsi);
	}
	return irq;
}

void irq_bind(struct irq *irq, struct notification *n, uint64_t bits)
{
	if (irq->notif)
		kobject_put(&irq->notif->obj);
	irq->notif = n;
	irq->bits = bits;
	if (n)
		kobject_get(&n->obj);
	if (irq->gsi == IRQ_GSI_MSI)
		return;
	if (!n && pending[irq->gsi] == 0)
		ioapic_mask(irq->gsi, 1);
	done(irq);
}

void irq_ack(struct irq *irq)
{
	if (irq->notif && irq->gsi != IRQ_GSI_MSI)
		done(irq);
}

void irq_destroy(struct irq *irq)
{
	unsigned gsi = irq->gsi;
	bool last = true;

	console_line_drop(irq);         /* the line it held under the log */
	if (gsi == IRQ_GSI_MSI) {
		msi_destroy(irq);
		return;
	}
	for (int i = 0; i < IRQ_SHARE_MAX; i++) {
		if (owners[gsi][i] == irq)
			owners[gsi][i] = NULL;
		else if (owners[gsi][i])
			last = false;
	}
	if (irq->notif) {
		kobject_put(&irq->notif->obj);
		irq->notif = NULL;
	}
	if (irq->awaiting_ack) {
		irq->awaiting_ack = false;
		pending[gsi]--;
	}
	if (last) {
		ioapic_mask(gsi, 1);
		irq_set_handler(VEC_IRQ_BASE + gsi, NULL, NULL);
		pending[gsi] = 0;
	} else {
		done(irq);
	}
}

void irq_unbind_notification(struct notification *n)
{
	for (unsigned gsi = 0; gsi < VEC_IRQ_COUNT; gsi++)
		for (int i = 0; i < IRQ_SHARE_MAX; i++)
			if (owners[gsi][i] && owners[gsi][i]->notif == n)
				irq_bind(owners[gsi][i], NULL, 0);
	for (unsigned i = 0; i < VEC_MSI_COUNT; i++)
		if (msi_owners[i] && msi_owners[i]->notif == n)
			irq_bind(msi_owners[i], NULL, 0);
}

/* ---- system calls ---- */

long sys_irq_create(uint64_t control, uint64_t gsi_flags, uint64_t dest)
{
	struct cap *c, *d;
	unsigned gsi = gsi_flags & 0xFFFF;

	LOOKUP(c, control, CAP_IRQ_CONTROL, CAP_RIGHT_CONTROL);
	NEED_EMPTY(d, current->task, dest);
	if (gsi_flags & IRQ_FLAG_MSI) {
		if (gsi_flags != IRQ_FLAG_MSI)
			REJECT(ERR_INVALID_ARG, "MSI takes no input or other flag: %#lx", gsi_flags);
		if (!irq_msi_free())
			REJECT(ERR_BUSY, "all %u MSI vectors are taken", VEC_MSI_COUNT);
		struct irq *irq = irq_claim_msi(current->task);
		if (!irq)
			REJECT(ERR_NO_MEMORY, "quota exhausted");
		cap_install(&current->task->caps, dest, &irq->obj, CAP_RIGHTS_ALL, 0);
		long message = (long)irq->vector;       /* data; destination APIC ID 0 */
		kobject_put(&irq->obj);
		return message;
	}
	if (gsi_flags & ~(IRQ_FLAG_LEVEL | IRQ_FLAG_ACTIVE_LOW | 0xFFFF))
		REJECT(ERR_INVALID_ARG, "unknown flags in %#lx", gsi_flags);
	if (!irq_can_claim(gsi, gsi_flags & IRQ_FLAG_LEVEL, gsi_flags & IRQ_FLAG_ACTIVE_LOW))
		REJECT(ERR_BUSY, "IRQ input %u does not exist, or is taken and cannot be shared",
		       gsi);
	struct irq *irq = irq_claim(current->task, gsi, gsi_flags & IRQ_FLAG_LEVEL,
				    gsi_flags & IRQ_FLAG_ACTIVE_LOW);
	if (!irq)
		REJECT(ERR_NO_MEMORY, "quota exhausted");
	cap_install(&current->task->caps, dest, &irq->obj, CAP_RIGHTS_ALL, 0);
	kobject_put(&irq->obj);
	return 0;
}

long sys_irq_bind(uint64_t slot, uint64_t notif_slot, uint64_t bits)
{
	struct irq *irq;
	struct notification *n = NULL;

	LOOKUP_OBJECT(irq, slot, CAP_IRQ, CAP_RIGHT_CONTROL);
	if (notif_slot != CAP_SLOT_NONE) {
		LOOKUP_OBJECT(n, notif_slot, CAP_NOTIFICATION, CAP_RIGHT_WRITE);
		if (bits == 0 || (bits >> 63))
			REJECT(ERR_INVALID_ARG, "bits %#lx: need 1..2^63-1", bits);
	}
	irq_bind(irq, n, bits);
	return 0;
}

long sys_irq_ack(uint64_t slot)
{
	struct irq *irq;

	LOOKUP_OBJECT(irq, slot, CAP_IRQ, CAP_RIGHT_WRITE);
	irq_ack(irq);
	return 0;
}
