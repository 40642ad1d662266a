/*
 * The supervisor: what happens when a program ends, and its clock.
 *
 * Restart policy: a crash, a hang or an exit with a nonzero status waits
 * BACKOFF_FIRST_MS, doubling with each crash in a row up to
 * BACKOFF_MAX_MS; a program up for STABLE_MS starts counting from 0
 * again; after retries= crashes in a row it is left down. A kill by the
 * operator restarts it at once and is not counted. A program that exits
 * with status 0 is done, except under restart=always, where it counts as
 * a crash. docs/manifest.md, "Supervision", says the same for users.
 */
#include "init.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   10000
#define STABLE_MS        5000

uint64_t now_ms(void)
{
	return (uint64_t)sys_clock() / 1000000;
}

static void program_restart(struct program *p)
{
	char count[32];

	p->restarts++;
	if (program_start(p) == 0)
		printf_limit(&p->log_limit, "init: %s restarted (%s so far)\n", p->m->name,
			     fmt_count(count, sizeof(count), p->restarts, "restart", "restarts"));
}

unsigned program_crashes_in_a_row(const struct program *p, uint64_t now)
{
	if (p->state == PROGRAM_RUNNING && now - p->started_at >= STABLE_MS)
		return 0;
	return p->crashes;
}

void program_died(struct program *p, const char *how, enum death cause)
{
	uint64_t now = now_ms();

	p->crashes = program_crashes_in_a_row(p, now);  /* before started_at moves */
	program_release(p);
	if (cause == DIED_EXIT && p->m->restart != RESTART_ALWAYS) {
		p->state = PROGRAM_EXITED;
		printf_limit_always(&p->log_limit, "init: %s %s\n", p->m->name, how);
		return;
	}
	if (p->m->restart == RESTART_NEVER) {
		if (cause == DIED_CRASH)
			p->crashes++;   /* left down, but `ps` shows it crashed */
		p->state = PROGRAM_DOWN;
		printf_limit_always(&p->log_limit, "init: %s %s at %lu ms; restart=never, left down\n",
				    p->m->name, how, now);
		return;
	}
	if (cause == DIED_KILL) {
		printf_limit(&p->log_limit, "init: %s %s at %lu ms; restarting\n", p->m->name, how, now);
		program_restart(p);
		return;
	}
	if (p->crashes >= p->m->retries) {
		char count[32];
		p->crashes++;           /* this one too: what `ps` shows is what we say */
		p->state = PROGRAM_DOWN;
		printf_limit_always(&p->log_limit, "init: %s %s at %lu ms; gave up after %s in a row, "
				    "left down\n", p->m->name, how, now,
				    fmt_count(count, sizeof(count), p->crashes, "crash", "crashes"));
		return;
	}
	p->crashes++;
	uint64_t delay = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < p->crashes && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	p->state = PROGRAM_WAITING;
	p->restart_at = now + delay;
	printf_limit(&p->log_limit, "init: %s %s; restarting in %lu ms (%u of %u)\n", p->m->name,
		     how, delay, p->crashes, p->m->retries);
}

/* A program's thread still exists (an exit signal may be older than its
 * last restart). */
static bool thread_alive(cap_slot_t thread)
{
	uint64_t info[3];

	return sys_cap_info(thread, (uint64_t)info) == 0 && info[0] == CAP_THREAD;
}

/* Its first thread is gone: an exit with status 0 is a clean end; a
 * nonzero status, or a thread destroyed without exiting, is a crash. */
static void program_ended(struct program *p)
{
	struct task_info info;
	char how[48];
	bool exited = sys_task_info(p->task.task, (uint64_t)&info) == 0 && info.exits > 0;

	if (exited && info.exit_code == 0) {
		program_died(p, "exited", DIED_EXIT);
		return;
	}
	if (exited)
		fmt_snprintf(how, sizeof(how), "exited with status %ld", (long)info.exit_code);
	else
		fmt_snprintf(how, sizeof(how), "ended without exiting");
	program_died(p, how, DIED_CRASH);
}

void supervisor_notified(uint64_t bits)
{
	for (unsigned i = 0; i < manifest.nprograms; i++)
		if ((bits & (1UL << i)) && programs[i].state == PROGRAM_RUNNING &&
		    !thread_alive(programs[i].task.thread))
			program_ended(&programs[i]);
}

void heartbeat_start(struct program *p, struct program_heartbeat *page)
{
	p->heartbeat = page;
	p->heartbeat_beats = 0;
	p->heartbeat_missed = 0;
	p->heartbeat_next = p->started_at + p->m->heartbeat_ms;
}

/* The watchdog's look at a running program's heartbeat: busy at two
 * looks in a row without a beat between them is hung. */
static void heartbeat_look(struct program *p, uint64_t now)
{
	volatile struct program_heartbeat *hb = p->heartbeat;
	uint64_t beats = hb->beats;

	if (hb->busy && beats == p->heartbeat_beats)
		p->heartbeat_missed++;
	else
		p->heartbeat_missed = 0;
	p->heartbeat_beats = beats;
	p->heartbeat_next = now + p->m->heartbeat_ms;
	if (p->heartbeat_missed >= 2) {
		char how[64];
		fmt_snprintf(how, sizeof(how), "hung (busy, no heartbeat for %lu ms)",
			     2 * (uint64_t)p->m->heartbeat_ms);
		program_died(p, how, DIED_CRASH);
	}
}

void supervise(void)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (unsigned i = 0; i < manifest.nprograms; i++) {
		struct program *p = &programs[i];
		if (p->state == PROGRAM_WAITING && p->restart_at <= now)
			program_restart(p);
		if (p->state == PROGRAM_RUNNING && p->heartbeat && p->heartbeat_next <= now)
			heartbeat_look(p, now);
		if (p->state == PROGRAM_WAITING && p->restart_at < next)
			next = p->restart_at;
		if (p->state == PROGRAM_RUNNING && p->heartbeat && p->heartbeat_next < next)
			next = p->heartbeat_next;
	}
	if (next != UINT64_MAX)
		sys_notify_timer(supervisor_notif, SUPERVISOR_BIT_TIMER, next * 1000000);
}
