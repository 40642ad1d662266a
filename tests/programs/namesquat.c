/*
 * namesquat: a program may not take a name another program registered
 * first (init/name_service.c, claims), not even in the moment after its
 * owner died. args mode=kick (needs `lookup eth0`): after 3 s crashes
 * the NIC driver (NETQ_FAULT_WILD_WRITE, as the console's `fault eth0
 * wild`). mode=squat: watches eth0 and registers it itself whenever it
 * is gone, until init refuses for good (ERR_NO_RIGHTS); it prints what
 * its last attempt got. mode=watch: watches eth0 at once (before the
 * driver registered it, if it runs first), then after 5 s again (eth0
 * registered by then): a private name's restarts are only for programs
 * that may look it up. Lines: "namesquat: kicked the driver: N",
 * "namesquat: registering eth0: <error or yes>", "namesquat: watching
 * eth0: <error or yes>", "namesquat: told of eth0: yes|no" (whether the
 * first watch was signalled within 5 s).
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
	if (!strcmp(mode, "watch")) {
		err = ns_watch("eth0", n);
		printf("namesquat: watching eth0: %s\n", err ? mica_strerror(err) : "yes");
		sys_notify_timer(n, 2, (uint64_t)sys_clock() + 5000ull * 1000000);
		long bits = 0;
		while (!(bits & 2))
			bits |= sys_notify_wait(n, 0);
		printf("namesquat: told of eth0: %s\n", bits & ~2L ? "yes" : "no");
		err = ns_watch("eth0", n);
		printf("namesquat: watching eth0: %s\n", err ? mica_strerror(err) : "yes");
		return 0;
	}
	sys_obj_create(CAP_ENDPOINT, ep, 0);
	if ((err = ns_watch("eth0", n)) < 0) {
		printf("namesquat: watching eth0: %s\n", mica_strerror(err));
		return 0;
	}
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
