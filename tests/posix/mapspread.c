/*
 * Many mappings and memory spread far, as Linux runs them: 1000 abutting
 * one-page anonymous mmaps (Linux merges them into one mapping; so must
 * Mica, whose processes have at most 128 regions) then one munmap of
 * them all; 300 mprotect round trips inside one mapping (each splits it
 * in three and joins it again); 100 chunks of 2 MiB over 200 MiB touched
 * and unmapped one after the other, and 100 pages 2 MiB apart touched in
 * one 200 MiB mapping (every 2 MiB touched needs a page table, which the
 * kernel charges to the process: Mica must free a table when nothing in
 * it is mapped any more).
 *
 * Every line it prints is the same on Linux and on Mica.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK_ERRNOS(X) X(ENOMEM) X(EINVAL)
#include "check.h"

#define PAGE 4096UL
#define CHUNK (2UL << 20)
#define CHUNKS 100
#define MAPS 1000

/* A reserved range of bytes, not accessible, or NULL. */
static uint8_t *reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void abutting(void)
{
	uint8_t *base = reserve(MAPS * PAGE);
	int made = 0, right = 0;

	if (!base || munmap(base, MAPS * PAGE)) {
		printf("abutting: no room\n");
		return;
	}
	for (int i = 0; i < MAPS; i++) {
		void *p = mmap(base + i * PAGE, PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED) {
			show("abutting mmap", -1);
			break;
		}
		made++;
		base[i * PAGE + i % PAGE] = (uint8_t)(i | 1);
	}
	for (int i = 0; i < made; i++)
		right += base[i * PAGE + i % PAGE] == (uint8_t)(i | 1);
	printf("abutting mmaps: %d made, %d hold their byte\n", made, right);
	show("munmap of them all", munmap(base, MAPS * PAGE));
	/* The range is free again: a hint there is taken. */
	void *again = mmap(base, MAPS * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("the range is free again: %s\n", again == base ? "yes" : "no");
	if (again != MAP_FAILED)
		munmap(again, MAPS * PAGE);
}

static void protect_round_trips(void)
{
	const int pages = 256, trips = 300;
	uint8_t *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	int ok = 0;

	if (p == MAP_FAILED) {
		show("mmap for mprotect", -1);
		return;
	}
	for (int i = 0; i < trips; i++) {
		uint8_t *at = p + (1 + i % (pages - 2)) * PAGE;
		if (mprotect(at, PAGE, PROT_READ) == 0 && mprotect(at, PAGE, PROT_READ | PROT_WRITE) == 0) {
			at[i % PAGE] = (uint8_t)i;
			ok += at[i % PAGE] == (uint8_t)i;
		} else {
			show("mprotect", -1);
			break;
		}
	}
	printf("mprotect round trips: %d of %d\n", ok, trips);
	munmap(p, pages * PAGE);
}

/* Each 2 MiB chunk of a 200 MiB reservation made writable, 16 of its
 * pages written, summed, and unmapped before the next. */
static void chunks_unmapped(void)
{
	uint8_t *base = reserve(CHUNKS * CHUNK);
	unsigned long sum = 0;
	int done = 0;

	if (!base) {
		show("reserve", -1);
		return;
	}
	for (int c = 0; c < CHUNKS; c++) {
		uint8_t *chunk = base + c * CHUNK;
		if (mprotect(chunk, CHUNK, PROT_READ | PROT_WRITE)) {
			show("mprotect of a chunk", -1);
			break;
		}
		for (unsigned long off = 0; off < CHUNK; off += CHUNK / 16)
			chunk[off] = (uint8_t)(c + off / PAGE);
		for (unsigned long off = 0; off < CHUNK; off += CHUNK / 16)
			sum += chunk[off];
		if (munmap(chunk, CHUNK)) {
			show("munmap of a chunk", -1);
			break;
		}
		done++;
	}
	printf("chunks of 2 MiB over 200 MiB, touched and unmapped: %d, sum %lu\n", done, sum);
	if (done < CHUNKS)
		munmap(base + done * CHUNK, (CHUNKS - done) * CHUNK);
}

/* One page every 2 MiB of a 200 MiB mapping, written, then all read
 * back. */
static void sparse(void)
{
	uint8_t *base = mmap(NULL, CHUNKS * CHUNK, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	unsigned long sum = 0;

	if (base == MAP_FAILED) {
		show("mmap of 200 MiB", -1);
		return;
	}
	for (int c = 0; c < CHUNKS; c++)
		base[c * CHUNK + c * PAGE] = (uint8_t)(c * 7 + 1);
	for (int c = 0; c < CHUNKS; c++)
		sum += base[c * CHUNK + c * PAGE];
	printf("pages 2 MiB apart over 200 MiB: %d written, sum %lu\n", CHUNKS, sum);
	show("munmap of 200 MiB", munmap(base, CHUNKS * CHUNK));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	abutting();
	protect_round_trips();
	chunks_unmapped();
	sparse();
	printf("mapspread: done\n");
	return 0;
}
