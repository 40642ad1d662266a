/*
 * mremap(2) of private mappings, as Linux runs it: an anonymous mapping
 * shrunk (the tail gone), grown in place (the space after it free) and
 * moved (MREMAP_MAYMOVE, the space after it taken), its bytes kept;
 * MREMAP_FIXED onto a mapping (which goes); MREMAP_DONTUNMAP (the old
 * range mapped and empty); a private mapping of the program's file
 * grown, its next bytes the file's, one of a tmpfs file moved; the errors (EINVAL: bad flags, old address not aligned,
 * FIXED without MAYMOVE, overlapping ranges; EFAULT: old range not one
 * mapping; ENOMEM: no room to grow without MAYMOVE); glibc's and musl's
 * realloc of a large block (mremap underneath) keeping its bytes.
 *
 * Every line it prints is the same on Linux and on Mica.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ENOMEM) X(EINVAL) X(EFAULT)
#include "check.h"

#define PAGE 4096UL

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static uint8_t *anon(size_t bytes, int prot)
{
	void *p = mmap(NULL, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void fill(uint8_t *p, size_t pages, unsigned seed)
{
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE + (i * 7) % PAGE] = (uint8_t)(i + seed) | 1;
}

/* How many of pages hold the byte fill gave them. */
static size_t kept(const uint8_t *p, size_t pages, unsigned seed)
{
	size_t n = 0;

	for (size_t i = 0; i < pages; i++)
		n += p[i * PAGE + (i * 7) % PAGE] == ((uint8_t)(i + seed) | 1);
	return n;
}

/* Is the page at p mapped (a child reads it: SIGSEGV or not)? */
static int mapped(const volatile uint8_t *p)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		(void)*p;
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void mremap_show(const char *what, void *r)
{
	show(what, r == MAP_FAILED ? -1 : 0);
}

