/*
 * The POSIX server's serve loop. Arguments (manifest `args`):
 *
 *   run=PROG[:ARG...][,PROG...]   programs to run, one after the other:
 *                                 PROG is /bin/PROG (or /usr/bin/PROG) of the root filesystem
 *                                 (the manifest's `file rootfs`, a cpio
 *                                 archive), or else a `file PROG` of the
 *                                 manifest; a static x86_64 Linux
 *                                 executable, started with argv PROG ARG...
 *   runfile=FILE                  the same from a `file` of the manifest:
 *                                 a program per line, its arguments after
 *                                 it separated by spaces ('quoted' ones
 *                                 may hold spaces); `#` comments
 *   trace=1                       log every system call and its result
 *   memlog=1                      log the server's memory and kernel quota
 *                                 before each program of the run list and
 *                                 after the last (leak tests)
 *
 * Every message comes on one endpoint, badged per process: page faults
 * (answered from the process's address space), redirected system calls
 * (syscall.c) and other exceptions (the process is killed with the
 * signal Linux would send).
 */
#include "cpio.h"
#include "posix.h"
#include "socket.h"
#include "syscall.h"
#include "vfs.h"

#include "lib/pager.h"
#include "proto/program.h"

#define RUN_LIST_MAX 1024

cap_slot_t posix_endpoint;
unsigned posix_priority;
bool process_wakes;

/* Reply objects: the one the next message is received with, and the
 * free ones. A process whose call waits keeps the one its call came
 * with (p->reply) until it is answered. */
static cap_slot_t reply_slot;
static cap_slot_t reply_free[PROCESS_MAX];
static unsigned reply_nfree;

/* The environment every process starts with. */
static const char *const environment[] = { "HOME=/", "PATH=/bin:/usr/bin", "TERM=vt100" };

static char run_list[RUN_LIST_MAX];
static const void *rootfs;
static size_t rootfs_size;
static char *run_next_item = run_list;
static bool memlog;

/* run_list from the manifest's file named name: "prog arg arg" lines
 * become "prog:arg:arg" items separated by commas; a word in single
 * quotes may hold spaces ('echo a | cat'), not ':' or ','. false: no such
 * file, or it does not fit. */
static bool run_list_from_file(const char *name)
{
	size_t size, n = 0;
	const char *text = program_file(name, &size);
	bool comment = false, space = false, quoted = false;

	if (!text)
		return false;
	for (size_t i = 0; i < size && text[i]; i++) {
		char c = text[i];
		if (c == '\n') {
			comment = space = quoted = false;
			c = ',';
		} else if (comment) {
			continue;
		} else if (c == '\'') {
			quoted = !quoted;
			if (space && n && run_list[n - 1] != ',' && n < RUN_LIST_MAX - 1)
				run_list[n++] = ':';
			space = false;
			continue;
		} else if (!quoted && c == '#') {
			comment = true;
			continue;
		} else if (!quoted && (c == ' ' || c == '\t')) {
			space = true;
			continue;
		} else if (space) {
			space = false;
			if (n && run_list[n - 1] != ',' && n < RUN_LIST_MAX - 1)
				run_list[n++] = ':';
		}
		if (c == ',' && (!n || run_list[n - 1] == ','))
			continue;       /* an empty line */
		if (n == RUN_LIST_MAX - 1)
			return false;
		run_list[n++] = c;
	}
	run_list[n] = 0;
	return true;
}

/* The executable called name: /bin/name or /usr/bin/name of the root
 * filesystem, or the manifest's `file name`; its path for AT_EXECFN in
 * *path. */
static bool program_find(const char *name, const void **file, size_t *size, const char **path)
{
	static char bin[64];
	struct cpio_entry e;

	for (unsigned i = 0; i < 2; i++) {
		fmt_snprintf(bin, sizeof(bin), i ? "/usr/bin/%s" : "/bin/%s", name);
		if (rootfs && cpio_find(rootfs, rootfs_size, bin, &e)) {
			*file = e.data;
			*size = e.size;
			*path = bin;
			return true;
		}
	}
	*path = name;
	*file = program_file(name, size);
	return *file != NULL;
}

