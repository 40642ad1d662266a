/*
 * The POSIX server's serve loop. Arguments (manifest `args`):
 *
 *   run=PROG[:ARG...][,PROG...]   programs to run, one after the other:
 *                                 PROG is /bin/PROG (or /usr/bin/PROG) of the root filesystem
 *                                 (the manifest's `file rootfs`, a cpio
 *                                 archive), or else a `file PROG` of the
 *                                 manifest; a static x86_64 Linux
 *                                 executable, started with argv PROG ARG...;
 *                                 a backslash makes the next character
 *                                 part of the word (\, \: \\)
 *   runfile=FILE                  the same from a `file` of the manifest:
 *                                 a program per line, its arguments after
 *                                 it separated by spaces ('quoted' ones
 *                                 may hold spaces; ':' and ',' are
 *                                 ordinary); `#` comments
 *   trace=1                       log every system call and its result
 *   syscount=1                    count each process's system calls by
 *                                 number and log them when it ends
 *   memlog=1                      log the server's memory and kernel quota
 *                                 before each program of the run list and
 *                                 after the last (leak tests)
 *
 * (The run list is runlist.c's.) Every message comes on one endpoint, badged per thread: page faults
 * (answered from the process's address space), redirected system calls
 * (syscall.c) and other exceptions (the process is killed with the
 * signal Linux would send).
 */
#include "clock.h"
#include "memory.h"
#include "netinfo.h"
#include "posix.h"
#include "procfs.h"
#include "signals.h"
#include "socket.h"
#include "syscall.h"
#include "vdso_map.h"
#include "vfs.h"

#include "lib/pager.h"
#include "proto/program.h"

_Static_assert(POSIX_CAP_SLOTS <= TASK_CAP_SLOTS_MAX &&
	       POSIX_CAP_SLOTS - PROGRAM_FIRST_FREE_SLOT <= SLOT_ALLOC_MAX,
	       "the server's capability table: the kernel's and the slot allocator's bounds");

cap_slot_t posix_endpoint;
unsigned posix_priority;
bool call_yields;

/* Reply objects: the one the next message is received with, and the
 * free ones. A thread whose call waits keeps the one its call came
 * with (t->reply) until it is answered. */
static cap_slot_t reply_slot;
static cap_slot_t reply_free[THREAD_MAX];
static unsigned reply_nfree;

void reply_put(cap_slot_t reply)
{
	reply_free[reply_nfree++] = reply;
}

/* The registers of a syscall or exception message (msg_to_words, with
 * the IPC buffer looked up once rather than per word: every system call
 * comes through here). */
static void regs_in(const struct msg *m, struct fault_regs *fr)
{
	const uint64_t *b = ipc_buffer()->words;
	unsigned have = ipc_tag_words(m->tag), i;
	uint64_t *w = (uint64_t *)fr;

	/* Words past the count arrive as 0 in the registers too. */
	for (i = 0; i < IPC_REG_WORDS; i++)
		w[i] = m->w[i];
	for (; i < have && i < FAULT_REGS_WORDS; i++)
		w[i] = b[i];
	for (; i < FAULT_REGS_WORDS; i++)
		w[i] = 0;
}

/* The registers of a call that came as struct syscall_args: rax and the
 * six arguments; rflags 0 says the others are not there (regs_complete)
 * until regs_fetch reads them. Nothing else is written: every call
 * comes through here. */
static void args_in(const struct msg *m, struct user_regs *r)
{
	const uint64_t *b = ipc_buffer()->words;

	r->rax = m->w[0];
	r->rdi = m->w[1];
	r->rsi = m->w[2];
	r->rdx = m->w[3];
	r->r10 = b[4];
	r->r8 = b[5];
	r->r9 = b[6];
	r->rflags = 0;
}

/* The answer that resumes a thread with registers r (msg_from_words,
 * likewise): all of them when they are complete, else the result in rax
 * alone (one word: the kernel's fast path takes it). */
static struct msg regs_out(const struct user_regs *r)
{
	if (!regs_complete(r)) {
		struct msg m = msg_make(IPC_REPLY_RESUME, 1);
		m.w[0] = r->rax;
		return m;
	}
	struct msg m = msg_make(IPC_REPLY_RESUME, USER_REGS_WORDS);
	uint64_t *b = ipc_buffer()->words;
	const uint64_t *w = (const uint64_t *)r;

