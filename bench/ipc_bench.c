/*
 * IPC micro-benchmarks, run as the root task (built with the kernel-test
 * runner and child tasks). Each prints
 *   bench NAME: N iterations, T ticks per iteration
 * where ticks are TSC ticks: under `qemu -icount shift=0` one tick is one
 * guest instruction, so the numbers are reproducible instruction counts.
 */
#include "child.h"

#define ITERATIONS 20000

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t start, uint64_t end, uint64_t n)
{
	uint64_t per = (end - start) / n, frac = ((end - start) % n) * 10 / n;
	printf("bench %s: %lu iterations, %lu.%lu ticks per iteration\n", name, n, per, frac);
}

/* A system call that does nothing: debug_write of 0 bytes checks its
 * length, writes nothing and returns 0, so this is entry, dispatch and
 * exit alone. */
KTEST(bench_null_syscall)
{
	uint64_t t0 = rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		sys_debug_write(0, 0);
	report("null_syscall", t0, rdtsc(), ITERATIONS);
}

/* clock: a system call that reads the local APIC timer. */
KTEST(bench_clock_syscall)
{
	uint64_t t0 = rdtsc();
	for (int i = 0; i < ITERATIONS; i++)
		sys_clock();
	report("clock_syscall", t0, rdtsc(), ITERATIONS);
}

/* Server side, in the same task or in a child task: reply_recv forever
 * through slots 0 (endpoint, read) and 1 (reply object) of its table. */
#define SRV_EP 0
#define SRV_REPLY 1
static void server(uint64_t unused)
{
	struct msg m;
	long err = ipc_recv(SRV_EP, SRV_REPLY, &m);

	while (err == 0) {
		m.tag = ipc_tag(0, 1, 0);
		err = ipc_reply_recv(SRV_EP, SRV_REPLY, &m);
	}
}

static void measure_calls(const char *name, cap_slot_t ep)
{
	struct msg m = msg_make(0, 1);

	for (int i = 0; i < 100; i++)           /* warm up */
		ipc_call(ep, &m);
	uint64_t t0 = rdtsc();
	for (int i = 0; i < ITERATIONS; i++) {
		m = msg_make(0, 1);
		ipc_call(ep, &m);
	}
	report(name, t0, rdtsc(), ITERATIONS);
}

KTEST(bench_ipc_roundtrip_cross_task)
{
	cap_slot_t ep = ktest_create(CAP_ENDPOINT), reply = ktest_create(CAP_REPLY);
	struct child *c = child_create(1 << 20, CHILD_STOP, true);

	KCHECK(c);
	KEXPECT(child_give(c, ep, SRV_EP, CAP_RIGHT_READ), 0);
	KEXPECT(child_give(c, reply, SRV_REPLY, CAP_RIGHTS_ALL), 0);
	/* The server must outrank us for a direct switch both ways. */
	struct thread_config cfg = { .fields = THREAD_CFG_PRIORITY, .priority = KTEST_PRIORITY };
	KEXPECT(sys_thread_configure(c->thread, (uint64_t)&cfg), 0);
	KEXPECT(child_run(c, server, 0), 0);
	sys_yield();                    /* it pages itself in and waits */
	measure_calls("ipc_call_reply_cross_task", ep);
	child_destroy(c);
	sys_cap_delete(ep);
	sys_cap_delete(reply);
}

/* One-way receiver: takes sends forever. */
static void sink(uint64_t unused)
{
	struct msg m;

	while (ipc_recv(SRV_EP, CAP_SLOT_NONE, &m) == 0)
		;
}

KTEST(bench_ipc_one_way_send)
{
	/* One-way: send to a waiting receiver, which loops on recv. */
	cap_slot_t ep = ktest_create(CAP_ENDPOINT);
	struct child *c = child_create(1 << 20, CHILD_STOP, true);

	KCHECK(c);
	KEXPECT(child_give(c, ep, SRV_EP, CAP_RIGHT_READ), 0);
	struct thread_config cfg = { .fields = THREAD_CFG_PRIORITY, .priority = KTEST_PRIORITY };
	KEXPECT(sys_thread_configure(c->thread, (uint64_t)&cfg), 0);
	KEXPECT(child_run(c, sink, 0), 0);
	sys_yield();
	/* Each send is a transfer to the waiting sink, a switch to it, its
	 * next receive, and the switch back. */
	struct msg m = msg_make(0, 1);
	uint64_t t0 = rdtsc();
	for (int i = 0; i < ITERATIONS; i++) {
		m = msg_make(0, 1);
		ipc_send(ep, &m);
	}
	report("ipc_send_one_way_cross_task", t0, rdtsc(), ITERATIONS);
	child_destroy(c);
	sys_cap_delete(ep);
}

KTEST(bench_map_unmap_page)
{
	uint64_t va = PROGRAM_OWN_BASE;
	uint64_t t0 = rdtsc();
	for (int i = 0; i < ITERATIONS / 4; i++) {
		sys_mem_map(ROOT_SLOT_FIRST_RAM, 0, va, 1, IPC_MAP_READ | IPC_MAP_WRITE);
		sys_mem_unmap(fpage(va, 12), MEM_UNMAP_SELF);
	}
	report("mem_map_unmap_one_page", t0, rdtsc(), ITERATIONS / 4);
}
