/*
 * The run list: the programs the server starts one after the other
 * (args run=PROG[:ARG...][,PROG...] or runfile=FILE, main.c's comment
 * says how), each from /bin or /usr/bin of the root filesystem or a
 * `file` of the manifest, the next when no process is left.
 */
#include "lib/cpio.h"
#include "posix.h"

#include "proto/program.h"

#define RUN_LIST_MAX 2048        /* bytes of the run list (test_posix.py's is near 1 KiB) */

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

void run_next(void)
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

void run_list_rootfs(const void *archive, size_t size)
{
	rootfs = archive;
	rootfs_size = size;
}

void run_list_setup(const char *args)
{
	char runfile[32], flag[4];

	if (program_arg(args, "runfile", runfile, sizeof(runfile))) {
		if (!run_list_from_file(runfile))
			printf("posix: runfile=%s: no such file, or longer than %d bytes\n", runfile,
			       RUN_LIST_MAX - 1);
	} else if (!program_arg(args, "run", run_list, sizeof(run_list))) {
		run_list[0] = 0;
	}
	memlog = program_arg(args, "memlog", flag, sizeof(flag)) && flag[0] == '1';
}
