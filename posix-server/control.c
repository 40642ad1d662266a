/*
 * The console's requests (proto/posix.h): the processes for `ps`, a
 * signal by pid for `kill`, a program started with the console as its
 * terminal for `run`, and the keys typed while it runs. They come on the
 * server's endpoint with the badge POSIX_CONTROL_BADGE (the capability
 * registered as POSIX_NAME) and are answered at once.
 */
#include "exec_stack.h"
#include "syscall.h"
#include "tty.h"
#include "vfs.h"

#include "lib/names.h"
#include "proto/posix.h"

void control_init(void)
{
	cap_slot_t cap = slot_alloc();
	long err = cap == CAP_SLOT_NONE ? -ERR_NO_MEMORY
					: sys_cap_copy(posix_endpoint, CAP_SLOT_SELF, cap, CAP_RIGHT_WRITE,
						       POSIX_CONTROL_BADGE);

	if (err >= 0)
		err = ns_register(POSIX_NAME, cap);
	if (err < 0)
		printf("posix: cannot register '%s' for the console: %s\n", POSIX_NAME,
		       mica_strerror(err));
}

static void control_ps(struct msg *m, const uint64_t *w)
{
	struct posix_ps e;
	uint64_t slot = w[0];

	if (slot >= PROCESS_MAX) {
		*m = msg_make(ERR_RANGE, 0);
		return;
	}
	const struct process *p = &processes[slot];
	bool waiting = true;    /* every thread of it waits in a call */
	for (unsigned i = 0; i < THREAD_MAX; i++)
		if (threads[i].state == THREAD_RUNNING && threads[i].proc == p && !threads[i].blocked)
			waiting = false;
	memset(&e, 0, sizeof(e));
	if (p->state == PROCESS_RUNNING || p->state == PROCESS_ZOMBIE) {
		int pgrp = tty_foreground(p->sid);
		e.pid = p->pid;
		e.ppid = p->ppid;
		e.pgid = p->pgid;
		e.sid = p->sid;
		e.state = p->state == PROCESS_ZOMBIE ? POSIX_STATE_ZOMBIE
			  : p->stopped ? POSIX_STATE_STOPPED
			  : waiting ? POSIX_STATE_WAITING : POSIX_STATE_RUNNING;
		e.flags = (pgrp ? POSIX_PS_TERMINAL : 0) |
			  (pgrp && pgrp == p->pgid ? POSIX_PS_FOREGROUND : 0);
		memcpy(e.name, p->name, sizeof(e.name) - 1);
	}
	*m = msg_from_words(0, (const uint64_t *)&e, POSIX_PS_WORDS);
}

static void control_kill(struct msg *m, const uint64_t *w)
{
	struct process from = { .pid = 0, .pgid = 0 };
	struct user_regs r = { .rdi = w[0], .rsi = w[1] };
	int64_t pid = (int64_t)w[0];
	long result;

	/* As a kill(2) from outside every process group: pid 0 and -1 are
	 * not the console's to use. */
	if (pid == 0 || pid == -1 || pid < INT32_MIN + 1 || pid > INT32_MAX)
		result = -LINUX_EINVAL;
	else
		result = posix_kill(&from, &r);
	*m = msg_make(0, 1);
	m->w[0] = (uint64_t)result;
}

static void run(struct msg *m, const uint64_t *w, unsigned words)
{
	static char args[POSIX_RUN_BYTES + 1], path[EXE_PATH_MAX];
	struct exec_start s;
	uint64_t argc = w[0];
	bool ended;
	int status, sig, job = tty_job(&ended, &status, &sig);
	long result;

	if (!words || argc < 1 || argc > EXEC_MAX_ARGS || (words - 1) * 8 > POSIX_RUN_BYTES) {
		*m = msg_make(ERR_INVALID_ARG, 0);
		return;
	}
	memset(args, 0, sizeof(args));
	memcpy(args, &w[1], (words - 1) * 8);
	*m = msg_make(0, 2);
	if (job && !ended) {
		m->w[0] = (uint64_t)-LINUX_EBUSY;
		m->w[1] = (uint64_t)job;
		return;
	}
	memset(&s, 0, sizeof(s));
	char *a = args, *end = args + (words - 1) * 8;
	for (; s.argc < argc && a < end; a += strlen(a) + 1)
		s.argv[s.argc++] = a;
	for (unsigned i = 0; i < PROCESS_ENVIRONMENT; i++)
		s.envp[s.envc++] = process_environment[i];
	unsigned slots = 0;
	for (unsigned i = 0; i < PROCESS_MAX; i++)
		slots += processes[i].state == PROCESS_FREE;
	long node = !slots ? -LINUX_EAGAIN : s.argc != argc ? -LINUX_E2BIG
		    : program_lookup(s.argv[0], path, sizeof(path));
	if (node < 0) {
		result = node;
	} else {
		const struct vfs_node *n = &vfs_nodes[node];
		struct process *p;
		s.execfn = path;
		if (!(p = process_start(path_base(path), n->data, n->size, &s))) {
			result = -LINUX_ENOEXEC;        /* process_start said why */
		} else {
			tty_attach(p);
			result = p->pid;
		}
	}
	m->w[0] = (uint64_t)result;
	m->w[1] = 0;
}

static void terminal(struct msg *m, const uint64_t *w, unsigned words)
{
	uint64_t n = w[0];
	struct posix_job j = { 0, POSIX_JOB_NONE, 0, 0 };
	bool ended;
	int status, sig;

	if (!words || n > POSIX_TERMINAL_BYTES || (n + 7) / 8 > words - 1) {
		*m = msg_make(ERR_INVALID_ARG, 0);
		return;
	}
	if (n)
		tty_console_input((const uint8_t *)&w[1], (unsigned)n);
	j.pid = tty_job(&ended, &status, &sig);
	if (j.pid) {
		j.state = ended ? POSIX_JOB_ENDED : POSIX_JOB_RUNNING;
		j.status = status;
		j.signal = sig;
		if (ended)
			tty_job_told();
	}
	*m = msg_from_words(0, (const uint64_t *)&j, POSIX_JOB_WORDS);
}

void control_request(struct msg *m)
{
	static uint64_t w[IPC_MAX_WORDS];
	unsigned words = (unsigned)ipc_tag_words(m->tag);

	msg_to_words(m, w, IPC_MAX_WORDS);
	switch (ipc_tag_label(m->tag)) {
	case POSIX_PS:
		if (words < 1)
			break;
		control_ps(m, w);
		return;
	case POSIX_KILL:
		if (words < 2)
			break;
		control_kill(m, w);
		return;
	case POSIX_RUN:
		run(m, w, words);
		return;
	case POSIX_TERMINAL:
		terminal(m, w, words);
		return;
	default:
		*m = msg_make(ERR_NO_SYSCALL, 0);
		return;
	}
	*m = msg_make(ERR_INVALID_ARG, 0);
}
