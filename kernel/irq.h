/* IRQ objects: one IOAPIC input delivered as a notification signal. */
#ifndef MICA_IRQ_H
#define MICA_IRQ_H

#include "object.h"
#include "uapi/irq.h"

struct notification;

struct irq {
	struct kobject obj;
	unsigned gsi;
	bool level, active_low;
	struct notification *notif;
	uint64_t bits;
	uint64_t count;
};

void irq_destroy(struct irq *irq);

struct task;
struct irq *irq_claim(struct task *charged, unsigned gsi, bool level, bool active_low);
bool irq_gsi_free(unsigned gsi);
void irq_bind(struct irq *irq, struct notification *n, uint64_t bits);
void irq_ack(struct irq *irq);

#endif
