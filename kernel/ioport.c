#include "ioport.h"
#include "decode.h"
#include "gdt.h"
#include "kmem.h"
#include "sched.h"
#include "syscall.h"
#include "task.h"

#include "lib/string.h"
#include "uapi/errors.h"

struct ioport_range *ioport_range_create(uint16_t base, uint32_t count)
{
	struct ioport_range *r = kobject_alloc(NULL, CAP_IOPORT, sizeof(*r));

	if (r) {
		r->base = base;
		r->count = count;
	}
	return r;
}

bool ioport_reserved(uint64_t port)
{
	return (port >= 0x20 && port <= 0x21) || (port >= 0xA0 && port <= 0xA1) ||
	       (port >= 0x40 && port <= 0x43) || port == 0x61 ||
	       (port >= 0x3F8 && port <= 0x3FF) || (port >= 0xF4 && port <= 0xF7);
}

int task_allow_ioports(struct task *t, uint64_t base, uint64_t count)
{
	if (!t->io_bitmap) {
		if (!task_charge(t, IO_BITMAP_BYTES))
			return -ERR_NO_MEMORY;
		t->io_bitmap = kmalloc(IO_BITMAP_BYTES);
		if (!t->io_bitmap) {
			task_refund(t, IO_BITMAP_BYTES);
			return -ERR_NO_MEMORY;
		}
		memset(t->io_bitmap, 0xFF, IO_BITMAP_BYTES);
	}
	for (uint64_t p = base; p < base + count; p++)
		t->io_bitmap[p / 8] &= ~(1 << (p % 8));
	if (t->io_hi == 0 || base / 8 < t->io_lo)
		t->io_lo = (uint16_t)(base / 8);
	if ((base + count + 7) / 8 > t->io_hi)
		t->io_hi = (uint16_t)((base + count + 7) / 8);
	gdt_io_bitmap_changed(t->io_bitmap);
	if (current && current->task == t)
		gdt_load_io_bitmap(t->io_bitmap, t->io_lo, t->io_hi);
	return 0;
}

void task_free_io_bitmap(struct task *t)
{
	if (!t->io_bitmap)
		return;
	gdt_io_bitmap_changed(t->io_bitmap);
	kfree(t->io_bitmap, IO_BITMAP_BYTES);
	task_refund(t, IO_BITMAP_BYTES);
	t->io_bitmap = NULL;
	t->io_lo = t->io_hi = 0;
}

/* The task's bitmap freed (its quota refunded) once no port is open in
 * it: switches to its threads then cost one store, as for any task
 * without ports. */
static void task_close_ioports(struct task *t, uint64_t base, uint64_t count)
{
	if (!t->io_bitmap)
		return;
	for (uint64_t p = base; p < base + count; p++)
		t->io_bitmap[p / 8] |= (uint8_t)(1 << (p % 8));
	bool open = false;
	for (unsigned i = t->io_lo; i < t->io_hi && !open; i++)
		open = t->io_bitmap[i] != 0xFF;
	if (open)
		gdt_io_bitmap_changed(t->io_bitmap);
	else
		task_free_io_bitmap(t);
	if (current && current->task == t)
		gdt_load_io_bitmap(t->io_bitmap, t->io_lo, t->io_hi);
}

/* ---- system calls ---- */

long sys_ioport_map(uint64_t slot, uint64_t base, uint64_t count)
{
	struct ioport_range *r;

	LOOKUP_OBJECT(r, slot, CAP_IOPORT, CAP_RIGHT_WRITE);
	if (count == 0 || base < r->base || count > r->count || base - r->base > r->count - count)
		REJECT(ERR_RANGE, "ports %lx+%lu outside the capability's range", base, count);
	for (uint64_t p = base; p < base + count; p++)
		if (ioport_reserved(p))
			REJECT(ERR_RANGE, "port %lx belongs to the kernel", p);
	if (task_allow_ioports(current->task, base, count))
		REJECT(ERR_NO_MEMORY, "no quota for the I/O bitmap");
	return 0;
}

long sys_ioport_close(uint64_t base, uint64_t count)
{
	if (count == 0 || base > 0xFFFF || count > 0x10000 - base)
		REJECT(ERR_RANGE, "ports %lx+%lu are not ports", base, count);
	task_close_ioports(current->task, base, count);
	return 0;
}