static void anonymous(void)
{
	/* 8 pages, a hole of 8 after them (unmapped), then a guard mapping. */
	uint8_t *base = anon(24 * PAGE, PROT_READ | PROT_WRITE);
	if (!base) {
		printf("anonymous: no room\n");
		return;
	}
	munmap(base + 8 * PAGE, 8 * PAGE);
	fill(base, 8, 1);

	uint8_t *r = mremap(base, 8 * PAGE, 4 * PAGE, 0);
	printf("shrink: in place %d, %zu of 4 kept, tail mapped %d\n", r == base, kept(base, 4, 1),
	       mapped(base + 5 * PAGE));
	r = mremap(base, 4 * PAGE, 12 * PAGE, 0);
	int zero = r == base && base[10 * PAGE] == 0;
	printf("grow in place: in place %d, %zu of 4 kept, new page zero %d, writable %d\n",
	       r == base, kept(base, 4, 1), zero, r == base && (base[10 * PAGE] = 5) == 5);
	fill(base, 12, 2);
	errno = 0;
	r = mremap(base, 12 * PAGE, 20 * PAGE, 0);
	mremap_show("grow into the guard without MAYMOVE", r);
	r = mremap(base, 12 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
	int moved = r != MAP_FAILED && r != base;
	printf("grow moving: moved %d, %zu of 12 kept, old range mapped %d\n", moved,
	       moved ? kept(r, 12, 2) : 0, mapped(base));
	if (moved) {
		printf("grown tail zero %d\n", r[63 * PAGE] == 0 && r[40 * PAGE + 1] == 0);
		fill(r, 64, 3);
		/* A shrinking move to a fixed address over another mapping. */
		uint8_t *dst = anon(16 * PAGE, PROT_READ);
		uint8_t *f = dst ? mremap(r, 64 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst)
				 : MAP_FAILED;
		printf("fixed: at %d, %zu of 8 kept, writable %d, old mapped %d, dst tail mapped %d\n",
		       f == dst, f == dst ? kept(dst, 8, 3) : 0, f == dst && (dst[1] = 9) == 9,
		       mapped(r + 10 * PAGE), dst ? mapped(dst + 12 * PAGE) : -1);
		if (f == dst) {
			/* DONTUNMAP: the old range stays, empty. */
			uint8_t *d = mremap(dst, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
					   NULL);
			mremap_show("dontunmap", d);
			printf("dontunmap: moved %d, %zu of 8 kept, written %d, old mapped %d, old zero %d\n",
			       d != MAP_FAILED && d != dst, d != MAP_FAILED ? kept(d, 8, 3) : 0,
			       d != MAP_FAILED && d[1] == 9,
			       mapped(dst), dst[PAGE + 7] == 0 && dst[1] == 0);
			if (d != MAP_FAILED && d != dst)
				munmap(d, 8 * PAGE);
			munmap(dst, 16 * PAGE);
		}
	}
	munmap(base, 24 * PAGE);
}

static void errors(void)
{
	uint8_t *p = anon(8 * PAGE, PROT_READ | PROT_WRITE), *q = anon(8 * PAGE, PROT_READ);
	if (!p || !q) {
		printf("errors: no room\n");
		return;
	}
	mremap_show("bad flags", mremap(p, PAGE, 2 * PAGE, 0x80));
	mremap_show("old address not aligned", mremap(p + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
	mremap_show("new length 0", mremap(p, PAGE, 0, MREMAP_MAYMOVE));
	mremap_show("fixed without maymove", mremap(p, PAGE, PAGE, MREMAP_FIXED, q));
	mremap_show("fixed new address not aligned",
		    mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q + 1));
	mremap_show("fixed overlapping", mremap(p, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
						  p + 2 * PAGE));
	mremap_show("dontunmap other length",
		    mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	mremap_show("old range past its mapping", mremap(p, 16 * PAGE, 20 * PAGE, MREMAP_MAYMOVE));
	munmap(q, 8 * PAGE);
	mremap_show("old range unmapped", mremap(q, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
	mremap_show("no room anywhere", mremap(p, PAGE, 1UL << 46, MREMAP_MAYMOVE));
	mremap_show("longer than user space", mremap(p, PAGE, 1UL << 47, MREMAP_MAYMOVE));
	printf("still there: %d\n", mapped(p + 7 * PAGE));
	munmap(p, 8 * PAGE);
}

/* A private mapping of the program's own file grown: its next pages are
 * the file's. */
static void file_grown(void)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	static uint8_t want[4 * PAGE];

	if (fd < 0 || pread(fd, want, sizeof(want), 0) != (ssize_t)sizeof(want)) {
		printf("file: program not read\n");
		return;
	}
	uint8_t *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	uint8_t *g = m == MAP_FAILED ? MAP_FAILED : (m[5] = 0xEE, mremap(m, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE));
	want[5] = 0xEE;
	if (g == MAP_FAILED) {
		show("file grow", -1);
	} else {
		int right = 0;
		for (size_t i = 0; i < sizeof(want); i++)
			right += g[i] == want[i];
		printf("file grow: %d of %zu bytes right\n", right, sizeof(want));
		munmap(g, 4 * PAGE);
	}
	close(fd);
}

/* A private mapping of a tmpfs file shrunk and moved, its bytes kept. */
static void file_moved(void)
{
	char path[] = "/tmp/mremap-XXXXXX";
	int fd = mkstemp(path);
	uint8_t buf[PAGE];

	if (fd < 0) {
		printf("file: no temporary file\n");
		return;
	}
	unlink(path);
	for (int i = 0; i < 6; i++) {
		for (size_t j = 0; j < PAGE; j++)
			buf[j] = (uint8_t)(i * 31 + j);
		if (write(fd, buf, PAGE) != (ssize_t)PAGE)
			break;
	}
	uint8_t *m = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	uint8_t *dst = anon(8 * PAGE, PROT_READ);
	if (m == MAP_FAILED || !dst) {
		printf("file: no mapping\n");
		close(fd);
		return;
	}
	m[5] = 0xEE;
	uint8_t *g = mremap(m, 6 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (g == MAP_FAILED) {
		show("file move", -1);
	} else {
		int right = 0;
		for (size_t i = 0; i < 3 * PAGE; i++)
			right += g[i] == (i == 5 ? 0xEE : (uint8_t)((i / PAGE) * 31 + i % PAGE));
		printf("file move: at %d, %d of %lu bytes right, old mapped %d\n", g == dst, right,
		       3 * PAGE, mapped(m));
	}
	munmap(dst, 8 * PAGE);
	close(fd);
}

static void reallocs(void)
{
	size_t n = 1 << 20;
	uint8_t *p = malloc(n);
	int right = 0, ok = p != NULL;

	for (size_t i = 0; ok && i < n; i += 97)
		p[i] = (uint8_t)(i * 13);
	for (size_t size = 2 * n; ok && size <= 64 * n; size *= 2) {
		uint8_t *q = realloc(p, size);
		if (!q) {
			ok = 0;
			break;
		}
		p = q;
		p[size - 1] = 1;
	}
	for (size_t i = 0; ok && i < n; i += 97)
		right += p[i] == (uint8_t)(i * 13);
	printf("realloc 1 MiB to 64 MiB: %s, %d of %zu bytes kept\n", ok ? "ok" : "failed", right,
	       (n + 96) / 97);
	if (ok && (p = realloc(p, n / 2)))
		printf("realloc down: %d\n", p[97] == (uint8_t)(97 * 13));
	free(p);
}

int main(void)
{
	anonymous();
	errors();
	file_grown();
	file_moved();
	reallocs();
	printf("mremap: done\n");
	return 0;
}
