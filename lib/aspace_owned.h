/*
 * Inside the address-space record (include/lib/aspace.h): what its files
 * share. aspace.c keeps the regions, aspace_owned.c the table of owned
 * pages, aspace_fault.c answers faults and copies. Not for pagers.
 */
#ifndef MICA_LIB_ASPACE_OWNED_H
#define MICA_LIB_ASPACE_OWNED_H

#include "lib/aspace.h"

#define PAGE_MASK (AS_PAGE_SIZE - 1)

/* The table entry of the page owned at va, or NULL. */
struct as_page *as_owned_find(const struct aspace *as, uint64_t va);
/* A fresh zeroed page owned at va (not present before), or NULL. */
void *as_owned_add(struct aspace *as, uint64_t va);
/* to (with no regions) gets from's regions, as they are: 0, or
 * -ERR_NO_MEMORY (no table for them; to unchanged). aspace.c. */
long as_regions_copy(struct aspace *to, const struct aspace *from);
/* Free every page owned in [start, end). */
void as_owned_free_range(struct aspace *as, uint64_t start, uint64_t end);

#endif
