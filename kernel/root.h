/*
 * The root task: loaded by the kernel from a boot module at the end of
 * boot, it receives every resource the kernel does not keep for itself.
 */
#ifndef MICA_ROOT_H
#define MICA_ROOT_H

#include <stdint.h>

#include "boot.h"

extern struct task *root_task;      /* may not be destroyed */
extern struct thread *root_thread;  /* its first thread: its exit ends the system */

/* Create the root task from the module named root_name, give it every
 * resource the kernel does not keep, and make its thread ready. Reports
 * and stops the boot (panic) if the module is missing or malformed. */
void root_task_create(const char *root_name, const struct boot_module *mods, int nmods,
		      const char *cmdline, const struct mm_range *usable, int nusable,
		      uint64_t kmem_bytes);

/* The root thread has exited with status: report it and the fast-path hit
 * count, and stop the machine (tests read their result from QEMU's exit
 * status). */
void root_thread_exited(uint64_t status) __attribute__((noreturn));

/* The root thread has been stopped (a fault nobody handles, thread.c):
 * report why; the test kernel (MICA_TEST) then stops the machine with
 * the failure status, so a kernel test that faults ends its run instead
 * of leaving it idle. Other builds carry on without it. */
void root_thread_stopped(const char *why);

#endif
