/* The control protocol (proto/init.h): what the console asks init. */
#include "init.h"

static void memory_report(struct msg *m)
{
	struct init_memory mem = { .ram_pages = ram_pages_total(), .ram_pages_free = ram_pages_free() };
	struct task_info ti;

	if (sys_task_info(ROOT_SLOT_TASK, (uint64_t)&ti) == 0) {
		mem.kernel_frames_free = ti.free_frames;
		mem.quota_used = ti.quota_used;
		mem.quota_limit = ti.quota_limit;
		mem.kernel_small_frames = ti.small_block_frames;
	}
	*m = msg_from_words(0, (const uint64_t *)&mem, INIT_MEMORY_WORDS);
}

static void program_report(struct program *p, struct msg *m)
{
	uint64_t now = now_ms();
	uint64_t w[INIT_NAME_WORDS + 4] = { 0 };

	memcpy(w, p->m->name, strnlen(p->m->name, INIT_NAME_WORDS * 8));
	w[4] = p->state;
	w[5] = p->restarts;
	w[6] = program_crashes_in_a_row(p, now);
	w[7] = p->state == PROGRAM_WAITING && p->restart_at > now ? p->restart_at - now : 0;
	*m = msg_from_words(0, w, INIT_NAME_WORDS + 4);
}

static long start(struct program *from, struct program *p)
{
	if (!p)
		return ERR_INVALID_ARG;
	if (p->state == PROGRAM_RUNNING || p->state == PROGRAM_WAITING)
		return ERR_BUSY;
	if (p->state == PROGRAM_NO_DEVICE && !program_claim_device(p))
		return ERR_RANGE;
	p->crashes = 0;
	printf_limited("init: starting %s (asked by %s)\n", p->m->name, from->m->name);
	return program_start(p) < 0 ? ERR_RANGE : 0;
}

void control_request(struct program *from, struct msg *m)
{
	uint64_t label = ipc_tag_label(m->tag);
	long err = 0;

	if (!from->m->control) {
		err = ERR_NO_RIGHTS;
	} else if (label == INIT_MEMORY) {
		memory_report(m);
		return;
	} else if (label == INIT_PROGRAM) {
		if (m->w[0] < manifest.nprograms) {
			program_report(&programs[m->w[0]], m);
			return;
		}
		err = ERR_RANGE;
	} else if (label == INIT_KILL) {
		struct program *p = program_named(m);
		if (!p)
			err = ERR_INVALID_ARG;
		else if (p->state != PROGRAM_RUNNING)
			err = ERR_BUSY;
		else
			program_died(p, "killed", DIED_KILL);
	} else if (label == INIT_START) {
		err = start(from, program_named(m));
	} else {
		err = ERR_NO_SYSCALL;
	}
	*m = msg_make((uint64_t)err, 0);
}
