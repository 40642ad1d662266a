/*
 * The firewall's state in the netstack (filter.h, docs/firewall.md): the
 * configuration whose rules are in force and a spare for a reload, each
 * with its counters; the connection table, its memory from the heap,
 * sized once at start; expiry and masquerade's address changes, done
 * from the loop, never from a packet.
 *
 * A reload parses into the spare and swaps the two only when the whole
 * file is right, so a packet sees the old rules or the new, never a mix,
 * and a wrong file changes nothing.
 */
#include "netstack.h"
#include "filter.h"

#define EXPIRE_BUDGET 1024      /* connections removed by one housekeeping call */

struct filter_state filter;

/* The configuration in force and the spare (267 KiB each: never on a
 * stack), each with its rules' counters. */
static struct appliance_config configs[2];
static struct firewall firewalls[2];
static unsigned in_force;
static uint32_t addr_seen[NETSTACK_MAX_NICS];   /* for masquerade's address changes */

struct filter_clock filter_clock;

uint64_t filter_clock_read(uint64_t tsc)
{
	filter_clock_set(&filter_clock, tsc, (uint64_t)sys_clock() / 1000000);
	return filter_clock.ms;
}

/* The table, sized by the configuration at start (its size cannot change
 * while connections live in it). False when there is no memory for it. */
static bool table_init(uint32_t max)
{
	size_t size = conntrack_memory_size(max);
	void *mem = mem_heap(size + 8);
	uint8_t key[16];

	if (!mem)
		return false;
	for (unsigned i = 0; i < sizeof(key); i += 4) {
		uint32_t r = netstack_random();
		memcpy(key + i, &r, 4);
	}
	mem = (void *)(((uintptr_t)mem + 7) & ~(uintptr_t)7);
	return conntrack_init(&filter.ct, mem, size, max, key) == 0;
}

static void put_in_force(unsigned k)
{
	in_force = k;
	filter.cfg = &configs[k];
	filter.fw = &firewalls[k];
	filter.on = configs[k].firewall.present;
	filter.loaded_ms = filter_now();
}

void filter_init(const struct appliance_config *c, const char *file)
{
	char size[24];

	memcpy(&configs[0], c, sizeof(configs[0]));
	firewall_init(&firewalls[0], &configs[0].firewall, filter_now());
	fmt_snprintf(filter.file, sizeof(filter.file), "%s", file);
	put_in_force(0);
	if (!filter.on)
		return;
	if (!table_init(c->firewall.ct_max)) {
		filter.closed = true;
		printf("netstack: no memory for a connection table of %u entries (%s): "
		       "nothing passes\n", c->firewall.ct_max,
		       fmt_bytes(size, sizeof(size), conntrack_memory_size(c->firewall.ct_max)));
		return;
	}
	conntrack_set_timeouts(&filter.ct, c->firewall.ct_timeout);
	printf("netstack: firewall: %u rules from %s, connection table of %u (%s)\n",
	       c->firewall.nrules, file, c->firewall.ct_max,
	       fmt_bytes(size, sizeof(size), conntrack_memory_size(c->firewall.ct_max)));
}

/* The interfaces of a new configuration must be the old ones (the rules
 * name them by their place, the NICs are bound to them): NULL, or what
 * differs. */
static const char *interfaces_differ(const struct appliance_config *old,
				     const struct appliance_config *new)
{
	if (old->ninterfaces != new->ninterfaces)
		return "it has other interfaces";
	for (unsigned i = 0; i < old->ninterfaces; i++)
		if (strcmp(old->interfaces[i].name, new->interfaces[i].name))
			return "it names its interfaces otherwise";
	return NULL;
}

long filter_reload(const char *file, char *msg, size_t size)
{
	struct config_error err = { 0 };
	size_t len;
	const char *name = file && file[0] ? file : filter.file;
	const char *text = program_file(name, &len);
	unsigned spare = !in_force;
	struct appliance_config *c = &configs[spare];
	const char *differ;

	if (!name[0]) {
		fmt_snprintf(msg, size, "the netstack has no configuration file");
		return -ERR_INVALID_ARG;
	}
	if (!text) {
		fmt_snprintf(msg, size, "%s: no such file (a `file` line of the netstack)", name);
		return -ERR_INVALID_ARG;
	}
	if (!appliance_config_parse(text, len, c, &err)) {
		fmt_snprintf(msg, size, "%s:%u:%u: %s", name, err.line, err.column, err.message);
		return -ERR_INVALID_ARG;
	}
	if ((differ = interfaces_differ(filter.cfg, c))) {
		fmt_snprintf(msg, size, "%s: %s; restart the netstack for that", name, differ);
		return -ERR_INVALID_ARG;
	}
	if (c->firewall.present && !filter.ct.max) {
		if (!table_init(c->firewall.ct_max)) {
			fmt_snprintf(msg, size, "no memory for a connection table of %u entries",
				     c->firewall.ct_max);
			return -ERR_NO_MEMORY;
		}
	}
	firewall_init(&firewalls[spare], &c->firewall, filter_now());
	if (filter.ct.max)
		conntrack_set_timeouts(&filter.ct, c->firewall.ct_timeout);
	put_in_force(spare);
	fmt_snprintf(filter.file, sizeof(filter.file), "%s", name);
	char rules[24];
	size_t used = (size_t)fmt_snprintf(msg, size, "%s: %s in force, %u connections kept", name,
					   fmt_count(rules, sizeof(rules), c->firewall.nrules,
						     "rule", "rules"),
					   filter.ct.count);
	if (filter.ct.max && c->firewall.ct_max != filter.ct.max && used < size)
		fmt_snprintf(msg + used, size - used, " (conntrack max stays %u until a restart)",
			     filter.ct.max);
	return 0;
}

void filter_housekeeping(void)
{
	static uint64_t last;
	uint64_t now = filter_now();

	if (!filter.ct.max || now - last < 1000)
		return;
	last = now;
	conntrack_expire(&filter.ct, now, EXPIRE_BUDGET);
	/* Masquerade follows the out interface's address (a new DHCP
	 * lease): what was translated to the old one cannot come back. */
	for (unsigned i = 0; i < nifaces; i++) {
		uint32_t a = ip4_addr_get_u32(netif_ip4_addr(&ifaces[i].netif));
		if (a == addr_seen[i])
			continue;
		if (addr_seen[i])
			nat_forget_address(&filter.ct, addr_seen[i]);
		addr_seen[i] = a;
	}
}
