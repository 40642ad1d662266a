/* A POSIX process's initial stack (posix-server/exec_stack.c): read back
 * as a libc's start-up code reads it. */
#include <stdlib.h>
#include <string.h>

#include "exec_stack.h"
#include "linux.h"
#include "uapi/errors.h"
#include "uapi/ipc.h"
#include "unit.h"

static void *page_alloc(void *ctx)
{
	return calloc(1, 4096);
}

static void page_free(void *ctx, void *page)
{
	free(page);
}

static void *table_alloc(void *ctx, size_t bytes)
{
	return malloc(bytes);
}

static void table_free(void *ctx, void *table, size_t bytes)
{
	free(table);
}

static const struct as_ops ops = { page_alloc, page_free, NULL, table_alloc, table_free, NULL, NULL,
				   NULL, NULL, NULL, NULL };

#define TOP 0x7FFFF000UL

static uint64_t word(struct aspace *as, uint64_t va)
{
	uint64_t w = 0;

	as_copy_in(as, &w, va, 8);
	return w;
}

static int string_is(struct aspace *as, uint64_t va, const char *s)
{
	char buf[64] = { 0 };

	as_copy_in(as, buf, va, strlen(s) + 1);
	return !strcmp(buf, s);
}

TEST(exec_stack_lays_out_argc_argv_envp_auxv)
{
	struct aspace as;
	struct exec_start s = {
		.argc = 2, .envc = 1, .argv = { "prog", "one" }, .envp = { "HOME=/" },
		.execfn = "/bin/prog", .image = { .entry = 0x401000, .phdr = 0x400040, .phnum = 7 },
		.hwcap = 0x1234, .uid = 0, .gid = 0, .clock_ticks = 100,
		.sysinfo_ehdr = 0x7ffff7ff1000, .minsigstksz = 1360,
	};
	uint64_t sp = 0;

	for (unsigned i = 0; i < 16; i++)
		s.random[i] = (uint8_t)(i + 1);
	as_init(&as, &ops, NULL, 64);
	CHECK_EQ(as_add(&as, TOP - 0x10000, 0x10000, IPC_MAP_READ | IPC_MAP_WRITE, AS_ANON, 0, false), 0);
	CHECK_EQ(exec_stack_build(&as, TOP, &s, &sp), 0);
	CHECK_EQ(sp % 16, 0);
	CHECK(sp < TOP && sp > TOP - 4096);
	CHECK_EQ(word(&as, sp), 2);
	CHECK(string_is(&as, word(&as, sp + 8), "prog"));
	CHECK(string_is(&as, word(&as, sp + 16), "one"));
	CHECK_EQ(word(&as, sp + 24), 0);
	CHECK(string_is(&as, word(&as, sp + 32), "HOME=/"));
	CHECK_EQ(word(&as, sp + 40), 0);
	static const uint64_t want_values[][2] = {
		{ AT_PAGESZ, 4096 }, { AT_ENTRY, 0x401000 }, { AT_PHDR, 0x400040 }, { AT_PHNUM, 7 },
		{ AT_PHENT, 56 }, { AT_HWCAP, 0x1234 }, { AT_CLKTCK, 100 }, { AT_SECURE, 0 },
		{ AT_SYSINFO_EHDR, 0x7ffff7ff1000 }, { AT_MINSIGSTKSZ, 1360 },
	};
	uint64_t auxv = sp + 48, seen = 0;
	for (unsigned i = 0; i < 40; i++, auxv += 16) {
		uint64_t key = word(&as, auxv), value = word(&as, auxv + 8);
		if (key == AT_NULL)
			break;
		seen |= 1UL << key;
		for (unsigned k = 0; k < sizeof(want_values) / sizeof(want_values[0]); k++)
			if (key == want_values[k][0])
				CHECK_EQ(value, want_values[k][1]);
		if (key == AT_EXECFN)
			CHECK(string_is(&as, value, "/bin/prog"));
		if (key == AT_PLATFORM)
			CHECK(string_is(&as, value, "x86_64"));
		if (key == AT_RANDOM) {
			uint8_t r[16];
			CHECK_EQ(as_copy_in(&as, r, value, 16), 0);
			CHECK_EQ(r[0], 1);
			CHECK_EQ(r[15], 16);
		}
	}
	CHECK_EQ(word(&as, auxv), AT_NULL);
	uint64_t want = 1UL << AT_PHDR | 1UL << AT_PHENT | 1UL << AT_PHNUM | 1UL << AT_PAGESZ |
			1UL << AT_ENTRY | 1UL << AT_UID | 1UL << AT_EUID | 1UL << AT_GID |
			1UL << AT_EGID | 1UL << AT_HWCAP | 1UL << AT_CLKTCK | 1UL << AT_SECURE |
			1UL << AT_RANDOM | 1UL << AT_EXECFN | 1UL << AT_PLATFORM | 1UL << AT_SYSINFO_EHDR |
			1UL << AT_MINSIGSTKSZ;
	CHECK_EQ(seen & want, want);
	/* Every word above sp up to the top is inside the stack region. */
	CHECK(auxv + 16 <= TOP);
	as_release(&as);
}

TEST(exec_stack_refuses_a_stack_too_small_or_too_many_arguments)
{
	struct aspace as;
	static char big[3000];
	struct exec_start s = { .argc = 2, .argv = { big, big }, .execfn = "x" };
	uint64_t sp;

	memset(big, 'a', sizeof(big) - 1);
	as_init(&as, &ops, NULL, 64);
	CHECK_EQ(as_add(&as, TOP - 0x1000, 0x1000, IPC_MAP_READ | IPC_MAP_WRITE, AS_ANON, 0, false), 0);
	CHECK_EQ(exec_stack_build(&as, TOP, &s, &sp), -ERR_BAD_ADDRESS);
	s.argc = EXEC_MAX_ARGS + 1;
	CHECK_EQ(exec_stack_build(&as, TOP, &s, &sp), -ERR_INVALID_ARG);
	as_release(&as);
}
