/* cpio "newc" archives (include/lib/cpio.h). */
#include "lib/cpio.h"

#include "lib/string.h"

#define CPIO_HEADER 110
#define CPIO_FIELDS 13
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_NAMESIZE = 11 };

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Eight hex digits: the value, or -1. */
static int64_t hex8(const char *s)
{
	int64_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

int cpio_next(const void *archive, size_t size, size_t *offset, struct cpio_entry *e)
{
	const char *a = archive;
	size_t at = *offset;
	int64_t f[CPIO_FIELDS];

	if (at >= size)
		return 0;
	if (size - at < CPIO_HEADER || memcmp(a + at, "070701", 6))
		return -1;
	for (int i = 0; i < CPIO_FIELDS; i++)
		if ((f[i] = hex8(a + at + 6 + 8 * i)) < 0)
			return -1;
	size_t name_at = at + CPIO_HEADER, namesize = (size_t)f[F_NAMESIZE];
	if (namesize == 0 || namesize > size - name_at || a[name_at + namesize - 1])
		return -1;
	size_t data_at = pad4(name_at + namesize), filesize = (size_t)f[F_FILESIZE];
	if (data_at > size || filesize > size - data_at)
		return -1;
	e->name = a + name_at;
	if (!strcmp(e->name, "TRAILER!!!"))
		return 0;
	e->data = a + data_at;
	e->size = filesize;
	e->mode = (uint32_t)f[F_MODE];
	e->mtime = (uint32_t)f[F_MTIME];
	*offset = pad4(data_at + filesize);
	return 1;
}

static const char *skip_root(const char *p)
{
	for (;;) {
		if (p[0] == '/')
			p++;
		else if (p[0] == '.' && p[1] == '/')
			p += 2;
		else
			return p;
	}
}

bool cpio_find(const void *archive, size_t size, const char *path, struct cpio_entry *e)
{
	size_t offset = 0;

	path = skip_root(path);
	while (cpio_next(archive, size, &offset, e) == 1)
		if (!strcmp(skip_root(e->name), path))
			return true;
	return false;
}
