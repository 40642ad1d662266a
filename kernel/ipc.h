/* Message transfer between two threads (words, typed items, badge). */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <stdint.h>

#include "paging.h"
#include "thread.h"

/*
 * Copy the message `from` is sending (registers + IPC buffer, or its
 * pending fault message) to `to`, which is receiving: words (register
 * words beyond the count become 0), then items, then tag and badge into
 * to's registers; the receive counts in to's IPC buffer start from 0.
 * Every path delivers messages through here, except the fast path's short
 * messages (fastpath.c), which follow the same rules.
 * to_window_all: memory items may land anywhere in to's space (a fault
 * reply); otherwise only inside to's receive window. Items that cannot be
 * delivered are dropped: the tag `to` sees counts only the delivered ones.
 */
void ipc_transfer(struct thread *from, struct thread *to, uint64_t badge,
		  bool to_window_all);

/* Kernel pointer to t's IPC buffer, or NULL if it has none mapped
 * writable. Cached in the thread while no mapping anywhere has changed
 * since it was looked up (pt_generation), so a short message pays no
 * page-table walk; whatever changes t's task or its buffer's address
 * drops the cache (ipc_buffer_forget). */
struct ipc_buffer *ipc_buffer_lookup(struct thread *t);
static inline void ipc_buffer_forget(struct thread *t)
{
	t->ipc_buffer_cache.gen = 0;    /* pt_generation never is */
}
static inline __attribute__((always_inline)) struct ipc_buffer *
ipc_buffer_of(struct thread *t)
{
	if (__builtin_expect(t->ipc_buffer_cache.gen == pt_generation, 1))
		return t->ipc_buffer_cache.k;
	return ipc_buffer_lookup(t);
}

/* Read the message from is sending: tag and up to max words; returns the
 * number of words. */
unsigned ipc_read_message(struct thread *from, uint64_t *tag, uint64_t *words,
			  unsigned max);

/* The memory items of from's reply to a page fault of `to`: they may land
 * anywhere in to's space. Returns the number delivered. */
unsigned ipc_deliver_fault_reply_items(struct thread *from, struct thread *to);

/* The kernel-made fault message pending in t: label and words. */
void ipc_set_fault_message(struct thread *t, uint64_t label,
			   const uint64_t *words, unsigned n);

#endif
