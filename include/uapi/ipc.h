/*
 * IPC message layout, shared by the kernel and user code.
 *
 * A message is a tag, up to IPC_MAX_WORDS untyped words and up to
 * IPC_MAX_ITEMS typed items. Words 0..3 travel in registers (rdx, r10, r8,
 * r9); the rest, and the items, in the thread's IPC buffer. The tag travels
 * in rsi; on receive, rdi carries the sender's badge.
 *
 *   tag: | label (52 bits) ............ | items (3) | words (7) |
 *          63                        12   11..7       6..0     (bits 10..9 kernel flags)
 */
#ifndef MICA_UAPI_IPC_H
#define MICA_UAPI_IPC_H

#include <stdint.h>

#define IPC_REG_WORDS  4
#define IPC_MAX_WORDS  64
#define IPC_MAX_ITEMS  4

static inline uint64_t ipc_tag(uint64_t label, unsigned words, unsigned items)
{
	return (label << 12) | ((uint64_t)(items & 7) << 7) | (words & 0x7F);
}
static inline unsigned ipc_tag_words(uint64_t tag) { return tag & 0x7F; }
static inline unsigned ipc_tag_items(uint64_t tag) { return (tag >> 7) & 7; }
static inline uint64_t ipc_tag_label(uint64_t tag) { return tag >> 12; }

/* Flag in the capability argument of send/recv/call/wait: do not block,
 * fail with -ERR_WOULD_BLOCK instead. */
#define IPC_NONBLOCK (1UL << 32)
#define IPC_SLOT_MASK 0xFFFFFFFFUL

/*
 * Flexpage: a naturally aligned power-of-two region. Memory: base address
 * | log2(size) in bits 0..5 (12 = one 4 KiB page). I/O ports: port << 12 |
 * log2(count).
 */
static inline uint64_t fpage(uint64_t base, unsigned log2size) { return base | (log2size & 0x3F); }
static inline uint64_t fpage_base(uint64_t fp) { return fp & ~0xFFFUL; }
static inline unsigned fpage_log2(uint64_t fp) { return fp & 0x3F; }

/*
 * Typed items, two words each, after the untyped words in the IPC buffer.
 * word0: kind (bits 0..3) | rights (bits 4..7, IPC_MAP_* for memory; the
 * receiver never gets more than the sender has) | destination (bits 12..63,
 * page aligned: where the receiver gets memory, inside its receive window;
 * ignored for caps and I/O ports).
 * word1: the sender's flexpage (memory, I/O) or capability slot (cap).
 */
enum ipc_item_kind {
	IPC_ITEM_MAP = 1,     /* share memory pages */
	IPC_ITEM_GRANT = 2,   /* move memory pages (removed from the sender) */
	IPC_ITEM_IOPORT = 3,  /* share an I/O-port range */
	IPC_ITEM_CAP = 4,     /* copy a capability (needs GRANT right on the endpoint) */
};

#define IPC_MAP_READ  0x1
#define IPC_MAP_WRITE 0x2
#define IPC_MAP_EXEC  0x4

static inline uint64_t ipc_item_word0(unsigned kind, unsigned rights, uint64_t dest)
{
	return (dest & ~0xFFFUL) | ((uint64_t)(rights & 0xF) << 4) | (kind & 0xF);
}

/*
 * The per-thread IPC buffer (one page, registered with thread_configure).
 * words[0..3] are not used for transfer (those words are in registers) but
 * keep the indices simple.
 */
struct ipc_buffer {
	uint64_t words[IPC_MAX_WORDS];
	uint64_t items[IPC_MAX_ITEMS][2];
	/* Receive side, set by the receiver before it receives: */
	uint64_t recv_window;   /* flexpage where memory items may land (0 = none) */
	uint64_t recv_cap_slot; /* slot for one received capability (CAP_SLOT_NONE = none) */
	uint64_t recv_io;       /* nonzero: accept I/O-port items */
	/* Written by the kernel on receive: */
	uint64_t recv_cap_count;/* capabilities received in the last message */
	uint64_t recv_pages;    /* pages mapped or granted to it by the last message */
	uint64_t user[31];      /* the runtime's: user[0] holds the buffer's own
				   address; FS starts as the buffer's address */
};

/* Labels the kernel uses for messages it sends on a thread's behalf. */
#define IPC_LABEL_NOTIFY     0xFFFFFFFFFFF00UL  /* recv woke by a bound notification; badge = bits */
#define IPC_LABEL_PAGE_FAULT 0xFFFFFFFFFFF01UL  /* words: address, access (PF error code), rip */
#define IPC_LABEL_EXCEPTION  0xFFFFFFFFFFF02UL  /* words: struct fault_regs */
#define IPC_LABEL_SYSCALL    0xFFFFFFFFFFF03UL  /* redirected syscall; words: struct fault_regs */
#define IPC_LABEL_THREAD_STOPPED 0xFFFFFFFFFFF04UL
#define IPC_LABEL_SYSCALL_ARGS 0xFFFFFFFFFFF05UL  /* redirected syscall; words: struct syscall_args */

/* Replying to an exception or syscall message: label 0 resumes (with the
 * registers in the reply's words if it carries USER_REGS_WORDS of them;
 * to a syscall message, one word alone is the result for rax and changes
 * nothing else), IPC_REPLY_STOP leaves the thread stopped. */
#define IPC_REPLY_RESUME 0
#define IPC_REPLY_STOP   1

#endif
