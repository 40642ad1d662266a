/* Message transfer between two threads (words, typed items, badge). */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <stdint.h>

#include "thread.h"

/*
 * Copy the message `from` is sending (registers + IPC buffer, or its
 * pending fault message) to `to`, which is receiving: words (register
 * words beyond the count become 0), then items, then tag and badge into
 * to's registers; the receive counts in to's IPC buffer start from 0.
 * Every path delivers messages through here, the fast path included.
 * to_window_all: memory items may land anywhere in to's space (a fault
 * reply); otherwise only inside to's receive window. Items that cannot be
 * delivered are dropped: the tag `to` sees counts only the delivered ones.
 */
void ipc_transfer(struct thread *from, struct thread *to, uint64_t badge,
		  bool to_window_all);

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