	for (unsigned i = 0; i < IPC_REG_WORDS; i++)
		m.w[i] = w[i];
	for (unsigned i = IPC_REG_WORDS; i < USER_REGS_WORDS; i++)
		b[i] = w[i];
	return m;
}

static bool deliver_signals_now(struct thread *t, struct user_regs *r)
{
	if (!regs_complete(r) && signal_deliverable(t) && regs_fetch(t, r) < 0) {
		t->proc->state = PROCESS_ENDED;
		t->proc->exit_signal = LINUX_SIGKILL;
		return false;
	}
	return signal_deliver(t, r);
}

/* Deliver t's pending signals into r (signal_deliver), its registers
 * completed first when a signal's frame needs them. Nothing pending for
 * it or its process that it does not block, no rt_sigsuspend to end:
 * nothing to do (the common case, checked inline: every call comes
 * through here). */
static inline __attribute__((always_inline)) bool deliver_signals(struct thread *t,
								  struct user_regs *r)
{
	if (!((t->sigpending | t->proc->sigpending) & ~t->sigmask) && !t->in_sigsuspend)
		return true;
	return deliver_signals_now(t, r);
}

/* p ended while its thread waits for our answer on reply: stop it, free
 * it (and its other threads), and when no process is left start what
 * comes next. */
static void end_process(struct process *p, cap_slot_t reply, int status, int signal)
{
	struct msg stop = msg_make(IPC_REPLY_STOP, 0);

	ipc_reply(reply, &stop);
	process_end(p, status, signal);
	if (!process_any_alive())
		run_next();
}

/* t's call ended it alone (exit): stop it and let it go; the last
 * thread's end is its process's. */
static void end_thread(struct thread *t, cap_slot_t reply)
{
	struct msg stop = msg_make(IPC_REPLY_STOP, 0);
	struct process *p = t->proc;

	ipc_reply(reply, &stop);
	if (!thread_exit(t)) {
		process_end(p, p->exit_status, 0);
		if (!process_any_alive())
			run_next();
	}
}

/* The end of a call that DISPATCH_ENDED or DISPATCH_THREAD_ENDED. */
static void end_call(struct thread *t, cap_slot_t reply, enum dispatch_result d)
{
	struct process *p = t->proc;

	if (d == DISPATCH_THREAD_ENDED)
		end_thread(t, reply);
	else
		end_process(p, reply, p->exit_status, p->exit_signal);
}

/* Answer t's call with the registers r (its result in rax), delivering
 * its pending signals first; a signal's default action may end it. */
static void answer(struct thread *t, cap_slot_t reply, struct user_regs *r)
{
	if (!deliver_signals(t, r)) {
		end_process(t->proc, reply, 0, t->proc->exit_signal);
		return;
	}
	struct msg m = regs_out(r);
	ipc_reply(reply, &m);
}

/* Carry out again the system call of t that waited: answered if it no
 * longer waits, or if a signal came for it (interrupted, signal.c). */
static void answer_waiting(struct thread *t)
{
	struct user_regs r = t->saved;
	cap_slot_t reply = t->reply;
	enum dispatch_result d;

	t->wake = false;
	t->proc->current = t;
	switch ((d = syscall_dispatch(t, &r))) {
	case DISPATCH_BLOCKED:
		if (!signal_deliverable(t))
			return;
		r = t->saved;
		if (!regs_complete(&r) && regs_fetch(t, &r) < 0) {
			thread_set_blocked(t, false);
			end_process(t->proc, reply, 0, LINUX_SIGKILL);
			break;
		}
		signal_interrupt(t, &r);
		thread_set_blocked(t, false);
		answer(t, reply, &r);
		break;
	case DISPATCH_ENDED:
	case DISPATCH_THREAD_ENDED:
		thread_set_blocked(t, false);
		end_call(t, reply, d);
		break;
	case DISPATCH_REPLY:
		thread_set_blocked(t, false);
		answer(t, reply, &r);
		break;
	}
	reply_put(reply);
}

