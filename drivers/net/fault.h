/*
 * Injected faults (proto/netq.h NETQ_FAULT, or the driver's fault=N
 * argument): the driver misbehaves on purpose, to show that only it pays.
 * docs/drivers.md, "Injected faults". Called by driver.c on requests and
 * attaches only; nothing of it runs per packet.
 */
#ifndef MICA_DRIVERS_NET_FAULT_H
#define MICA_DRIVERS_NET_FAULT_H

#include "driver.h"

/* Do the NETQ_FAULT_* `kind` now: die, hang, or (CORRUPT_RINGS) feed the
 * client wrong descriptors and return; an unknown kind does nothing.
 * CORRUPT_RINGS before a client attached waits for fault_attached. */
void fault_inject(struct nic_device *nic, uint64_t kind);
/* After every successful attach: a CORRUPT_RINGS asked for while no
 * client was attached happens now, once. */
void fault_attached(struct nic_device *nic);

#endif
