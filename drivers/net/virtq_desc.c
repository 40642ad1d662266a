/* A virtqueue's descriptors, free and held by the device: virtq_desc.h. */
#include "virtq_desc.h"

void virtq_descs_init(struct virtq_descs *q, uint16_t size)
{
	q->size = size <= VIRTQ_DESC_MAX ? size : VIRTQ_DESC_MAX;
	q->nfree = 0;
	for (unsigned i = q->size; i-- > 0;) {
		q->state[i] = VIRTQ_DESC_FREE;
		q->free[q->nfree++] = (uint16_t)i;
	}
}

bool virtq_descs_take(struct virtq_descs *q, unsigned n, uint16_t *id)
{
	if (n == 0 || n > q->nfree)
		return false;
	for (unsigned i = 0; i < n; i++) {
		id[i] = q->free[--q->nfree];
		q->state[id[i]] = i ? VIRTQ_DESC_CHAINED : VIRTQ_DESC_HEAD;
		if (i)
			q->next[id[i - 1]] = id[i];
	}
	q->next[id[n - 1]] = id[n - 1];         /* the end: links to itself */
	return true;
}

unsigned virtq_descs_used(struct virtq_descs *q, uint32_t used_id, uint16_t *id, unsigned max)
{
	if (used_id >= q->size || q->state[used_id] != VIRTQ_DESC_HEAD || !max)
		return 0;
	unsigned n = 0;
	for (uint16_t h = (uint16_t)used_id;; h = q->next[h]) {
		id[n++] = h;
		q->state[h] = VIRTQ_DESC_FREE;
		q->free[q->nfree++] = h;
		if (q->next[h] == h || n == max || q->state[q->next[h]] != VIRTQ_DESC_CHAINED)
			break;
	}
	return n;
}
