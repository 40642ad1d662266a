/*
 * The memory of the POSIX server's processes: the pages they get from
 * init (memory.c) and the objects of their shared mappings (shmem.c),
 * behind lib/aspace.h's operations (process_as_ops).
 */
#ifndef MICA_POSIX_MEMORY_H
#define MICA_POSIX_MEMORY_H

#include "posix.h"
#include "vfs.h"

/* ---- memory.c: the pages processes get, from init's INIT_PAGES_ALLOC ---- */

extern const struct as_ops process_as_ops;
/* The same pages for tmpfs files (vfs.h). */
extern const struct vfs_ops vfs_page_ops;
/* A zeroed page of the same pool, for the server's own use (tmpfs files,
 * a process's descriptor table): NULL when init has no more. Counted
 * among the pages in use (memory_counts) until memory_page_free. */
void *memory_page_alloc(void);
void memory_page_free(void *page);
/* Times a page was revoked from the processes that share it, while
 * others keep it (one gave it up: munmap, exec, its copy on a write;
 * memory_trim): they fault it in again, which is no sign of a page that
 * will not map (main.c's page_fault). */
extern uint64_t memory_revokes;
/* The pages one account's processes may hold together, and so each
 * process (lib/aspace.h max_pages): SHARE (three quarters) of the
 * manifest's memory= less a sixteenth of it kept for the server's own
 * pages, PROCESS_MAX_PAGES at most. A page past it (or one that would
 * leave less than that sixteenth) is refused: the process's fault is SIGKILL (out of
 * memory), a call's copy into it EFAULT. */
uint64_t memory_account_share(void);
/* Whether a page charged to account may be had now (its share, and the
 * server's reserve, allow it). */
bool memory_room(int account);
/* A call waits for a page of its account's share (share_memory_full):
 * the next page given back wakes every waiting call (and clears it). */
extern bool memory_waited;
/* How many times that woke them: news for writers (poll's EPOLLET edges). */
extern uint32_t memory_wakes;
/* Pages handed out to processes (and their tables), and pages from init
 * held for the next, for the log. */
void memory_counts(uint64_t *used, uint64_t *reserve);
/* Pages the file cache holds (/proc/meminfo's Cached). */
uint64_t memory_cache_pages(void);
/* The page of the root-filesystem file at node (its data in the
 * archive) at page index, from the file cache (read in on first use; the
 * bytes past the file's end zeros): for a process to own with as_adopt
 * (copy-on-write). NULL: not a root-filesystem file, past its end, the
 * cache full, no memory. memory_file_page_unused(page) when no process
 * took it after all. */
void *memory_file_page(int node, uint64_t index);
void memory_file_page_unused(void *page);
/* Log those counts in pages and the server's own kernel quota in use, in
 * bytes (`memlog=1`: before each program of the run list and at its end,
 * for leak tests). */
void memory_log(void);
/* Revoke every page p owns but the one at keep from its mappings (and
 * from every other process sharing them): their kernel mapping records,
 * charged to p's kernel quota, are freed; p faults in again what it
 * uses. For a process whose quota no longer covers a new mapping. */
void memory_trim(struct process *p, uint64_t keep);

/* ---- shmem.c: the objects of shared mappings (AS_OBJECT) ---- */

/* The object of the part of a file mapping past the page holding the
 * file's end: it has no page, so a touch is SIGBUS (sys_memory.c). */
#define SHMEM_PAST_END UINT64_MAX
/* A region's tag (lib/aspace.h) for a mapping of the root filesystem's
 * file at node: MAP_TAG_FILE + node (/proc/PID/maps names it); 0: none. */
#define MAP_TAG_FILE 1
/* A region's tag for a private mapping of a tmpfs file (whose node may go,
 * so it is not named); mremap cannot grow it (the file's next pages are
 * not known). */
#define MAP_TAG_TMPFS UINT64_MAX

/* lib/aspace.h's object operations (process_as_ops): the object is a
 * tmpfs node; ctx the process (NULL: none). */
long shmem_page(void *ctx, uint64_t object, uint64_t offset, bool create, bool write,
		void **page);
void shmem_hold(void *ctx, uint64_t object);
void shmem_release(void *ctx, uint64_t object, uint64_t offset, uint64_t size, bool last);
/* Revoke the object pages p maps in [start, end) from every process
 * (they fault them in again): after mprotect, or to free p's kernel
 * mapping records (memory_trim). */
void shmem_revoke(struct process *p, uint64_t start, uint64_t end);
/* A new object for MAP_SHARED|MAP_ANONYMOUS of size bytes (zeros): its
 * node, which the first region's hold keeps (vfs_closed frees it when
 * none took it), or -ENOMEM. */
long shmem_anonymous(uint64_t size);

#endif
