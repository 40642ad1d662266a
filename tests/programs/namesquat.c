/*
 * namesquat: a program may not take a name another program registered
 * first (init/name_service.c, claims), not even in the moment after its
 * owner died. args mode=kick (needs `lookup eth0`): after 3 s crashes
 * the NIC driver (NETQ_FAULT_WILD_WRITE, as the console's `fault eth0
 * wild`). mode=squat: watches eth0 and registers it itself whenever it
 * is gone, until init refuses for good (ERR_NO_RIGHTS); it prints what
 * its last attempt got. Lines: "namesquat: kicked the driver: N",
 * "namesquat: registering eth0: <error or yes>".
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "proto/netq.h"
#include "proto/program.h"

#define TRIES 1000

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	cap_slot_t ep = slot_alloc(), n = slot_alloc();
	char mode[8] = "squat";
	long err = 0;

	program_arg(pi->args, "mode", mode, sizeof(mode));
	sys_obj_create(CAP_NOTIFICATION, n, 0);
	if (!strcmp(mode, "kick")) {
		ns_lookup("eth0", ep);
		sys_notify_timer(n, 2, (uint64_t)sys_clock() + 3000ull * 1000000);
		sys_notify_wait(n, 0);
		struct msg m = msg_make(NETQ_FAULT, 1);
		m.w[0] = NETQ_FAULT_WILD_WRITE;
		printf("namesquat: kicked the driver: %ld\n", ipc_call(ep, &m));
		return 0;
	}
	sys_obj_create(CAP_ENDPOINT, ep, 0);
	ns_watch("eth0", n);
	/* The driver's name is there at first (ERR_SLOT_IN_USE): wait for
	 * the watch to say it changed, and try again. */
	for (unsigned tries = 0; tries < TRIES; tries++) {
		err = ns_register_private("eth0", ep);
		if (err != -ERR_SLOT_IN_USE)
			break;
		sys_notify_wait(n, 0);
	}
	printf("namesquat: registering eth0: %s\n", err ? mica_strerror(err) : "yes");
	return 0;
}
