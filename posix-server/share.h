/*
 * The server's tables are fixed and shared by every process; so that no
 * one program takes them all, each is shared out by account: the
 * processes a run list entry or the console's `run` started, with every
 * process they fork (as Linux counts RLIMIT_NPROC per user). An account
 * may hold SHARE(n) of a table of n entries, three quarters: what it
 * makes past that is EMFILE (the per-process kind of error Linux gives
 * at RLIMIT_NOFILE), past the whole table ENFILE; a fork or clone past
 * the account's processes or threads EAGAIN (Linux's at RLIMIT_NPROC);
 * tmpfs nodes and pages and ptys ENOSPC either way (Linux's tmpfs and
 * /dev/ptmx).
 * docs/posix.md, "Limits"; share.c.
 */
#ifndef MICA_POSIX_SHARE_H
#define MICA_POSIX_SHARE_H

#include <stdbool.h>

#include "linux.h"

struct process;
struct thread;

#define SHARE(n) ((n) - (n) / 4)

/* The account whose call the server handles (syscall_dispatch sets it,
 * process_start for a new program's console descriptors): what is made
 * now is charged to it. */
extern int share_account;
/* Its thread (NULL: none yet). */
extern struct thread *share_thread;

/* The answer for a new entry of a table of n entries of which the
 * caller's account holds mine, the first free one at free (n: none): 0,
 * -EMFILE (the account's share used), -ENFILE (the table full). */
static inline long share_check(unsigned mine, unsigned free, unsigned n)
{
	return mine >= SHARE(n) ? -LINUX_EMFILE : free >= n ? -LINUX_ENFILE : 0;
}

/* Whether p's account may have one more thread, and (process true) one
 * more process: 0 or -EAGAIN (its share, or its RLIMIT_NPROC, is used). */
long share_tasks(const struct process *p, bool process);

/* The answer of a send or write of t's (a pipe's, an AF_UNIX datagram's)
 * that needs a page its account's share of memory has not got now
 * (memory_room false), as when the peer's buffer is full: SYSCALL_BLOCK
 * (t waits until a page is given back: memory_waited), or -EAGAIN
 * (nonblock), while another thread of the account, not itself waiting
 * for the share, may still give some back (end, unmap, read, close);
 * else -ENOMEM: nothing would ever wake it (a writer that is its own
 * reader, one thread holding the share). docs/posix.md, "Limits". */
long share_memory_full(struct thread *t, bool nonblock);
/* Whether a write of the calling thread's (share_thread) that needs a
 * page would wait for the share (share_memory_full's SYSCALL_BLOCK):
 * poll's POLLOUT is not said then (and a page given back wakes it). */
bool share_memory_waits(void);

#endif
