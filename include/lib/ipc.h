/*
 * IPC wrappers for user code. A struct msg holds the tag and the four
 * register words; longer messages and typed items go through the calling
 * thread's IPC buffer (ipc_buffer()).
 */
#ifndef MICA_LIB_IPC_H
#define MICA_LIB_IPC_H

#include <stdint.h>

#include "lib/syscall.h"
#include "uapi/cap.h"
#include "uapi/ipc.h"

struct msg {
	uint64_t tag;
	uint64_t w[IPC_REG_WORDS];
	uint64_t badge;         /* set on receive */
};

/* The calling thread's IPC buffer (set up by the runtime). A thread's FS
 * base starts as its IPC buffer's address (the kernel sets it at
 * thread_start), and the runtime stores the buffer's own address in its
 * user[0] word, so FS-relative loads find it. */
static inline struct ipc_buffer *ipc_buffer(void)
{
	struct ipc_buffer *b;

	__asm__ volatile("mov %%fs:%c1, %0" : "=r"(b)
			 : "i"(__builtin_offsetof(struct ipc_buffer, user)));
	return b;
}

/* One IPC system call with the message in registers, updated in place
 * from what comes back. Returns rax. */
static inline __attribute__((always_inline)) long ipc_syscall(uint64_t nr, uint64_t cap,
							       struct msg *m, uint64_t extra)
{
	register uint64_t rsi __asm__("rsi") = m->tag;
	register uint64_t rdi __asm__("rdi") = cap;
	register uint64_t rdx __asm__("rdx") = m->w[0];
	register uint64_t r10 __asm__("r10") = m->w[1];
	register uint64_t r8 __asm__("r8") = m->w[2];
	register uint64_t r9 __asm__("r9") = m->w[3];
	register uint64_t r12 __asm__("r12") = extra;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret), "+S"(rsi), "+D"(rdi), "+d"(rdx), "+r"(r10), "+r"(r8), "+r"(r9)
			 : "a"(nr), "r"(r12)
			 : "rcx", "r11", "memory");
	m->tag = rsi;
	m->badge = rdi;
	m->w[0] = rdx;
	m->w[1] = r10;
	m->w[2] = r8;
	m->w[3] = r9;
	return ret;
}

/* The stubs are inline always: each is the system call itself. */
#define IPC_STUB static inline __attribute__((always_inline)) long
IPC_STUB ipc_send(cap_slot_t ep, struct msg *m) { return ipc_syscall(SYS_ipc_send, ep, m, 0); }
IPC_STUB ipc_call(cap_slot_t ep, struct msg *m) { return ipc_syscall(SYS_ipc_call, ep, m, 0); }
IPC_STUB ipc_reply(cap_slot_t reply, struct msg *m) { return ipc_syscall(SYS_ipc_reply, reply, m, 0); }

IPC_STUB ipc_recv(cap_slot_t ep, cap_slot_t reply, struct msg *m)
{
	/* ipc_recv takes the reply slot in rsi. */
	*m = (struct msg){ .tag = reply };
	return ipc_syscall(SYS_ipc_recv, ep, m, 0);
}

IPC_STUB ipc_reply_recv(cap_slot_t ep, cap_slot_t reply, struct msg *m)
{
	return ipc_syscall(SYS_ipc_reply_recv, ep, m, reply);
}

/* ipc_reply_recv of an answer of one word, w0 with tag (its other
 * registers are not loaded: the kernel reads only the words the tag
 * counts); the message received lands in *m as ipc_syscall's. */
IPC_STUB ipc_reply_recv_word(cap_slot_t ep, cap_slot_t reply, uint64_t tag, uint64_t w0,
			     struct msg *m)
{
	register uint64_t rsi __asm__("rsi") = tag;
	register uint64_t rdi __asm__("rdi") = ep;
	register uint64_t rdx __asm__("rdx") = w0;
	register uint64_t r10 __asm__("r10");
	register uint64_t r8 __asm__("r8");
	register uint64_t r9 __asm__("r9");
	register uint64_t r12 __asm__("r12") = reply;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret), "+S"(rsi), "+D"(rdi), "+d"(rdx), "=r"(r10), "=r"(r8), "=r"(r9)
			 : "a"((uint64_t)SYS_ipc_reply_recv), "r"(r12)
			 : "rcx", "r11", "memory");
	m->tag = rsi;
	m->badge = rdi;
	m->w[0] = rdx;
	m->w[1] = r10;
	m->w[2] = r8;
	m->w[3] = r9;
	return ret;
}
#undef IPC_STUB

static inline struct msg msg_make(uint64_t label, unsigned words)
{
	struct msg m = { .tag = ipc_tag(label, words, 0) };
	return m;
}

/* A message of n words (label label): the first IPC_REG_WORDS in the
 * registers, the rest in the calling thread's IPC buffer. */
static inline struct msg msg_from_words(uint64_t label, const uint64_t *w, unsigned n)
{
	struct msg m = msg_make(label, n);

	for (unsigned i = 0; i < n; i++) {
		if (i < IPC_REG_WORDS)
			m.w[i] = w[i];
		else
			ipc_buffer()->words[i] = w[i];
	}
	return m;
}

/* The first n words of a received message (0 past its word count). */
static inline void msg_to_words(const struct msg *m, uint64_t *w, unsigned n)
{
	unsigned have = ipc_tag_words(m->tag);

	for (unsigned i = 0; i < n; i++)
		w[i] = i >= have ? 0 : i < IPC_REG_WORDS ? m->w[i] : ipc_buffer()->words[i];
}

#endif
