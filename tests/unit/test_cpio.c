/* cpio newc archives (lib/cpio.c): the POSIX server's root filesystem
 * and init's boot-module bundle. */
#include <stdio.h>
#include <string.h>

#include "lib/cpio.h"
#include "unit.h"

static char archive[3 * 4096] __attribute__((aligned(4096)));
static size_t used;
#define MTIME 0x65A0BC00u       /* 2024-01-12, every entry's */

/* Append one newc entry whose name field is namesize bytes (the name,
 * then NULs). */
static void add_named(const char *name, size_t namesize, const char *data, unsigned mode)
{
	size_t filesize = strlen(data);

	used += (size_t)sprintf(archive + used,
				"070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1, mode,
				0, 0, 1, MTIME, filesize, 0, 0, 0, 0, namesize, 0);
	memcpy(archive + used, name, strlen(name));
	used = (used + namesize + 3) & ~(size_t)3;
	memcpy(archive + used, data, filesize);
	used = (used + filesize + 3) & ~(size_t)3;
}

/* Append one newc entry, as `cpio -H newc` writes it. */
static void add(const char *name, const char *data, unsigned mode)
{
	add_named(name, strlen(name) + 1, data, mode);
}

static void build(void)
{
	memset(archive, 0, sizeof(archive));
	used = 0;
	add("bin", "", 040755);
	add("bin/hello", "hello bytes", 0100755);
	add("./etc/hosts", "127.0.0.1 localhost\n", 0100644);
	add("TRAILER!!!", "", 0);
}

TEST(cpio_finds_entries_by_path)
{
	struct cpio_entry e;

	build();
	CHECK(cpio_find(archive, used, "bin/hello", &e));
	CHECK_EQ(e.size, 11);
	CHECK(!memcmp(e.data, "hello bytes", 11));
	CHECK_EQ(e.mode, 0100755);
	CHECK_EQ(e.mtime, MTIME);
	CHECK(cpio_find(archive, used, "/bin/hello", &e));
	CHECK(cpio_find(archive, used, "/etc/hosts", &e));
	CHECK_EQ(e.size, 20);
	CHECK(cpio_find(archive, used, "bin", &e));
	CHECK_EQ(e.mode, 040755);
	CHECK(!cpio_find(archive, used, "bin/hell", &e));
	CHECK(!cpio_find(archive, used, "TRAILER!!!", &e));
}

/* tools/mkbundle.c's bundle: names padded with NULs so that each entry's
 * data starts on a page; a name is read up to its first NUL. */
TEST(cpio_reads_names_padded_to_put_data_on_a_page)
{
	struct cpio_entry e;

	memset(archive, 0, sizeof(archive));
	used = 0;
	add_named("e1000", 4096 - 110, "driver", 0100444);
	add_named("notes.conf", 2 * 4096 - used - 110, "some notes", 0100444);
	add("TRAILER!!!", "", 0);
	CHECK(cpio_find(archive, used, "e1000", &e));
	CHECK(e.data == archive + 4096);
	CHECK_EQ(e.size, 6);
	CHECK(cpio_find(archive, used, "notes.conf", &e));
	CHECK(e.data == archive + 2 * 4096);
	CHECK(!memcmp(e.data, "some notes", 10));
	CHECK(!strcmp(e.name, "notes.conf"));
}

TEST(cpio_walks_to_the_trailer)
{
	struct cpio_entry e;
	size_t offset = 0;
	int n = 0;

	build();
	while (cpio_next(archive, used, &offset, &e) == 1)
		n++;
	CHECK_EQ(n, 3);
	CHECK_EQ(cpio_next(archive, used, &offset, &e), 0);
}

TEST(cpio_refuses_malformed_archives)
{
	struct cpio_entry e;
	size_t offset = 0;

	build();
	/* Cut inside the first entry's header, name, and the second's data. */
	CHECK_EQ(cpio_next(archive, 100, &offset, &e), -1);
	CHECK_EQ(cpio_next(archive, 112, &offset, &e), -1);
	CHECK(!cpio_find(archive, 116 + 110 + 10 + 4, "bin/hello", &e));   /* 4 of its 11 bytes */
	/* A bad magic, a bad hex digit. */
	archive[5] = '2';
	CHECK_EQ(cpio_next(archive, used, &offset, &e), -1);
	build();
	archive[6 + 8 * 6 + 3] = 'x';
	CHECK_EQ(cpio_next(archive, used, &offset, &e), -1);
	/* A name size past the end, and a name without its NUL. */
	build();
	memcpy(archive + 6 + 8 * 11, "FFFFFFFF", 8);
	CHECK_EQ(cpio_next(archive, used, &offset, &e), -1);
	build();
	memcpy(archive + 6 + 8 * 11, "00000002", 8);
	CHECK_EQ(cpio_next(archive, used, &offset, &e), -1);
	/* A file size past the end. */
	build();
	memcpy(archive + 6 + 8 * 6, "7FFFFFFF", 8);
	CHECK_EQ(cpio_next(archive, used, &offset, &e), -1);
	CHECK_EQ(offset, 0);
}
