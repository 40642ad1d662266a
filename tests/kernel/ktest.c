/* The kernel test runner and the helpers tests share. */
#include "ktest.h"
#include "child.h"

const struct bootinfo *bootinfo;
int ktest_failed_now;

extern const struct ktest __start_ktests[], __stop_ktests[];

void ktest_fail(const char *file, int line, const char *what, long a, long b)
{
	if (a != b)
		printf("    %s:%d: check failed: %s (%ld != %ld%s%s)\n", file, line, what, a, b,
		       a < 0 && a > -ERR_COUNT ? ": " : "", a < 0 && a > -ERR_COUNT ? mica_strerror(a) : "");
	else
		printf("    %s:%d: check failed: %s\n", file, line, what);
	ktest_failed_now = 1;
}

cap_slot_t ktest_slot(void)
{
	return slot_alloc();
}

cap_slot_t ktest_create(unsigned type)
{
	cap_slot_t s = slot_alloc();
	long err = sys_obj_create(type, s, 0);

	if (err < 0) {
		printf("    ktest_create(%u): %s\n", type, mica_strerror(err));
		slot_free(s);
		return CAP_SLOT_NONE;
	}
	return s;
}

/* ---- threads ---- */

#define POOL 8
#define STACK_SIZE 16384
static uint8_t stacks[POOL][STACK_SIZE] __attribute__((aligned(4096)));
static union {
	struct ipc_buffer b;
	uint8_t page[4096];
} ipcbufs[POOL] __attribute__((aligned(4096)));
static cap_slot_t pool_owner[POOL];
static struct {
	void (*fn)(uint64_t);
	uint64_t arg;
} pool_work[POOL];
static cap_slot_t join_notification;
static uint64_t exited_bits;

/* Every helper thread runs its function, then says so on the join
 * notification (bit = pool index) and exits. */
static void spawn_entry(uint64_t index)
{
	pool_work[index].fn(pool_work[index].arg);
	sys_notify_signal(join_notification, 1UL << index);
}

cap_slot_t ktest_spawn(void (*fn)(uint64_t), uint64_t arg, unsigned priority)
{
	for (int i = 0; i < POOL; i++) {
		if (pool_owner[i])
			continue;
		pool_work[i].fn = fn;
		pool_work[i].arg = arg;
		/* A destroyed earlier occupant may have signalled after its
		 * join: take pending bits before reusing the index. */
		long pending = sys_notify_wait(join_notification | IPC_NONBLOCK, 0);
		if (pending > 0)
			exited_bits |= (uint64_t)pending;
		exited_bits &= ~(1UL << i);
		long s = thread_spawn(spawn_entry, (uint64_t)i, stacks[i], STACK_SIZE, &ipcbufs[i].b,
				      priority, "ktest-helper", CAP_SLOT_NONE);
		if (s < 0) {
			printf("    ktest_spawn: %s\n", mica_strerror(s));
			return CAP_SLOT_NONE;
		}
		pool_owner[i] = (cap_slot_t)s;
		return (cap_slot_t)s;
	}
	printf("    ktest_spawn: pool exhausted\n");
	return CAP_SLOT_NONE;
}

void ktest_join(cap_slot_t thread)
{
	uint64_t info[3];
	int i = 0;

	while (i < POOL && pool_owner[i] != thread)
		i++;
	/* Wait for its exit signal, unless it is gone already (destroyed by
	 * the test: cap_info then reports a null capability). */
	while (i < POOL && !(exited_bits & (1UL << i))) {
		if (sys_cap_info(thread, (uint64_t)info) < 0 || info[0] == CAP_NULL)
			break;
		long bits = sys_notify_wait(join_notification, 0);
		if (bits > 0)
			exited_bits |= (uint64_t)bits;
	}
	sys_cap_delete(thread);
	slot_free(thread);
	if (i < POOL)
		pool_owner[i] = 0;
}

static void settle_helper(uint64_t unused)
{
}

void ktest_settle(void)
{
	cap_slot_t t = ktest_spawn(settle_helper, 0, 1);

	if (t != CAP_SLOT_NONE)
		ktest_join(t);
}

/* ---- memory ---- */

#define SCRATCH_BASE ROOT_RAM_WINDOW
#define SCRATCH_PAGES 4096
static uint8_t scratch_used[SCRATCH_PAGES];

