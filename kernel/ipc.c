#include "ipc.h"
#include "cap.h"
#include "klog.h"
#include "mapdb.h"
#include "ioport.h"
#include "kmem.h"
#include "paging.h"
#include "task.h"
#include "uaccess.h"

#include "lib/string.h"
#include "uapi/errors.h"
#include "uapi/ipc.h"

void ipc_set_fault_message(struct thread *t, uint64_t label,
			   const uint64_t *words, unsigned n)
{
	kassert(n <= FAULT_REGS_WORDS);
	t->fault_tag = ipc_tag(label, n, 0);
	memcpy(t->fault_words, words, n * 8);
	t->fault_pending = true;
}

static uint64_t reg_word(const struct trap_frame *f, unsigned i)
{
	switch (i) {
	case 0: return f->rdx;
	case 1: return f->r10;
	case 2: return f->r8;
	default: return f->r9;
	}
}

static void set_reg_word(struct trap_frame *f, unsigned i, uint64_t v)
{
	switch (i) {
	case 0: f->rdx = v; break;
	case 1: f->r10 = v; break;
	case 2: f->r8 = v; break;
	default: f->r9 = v; break;
	}
}

struct ipc_buffer *ipc_buffer_lookup(struct thread *t)
{
	struct ipc_buffer *b = NULL;

	if (t->ipc_buffer && t->task)
		b = user_page_ptr(t->task, t->ipc_buffer, true);
	t->ipc_buffer_cache.k = b;
	t->ipc_buffer_cache.gen = pt_generation;
	return b;
}

static bool window_contains(uint64_t window, uint64_t dest, uint64_t size)
{
	if (!window)
		return false;
	unsigned log2 = fpage_log2(window);
	if (log2 < 12 || log2 > 47)
		return false;
	uint64_t base = fpage_base(window), wsize = 1ULL << log2;
	return dest >= base && size <= wsize && dest - base <= wsize - size;
}

/* One memory item: map or grant every page of the sender's flexpage. */
static bool transfer_memory(struct thread *from, struct thread *to, uint64_t w0,
			    uint64_t fp, bool grant, bool window_all,
			    struct ipc_buffer *tb)
{
	unsigned log2 = fpage_log2(fp);
	if (log2 < 12 || log2 > 30)
		return false;
	uint64_t size = 1ULL << log2, src = fpage_base(fp), dest = w0 & ~0xFFFUL;
	if ((src | dest) & (size - 1) || src + size > USER_TOP || dest + size > USER_TOP)
		return false;
	if (!window_all && !window_contains(tb ? tb->recv_window : 0, dest, size))
		return false;
	unsigned rights = (w0 >> 4) & 0xF;
	bool delivered = false;
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		struct mapping *m = mapdb_find(from->task, src + off);
		if (!m)
			continue;
		uint64_t pte = pt_lookup(from->task->pt_root, src + off);
		/* Never more than the sender has. */
		uint64_t flags = pte & PTE_UNCACHED;
		if ((rights & IPC_MAP_WRITE) && (pte & PTE_WRITE))
			flags |= PTE_WRITE;
		if (!(rights & IPC_MAP_EXEC) || (pte & PTE_NX))
			flags |= PTE_NX;
		int err = grant ? mapdb_move(m, to->task, dest + off, flags)
				: mapdb_map(m, to->task, dest + off, m->phys, flags);
		if (err == 0) {
			delivered = true;
			if (tb)
				tb->recv_pages++;
		}
	}
	return delivered;
}

static bool transfer_cap(struct thread *from, struct thread *to, uint64_t slot,
			 struct ipc_buffer *tb)
{
	if (!from->ipc_can_grant || !tb)
		return false;
	struct cap *src = cap_slot(&from->task->caps, slot);
	struct cap *dst = cap_slot(&to->task->caps, tb->recv_cap_slot);
	if (!src || !src->obj || src->obj->dead || !dst || dst->obj)
		return false;
	cap_derive(src, dst, CAP_RIGHTS_ALL, 0);
	tb->recv_cap_count++;
	return true;
}

/* I/O ports: the receiver must accept them (recv_io), except in a reply
 * to its own fault, which it cannot prepare for. */
