/*
 * A new process's initial stack, as Linux's execve builds it on x86_64
 * (the System V ABI's process start): at the stack pointer argc, then
 * argv[] and NULL, envp[] and NULL, the auxiliary vector of (key, value)
 * pairs ending in AT_NULL; above them the 16 random bytes of AT_RANDOM,
 * the platform string and the argument, environment and AT_EXECFN strings.
 * The stack pointer is 16-byte aligned.
 *
 * Pure logic (host unit tests): it writes through as_copy_out.
 */
#ifndef MICA_POSIX_EXEC_STACK_H
#define MICA_POSIX_EXEC_STACK_H

#include <stdint.h>

#include "lib/aspace.h"
#include "lib/loader.h"

#define EXEC_MAX_ARGS 32        /* argv and envp entries each */

struct exec_start {
	unsigned argc, envc;
	const char *argv[EXEC_MAX_ARGS];
	const char *envp[EXEC_MAX_ARGS];
	const char *execfn;         /* AT_EXECFN: the path it was started as */
	struct loader_image image;  /* AT_ENTRY, AT_PHDR, AT_PHNUM */
	uint64_t base;              /* AT_BASE: where the interpreter is, or 0 */
	uint8_t random[16];         /* AT_RANDOM's bytes */
	uint64_t hwcap, hwcap2;     /* AT_HWCAP (CPUID 1 EDX), AT_HWCAP2 */
	uint64_t minsigstksz;       /* AT_MINSIGSTKSZ: the most a signal frame takes */
	uint64_t uid, gid;          /* AT_UID and AT_EUID, AT_GID and AT_EGID */
	uint64_t clock_ticks;       /* AT_CLKTCK (times(2) units per second) */
	uint64_t sysinfo_ehdr;      /* AT_SYSINFO_EHDR: the vDSO's ELF header, or 0 */
};

/* Lay out the stack whose highest byte is below top (writable memory of
 * as) and give the stack pointer to start with in *sp. 0, or a negative
 * ERR_* of as_copy_out (the stack region is too small: -ERR_BAD_ADDRESS),
 * or -ERR_INVALID_ARG (too many arguments). */
long exec_stack_build(struct aspace *as, uint64_t top, const struct exec_start *s, uint64_t *sp);

#endif