/* Start the next program of run=, skipping those that cannot start. */
static void run_next(void)
{
	while (*run_next_item) {
		char *item = run_next_item, *end = item;
		while (*end && *end != ',')
			end++;
		run_next_item = *end ? end + 1 : end;
		*end = 0;

		struct exec_start s = { .argc = 0 };
		for (char *word = item; word && s.argc < EXEC_MAX_ARGS;) {
			char *colon = word;
			while (*colon && *colon != ':')
				colon++;
			s.argv[s.argc++] = word;
			word = *colon ? colon + 1 : NULL;
			*colon = 0;
		}
		for (unsigned i = 0; i < sizeof(environment) / sizeof(environment[0]); i++)
			s.envp[s.envc++] = environment[i];
		const void *file;
		size_t size;
		if (!program_find(s.argv[0], &file, &size, &s.execfn)) {
			printf("posix: %s: no such program (not in /bin of the root filesystem, "
			       "not a `file` of the manifest)\n", s.argv[0]);
			continue;
		}
		if (memlog)
			memory_log();
		if (process_start(s.argv[0], file, size, &s))
			return;
	}
	if (memlog)
		memory_log();
	uint64_t used, reserve;
	char in_use[16], kept[16];
	memory_counts(&used, &reserve);
	printf("posix: all programs ended; memory: %s in use, %s kept\n",
	       fmt_bytes(in_use, sizeof(in_use), used * PAGE_SIZE),
	       fmt_bytes(kept, sizeof(kept), reserve * PAGE_SIZE));
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

static bool deliver_signals_now(struct process *p, struct user_regs *r)
{
	if (!regs_complete(r) && signal_deliverable(p) && regs_fetch(p, r) < 0) {
		p->state = PROCESS_ENDED;
		p->exit_signal = LINUX_SIGKILL;
		return false;
	}
	return signal_deliver(p, r);
}

/* Deliver p's pending signals into r (signal_deliver), its registers
 * completed first when a signal's frame needs them. Nothing pending and
 * unblocked, no rt_sigsuspend to end: nothing to do (the common case,
 * checked inline: every call comes through here). */
static inline __attribute__((always_inline)) bool deliver_signals(struct process *p,
								  struct user_regs *r)
{
	if (!(p->sigpending & ~p->sigmask) && !p->in_sigsuspend)
		return true;
	return deliver_signals_now(p, r);
}

/* p ended while its thread waits for our answer on reply: stop it, free
 * it, and when no process is left start what comes next. */
static void end_process(struct process *p, cap_slot_t reply, int status, int signal)
{
	struct msg stop = msg_make(IPC_REPLY_STOP, 0);

	ipc_reply(reply, &stop);
	process_end(p, status, signal);
	if (!process_any_alive())
		run_next();
}

/* Answer p's call with the registers r (its result in rax), delivering
 * its pending signals first; a signal's default action may end it. */
static void answer(struct process *p, cap_slot_t reply, struct user_regs *r)
{
	if (!deliver_signals(p, r)) {
		end_process(p, reply, 0, p->exit_signal);
		return;
	}
	struct msg m = regs_out(r);
	ipc_reply(reply, &m);
}

/* Carry out again the system call of p that waited: answered if it no
 * longer waits, or if a signal came for p (interrupted, signal.c). */
static void answer_waiting(struct process *p)
{
	struct user_regs r = p->saved;
	cap_slot_t reply = p->reply;

	p->wake = false;
	switch (syscall_dispatch(p, &r)) {
	case DISPATCH_BLOCKED:
		if (!signal_deliverable(p))
			return;
		r = p->saved;
		if (!regs_complete(&r) && regs_fetch(p, &r) < 0) {
			p->blocked = false;
			end_process(p, reply, 0, LINUX_SIGKILL);
			break;
		}
		signal_interrupt(p, &r);
		p->blocked = false;
		answer(p, reply, &r);
		break;
	case DISPATCH_ENDED:
		p->blocked = false;
		end_process(p, reply, p->exit_status, p->exit_signal);
		break;
	case DISPATCH_REPLY:
		p->blocked = false;
		answer(p, reply, &r);
		break;
	}
	reply_free[reply_nfree++] = reply;
}

static bool wake_pending(void)
{
	return process_wakes;
}

/* A signal that ends p by default came while p runs (its thread is not
 * waiting for the server): it ends now. One it catches waits for its
 * next system call. */
static void signal_running(struct process *p)
{
	int sig = signal_fatal(p);

	p->wake = false;
	if (!sig)
		return;
	sys_thread_suspend(p->task.thread);
	process_end(p, 0, sig);
	if (!process_any_alive())
		run_next();
}

/* Try again the calls of the processes whose waits something changed,
 * and take the signals sent to running ones, until none is left (each
 * try either finishes or waits again). */
static void wake_waiting(void)
{
	for (bool again = true; again;) {
		again = false;
		process_wakes = false;
		for (unsigned i = 0; i < PROCESS_MAX; i++) {
			struct process *p = &processes[i];
			if (p->state != PROCESS_RUNNING || !p->wake)
				continue;
			if (p->blocked)
				answer_waiting(p);
			else
				signal_running(p);
			again = true;
		}
	}
}

/* Linux's signal for an x86 exception vector, and its si_code. */
static int signal_of_vector(uint64_t vector, int *code)
{
	*code = LINUX_SI_KERNEL;
	switch (vector) {
	case 0: *code = LINUX_FPE_INTDIV; return 8;     /* divide error: SIGFPE */
	case 16: case 19: *code = 0; return 8;           /* x87, SIMD: SIGFPE */
	case 1: case 3: *code = LINUX_TRAP_BRKPT; return 5;     /* debug, breakpoint: SIGTRAP */
	case 6: *code = LINUX_ILL_ILLOPN; return 4;     /* invalid opcode: SIGILL */
	case 17: *code = LINUX_BUS_ADRALN; return 7;    /* alignment check: SIGBUS */
	default: return 11;                              /* SIGSEGV */
	}
}

/* A page fault answered at one page, with one access, FAULT_TRIM_AT
 * times in a row did not get its page mapped: the process's kernel quota
 * (PROCESS_QUOTA) is spent on its mappings' records. Its other pages are
 * revoked to free them (it faults in again what it uses); if that does
 * not help either, FAULT_REPEATS_MAX in a row end it. (A page revoked by
 * another process, copy-on-write, is faulted in again once, not twice.) */
#define FAULT_TRIM_AT     2
#define FAULT_REPEATS_MAX 8

/* p's page fault m: true with m its answer, false when p has been ended
 * (out of memory: SIGKILL, as Linux's OOM killer; refused: SIGSEGV). */
static bool page_fault(struct process *p, struct msg *m)
{
	uint64_t at = (m->w[0] & ~(PAGE_SIZE - 1)) | (m->w[1] & 0xFFF);
	long err;

	p->fault_repeats = at == p->fault_at ? p->fault_repeats + 1 : 0;
	p->fault_at = at;
	if (p->fault_repeats == FAULT_TRIM_AT)
		memory_trim(p, m->w[0]);
	if (p->fault_repeats >= FAULT_REPEATS_MAX)
		err = -ERR_NO_MEMORY;
	else if ((err = pager_answer(&p->as, m)) == 0)
		return true;
	const char *access = m->w[1] & 16 ? "fetch" : m->w[1] & 2 ? "write" : "read";
	if (err == -ERR_NO_MEMORY) {
		printf("posix: %s (pid %d): out of memory at %lx (ip %lx, %s): SIGKILL\n", p->name,
		       p->pid, m->w[0], m->w[2], access);
		end_process(p, reply_slot, 0, LINUX_SIGKILL);
		return false;
	}
	printf("posix: %s (pid %d): page fault at %lx (ip %lx, %s): SIGSEGV\n", p->name, p->pid,
	       m->w[0], m->w[2], access);
	end_process(p, reply_slot, 0, 11);
	return false;
}

/* The answer to m, built in place: true to send it, false when the
 * process has ended (its thread was stopped and freed already). */
static bool handle(struct msg *m)
{
	struct process *p = process_of_badge(m->badge);
	uint64_t label = ipc_tag_label(m->tag);
	struct fault_regs fr;

	if (label == IPC_LABEL_NOTIFY) {
		socket_notified(m->badge);
		signal_timers();
		return false;
	}
	if (m->badge == POSIX_CONTROL_BADGE) {
		control_request(m);
		return true;
	}
	if (!p) {
		*m = msg_make(IPC_REPLY_STOP, 0);
		return true;
	}
	switch (label) {
	case IPC_LABEL_PAGE_FAULT:
		return page_fault(p, m);
	case IPC_LABEL_SYSCALL_ARGS:
	case IPC_LABEL_SYSCALL:
		if (label == IPC_LABEL_SYSCALL_ARGS)
			args_in(m, &fr.regs);
		else
			regs_in(m, &fr);
		switch (syscall_dispatch(p, &fr.regs)) {
		case DISPATCH_ENDED:
			end_process(p, reply_slot, p->exit_status, p->exit_signal);
			return false;
		case DISPATCH_BLOCKED:
			/* It keeps this reply object; the next message comes
			 * with a free one (there is one per process). */
			p->blocked = true;
			p->wake = signal_deliverable(p);
			process_wakes |= p->wake;
			p->saved = fr.regs;
			p->reply = reply_slot;
			reply_slot = reply_free[--reply_nfree];
			return false;
		case DISPATCH_REPLY:
			break;
		}
		if (!deliver_signals(p, &fr.regs)) {
			end_process(p, reply_slot, 0, p->exit_signal);
			return false;
		}
		*m = regs_out(&fr.regs);
		return true;
	default: {
		int code, sig;
		regs_in(m, &fr);
		sig = signal_of_vector(fr.vector, &code);
		if (signal_fault(p, &fr.regs, sig, code)) {
			*m = regs_out(&fr.regs);
			return true;
		}
		printf("posix: %s (pid %d): exception %lu at ip %lx (error %lx): signal %d\n", p->name,
		       p->pid, fr.vector, fr.regs.rip, fr.error, sig);
		end_process(p, reply_slot, 0, p->state == PROCESS_ENDED ? p->exit_signal : sig);
		return false;
	}
	}
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)PROGRAM_INFO_ADDR;
	char trace[4];
	long err;

	posix_priority = (unsigned)pi->priority;
	char runfile[32];
	if (program_arg(pi->args, "runfile", runfile, sizeof(runfile))) {
		if (!run_list_from_file(runfile))
			printf("posix: runfile=%s: no such file, or longer than %d bytes\n", runfile,
			       RUN_LIST_MAX - 1);
	} else if (!program_arg(pi->args, "run", run_list, sizeof(run_list))) {
		run_list[0] = 0;
	}
	syscall_trace = program_arg(pi->args, "trace", trace, sizeof(trace)) && trace[0] == '1';
	memlog = program_arg(pi->args, "memlog", trace, sizeof(trace)) && trace[0] == '1';
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
	for (reply_nfree = 0; reply_nfree < PROCESS_MAX; reply_nfree++) {
		reply_free[reply_nfree] = slot_alloc();
		if ((err = sys_obj_create(CAP_REPLY, reply_free[reply_nfree], 0)) < 0) {
			printf("posix: cannot make its reply objects: %s\n", mica_strerror(err));
			return 1;
		}
	}
	socket_init();
	rootfs = program_file("rootfs", &rootfs_size);
	if (!vfs_init(&vfs_page_ops, rootfs, rootfs_size)) {
		printf("posix: the root filesystem (boot module rootfs) is malformed or has more than "
		       "%d entries\n", VFS_NODES);
		return 1;
	}
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
		bool answer = handle(&m);
		if (wake_pending() && answer && ipc_tag_items(m.tag) == 0) {
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
			wake_waiting();
			err = ipc_recv(posix_endpoint, reply_slot, &m);
		} else if (answer) {
			err = ipc_reply_recv(posix_endpoint, reply_slot, &m);
		} else {
			err = ipc_recv(posix_endpoint, reply_slot, &m);
		}
	}
}
