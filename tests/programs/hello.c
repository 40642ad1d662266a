/*
 * A small program init starts from the manifest: it registers an endpoint
 * under its name, looks it up again through the name service, answers one
 * call to itself... then exits. With the argument `crash N` it crashes on
 * its first N runs (to see init restart it); `exit N` exits at once with
 * status N (0..9: a nonzero one is a crash to init); `file NAME` prints the file
 * the manifest gave it, `file-write NAME` writes into it (and crashes);
 * `pages` exercises INIT_PAGES_ALLOC/FREE and touches freed pages last
 * (and crashes); `capstuff` first sends init a capability with a request
 * that takes none (init must drop it and still take the next one);
 * `names` registers, watches and waits for names until init refuses,
 * and says how many it got of each.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "proto/nameservice.h"
#include "proto/program.h"

/* `file NAME`: its size and first line; `file-write NAME`: a write. */
static int show_file(const struct program_info *pi, const char *name, bool write)
{
	size_t size = 0;
	const char *text = program_file(name, &size);

	if (!text) {
		printf("%s: no file '%s'\n", pi->name, name);
		return 1;
	}
	size_t n = 0;
	while (n < size && n < 60 && text[n] != '\n')
		n++;
	printf("%s: file %s: %lu bytes, first line '%.*s'\n", pi->name, name, size, (int)n, text);
	if (write) {
		printf("%s: writing to file %s\n", pi->name, name);
		*(volatile char *)text = 'x';
	}
	return 0;
}

/* `names`: as many names, watches and waiting lookups as init allows. */
#define NAMES_TRIES 64
#define LOOKUP_THREADS 8

static volatile long lookup_result[LOOKUP_THREADS];

/* One lookup of a name nobody registers: it waits, or is refused. */
static void lookup_thread(uint64_t i)
{
	char name[NS_NAME_MAX + 1];
	cap_slot_t dest = slot_alloc();

	fmt_snprintf(name, sizeof(name), "nobody-%lu", i);
	lookup_result[i] = ns_lookup(name, dest);
	sys_thread_exit(0);
}

static int names(const struct program_info *pi)
{
	cap_slot_t ep = slot_alloc(), notif = slot_alloc(), timer = slot_alloc();
	char name[NS_NAME_MAX + 1];
	long err = 0;
	unsigned n, waiting = 0, refused = 0;

	if (sys_obj_create(CAP_ENDPOINT, ep, 0) < 0 || sys_obj_create(CAP_NOTIFICATION, notif, 0) < 0 ||
	    sys_obj_create(CAP_NOTIFICATION, timer, 0) < 0)
		return 1;
	for (n = 0; n < NAMES_TRIES && !err; n++) {
		fmt_snprintf(name, sizeof(name), "%s-%u", pi->name, n);
		err = ns_register(name, ep);
	}
	printf("%s: names: %u registered, then %s\n", pi->name, n - 1, mica_strerror(err));
	for (n = 0, err = 0; n < NAMES_TRIES && !err; n++) {
		fmt_snprintf(name, sizeof(name), "watched-%u", n);
		err = ns_watch(name, notif);
	}
	printf("%s: watches: %u taken, then %s\n", pi->name, n - 1, mica_strerror(err));
	for (unsigned i = 0; i < LOOKUP_THREADS; i++) {
		lookup_result[i] = 1;          /* still waiting */
		if (program_thread(lookup_thread, i, 16384, "lookup") < 0)
			return 1;
	}
	sys_notify_timer(timer, 1, (uint64_t)sys_clock() + 500000000ULL);
	sys_notify_wait(timer, 0);
	for (unsigned i = 0; i < LOOKUP_THREADS; i++) {
		waiting += lookup_result[i] == 1;
		refused += lookup_result[i] < 0;
		err = lookup_result[i] < 0 ? lookup_result[i] : err;
	}
	printf("%s: lookups: %u waiting, %u refused (%s)\n", pi->name, waiting, refused,
	       mica_strerror(err));
	return 0;
}