static bool wake_pending(void)
{
	return threads_marked_any != 0;
}

/* A signal came while t runs (it is not waiting for the server). One
 * that ends its process by default ends it now. A caught one is
 * delivered now if t is in user mode: suspended, its registers read,
 * the frame pushed, written back, resumed. (If it is on its way to the
 * server with a call or a page fault — the kernel says it was blocked —,
 * the call's answer delivers it, or the page's marks it again: handle.) */
static void signal_running(struct thread *t)
{
	int sig = signal_fatal(t);
	struct process *p = t->proc;
	struct user_regs r;

	t->wake = false;
	if (!sig) {
		if (!signal_deliverable(t))
			return;
		if (sys_thread_suspend(t->kthread) == 0 &&
		    sys_thread_read_regs(t->kthread, (uint64_t)&r) == 0) {
			p->current = t;
			if (!signal_deliver(t, &r)) {
				process_end(p, 0, p->exit_signal);
				if (!process_any_alive())
					run_next();
				return;
			}
			sys_thread_write_regs(t->kthread, (uint64_t)&r);
		}
		if (!p->stopped)        /* (a stop signal among them keeps it held) */
			sys_thread_resume(t->kthread);
		return;
	}
	sys_thread_suspend(t->kthread);
	process_end(p, 0, sig);
	if (!process_any_alive())
		run_next();
}

/* Try again the calls of the threads whose waits something changed,
 * and take the signals sent to running ones, until none is left (each
 * try either finishes or waits again). */
static void wake_waiting(void)
{
	while (threads_marked_any) {
		threads_marked_any = 0;         /* set again by what marks one meanwhile */
		/* The marked ones in index order, as a scan of the table
		 * would take them: those marked meanwhile above i in this
		 * round, those below in the next. */
		for (unsigned i = 0; i < THREAD_MAX;) {
			uint64_t w = threads_marked[i / 64] & (~0UL << (i % 64));
			if (!w) {
				i = (i / 64 + 1) * 64;
				continue;
			}
			i = i / 64 * 64 + (unsigned)__builtin_ctzl(w);
			threads_marked[i / 64] &= ~(1UL << (i % 64));
			struct thread *t = &threads[i++];
			if (t->state != THREAD_RUNNING || !t->wake)
				continue;
			if (t->proc->state != PROCESS_RUNNING)
				t->wake = false;
			else if (t->proc->stopped)
				continue;       /* parked until SIGCONT marks it again */
			else if (t->blocked)
				answer_waiting(t);
			else
				signal_running(t);
		}
	}
}

/* A page fault answered at one page, with one access, FAULT_TRIM_AT
 * times in a row did not get its page mapped: the process's kernel quota
 * (PROCESS_QUOTA) is spent on its mappings' records. Its other pages are
 * revoked to free them (it faults in again what it uses). The page
 * tables of what it touched stay charged to the quota until it ends, so
 * a trim frees less each time: when the quota is still nearly spent
 * after one, the process has no room for the pages it runs on (code,
 * stack, data), which would take each other's place for ever, and it is
 * out of memory; so is one whose fault came back FAULT_REPEATS_MAX
 * times in a row. (A page revoked by another process, copy-on-write, is
 * faulted in again once, not twice.) */
#define FAULT_TRIM_AT      2
#define FAULT_REPEATS_MAX  8
/* Less than this left of the quota is nearly spent: a page's record and
 * three page tables. */
#define FAULT_QUOTA_ROOM   (4 * PAGE_SIZE)

/* Whether p's kernel quota may be too low to map one more page. */
static bool quota_short(const struct process *p)
{
	struct task_info ti = { 0 };

	if (sys_task_info(p->task.task, (uint64_t)&ti) < 0)
		return true;
	return ti.quota_used + FAULT_QUOTA_ROOM > ti.quota_limit;
}

/* t's page fault m: true with m its answer, false when its process has
 * been ended (out of memory: SIGKILL, as Linux's OOM killer; refused:
 * SIGSEGV). */
