/* Tasks a server makes and pages itself (include/lib/task.h). */
#include "lib/mica.h"
#include "lib/task.h"

long task_new(const struct task_spec *spec, struct task_handle *t)
{
	long err;

	t->task = slot_alloc();
	t->thread = slot_alloc();
	struct thread_config cfg = {
		.fields = THREAD_CFG_PAGER | THREAD_CFG_EXCEPTION | THREAD_CFG_IPC_BUFFER |
			  THREAD_CFG_PRIORITY | THREAD_CFG_NAME,
		.pager = spec->pager, .exception = spec->exception,
		.ipc_buffer = spec->ipc_buffer, .priority = spec->priority,
	};
	for (size_t i = 0; spec->name && spec->name[i] && i < sizeof(cfg.name) - 1; i++)
		cfg.name[i] = spec->name[i];
	struct task_config tcfg = {
		.fields = TASK_CFG_SUPERVISOR | (spec->redirect_syscalls ? TASK_CFG_REDIRECT : 0) |
			  (spec->cap_slots ? TASK_CFG_CAP_SLOTS : 0),
		.supervisor = spec->supervisor, .supervisor_bits = spec->supervisor_bits,
		.redirect = spec->redirect_syscalls, .cap_slots = spec->cap_slots,
	};
	if (t->task == CAP_SLOT_NONE || t->thread == CAP_SLOT_NONE)
		err = -ERR_NO_MEMORY;
	else if ((err = sys_obj_create(CAP_TASK, t->task, spec->quota)) >= 0 &&
		 (err = sys_obj_create(CAP_THREAD, t->thread, t->task)) >= 0 &&
		 (err = sys_thread_configure(t->thread, (uint64_t)&cfg)) >= 0)
		err = sys_task_configure(t->task, (uint64_t)&tcfg);
	if (err < 0)
		task_delete(t);
	return err < 0 ? err : 0;
}

static void drop(cap_slot_t *slot)
{
	if (*slot && *slot != CAP_SLOT_NONE) {
		sys_obj_destroy(*slot);
		sys_cap_delete(*slot);
		slot_free(*slot);
	}
	*slot = 0;
}

void task_delete(struct task_handle *t)
{
	drop(&t->thread);
	drop(&t->task);
}
