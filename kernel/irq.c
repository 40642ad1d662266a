#include "irq.h"
#include "apic.h"
#include "klog.h"
#include "notification.h"
#include "trap.h"

/* Which IRQ object owns each IOAPIC input. */
static struct irq *owners[VEC_IRQ_COUNT];

static void irq_interrupt(struct trap_frame *frame, void *ctx)
{
	struct irq *irq = ctx;

	/* Level-triggered lines stay masked until the driver acknowledges. */
	ioapic_mask(irq->gsi, 1);
	irq->count++;
	if (irq->notif)
		notification_signal(irq->notif, irq->bits);
}

struct irq *irq_claim(struct task *charged, unsigned gsi, bool level, bool active_low)
{
	if (gsi >= ioapic_inputs() || owners[gsi])
		return NULL;
	struct irq *irq = kobject_alloc(charged, CAP_IRQ, sizeof(*irq));
	if (!irq)
		return NULL;
	irq->gsi = gsi;
	irq->level = level;
	irq->active_low = active_low;
	owners[gsi] = irq;
	ioapic_route(gsi, VEC_IRQ_BASE + gsi, level, active_low);   /* masked */
	irq_set_handler(VEC_IRQ_BASE + gsi, irq_interrupt, irq);
	return irq;
}

bool irq_gsi_free(unsigned gsi)
{
	return gsi < ioapic_inputs() && !owners[gsi];
}

void irq_bind(struct irq *irq, struct notification *n, uint64_t bits)
{
	if (irq->notif)
		kobject_put(&irq->notif->obj);
	irq->notif = n;
	irq->bits = bits;
	if (n) {
		kobject_get(&n->obj);
		ioapic_mask(irq->gsi, 0);
	} else {
		ioapic_mask(irq->gsi, 1);
	}
}

void irq_ack(struct irq *irq)
{
	if (irq->notif)
		ioapic_mask(irq->gsi, 0);
}

void irq_destroy(struct irq *irq)
{
	ioapic_mask(irq->gsi, 1);
	irq_set_handler(VEC_IRQ_BASE + irq->gsi, NULL, NULL);
	owners[irq->gsi] = NULL;
	if (irq->notif) {
		kobject_put(&irq->notif->obj);
		irq->notif = NULL;
	}
}