static bool page_fault(struct thread *t, struct msg *m)
{
	struct process *p = t->proc;
	uint64_t at = (m->w[0] & ~(PAGE_SIZE - 1)) | (m->w[1] & 0xFFF);
	long err;

	/* The same fault again, unless a shared page was revoked since (by
	 * another process's exec, munmap or copy: with many processes
	 * sharing a parent's pages, that can happen many times in a row). */
	t->fault_repeats = at == t->fault_at && t->fault_revokes == memory_revokes
			   ? t->fault_repeats + 1 : 0;
	t->fault_at = at;
	t->fault_revokes = memory_revokes;
	bool thrashing = false;
	if (t->fault_repeats == FAULT_TRIM_AT) {
		memory_trim(p, m->w[0]);
		thrashing = quota_short(p);
	}
	if (thrashing || t->fault_repeats >= FAULT_REPEATS_MAX)
		err = -ERR_NO_MEMORY;
	else if ((err = pager_answer(&p->as, m)) == 0)
		return true;
	const char *access = m->w[1] & 16 ? "fetch" : m->w[1] & 2 ? "write" : "read";
	if (err == -ERR_NO_MEMORY) {
		printf_limit(process_log_limit(p),
			     "posix: %s (pid %d): out of memory at %lx (ip %lx, %s): SIGKILL\n",
			     p->name, p->pid, m->w[0], m->w[2], access);
		end_process(p, reply_slot, 0, LINUX_SIGKILL);
		return false;
	}
	int code, sig = signal_of_page_fault(p, m->w[0], err, &code);
	if (signal_page_fault(t, m->w[0], sig, code)) {
		t->fault_repeats = 0;   /* a refused fault is not a page that will not map */
		t->fault_at = 0;
		*m = msg_make(IPC_REPLY_RESUME, 0);     /* into its handler */
		return true;
	}
	printf_limit(process_log_limit(p), "posix: %s (pid %d): page fault at %lx (ip %lx, %s): %s\n",
		     p->name, p->pid, m->w[0], m->w[2], access,
		     sig == LINUX_SIGBUS ? "SIGBUS" : "SIGSEGV");
	end_process(p, reply_slot, 0, p->state == PROCESS_ENDED ? p->exit_signal : sig);
	return false;
}

/* What handle() leaves to send: nothing (the call waits, or its thread
 * or process ended), the message m, or the call's result alone (*word:
 * regs_out's one-word answer, which main's loop sends straight from a
 * register, m untouched). */
enum answer { ANSWER_NONE, ANSWER_MSG, ANSWER_WORD };

/* t's system call m (label IPC_LABEL_SYSCALL_ARGS or IPC_LABEL_SYSCALL),
 * carried out: its answer built in m or *word (enum answer). Inline:
 * every call comes through here. */
static inline __attribute__((always_inline)) enum answer
handle_syscall(struct thread *t, struct msg *m, uint64_t label, uint64_t *word)
{
	struct process *p = t->proc;
	struct fault_regs fr;
	enum dispatch_result d;

	if (__builtin_expect(label == IPC_LABEL_SYSCALL_ARGS, 1))
		args_in(m, &fr.regs);
	else
		regs_in(m, &fr);
	switch ((d = syscall_dispatch(t, &fr.regs))) {
	case DISPATCH_ENDED:
	case DISPATCH_THREAD_ENDED:
		end_call(t, reply_slot, d);
		return ANSWER_NONE;
	case DISPATCH_BLOCKED:
		/* It keeps this reply object; the next message comes
		 * with a free one (there is one per thread). */
		thread_set_blocked(t, true);
		if (signal_deliverable(t))
			thread_mark(t);
		t->saved = fr.regs;
		t->reply = reply_slot;
		reply_slot = reply_free[--reply_nfree];
		return ANSWER_NONE;
	case DISPATCH_REPLY:
		break;
	}
	if (!deliver_signals(t, &fr.regs)) {
		end_process(p, reply_slot, 0, p->exit_signal);
		return ANSWER_NONE;
	}
	if (__builtin_expect(!regs_complete(&fr.regs), 1)) {
		/* regs_out's one-word answer, the other words unread */
		*word = fr.regs.rax;
		return ANSWER_WORD;
	}
	*m = regs_out(&fr.regs);
	return ANSWER_MSG;
}

/* handle()'s other cases: notifications, control requests, page faults,
 * exceptions, a system call of another form. */
