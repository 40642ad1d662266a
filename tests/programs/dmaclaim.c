/*
 * dmaclaim: a NIC driver gives its device only the physical addresses the
 * kernel mapped for its client's pool and heap (drivers/net/driver.c,
 * area_run_check; the kernel's mem_phys), not the ones the client's
 * NETQ_ATTACH says, and only DMA memory from init (DMA_CHECK), which
 * init keeps when the client dies. Needs `lookup eth0` and dma= room for
 * two 64 KiB runs. Attaches five times: the pool said to lie at the
 * kernel's memory (0x110000), the heap said to lie where the pool is,
 * the pool and then the heap in the program's own .bss (ordinary pages,
 * their addresses told truly: mem_phys), then both in its DMA memory
 * where they are; prints "dmaclaim: <what was said>: <the driver's
 * answer>" for each.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "lib/netq_client.h"
#include "proto/netq.h"

#define LOG2 16

static uint8_t rings[NETQ_RINGS_SIZE] __attribute__((aligned(NETQ_RINGS_SIZE)));
static uint8_t plain[1 << LOG2] __attribute__((aligned(1 << LOG2)));

static void attach(cap_slot_t drv, struct netq_memory *mem, const char *said)
{
	cap_slot_t notif = slot_alloc(), dn = slot_alloc();
	struct netq_link link;

	sys_obj_create(CAP_NOTIFICATION, notif, 0);
	netq_area_init(rings, LOG2);
	((struct netq_area *)rings)->heap_size = 1U << LOG2;
	long err = netq_attach(drv, mem, notif, 1, dn, &link);
	printf("dmaclaim: %s: %s\n", said, err ? mica_strerror(err) : "attached");
}

int main(uint64_t arg)
{
	(void)arg;
	cap_slot_t drv = slot_alloc();
	uint64_t pool_phys, heap_phys;
	uint8_t *pool = dma_alloc(1 << LOG2, &pool_phys);
	uint8_t *heap = dma_alloc(1 << LOG2, &heap_phys);

	if (!pool || !heap || ns_lookup("eth0", drv) < 0) {
		printf("dmaclaim: no DMA memory or no eth0\n");
		return 1;
	}
	struct netq_memory mem = { .rings = rings, .pool = pool, .pool_phys = 0x110000,
				   .pool_log2 = LOG2, .heap = heap, .heap_phys = heap_phys,
				   .heap_log2 = LOG2 };
	attach(drv, &mem, "pool said at 0x110000");
	mem.pool_phys = pool_phys;
	mem.heap_phys = pool_phys;
	attach(drv, &mem, "heap said where the pool is");
	mem.heap_phys = heap_phys;
	for (unsigned i = 0; i < sizeof(plain); i += 4096)
		plain[i] = 1;           /* mapped, so that mem_phys tells */
	long plain_phys = sys_mem_phys((uint64_t)plain, sizeof(plain) / 4096);
	if (plain_phys < 0) {
		printf("dmaclaim: .bss not one physical run: %s\n", mica_strerror(plain_phys));
		return 1;
	}
	mem.pool = plain;
	mem.pool_phys = (uint64_t)plain_phys;
	attach(drv, &mem, "pool in bss");
	mem.pool = pool;
	mem.pool_phys = pool_phys;
	mem.heap = plain;
	mem.heap_phys = (uint64_t)plain_phys;
	attach(drv, &mem, "heap in bss");
	mem.heap = heap;
	mem.heap_phys = heap_phys;
	attach(drv, &mem, "both where they are");
	return 0;
}