void *ktest_pages(unsigned n)
{
	for (unsigned i = 0; i + n <= SCRATCH_PAGES; i++) {
		unsigned k = 0;
		while (k < n && !scratch_used[i + k])
			k++;
		if (k < n) {
			i += k;
			continue;
		}
		uint64_t va = SCRATCH_BASE + i * PAGE_SIZE;
		/* Page i of the window is page i of the first RAM region. */
		long err = sys_mem_map(ROOT_SLOT_FIRST_RAM, i * PAGE_SIZE, va, n,
				       IPC_MAP_READ | IPC_MAP_WRITE);
		if (err < 0) {
			printf("    ktest_pages: %s\n", mica_strerror(err));
			return NULL;
		}
		for (k = 0; k < n; k++)
			scratch_used[i + k] = 1;
		memset((void *)va, 0, n * PAGE_SIZE);
		return (void *)va;
	}
	return NULL;
}

void ktest_pages_free(void *p, unsigned n)
{
	uint64_t first = ((uint64_t)p - SCRATCH_BASE) / PAGE_SIZE;

	for (unsigned k = 0; k < n; k++) {
		sys_mem_unmap(fpage((uint64_t)p + k * PAGE_SIZE, 12), MEM_UNMAP_SELF);
		scratch_used[first + k] = 0;
	}
}

struct task_info ktest_info(void)
{
	struct task_info info;

	memset(&info, 0, sizeof(info));
	sys_task_info(CAP_SLOT_SELF, (uint64_t)&info);
	return info;
}

long ktest_wait(cap_slot_t n, uint64_t ms)
{
	sys_notify_timer(n, KTEST_TIMED_OUT, (uint64_t)sys_clock() + ms * 1000000);
	long bits = sys_notify_wait(n, 0);
	sys_notify_timer(n, 0, 0);
	return bits;
}

/* ---- runner ---- */

/* ktest=a,b,c on the kernel command line selects tests by name. */
static int selected(const char *name)
{
	const char *p = bootinfo->cmdline, *list = NULL;

	for (; *p; p++)
		if ((p == bootinfo->cmdline || p[-1] == ' ') && !strncmp(p, "ktest=", 6))
			list = p + 6;
	if (!list)
		return 1;
	size_t n = strlen(name);
	while (*list && *list != ' ') {
		if (!strncmp(list, name, n) && (list[n] == ',' || list[n] == ' ' || !list[n]))
			return 1;
		while (*list && *list != ',' && *list != ' ')
			list++;
		if (*list == ',')
			list++;
	}
	return 0;
}

/* word alone on the kernel command line. */
static int cmdline_has(const char *word)
{
	const char *p = bootinfo->cmdline;
	size_t n = strlen(word);

	for (; *p; p++)
		if ((p == bootinfo->cmdline || p[-1] == ' ') && !strncmp(p, word, n) &&
		    (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

int main(uint64_t arg)
{
	int passed = 0, failed = 0;

	bootinfo = (const struct bootinfo *)arg;
	if (bootinfo->magic != BOOTINFO_MAGIC) {
		printf("ktest: bad boot information\n");
		return 1;
	}
	child_pager_start();            /* at 250: before we go down to 200 */
	/* Tests run at priority 200: helpers at 200 share the CPU with us
	 * (sys_yield hands it over), lower ones run when we block. */
	struct thread_config cfg = { .fields = THREAD_CFG_PRIORITY | THREAD_CFG_NAME,
				     .priority = KTEST_PRIORITY, .name = "ktest" };
	sys_thread_configure(ROOT_SLOT_THREAD, (uint64_t)&cfg);
	join_notification = ktest_create(CAP_NOTIFICATION);
	printf("ktest: %lu MiB of RAM in %lu regions, kernel quota %lu KiB\n",
	       bootinfo->ram_bytes >> 20, bootinfo->ram_count, bootinfo->kernel_quota >> 10);
	/* The harness's own check (test_kernel.py): a fault of this thread,
	 * which has no pager, must end the run as a failure. */
	if (cmdline_has("ktestfault")) {
		printf("ktest: writing to address 0 (ktestfault)\n");
		*(volatile uint64_t *)0 = 1;
		printf("ktest: still running after the fault\n");
		return 0;
	}
	for (const struct ktest *t = __start_ktests; t < __stop_ktests; t++) {
		if (!selected(t->name))
			continue;
		ktest_failed_now = 0;
		t->fn();
		printf("ktest %s: %s\n", t->name, ktest_failed_now ? "FAIL" : "OK");
		if (ktest_failed_now)
			failed++;
		else
			passed++;
	}
	printf("ktest: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
