/* The client side of the driver protocol: include/lib/netq_client.h. */
#include "lib/netq_client.h"
#include "lib/mica.h"

uint32_t netq_area_init(void *rings, unsigned pool_log2)
{
	struct netq_area *a = rings;
	uint64_t size = 1UL << pool_log2;

	memset(rings, 0, NETQ_RINGS_SIZE);
	*a = (struct netq_area){ .magic = NETQ_MAGIC, .version = NETQ_VERSION,
				 .ring_size = NETQ_RING_SIZE, .buf_size = NETQ_BUF_SIZE,
				 .pool_offset = NETQ_POOL_OFFSET,
				 .nbufs = (uint32_t)(size / NETQ_BUF_SIZE),
				 .pool_size = (uint32_t)size };
	for (int i = 0; i < NETQ_RINGS; i++)
		netq_ring_reset(netq_ring(rings, i));
	return a->nbufs;
}

long netq_attach(cap_slot_t driver, const struct netq_memory *mem, cap_slot_t notify,
		 uint64_t badge, cap_slot_t driver_notif, struct netq_link *link)
{
	struct ipc_buffer *b = ipc_buffer();
	cap_slot_t badged = slot_alloc();
	long err;

	if (badged == CAP_SLOT_NONE)
		return -ERR_NO_MEMORY;
	if ((err = sys_cap_copy(notify, CAP_SLOT_SELF, badged, CAP_RIGHT_WRITE, badge)) < 0) {
		slot_free(badged);
		return err;
	}
	unsigned items = mem->heap ? 4 : 3;
	struct msg m = { .tag = ipc_tag(NETQ_ATTACH, mem->heap ? 4 : 2, items) };
	m.w[0] = mem->pool_phys;
	m.w[1] = mem->pool_log2;
	m.w[2] = mem->heap_phys;
	m.w[3] = mem->heap_log2;
	b->items[0][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE, NETQ_DRIVER_AREA);
	b->items[0][1] = fpage((uint64_t)mem->rings, NETQ_RINGS_LOG2);
	b->items[1][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ | IPC_MAP_WRITE,
					NETQ_DRIVER_AREA + NETQ_POOL_OFFSET);
	b->items[1][1] = fpage((uint64_t)mem->pool, mem->pool_log2);
	if (mem->heap) {
		b->items[2][0] = ipc_item_word0(IPC_ITEM_MAP, IPC_MAP_READ,
						NETQ_DRIVER_AREA + NETQ_HEAP_OFFSET);
		b->items[2][1] = fpage((uint64_t)mem->heap, mem->heap_log2);
	}
	b->items[items - 1][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
	b->items[items - 1][1] = badged;
	cap_slot_t saved = b->recv_cap_slot;
	b->recv_cap_slot = driver_notif;
	err = ipc_call(driver, &m);
	b->recv_cap_slot = saved;
	sys_cap_delete(badged);
	slot_free(badged);
	if (!err && ipc_tag_label(m.tag))
		err = -(long)ipc_tag_label(m.tag);
	if (!err && !b->recv_cap_count)
		err = -ERR_INVALID_CAP;
	if (err)
		return err;
	for (int i = 0; i < 6; i++)
		link->mac[i] = (uint8_t)(m.w[0] >> (8 * i));
	link->up = m.w[1] != 0;
	link->pci_slot = ipc_tag_words(m.tag) > 2 ? m.w[2] : 0;
	link->offloads = ipc_tag_words(m.tag) > 3 ? (uint32_t)m.w[3] : 0;
	return 0;
}

long netq_get_stats(cap_slot_t driver, struct netq_stats *s)
{
	struct msg m = msg_make(NETQ_STATS, 0);
	long err = ipc_call(driver, &m);

	if (!err && ipc_tag_label(m.tag))
		err = -(long)ipc_tag_label(m.tag);
	if (err)
		return err;
	msg_to_words(&m, (uint64_t *)s, NETQ_STATS_WORDS);
	return 0;
}
