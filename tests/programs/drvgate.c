/*
 * drvgate: can a native program get a NIC driver's endpoint? (the gate on
 * drivers, tests/system/test_init.py; proto/netq.h). It looks up the
 * driver's name (args name=IFNAME, default eth0), which init gives only
 * to a program whose manifest has `lookup IFNAME`, and says what it got:
 * `drvgate: eth0 refused: ERROR`, or `drvgate: eth0 given: badge B, can
 * receive: yes|no` and `drvgate: eth0 answered NETQ_STATS: error N`.
 * Then what a program could try with whatever it can look up (the
 * driver's endpoint if given, and the netstack's public names): copies
 * with other badges, which the kernel makes only from an unbadged
 * capability: `drvgate: copies with other badges: N made of M`, then
 * `drvgate: done`.
 */
#include "lib/mica.h"
#include "lib/names.h"
#include "proto/nameservice.h"
#include "proto/netmgmt.h"
#include "proto/netq.h"
#include "proto/program.h"
#include "proto/socket.h"

/* Copies of cap with badges other than its own, each made one counted
 * into *made (and deleted); *tried counts the attempts. */
static void try_badges(cap_slot_t cap, unsigned *made, unsigned *tried)
{
	static const uint64_t badges[] = { 1, 2, 3, 1UL << 32, (1UL << 32) | 1, 1UL << 33 };
	uint64_t info[3];       /* type, rights, badge */

	if (sys_cap_info(cap, (uint64_t)info) < 0)
		return;
	for (unsigned i = 0; i < sizeof(badges) / sizeof(badges[0]); i++) {
		if (badges[i] == info[2])
			continue;
		cap_slot_t copy = slot_alloc();
		++*tried;
		if (sys_cap_copy(cap, CAP_SLOT_SELF, copy, CAP_RIGHT_WRITE, badges[i]) == 0) {
			++*made;
			sys_cap_delete(copy);
		}
		slot_free(copy);
	}
}

int main(uint64_t arg)
{
	const struct program_info *pi = (const struct program_info *)arg;
	static const char *const public_names[] = { SOCK_SERVICE_NAME, NETMGMT_RO_NAME };
	char name[NS_NAME_MAX + 1] = "eth0";
	cap_slot_t driver = slot_alloc(), cap = slot_alloc();
	unsigned made = 0, tried = 0;
	uint64_t info[3];
	long err;

	program_arg(pi->args, "name", name, sizeof(name));
	/* Waits for the driver to register, then init answers. */
	if ((err = ns_lookup(name, driver)) < 0) {
		printf("drvgate: %s refused: %s\n", name, mica_strerror(err));
	} else {
		sys_cap_info(driver, (uint64_t)info);
		printf("drvgate: %s given: badge %lu, can receive: %s\n", name, info[2],
		       info[1] & CAP_RIGHT_READ ? "yes" : "no");
		struct msg m = msg_make(NETQ_STATS, 0);
		err = ipc_call(driver, &m);
		printf("drvgate: %s answered NETQ_STATS: error %ld\n", name,
		       err ? -err : (long)ipc_tag_label(m.tag));
		try_badges(driver, &made, &tried);
	}
	for (unsigned i = 0; i < sizeof(public_names) / sizeof(public_names[0]); i++) {
		if (ns_lookup(public_names[i], cap) < 0)
			continue;
		try_badges(cap, &made, &tried);
		sys_cap_delete(cap);
	}
	printf("drvgate: copies with other badges: %u made of %u\n", made, tried);
	printf("drvgate: done\n");
	return 0;
}
