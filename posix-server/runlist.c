/*
 * The run list: the programs the server starts one after the other
 * (args run=PROG[:ARG...][,PROG...] or runfile=FILE, read by
 * runlist_parse.c), each found as the shell would on PATH (/bin, then
 * /usr/bin of the root filesystem; program_lookup, which the console's
 * `run` uses too) or a `file` of the manifest, the next when no process
 * is left.
 */
#include "exec_stack.h"
#include "memory.h"
#include "posix.h"
#include "runlist_parse.h"
#include "vfs.h"

#include "proto/program.h"

#define RUN_LIST_MAX 8192        /* bytes of the run list (test_posix.py's is near 2.5 KiB) */

const char *const process_environment[PROCESS_ENVIRONMENT] = {
	"HOME=/", "PATH=" PROCESS_PATH, "TERM=vt100"
};

static char run_list[RUN_LIST_MAX];
static char *run_next_item = run_list;
static bool memlog;

long program_lookup(const char *name, char *path, size_t size)
{
	const char *dirs = PROCESS_PATH;
	long first_err = -LINUX_ENOENT;

	if (!*name)
		return -LINUX_ENOENT;
	for (;;) {
		const char *colon = strchr(dirs, ':');
		size_t len = strchr(name, '/') ? 0 : colon ? (size_t)(colon - dirs) : strlen(dirs);
		struct vfs_lookup l;
		long err;
		if (fmt_snprintf(path, size, "%.*s%s%s", (int)len, dirs, len ? "/" : "", name) >=
		    (int)size)
			err = -LINUX_ENAMETOOLONG;
		else
			err = vfs_resolve(VFS_ROOT, path, VFS_FOLLOW, NULL, &l);
		if (!err) {
			const struct vfs_node *n = &vfs_nodes[l.node];
			if (n->type != VFS_FILE || !(n->mode & 0111))
				err = -LINUX_EACCES;
			else if (!n->data)
				err = -LINUX_ENOEXEC;   /* a tmpfs file: its bytes are not one block */
			else
				return l.node;
		}
		/* As execvp: a later directory may have it; the first other
		 * error than "not there" is the one told. */
		if (err != -LINUX_ENOENT && err != -LINUX_ENOTDIR && first_err == -LINUX_ENOENT)
			first_err = err;
		if (!len || !dirs[len])
			return first_err;
		dirs += len + 1;
	}
}

/* The executable called name (program_lookup), or the manifest's `file
 * name`; its path for AT_EXECFN in path. */
static bool program_find(const char *name, const void **file, size_t *size, char *path,
			 size_t path_size)
{
	long node = program_lookup(name, path, path_size);

	if (node >= 0) {
		*file = vfs_nodes[node].data;
		*size = vfs_nodes[node].size;
		return true;
	}
	fmt_snprintf(path, path_size, "%s", name);
	*file = program_file(name, size);
	return *file != NULL;
}

void run_next(void)
{
	static char path[EXE_PATH_MAX];

	for (;;) {
		struct exec_start s = { .argc = 0 };
		s.argc = run_list_next(&run_next_item, s.argv, EXEC_MAX_ARGS);
		if (!s.argc)
			break;
		for (unsigned i = 0; i < PROCESS_ENVIRONMENT; i++)
			s.envp[s.envc++] = process_environment[i];
		const void *file;
		size_t size;
		if (!program_find(s.argv[0], &file, &size, path, sizeof(path))) {
			printf("posix: %s: no such program (not in " PROCESS_PATH " of the root "
			       "filesystem, not a `file` of the manifest)\n", s.argv[0]);
			continue;
		}
		s.execfn = path;
		if (memlog)
			memory_log();
		if (process_start(path_base(path), file, size, &s))
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
