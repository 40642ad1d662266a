/*
 * A small program init starts from the manifest: it registers an endpoint
 * under its name, looks it up again through the name service, answers one
 * call to itself... then exits. With the argument `crash N` it crashes on
 * its first N runs (to see init restart it).
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "proto/nameservice.h"
#include "proto/program.h"

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	cap_slot_t ep = slot_alloc(), found = slot_alloc();

	printf("%s: started (run %lu), args '%s'\n", pi->name, pi->restarts + 1, pi->args);
	if (!strncmp(pi->args, "crash ", 6) && pi->restarts < (uint64_t)(pi->args[6] - '0')) {
		printf("%s: crashing on purpose\n", pi->name);
		__asm__ volatile("movl $1, 0x10" ::: "memory");   /* unmapped: a page fault */
	}
	long err = sys_obj_create(CAP_ENDPOINT, ep, 0);
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
