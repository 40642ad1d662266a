/* A new process's initial stack (exec_stack.h). */
#include "exec_stack.h"
#include "linux.h"

#include "lib/string.h"
#include "uapi/errors.h"

#define AUXV_PAIRS 21           /* the entries below, AT_NULL included */

/* Copy len bytes to just below *at, which moves down past them. */
static long push(struct aspace *as, uint64_t *at, const void *bytes, size_t len)
{
	*at -= len;
	return as_copy_out(as, *at, bytes, len);
}

static long push_string(struct aspace *as, uint64_t *at, const char *s, uint64_t *addr)
{
	long err = push(as, at, s, strlen(s) + 1);

	*addr = *at;
	return err;
}

long exec_stack_build(struct aspace *as, uint64_t top, const struct exec_start *s, uint64_t *sp)
{
	uint64_t at = top - 8, execfn, platform, random, argv[EXEC_MAX_ARGS], envp[EXEC_MAX_ARGS];
	long err;

	if (s->argc > EXEC_MAX_ARGS || s->envc > EXEC_MAX_ARGS)
		return -ERR_INVALID_ARG;
	/* The strings, highest first: AT_EXECFN's, the environment's, the
	 * arguments', then the platform and the random bytes. */
	if ((err = push_string(as, &at, s->execfn, &execfn)))
		return err;
	for (unsigned i = s->envc; i-- > 0;)
		if ((err = push_string(as, &at, s->envp[i], &envp[i])))
			return err;
	for (unsigned i = s->argc; i-- > 0;)
		if ((err = push_string(as, &at, s->argv[i], &argv[i])))
			return err;
	if ((err = push_string(as, &at, "x86_64", &platform)))
		return err;
	at &= ~15UL;
	if ((err = push(as, &at, s->random, sizeof(s->random))))
		return err;
	random = at;

	const uint64_t auxv[AUXV_PAIRS][2] = {
		{ s->sysinfo_ehdr ? AT_SYSINFO_EHDR : AT_IGNORE, s->sysinfo_ehdr },
		{ AT_MINSIGSTKSZ, s->minsigstksz }, { AT_PHDR, s->image.phdr }, { AT_PHENT, 56 }, { AT_PHNUM, s->image.phnum },
		{ AT_PAGESZ, 4096 }, { AT_BASE, s->base }, { AT_FLAGS, 0 }, { AT_ENTRY, s->image.entry },
		{ AT_UID, s->uid }, { AT_EUID, s->uid }, { AT_GID, s->gid }, { AT_EGID, s->gid },
		{ AT_PLATFORM, platform }, { AT_HWCAP, s->hwcap }, { AT_HWCAP2, s->hwcap2 },
		{ AT_CLKTCK, s->clock_ticks }, { AT_SECURE, 0 }, { AT_RANDOM, random },
		{ AT_EXECFN, execfn }, { AT_NULL, 0 },
	};
	/* The vectors, aligned so that argc lands on a 16-byte boundary. */
	unsigned words = 1 + s->argc + 1 + s->envc + 1 + 2 * AUXV_PAIRS;
	at &= ~15UL;
	if (words & 1)
		at -= 8;
	uint64_t zero = 0, argc = s->argc;
	if ((err = push(as, &at, auxv, sizeof(auxv))) || (err = push(as, &at, &zero, 8)) ||
	    (err = push(as, &at, envp, s->envc * 8)) || (err = push(as, &at, &zero, 8)) ||
	    (err = push(as, &at, argv, s->argc * 8)) || (err = push(as, &at, &argc, 8)))
		return err;
	*sp = at;
	return 0;
}
