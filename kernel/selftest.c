/*
 * Boot-time self-tests of kernel internals that user programs cannot reach
 * directly (test builds only; `kselftest` on the command line). Each check
 * prints one line, `kselftest NAME: OK|FAIL`; the run ends with a summary
 * and exits QEMU with the pass or fail status.
 */
#ifdef MICA_TEST
#include "selftest.h"
#include "apic.h"
#include "cpu.h"
#include "klog.h"
#include "machine.h"
#include "kmem.h"
#include "paging.h"
#include "timer.h"
#include "trap.h"

#include "lib/string.h"

static int passed, failed;

static void report(const char *name, int ok)
{
	kprintf("kselftest %s: %s\n", name, ok ? "OK" : "FAIL");
	if (ok)
		passed++;
	else
		failed++;
}

/* Map a frame into a fresh address space, read it back through the
 * mapping, unmap, and give every table back. */
static int check_paging(void)
{
	uint64_t free_before = kmem_frames.free;
	uint64_t root = pt_create();
	uint64_t page = kmem_alloc_frame_zeroed();
	const uint64_t va = 0x400000;
	int ok = root && page;

	if (ok) {
		*(volatile uint64_t *)phys_to_virt(page) = 0x1234ABCD;
		ok &= pt_map(root, va, page, PTE_USER | PTE_WRITE, NULL) == PT_OK;
		ok &= pt_map(root, va, page, PTE_USER, NULL) == PT_EXISTS;
		ok &= pt_map(root, va + 1, page, PTE_USER, NULL) == PT_BAD_ARGUMENT;
		ok &= pt_map(root, 0x0000900000000000ULL, page, 0, NULL) == PT_BAD_ARGUMENT;
		ok &= (pt_lookup(root, va) & PTE_ADDR) == page;
		ok &= pt_lookup(root, va + PAGE_SIZE) == 0;
		/* Through the new tables, from the kernel half they share. */
		uint64_t saved = read_cr3();
		write_cr3(root);
		ok &= *(volatile uint64_t *)va == 0x1234ABCD;
		write_cr3(saved);
		ok &= (pt_unmap(root, va) & PTE_ADDR) == page;
		ok &= pt_lookup(root, va) == 0;
	}
	if (page)
		kmem_free_frame(page);
	if (root)
		pt_destroy(root);
	return ok && kmem_frames.free == free_before;
}

static int check_kmalloc(void)
{
	static void *held[256];
	static const size_t sizes[] = { 1, 24, 32, 100, 512, 2048, 3000, 20000 };
	int ok = 1;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int i = 0; i < 256; i++) {
			held[i] = kmalloc(sizes[s]);
			ok &= held[i] != NULL;
			if (!held[i])
				break;
			/* Zeroed, writable, not overlapping the previous one. */
			const unsigned char *b = held[i];
			for (size_t k = 0; k < sizes[s]; k++)
				ok &= b[k] == 0;
			memset(held[i], 0xA5, sizes[s]);
			if (i > 0)
				ok &= held[i] != held[i - 1];
		}
		for (int i = 0; i < 256 && held[i]; i++)
			kfree(held[i], sizes[s]);
	}
	/* Large blocks go back to the frame pool at once. */
	uint64_t free_before = kmem_frames.free;
	void *big = kmalloc(5 * PAGE_SIZE);
	ok &= big && kmem_frames.free == free_before - 5;
	kfree(big, 5 * PAGE_SIZE);
	return ok && kmem_frames.free == free_before;
}

static int check_frame_exhaustion(void)
{
	/* Take every free frame, see the allocator say no, give all back. */
	uint64_t free_before = kmem_frames.free;
	uint64_t head = 0, n = 0, f;

	while ((f = kmem_alloc_frame()) != FRAME_NONE) {
		*(uint64_t *)phys_to_virt(f) = head;   /* chain through the frames */
		head = f;
		n++;
	}
	int ok = n == free_before && kmem_frames.free == 0 && kmalloc(8192) == NULL;
	while (head) {
		uint64_t next = *(uint64_t *)phys_to_virt(head);
		kmem_free_frame(head);
		head = next;
	}
	return ok && kmem_frames.free == free_before;
}

/* The clock is the TSC, not the tick count: with interrupts off from just
 * after one tick, it must pass the next tick's time (the tick count
 * standing still) without ever going back, in small steps. */
static int check_clock_interpolates(void)
{
	uint64_t k = timer_ticks();

	while (timer_ticks() == k)
		cpu_idle();                     /* just after a tick */
	irq_disable();
	k = timer_ticks();
	uint64_t start = timer_uptime_ns(), prev = start, now = start, steps = 0;
	int ok = 1;
	for (uint64_t i = 0; i < 10000000 && now < start + 15000000; i++) {
		now = timer_uptime_ns();
		ok &= now >= prev;
		steps += now != prev;
		prev = now;
	}
	ok &= now >= start + 15000000 && timer_ticks() == k && steps > 100;
	while (timer_ticks() == k)
		cpu_idle();                     /* the pending tick is handled */
	irq_disable();
	ok &= timer_uptime_ns() >= now;
	irq_enable();
	return ok;
}

static volatile unsigned probe_taken;

static void probe_handler(struct trap_frame *f, void *ctx)
{
	(void)f;
	(void)ctx;
	probe_taken++;
}

/* A message-signalled interrupt on a vector of the masked legacy PIC's
 * range (a driver may aim its device's MSI-X entry anywhere) is ended
 * with an EOI: the local APIC has nothing of it in service afterwards,
 * and a device interrupt of lower priority still comes. The self-IPI
 * stands in for the device's message (both are fixed-delivery
 * interrupts into the IRR). */
static int check_stray_vector_ended(void)
{
	const unsigned stray = VEC_PIC_BASE + 5, probe = VEC_MSI_BASE + VEC_MSI_COUNT;
	int ok = !lapic_in_service(stray);

	irq_set_handler(probe, probe_handler, NULL);
	irq_disable();
	lapic_self_ipi(stray);
	irq_enable();                   /* taken here */
	for (unsigned i = 0; i < 1000 && lapic_pending(stray); i++)
		cpu_relax();
	ok &= !lapic_in_service(stray) && !lapic_pending(stray);
	lapic_self_ipi(probe);
	for (unsigned i = 0; i < 1000000 && !probe_taken; i++)
		cpu_relax();
	ok &= probe_taken == 1;
	irq_set_handler(probe, NULL, NULL);
	return ok;
}

void selftest_run(void)
{
	report("paging_map_lookup_unmap", check_paging());
	report("kmalloc_sizes_zeroed_reused", check_kmalloc());
	report("frame_exhaustion_and_return", check_frame_exhaustion());
	report("clock_interpolates_within_a_tick", check_clock_interpolates());
	report("stray_vector_in_pic_range_ended", check_stray_vector_ended());
	kprintf("kselftest: %d passed, %d failed\n", passed, failed);
	machine_exit(failed ? MACHINE_EXIT_FAIL : MACHINE_EXIT_PASS);
}
#endif