static bool transfer_ioports(struct thread *from, struct thread *to, uint64_t fp,
			     const struct ipc_buffer *tb, bool fault_reply)
{
	unsigned log2 = fpage_log2(fp);
	uint64_t base = fp >> 12, count = 1ULL << log2;
	if (!fault_reply && (!tb || !tb->recv_io))
		return false;
	if (log2 > 16 || base + count > 65536 || base & (count - 1))
		return false;
	if (!from->task->io_bitmap)
		return false;
	for (uint64_t p = base; p < base + count; p++)
		if (from->task->io_bitmap[p / 8] & (1 << (p % 8)))
			return false;   /* the sender lacks one of them */
	return task_allow_ioports(to->task, base, count) == 0;
}

/* Deliver the typed items of from's message to `to`; returns how many
 * arrived (recorded in to's IPC buffer, if it has one). */
static unsigned deliver_items(struct thread *from, struct thread *to,
			      struct ipc_buffer *fb, struct ipc_buffer *tb,
			      unsigned items, bool window_all)
{
	unsigned delivered = 0;

	for (unsigned i = 0; i < items && fb; i++) {
		uint64_t w0 = fb->items[i][0], w1 = fb->items[i][1];
		bool ok = false;
		switch (w0 & 0xF) {
		case IPC_ITEM_MAP:
		case IPC_ITEM_GRANT:
			ok = transfer_memory(from, to, w0, w1,
					     (w0 & 0xF) == IPC_ITEM_GRANT, window_all, tb);
			break;
		case IPC_ITEM_CAP:
			ok = transfer_cap(from, to, w1, tb);
			break;
		case IPC_ITEM_IOPORT:
			ok = transfer_ioports(from, to, w1, tb, window_all);
			break;
		}
		if (ok) {
			if (tb) {
				tb->items[delivered][0] = w0;
				tb->items[delivered][1] = w1;
			}
			delivered++;
		}
	}
	return delivered;
}

unsigned ipc_read_message(struct thread *from, uint64_t *tag, uint64_t *words,
			  unsigned max)
{
	if (from->fault_pending) {
		unsigned n = ipc_tag_words(from->fault_tag);
		*tag = from->fault_tag;
		for (unsigned i = 0; i < n && i < max; i++)
			words[i] = from->fault_words[i];
		return n < max ? n : max;
	}
	const struct trap_frame *ff = thread_frame(from);
	unsigned n = ipc_tag_words(ff->rsi);

	*tag = ff->rsi;
	if (n > max)
		n = max;
	struct ipc_buffer *fb = n > IPC_REG_WORDS ? ipc_buffer_of(from) : NULL;
	if (n > IPC_REG_WORDS && !fb)
		n = IPC_REG_WORDS;
	for (unsigned i = 0; i < n; i++)
		words[i] = i < IPC_REG_WORDS ? reg_word(ff, i) : fb->words[i];
	return n;
}

unsigned ipc_deliver_fault_reply_items(struct thread *from, struct thread *to)
{
	const struct trap_frame *ff = thread_frame(from);
	unsigned items = ipc_tag_items(ff->rsi);

	if (items > IPC_MAX_ITEMS)
		items = IPC_MAX_ITEMS;
	return deliver_items(from, to, ipc_buffer_of(from), NULL, items, true);
}

void ipc_transfer(struct thread *from, struct thread *to, uint64_t badge,
		  bool window_all)
{
	struct trap_frame *tf = thread_frame(to);
	struct ipc_buffer *tb = ipc_buffer_of(to);
	uint64_t words[IPC_MAX_WORDS], tag;
	unsigned n = ipc_read_message(from, &tag, words, IPC_MAX_WORDS);
	unsigned items = from->fault_pending ? 0 : ipc_tag_items(tag);

	if (n > IPC_REG_WORDS && !tb)
		n = IPC_REG_WORDS;
	/* Register words beyond the count are 0, so no earlier value shows. */
	for (unsigned i = 0; i < IPC_REG_WORDS; i++)
		set_reg_word(tf, i, i < n ? words[i] : 0);
	for (unsigned i = IPC_REG_WORDS; i < n; i++)
		tb->words[i] = words[i];
	if (items > IPC_MAX_ITEMS)
		items = IPC_MAX_ITEMS;
	if (tb)
		tb->recv_cap_count = tb->recv_pages = 0;
	unsigned delivered = items ? deliver_items(from, to, ipc_buffer_of(from), tb,
						   items, window_all) : 0;
	tf->rsi = ipc_tag(ipc_tag_label(tag), n, delivered);
	tf->rdi = badge;
	tf->rax = 0;
}
