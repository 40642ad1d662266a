/* Memory capabilities and unmap flags, shared by kernel and user code. */
#ifndef MICA_UAPI_MEMORY_H
#define MICA_UAPI_MEMORY_H

#include <stdint.h>

/* mem_unmap flags. Without MEM_UNMAP_SELF only what others got from the
 * caller's pages is revoked; the caller keeps its own mapping. */
#define MEM_UNMAP_SELF       0x1
#define MEM_UNMAP_WRITE_ONLY 0x2   /* revoke write access only */

/* mem_unmap_list: at most this many flexpages in one call, together at
 * most MEM_UNMAP_LIST_PAGES pages (1 GiB, as one mem_unmap). */
#define MEM_UNMAP_LIST_MAX   512
#define MEM_UNMAP_LIST_PAGES (1UL << 18)

/* mem_phys: at most this many pages in one call (16 MiB). */
#define MEM_PHYS_PAGES_MAX 4096

/* mem_info result. */
#define MEM_INFO_MMIO 0x1
struct mem_info {
	uint64_t base;      /* physical address */
	uint64_t size;      /* bytes */
	uint64_t flags;     /* MEM_INFO_* */
};

#endif
