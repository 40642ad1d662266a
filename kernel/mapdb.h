/*
 * Mapping database: for every user mapping of a 4 KiB page, where it came
 * from. A page mapped (shared) from space A into B becomes a child of A's
 * mapping; unmap in A removes it from B and from everything B passed on,
 * recursively. Roots are the mappings made straight from a memory
 * capability (mem_map) or by the kernel for the root task's image.
 *
 * Nodes are found by (task, virtual address) through a hash table and are
 * charged to the task whose mapping they describe.
 */
#ifndef MICA_MAPDB_H
#define MICA_MAPDB_H

#include <stdbool.h>
#include <stdint.h>

struct task;

struct mapping {
	struct task *space;
	uint64_t va;
	uint64_t phys;
	struct mapping *parent, *first_child, *next_sibling, *prev_sibling;
	struct mapping *hash_next;
	struct mapping *space_next, *space_prev;   /* all of one task's */
};

void mapdb_init(void);

/* The mapping of va (page aligned) in space, or NULL. */
struct mapping *mapdb_find(struct task *space, uint64_t va);

/*
 * Map phys at va in space with PTE flags, as a child of parent (NULL:
 * a root). Checks and charges first: fails with -ERR_NO_MEMORY (quota or
 * memory) or -ERR_RANGE (va already mapped) and changes nothing. When
 * va already maps phys as a child of the same parent (not NULL), the
 * mapping gets the write and execute access of flags that it lacks
 * (L4's rule: mapping a page again extends its rights) and 0 is returned.
 */
int mapdb_map(struct mapping *parent, struct task *space, uint64_t va,
	      uint64_t phys, uint64_t pte_flags);

/* Move m (grant) to va in space, keeping its children. Same errors. */
int mapdb_move(struct mapping *m, struct task *space, uint64_t va, uint64_t pte_flags);

/*
 * Revoke what was derived from m: every descendant loses its mapping (or
 * only write access if write_only), and so does m itself if include_self.
 */
void mapdb_unmap(struct mapping *m, bool include_self, bool write_only);

/* Remove every mapping of space (and everything derived from them). */
void mapdb_remove_space(struct task *space);

/* Number of live nodes (for leak checks). */
uint64_t mapdb_count(void);

#endif
