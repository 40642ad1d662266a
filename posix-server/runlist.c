/*
 * The run list: the programs the server starts one after the other
 * (args run=PROG[:ARG...][,PROG...] or runfile=FILE, read by
 * runlist_parse.c), each from /bin or /usr/bin of the root filesystem or
 * a `file` of the manifest, the next when no process is left.
 */
#include "lib/cpio.h"
#include "exec_stack.h"
#include "memory.h"
#include "posix.h"
#include "runlist_parse.h"

#include "proto/program.h"

#define RUN_LIST_MAX 8192        /* bytes of the run list (test_posix.py's is near 2.5 KiB) */

/* The environment every process starts with. */
static const char *const environment[] = { "HOME=/", "PATH=/bin:/usr/bin", "TERM=vt100" };

static char run_list[RUN_LIST_MAX];
static const void *rootfs;
static size_t rootfs_size;
static char *run_next_item = run_list;
static bool memlog;

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

void run_next(void)
{
	for (;;) {
		struct exec_start s = { .argc = 0 };
		s.argc = run_list_next(&run_next_item, s.argv, EXEC_MAX_ARGS);
		if (!s.argc)
			break;
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

void run_list_rootfs(const void *archive, size_t size)
{
	rootfs = archive;
	rootfs_size = size;
}

void run_list_setup(const char *args)
{
	static char value[RUN_LIST_MAX];
	char runfile[32], flag[4];
	size_t size;
	const char *text;

	run_list[0] = 0;
	if (program_arg(args, "runfile", runfile, sizeof(runfile))) {
		if (!(text = program_file(runfile, &size)) ||
		    !run_list_from_text(text, size, run_list, sizeof(run_list))) {
			printf("posix: runfile=%s: no such file, longer than %d bytes or holding "
			       "bytes 0x1e, 0x1f\n", runfile, RUN_LIST_MAX - 1);
			run_list[0] = 0;
		}
	} else if (program_arg(args, "run", value, sizeof(value)) &&
		   !run_list_from_arg(value, run_list, sizeof(run_list))) {
		printf("posix: run=%s: ends in a lone backslash, too long or holding bytes "
		       "0x1e, 0x1f\n", value);
		run_list[0] = 0;
	}
	memlog = program_arg(args, "memlog", flag, sizeof(flag)) && flag[0] == '1';
}
