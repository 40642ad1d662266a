/*
 * The IPC side of paging for a user-level pager: answer the kernel's page
 * fault message (IPC_LABEL_PAGE_FAULT: words address, access, ip; see
 * docs/abi.md) from an address space record (lib/aspace.h).
 */
#ifndef MICA_LIB_PAGER_H
#define MICA_LIB_PAGER_H

#include "lib/aspace.h"
#include "lib/ipc.h"

/* Turn the fault message *m into its reply: resume, with item 0 of the
 * caller's IPC buffer mapping the page (one page, the region's rights).
 * The pager may add further items (and raise the tag's item count) before
 * it replies. 0, or the negative error of as_fault: refuse the fault. */
long pager_answer(struct aspace *as, struct msg *m);

#endif
