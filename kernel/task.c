#include "task.h"
#include "cpu.h"
#include "decode.h"
#include "gdt.h"
#include "ioport.h"
#include "klog.h"
#include "mapdb.h"
#include "kmem.h"
#include "notification.h"
#include "paging.h"
#include "sched.h"
#include "syscall.h"
#include "thread.h"
#include "uaccess.h"

#include "lib/string.h"
#include "uapi/errors.h"

bool task_charge(struct task *t, uint64_t bytes)
{
	/* Compared as what is left, so a huge request cannot wrap around. */
	if (bytes > t->quota_limit - t->quota_used)
		return false;
	t->quota_used += bytes;
	return true;
}

void task_refund(struct task *t, uint64_t bytes)
{
	kassert(t->quota_used >= bytes);
	t->quota_used -= bytes;
}

struct task *task_create(struct task *parent, uint64_t quota)
{
	/* The child's quota is carved out of the parent's. */
	if (parent && !task_charge(parent, quota))
		return NULL;
	struct task *t = kobject_alloc(parent, CAP_TASK, sizeof(*t));
	if (!t)
		goto fail_quota;
	t->quota_limit = quota;
	t->quota_parent = parent;
	t->objects.charged_next = t->objects.charged_prev = &t->objects;
	/* The task pays for its own page tables and capability table. */
	if (!task_charge(t, FRAME_SIZE))
		goto fail_task;
	t->pt_root = pt_create();
	if (!t->pt_root) {
		task_refund(t, FRAME_SIZE);
		goto fail_task;
	}
	if (cap_table_init(&t->caps, t, TASK_CAP_SLOTS))
		goto fail_pt;
	return t;

fail_pt:
	pt_destroy(t->pt_root);
	task_refund(t, FRAME_SIZE);
	t->pt_root = 0;
fail_task:
	t->quota_parent = NULL;   /* nothing carved yet to give back twice */
	kobject_put(&t->obj);
fail_quota:
	if (parent)
		task_refund(parent, quota);
	return NULL;
}

/* The capability table (emptied first, when it is being destroyed). */
static void free_cap_table(struct task *t)
{
	cap_table_free(&t->caps, t);
}

void task_destroy(struct task *t)
{
	/* Every thread running in it stops for good, whoever paid for it. */
	while (t->threads)
		kobject_destroy(&t->threads->obj);
	/* Every object this task paid for dies with it: threads stop,
	 * endpoints and notifications wake their waiters with ERR_DELETED. */
	for (;;) {
		struct kobject *o = t->objects.charged_next;
		while (o != &t->objects && o->dead)
			o = o->charged_next;
		if (o == &t->objects)
			break;
		kobject_get(o);
		kobject_destroy(o);
		kobject_put(o);
	}
	cap_table_clear(&t->caps);
	if (t->pt_root) {
		/* We may be running on these tables (a task destroying itself):
		 * leave them for the kernel's before they are freed. */
		if (read_cr3() == t->pt_root)
			write_cr3(paging_kernel_root());
		t->dying = true;       /* its tables go whole below */
		mapdb_remove_space(t);
		uint64_t frames = t->pt_tables + 1;
		pt_destroy(t->pt_root);
		t->pt_tables = 0;
		task_refund(t, frames * FRAME_SIZE);
		t->pt_root = 0;
	}
	task_free_io_bitmap(t);
	kobject_set_ref((struct kobject **)&t->supervisor, NULL);
	free_cap_table(t);
	/* Nothing is charged to a dead task any more: what its quota does not
	 * cover now goes back to the parent at once (a client keeping a
	 * capability to one of its endpoints must not pin it all); what is
	 * left returns as its dead objects are freed. */
	if (t->quota_parent) {
		uint64_t unused = t->quota_limit - t->quota_used;
		t->quota_limit -= unused;
		task_refund(t->quota_parent, unused);
	}
}