static __attribute__((noinline)) enum answer handle_other(struct thread *t, struct msg *m,
							  uint64_t *word)
{
	uint64_t label = ipc_tag_label(m->tag);
	struct process *p = t ? t->proc : NULL;
	struct fault_regs fr;

	if (label == IPC_LABEL_NOTIFY) {
		socket_notified(m->badge);
		netinfo_notified(m->badge);
		if (m->badge & SIGNAL_TIMER_BIT)
			signal_timers();        /* its timer: not for every socket's signal */
		return ANSWER_NONE;
	}
	if (m->badge == POSIX_CONTROL_BADGE) {
		control_request(m);
		return ANSWER_MSG;
	}
	if (!p) {
		*m = msg_make(IPC_REPLY_STOP, 0);
		return ANSWER_MSG;
	}
	p->current = t;
	switch (label) {
	case IPC_LABEL_PAGE_FAULT:
		if (!page_fault(t, m))
			return ANSWER_NONE;
		/* A caught signal that came while it waited for the page
		 * (signal_running left it to this answer): taken once the
		 * answer has gone (main's loop replies before wake_waiting
		 * when the answer maps a page). */
		if (signal_deliverable(t))
			thread_mark(t);
		return ANSWER_MSG;
	case IPC_LABEL_SYSCALL_ARGS:
	case IPC_LABEL_SYSCALL:
		return handle_syscall(t, m, label, word);
	default: {
		int code, sig;
		regs_in(m, &fr);
		sig = signal_of_vector(t, fr.vector, &code);
		if (signal_fault(t, &fr.regs, sig, code,
				 sig == LINUX_SIGSEGV || sig == LINUX_SIGBUS ? 0 : fr.regs.rip)) {
			*m = regs_out(&fr.regs);
			return ANSWER_MSG;
		}
		printf_limit(process_log_limit(p),
			     "posix: %s (pid %d): exception %lu at ip %lx (error %lx): signal %d\n",
			     p->name, p->pid, fr.vector, fr.regs.rip, fr.error, sig);
		end_process(p, reply_slot, 0, p->state == PROCESS_ENDED ? p->exit_signal : sig);
		return ANSWER_NONE;
	}
	}
}

/* The answer to m, built in place or in *word (enum answer); none when
 * the process has ended (its thread was stopped and freed already). */
