/* IRQ objects: an IOAPIC input, or a message-signalled vector (MSI/MSI-X),
 * delivered as a notification signal. */
#ifndef MICA_IRQ_H
#define MICA_IRQ_H

#include "object.h"
#include "uapi/irq.h"

struct notification;

struct irq {
	struct kobject obj;
	unsigned gsi;           /* IRQ_GSI_MSI for a message-signalled one */
	unsigned vector;        /* its IDT vector if MSI */
	bool level, active_low;
	struct notification *notif;
	uint64_t bits;
	uint64_t count;
	bool awaiting_ack;      /* signalled, not yet acknowledged */
};

#define IRQ_GSI_MSI 0xFFFFu

void irq_destroy(struct irq *irq);

struct task;
struct irq *irq_claim(struct task *charged, unsigned gsi, bool level, bool active_low);
/* Whether a new IRQ object may take this input: a free one, or a shared
 * level-triggered line of the same polarity. */
bool irq_can_claim(unsigned gsi, bool level, bool active_low);
/* A message-signalled IRQ on a free vector of VEC_MSI_BASE..+VEC_MSI_COUNT;
 * NULL when every one is taken or the quota is exhausted. */
struct irq *irq_claim_msi(struct task *charged);
/* How many MSI vectors are free. */
unsigned irq_msi_free(void);
void irq_bind(struct irq *irq, struct notification *n, uint64_t bits);
void irq_ack(struct irq *irq);
/* The notification is being destroyed: every IRQ bound to it lets go. */
void irq_unbind_notification(struct notification *n);

#endif