/* `pages`: allocate, use, refuse past the allowance, free, touch freed. */
static int pages(const struct program_info *pi)
{
	long err;
	uint64_t *a = pages_alloc(8192, &err), *b;

	printf("%s: pages 8 KiB: %s\n", pi->name, a ? "ok" : mica_strerror(err));
	if (!a)
		return 1;
	for (unsigned i = 0; i < 1024; i++)
		a[i] = i * 3;
	unsigned good = 0;
	for (unsigned i = 0; i < 1024; i++)
		good += a[i] == i * 3;
	printf("%s: pages hold %u of 1024 words\n", pi->name, good);
	b = pages_alloc(1 << 20, &err);
	printf("%s: pages past the allowance: %s\n", pi->name, b ? "given" : mica_strerror(err));
	printf("%s: pages free: %s\n", pi->name, mica_strerror(pages_free(a)));
	printf("%s: pages free again: %s\n", pi->name, mica_strerror(pages_free(a)));
	b = pages_alloc(8192, &err);
	printf("%s: pages again: %s, zeroed %s\n", pi->name, b ? "ok" : mica_strerror(err),
	       b && b[1] == 0 ? "yes" : "no");
	if (!b)
		return 1;
	pages_free(b);
	printf("%s: touching freed pages\n", pi->name);
	return (int)*(volatile uint64_t *)b;
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	cap_slot_t ep = slot_alloc(), found = slot_alloc();

	printf("%s: started (run %lu), args '%s'\n", pi->name, pi->restarts + 1, pi->args);
	if (!strncmp(pi->args, "crash ", 6) && pi->restarts < (uint64_t)(pi->args[6] - '0')) {
		printf("%s: crashing on purpose\n", pi->name);
		__asm__ volatile("movl $1, 0x10" ::: "memory");   /* unmapped: a page fault */
	}
	if (!strncmp(pi->args, "exit ", 5)) {
		printf("%s: exiting with status %c\n", pi->name, pi->args[5]);
		return pi->args[5] - '0';
	}
	if (!strncmp(pi->args, "file ", 5))
		return show_file(pi, pi->args + 5, false);
	if (!strncmp(pi->args, "file-write ", 11))
		return show_file(pi, pi->args + 11, true);
	if (!strcmp(pi->args, "pages"))
		return pages(pi);
	if (!strcmp(pi->args, "names"))
		return names(pi);
	long err = sys_obj_create(CAP_ENDPOINT, ep, 0);
	if (!err && !strcmp(pi->args, "capstuff")) {
		struct msg m = { .tag = ipc_tag(INIT_PAGES_FREE, 1, 1) };
		ipc_buffer()->items[0][0] = ipc_item_word0(IPC_ITEM_CAP, 0, 0);
		ipc_buffer()->items[0][1] = ep;
		ipc_call(PROGRAM_INIT_SLOT, &m);
		printf("%s: a capability sent with INIT_PAGES_FREE: %s\n", pi->name,
		       mica_strerror(-(long)ipc_tag_label(m.tag)));
	}
	if (!err)
		err = ns_register(pi->name, ep);
	if (!err)
		err = ns_lookup(pi->name, found);
	/* Heap memory from init's pager: touch 64 KiB of it. */
	uint8_t *heap = mem_heap(65536);
	unsigned sum = 0;
	for (unsigned i = 0; heap && i < 65536; i += 512) {
		heap[i] = (uint8_t)i;
		sum += heap[i] == (uint8_t)i;
	}
	printf("%s: heap %s\n", pi->name, heap && sum == 128 ? "ok" : "FAILED");
	uint64_t info[3] = { 0, 0, 0 };
	sys_cap_info(found, (uint64_t)info);
	printf("%s: name service %s (found a capability of type %lu)\n", pi->name,
	       err ? mica_strerror(err) : "ok", info[0]);
	return err ? 1 : 0;
}