static inline __attribute__((always_inline)) enum answer handle(struct msg *m, uint64_t *word)
{
	struct thread *t = thread_of_badge(m->badge);

	/* The common case first: a redirected call of a live thread, as
	 * the kernel sends it (struct syscall_args: one compare of the
	 * whole tag). */
	if (__builtin_expect(m->tag == ipc_tag(IPC_LABEL_SYSCALL_ARGS, SYSCALL_ARGS_WORDS, 0) &&
			     t != NULL, 1))
		return handle_syscall(t, m, IPC_LABEL_SYSCALL_ARGS, word);
	return handle_other(t, m, word);
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;
	char trace[4];
	long err;

	posix_priority = (unsigned)pi->priority;
	run_list_setup(pi->args);
	syscall_trace = program_arg(pi->args, "trace", trace, sizeof(trace)) && trace[0] == '1';
	syscall_count = program_arg(pi->args, "syscount", trace, sizeof(trace)) && trace[0] == '1';
	syscall_slow = syscall_trace || syscall_count;
	struct task_config grow = { .fields = TASK_CFG_CAP_SLOTS, .cap_slots = POSIX_CAP_SLOTS };
	if ((err = sys_task_configure(CAP_SLOT_SELF, (uint64_t)&grow)) < 0) {
		printf("posix: cannot grow its capability table to %u slots: %s\n",
		       POSIX_CAP_SLOTS, mica_strerror(err));
		return 1;
	}
	slot_grow(POSIX_CAP_SLOTS);
	posix_endpoint = slot_alloc();
	reply_slot = slot_alloc();
	signal_notification = slot_alloc();
	struct thread_config tc = { .fields = THREAD_CFG_NOTIFY, .notification = signal_notification };
	if ((err = sys_obj_create(CAP_ENDPOINT, posix_endpoint, 0)) < 0 ||
	    (err = sys_obj_create(CAP_REPLY, reply_slot, 0)) < 0 ||
	    (err = sys_obj_create(CAP_NOTIFICATION, signal_notification, 0)) < 0 ||
	    (err = sys_thread_configure(PROGRAM_THREAD_SLOT, (uint64_t)&tc)) < 0) {
		printf("posix: cannot make its endpoint: %s\n", mica_strerror(err));
		return 1;
	}
	for (reply_nfree = 0; reply_nfree < THREAD_MAX; reply_nfree++) {
		reply_free[reply_nfree] = slot_alloc();
		if ((err = sys_obj_create(CAP_REPLY, reply_free[reply_nfree], 0)) < 0) {
			printf("posix: cannot make its reply objects: %s\n", mica_strerror(err));
			return 1;
		}
	}
	if ((err = vdso_init()) < 0) {
		printf("posix: cannot set up the vDSO: %s\n", mica_strerror(err));
		return 1;
	}
	realtime_start(pi);
	signal_timer_arm();     /* the load averages' samples begin (procfs.c) */
	socket_init();
	size_t rootfs_size;
	const void *rootfs = program_file("rootfs", &rootfs_size);
	if (!vfs_init(&vfs_page_ops, rootfs, rootfs_size)) {
		printf("posix: the root filesystem (boot module rootfs) is malformed or has more than "
		       "%d entries\n", VFS_NODES);
		return 1;
	}
	vfs_set_proc(&procfs_ops);
	control_init();
	printf("posix: ready; root filesystem %s\n", rootfs ? "from the boot module rootfs" : "none");
	run_next();

	struct msg m;
	err = ipc_recv(posix_endpoint, reply_slot, &m);
	for (;;) {
		if (err < 0) {
			err = ipc_recv(posix_endpoint, reply_slot, &m);
			continue;
		}
		uint64_t word;
		enum answer a = handle(&m, &word);

		if (__builtin_expect(a == ANSWER_WORD && !wake_pending(), 1)) {
			/* A call's result alone, the common case: sent from
			 * a register with the next receive. */
			err = ipc_reply_recv_word(posix_endpoint, reply_slot,
						  ipc_tag(IPC_REPLY_RESUME, 1, 0), word, &m);
			continue;
		}
		if (a == ANSWER_WORD) {
			m.tag = ipc_tag(IPC_REPLY_RESUME, 1, 0);
			m.w[0] = word;
		}
		bool answer = a != ANSWER_NONE;
		/* sched_yield marks its caller (call_yields): answered with
		 * ipc_reply below, which puts it behind its equals, never by
		 * the next receive's switch straight back to it. The check
		 * costs the common path nothing: it hides behind
		 * wake_pending(). */
		if (wake_pending() && answer && ipc_tag_items(m.tag) == 0 && !call_yields) {
			/* The calls this one woke are answered first (a pipe's
			 * reader, as soon as the writer wrote), then this one
			 * with the next receive: a kernel call less. Their
			 * answers use the IPC buffer too: this one's words
			 * there are kept aside meanwhile. */
			uint64_t *b = ipc_buffer()->words, kept[IPC_MAX_WORDS];
			unsigned n = ipc_tag_words(m.tag);
			for (unsigned i = IPC_REG_WORDS; i < n; i++)
				kept[i] = b[i];
			wake_waiting();
			for (unsigned i = IPC_REG_WORDS; i < n; i++)
				b[i] = kept[i];
			err = ipc_reply_recv(posix_endpoint, reply_slot, &m);
		} else if (wake_pending()) {
			if (answer)
				ipc_reply(reply_slot, &m);
			call_yields = false;
			wake_waiting();
			err = ipc_recv(posix_endpoint, reply_slot, &m);
		} else if (answer && m.tag == ipc_tag(IPC_REPLY_RESUME, 1, 0)) {
			/* A call's result alone (built as a message) */
			err = ipc_reply_recv_word(posix_endpoint, reply_slot, m.tag, m.w[0], &m);
		} else if (answer) {
			err = ipc_reply_recv(posix_endpoint, reply_slot, &m);
		} else {
			err = ipc_recv(posix_endpoint, reply_slot, &m);
		}
	}
}