void task_free(struct task *t)
{
	free_cap_table(t);
	kassert(t->quota_used == 0);
	if (t->quota_parent)
		task_refund(t->quota_parent, t->quota_limit);
}

/* ---- system calls ---- */

long sys_task_configure(uint64_t slot, uint64_t cfg_ptr)
{
	struct task *t;
	struct task_config cfg;
	struct cap *sup = NULL;

	LOOKUP_TASK(t, slot, CAP_RIGHT_CONTROL);
	if (copy_from_user(current->task, &cfg, cfg_ptr, sizeof(cfg)))
		REJECT(ERR_BAD_ADDRESS, "config %lx not readable", cfg_ptr);
	if (cfg.fields & ~7UL)
		REJECT(ERR_INVALID_ARG, "unknown fields %#lx", cfg.fields);
	/* The supervisor watches the task: the task itself cannot detach or
	 * change it, whether it names itself by CAP_SLOT_SELF or a capability. */
	if ((cfg.fields & TASK_CFG_SUPERVISOR) && t == current->task)
		REJECT(ERR_NO_RIGHTS, "a task cannot change its own supervisor");
	if ((cfg.fields & TASK_CFG_SUPERVISOR) && cfg.supervisor != CAP_SLOT_NONE) {
		LOOKUP(sup, cfg.supervisor, CAP_NOTIFICATION, CAP_RIGHT_WRITE);
		if (cfg.supervisor_bits == 0 || (cfg.supervisor_bits >> 63))
			REJECT(ERR_INVALID_ARG, "supervisor bits %#lx: need 1..2^63-1",
			       cfg.supervisor_bits);
	}
	if ((cfg.fields & TASK_CFG_REDIRECT) && cfg.redirect > TASK_REDIRECT_ARGS)
		REJECT(ERR_INVALID_ARG, "redirect %lu: not a TASK_REDIRECT_ value", cfg.redirect);
	struct kobject *sup_obj = sup ? sup->obj : NULL;   /* (the resize moves slots) */

	/* The table first: the only part that can fail once the config is
	 * checked, so a refused call changes nothing. */
	if (cfg.fields & TASK_CFG_CAP_SLOTS) {
		if (cfg.cap_slots == 0 || cfg.cap_slots > TASK_CAP_SLOTS_MAX)
			REJECT(ERR_INVALID_ARG, "cap_slots %lu: need 1..%u", cfg.cap_slots,
			       TASK_CAP_SLOTS_MAX);
		int err = cap_table_resize(&t->caps, t, (uint32_t)cfg.cap_slots);
		if (err == -ERR_SLOT_IN_USE)
			REJECT(ERR_SLOT_IN_USE, "a slot at or past %lu is filled", cfg.cap_slots);
		if (err)
			REJECT(ERR_NO_MEMORY, "no quota or memory for %lu slots", cfg.cap_slots);
	}
	if (cfg.fields & TASK_CFG_SUPERVISOR) {
		kobject_set_ref((struct kobject **)&t->supervisor, sup_obj);
		t->supervisor_bits = cfg.supervisor_bits;
	}
	if (cfg.fields & TASK_CFG_REDIRECT)
		t->redirect_syscalls = (uint8_t)cfg.redirect;
	return 0;
}

long sys_task_info(uint64_t slot, uint64_t out)
{
	struct task *t;

	LOOKUP_TASK(t, slot, CAP_RIGHT_READ);
	struct task_info info = {
		.quota_limit = t->quota_limit,
		.quota_used = t->quota_used,
		.threads = t->nthreads,
		.free_frames = kmem_frames.free + pt_spare_tables(),
		.small_block_frames = kmem_small_frames,
		.cap_slots = t->caps.nslots,
		.caps_used = t->caps.used,
		.exits = t->exits,
		.exit_code = t->exit_code,
	};
	if (copy_to_user(current->task, out, &info, sizeof(info)))
		REJECT(ERR_BAD_ADDRESS, "buffer %lx not writable", out);
	return 0;
}
