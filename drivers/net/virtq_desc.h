/*
 * A virtqueue's descriptors as the driver hands them out (virtio 1.x,
 * 2.7 "Split Virtqueues"): which are free, which the device holds, as
 * the head of a chain or inside one, and each chain's links. Pure logic
 * (virtq_desc.c), unit-tested on the host.
 *
 * The device is not trusted: the used ring may name a descriptor twice,
 * one it never got, or one past the queue, and the descriptor table is
 * memory it can write. So the links are kept here, apart from the table,
 * and a used id is believed only when it is the head of a chain the
 * device holds; anything else is refused (the caller counts it), and no
 * descriptor goes back to the free list twice.
 */
#ifndef MICA_DRIVERS_NET_VIRTQ_DESC_H
#define MICA_DRIVERS_NET_VIRTQ_DESC_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTQ_DESC_MAX 256      /* descriptors of a queue at most */

enum virtq_desc_state {
	VIRTQ_DESC_FREE,
	VIRTQ_DESC_HEAD,        /* the device holds it, the head of a chain */
	VIRTQ_DESC_CHAINED,     /* the device holds it, inside a chain */
};

struct virtq_descs {
	uint16_t size;                  /* the queue's size, <= VIRTQ_DESC_MAX */
	uint16_t nfree;
	uint16_t free[VIRTQ_DESC_MAX];  /* a stack of free ids */
	uint16_t next[VIRTQ_DESC_MAX];  /* the chain's next id (with its state) */
	uint8_t state[VIRTQ_DESC_MAX];  /* enum virtq_desc_state */
};

/* All size descriptors free (size 1..VIRTQ_DESC_MAX). */
void virtq_descs_init(struct virtq_descs *q, uint16_t size);
/* Take n free descriptors (1..nfree) as one chain for the device: their
 * ids into id[0..n), id[0] the head, linked in that order. False (nothing
 * taken) when fewer than n are free. */
bool virtq_descs_take(struct virtq_descs *q, unsigned n, uint16_t *id);
/* The device returned used id: when it is the head of a chain it holds,
 * the chain's ids (head first) into id[0..max) and freed; returns how
 * many, 0 when it is not (refused: out of the queue, free, or inside a
 * chain). A chain is at most max long (the caller's longest). */
unsigned virtq_descs_used(struct virtq_descs *q, uint32_t used_id, uint16_t *id, unsigned max);

#endif
