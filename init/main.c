/*
 * init: the root task. It owns all user memory (sigma0), reads the boot
 * manifest, loads each program from its boot module, pages it on demand,
 * serves names and memory, and restarts programs that die, as the
 * manifest says. init.h lists its parts.
 *
 * One thread, one loop (here): page faults and exceptions of its
 * programs, their requests (all on one endpoint, told apart by badge and
 * label) and death notices and the supervisor's timer (a bound
 * notification).
 */
#include "init.h"
#include "name_service.h"

#include "proto/dma.h"
#include "proto/nameservice.h"

#define INIT_PRIORITY 200

const struct bootinfo *bootinfo;
cap_slot_t service_ep, service_reply, supervisor_notif;

/* A fault or exception of program p: answered (true, the reply in m) or
 * the program crashed. */
static bool fault_message(struct program *p, struct msg *m)
{
	uint64_t label = ipc_tag_label(m->tag);

	if (label == IPC_LABEL_PAGE_FAULT && pager_fault(p, m))
		return true;
	if (label == IPC_LABEL_PAGE_FAULT)
		printf_limit(&p->log_limit, "init: %s: page fault at %lx (ip %lx, %s) refused\n",
			     p->m->name, m->w[0], m->w[2], m->w[1] & 2 ? "write" : "read");
	else
		printf_limit(&p->log_limit, "init: %s: exception %lu at ip %lx\n", p->m->name,
			     ipc_buffer()->words[USER_REGS_WORDS], m->w[0]);
	/* Leave it stopped; the reply object is freed with it. */
	*m = msg_make(IPC_REPLY_STOP, 0);
	ipc_reply(service_reply, m);
	program_died(p, "crashed", DIED_CRASH);
	supervise();
	return false;
}

/* A request of program p (its badge says which): true when the answer in
 * m is to be sent now with service_reply. */
static bool request(struct program *p, struct msg *m)
{
	uint64_t label = ipc_tag_label(m->tag);
	long err;

	if (label == DMA_ALLOC)
		err = dma_request(p, m);
	else if (label == INIT_PAGES_ALLOC)
		err = pages_request(p, m);
	else if (label == INIT_PAGES_FREE)
		err = pages_free_request(p, m);
	else if (label == PCI_MSIX)
		err = msix_request(p, m);
	else if (label == DMA_CHECK)
		err = dma_check_request(p, m);
	else if (label >= INIT_PROGRAM) {
		control_request(p, m);
		supervise();
		return true;
	} else {
		bool deferred;
		err = name_request(p->index, m, &service_reply, &deferred);
		if (deferred)
			return false;
		int holder = label == NS_REGISTER && err == ERR_SLOT_IN_USE ? name_owner(m->w) : -1;
		if (holder >= 0)
			printf_limit(&p->log_limit, "init: %s asked for the name '%.*s', which %s has\n",
				     p->m->name, NS_NAME_WORDS * 8, (const char *)m->w,
				     programs[holder].m->name);
		*m = msg_make((uint64_t)err, 0);
		return true;
	}
	if (err)
		*m = msg_make((uint64_t)err, 0);
	return true;
}

static void serve(void)
{
	struct ipc_buffer *b = ipc_buffer();
	struct msg m;
	bool have_reply = false;

	for (;;) {
		long err = have_reply ? ipc_reply_recv(service_ep, service_reply, &m)
				      : ipc_recv(service_ep, service_reply, &m);
		have_reply = false;
		if (err)
			continue;
		/* A capability that came with a request no part kept (the name
		 * service takes what it keeps and leaves a fresh slot) is
		 * dropped: a full receive slot would refuse the next one. */
		cap_slot_t cap_slot = b->recv_cap_slot;
		bool cap_came = b->recv_cap_count != 0;
		struct program *p;
		if (ipc_tag_label(m.tag) == IPC_LABEL_NOTIFY) {
			supervisor_notified(m.badge);
			supervise();
		} else if ((p = program_of(m.badge, BADGE_PROGRAM))) {
			have_reply = fault_message(p, &m);
		} else if ((p = program_of(m.badge, BADGE_CLIENT))) {
			have_reply = request(p, &m);
		}
		if (cap_came && b->recv_cap_slot == cap_slot)
			sys_cap_delete(cap_slot);
	}
}

/* Start every program of the manifest (those whose device is there). */
static void start_all(void)
{
	for (unsigned i = 0; i < manifest.nprograms; i++) {
		struct program *p = &programs[i];
		p->m = &manifest.programs[i];
		p->index = (int)i;
		if (!program_claim_device(p)) {
			p->state = PROGRAM_NO_DEVICE;
			continue;
		}
		char quota[32];
		if (program_start(p) == 0)
			printf("init: started %s (priority %u, quota %s)\n", p->m->name,
			       p->m->priority, fmt_bytes(quota, sizeof(quota), p->m->quota));
	}
}

int main(uint64_t arg)
{
	bootinfo = (const struct bootinfo *)arg;
	char ram[32], modules[32], count[32];

	printf("init: Mica root task, %s of RAM, %s\n",
	       fmt_bytes(ram, sizeof(ram), bootinfo->ram_bytes),
	       fmt_count(modules, sizeof(modules), bootinfo->module_count, "module", "modules"));
	if (bootinfo->ram_count == 0 || !ram_init()) {
		printf("init: no usable RAM region\n");
		return 1;
	}
	/* PCI configuration space is ours alone. */
	if (sys_ioport_map(ROOT_SLOT_IOPORTS, 0xCF8, 8) == 0)
		printf("init: %s\n", fmt_count(count, sizeof(count), pci_scan(), "PCI function",
						 "PCI functions"));
	service_ep = slot_alloc();
	service_reply = slot_alloc();
	supervisor_notif = slot_alloc();
	sys_obj_create(CAP_ENDPOINT, service_ep, 0);
	sys_obj_create(CAP_REPLY, service_reply, 0);
	sys_obj_create(CAP_NOTIFICATION, supervisor_notif, 0);
	ipc_buffer()->recv_cap_slot = slot_alloc();
	struct thread_config cfg = { .fields = THREAD_CFG_NOTIFY | THREAD_CFG_PRIORITY,
				     .notification = supervisor_notif, .priority = INIT_PRIORITY };
	sys_thread_configure(ROOT_SLOT_THREAD, (uint64_t)&cfg);

	modules_report();
	struct module mod;
	if (!module_find("manifest", &mod)) {
		printf("init: no boot module named 'manifest': nothing to start\n");
		return 1;
	}
	char err[160];
	unsigned line = manifest_parse((const char *)mod.data, mod.size, &manifest, err, sizeof(err));
	if (line) {
		printf("init: manifest:%u: %s\n", line, err);
		printf("init: nothing started\n");
		return 1;
	}
	printf("init: manifest: %s\n",
	       fmt_count(count, sizeof(count), manifest.nprograms, "program", "programs"));
	start_all();
	supervise();
	serve();
	return 0;
}
