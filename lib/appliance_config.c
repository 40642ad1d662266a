/* The appliance configuration's grammar: include/lib/appliance_config.h. */
#include "lib/appliance_config.h"

#include "lib/config_parser.h"
#include "lib/inet.h"
#include "lib/string.h"

/* The parser: the text's tokens and the configuration being filled. */
struct parser {
	struct config_parser lx;
	struct appliance_config *c;
};

/* Whether a is usable as one host's unicast address (not 0/8, loopback,
 * multicast, class E or broadcast: RFC 1122 3.2.1.3, RFC 5735). */
static bool unicast_host(uint32_t a)
{
	unsigned first = a & 0xff;
	return first != 0 && first != 127 && first < 224;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > APPLIANCE_NAME_MAX || !(name[0] >= 'a' && name[0] <= 'z') ||
	    !strcmp(name, "any"))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

static int find_interface(const struct appliance_config *c, const char *name)
{
	for (unsigned i = 0; i < c->ninterfaces; i++)
		if (!strcmp(c->interfaces[i].name, name))
			return (int)i;
	return -1;
}

/* The current word as a declared interface's index, then the next token. */
static bool take_interface(struct parser *ps, int *index)
{
	if (ps->lx.token.kind != CONFIG_TOKEN_WORD)
		return CONFIG_FAIL(&ps->lx, "expected an interface name");
	*index = find_interface(ps->c, ps->lx.token.text);
	if (*index < 0)
		return CONFIG_FAIL(&ps->lx, "unknown interface '%s' (declare it above with 'interface %s { ... }')",
			    ps->lx.token.text, ps->lx.token.text);
	return config_next(&ps->lx);
}

static bool on_network(const struct appliance_interface *i, uint32_t a)
{
	return !i->dhcp && (a & i->mask) == (i->addr & i->mask);
}

/* forwarding on|off */
static bool parse_forwarding(struct parser *ps)
{
	if (config_at_word(&ps->lx, "on") || config_at_word(&ps->lx, "off")) {
		ps->c->forwarding = config_at_word(&ps->lx, "on");
		return config_next(&ps->lx) && config_end_of_statement(&ps->lx, false);
	}
	return CONFIG_FAIL(&ps->lx, "expected 'on' or 'off' after 'forwarding'");
}

static bool parse_device(struct parser *ps, struct appliance_interface *i)
{
	char w[CONFIG_WORD_MAX + 1];

	if (config_at_word(&ps->lx, "any")) {
		i->device = DEVICE_ANY;
		return config_next(&ps->lx);
	}
	bool pci = config_at_word(&ps->lx, "pci"), mac = config_at_word(&ps->lx, "mac");
	if (!pci && !mac)
		return CONFIG_FAIL(&ps->lx, "expected 'pci BB:DD.F', 'mac XX:XX:XX:XX:XX:XX' or 'any' after 'device'");
	if (!config_next(&ps->lx))
		return false;
	struct config_token at = ps->lx.token;
	if (!config_take_word(&ps->lx, w, sizeof(w), pci ? "a PCI slot BB:DD.F" : "a MAC address"))
		return false;
	if (pci) {
		i->device = DEVICE_PCI;
		if (!config_parse_pci_slot(w, &i->pci_bus, &i->pci_devfn))
			return config_fail_at(&ps->lx, &at, "'%s' is not a PCI slot BB:DD.F (hex, e.g. 00:03.0)", w);
	} else {
		i->device = DEVICE_MAC;
		if (!config_parse_mac(w, i->mac))
			return config_fail_at(&ps->lx, &at, "'%s' is not a MAC address XX:XX:XX:XX:XX:XX", w);
		if (i->mac[0] & 1)
			return config_fail_at(&ps->lx, &at, "%s is a multicast address, not a NIC's", w);
	}
	for (unsigned k = 0; k < ps->c->ninterfaces; k++) {
		const struct appliance_interface *o = &ps->c->interfaces[k];
		if (o->device == i->device &&
		    (pci ? o->pci_bus == i->pci_bus && o->pci_devfn == i->pci_devfn
			 : !memcmp(o->mac, i->mac, 6)))
			return config_fail_at(&ps->lx, &at, "%s is already interface %s's device (line %u)", w,
				       o->name, o->line);
	}
	return true;
}

static bool parse_address(struct parser *ps, struct appliance_interface *i)
{
	char w[CONFIG_WORD_MAX + 1], net[16];
	struct config_token at = ps->lx.token;

	if (config_at_word(&ps->lx, "dhcp")) {
		i->dhcp = true;
		return config_next(&ps->lx);
	}
	if (!config_take_word(&ps->lx, w, sizeof(w), "A.B.C.D/LEN or 'dhcp' after 'address'"))
		return false;
	if (!config_parse_prefix(w, false, &i->addr, &i->prefix_len) || i->prefix_len < 1 ||
	    i->prefix_len > 30)
		return config_fail_at(&ps->lx, &at, "'%s' is not A.B.C.D/LEN with LEN 1..30, nor 'dhcp'", w);
	i->mask = config_prefix_mask(i->prefix_len);
	if (!unicast_host(i->addr) || (i->addr & ~i->mask) == 0 || (i->addr | i->mask) == ~0U)
		return config_fail_at(&ps->lx, &at, "%s is not a host address of its network", w);
	for (unsigned k = 0; k < ps->c->ninterfaces; k++) {
		const struct appliance_interface *o = &ps->c->interfaces[k];
		uint32_t both = i->mask & o->mask;
		if (!o->dhcp && (i->addr & both) == (o->addr & both)) {
			config_format_ipv4(net, sizeof(net), o->addr & o->mask);
			return config_fail_at(&ps->lx, &at, "%s overlaps interface %s's network %s/%u (line %u)", w,
				       o->name, net, o->prefix_len, o->line);
		}
	}
	return true;
}

static bool parse_mtu(struct parser *ps, struct appliance_interface *i)
{
	unsigned long v;

	if (ps->lx.token.kind != CONFIG_TOKEN_WORD || !config_parse_uint(ps->lx.token.text, 99999, &v) ||
	    v < APPLIANCE_MTU_MIN || v > APPLIANCE_MTU_MAX)
		return CONFIG_FAIL(&ps->lx, "expected an MTU in bytes, %u to %u", APPLIANCE_MTU_MIN,
			    APPLIANCE_MTU_MAX);
	i->mtu = (unsigned)v;
	return config_next(&ps->lx);
}

/* interface NAME { device ...; address ...; mtu ... } */
static bool parse_interface(struct parser *ps, unsigned line)
{
	struct appliance_config *c = ps->c;
	struct config_token at = ps->lx.token;
	char name[CONFIG_WORD_MAX + 1];
	unsigned seen_device = 0, seen_address = 0, seen_mtu = 0;

	if (!config_take_word(&ps->lx, name, sizeof(name), "an interface name after 'interface'"))
		return false;
	if (!valid_name(name))
		return config_fail_at(&ps->lx, &at, "'%s' is not an interface name (a-z first, then a-z 0-9 - _, "
			       "at most %u, not 'any')", name, APPLIANCE_NAME_MAX);
	if (find_interface(c, name) >= 0)
		return config_fail_at(&ps->lx, &at, "interface %s is declared twice (first on line %u)", name,
			       c->interfaces[find_interface(c, name)].line);
	if (c->ninterfaces == APPLIANCE_MAX_INTERFACES)
		return config_fail_at(&ps->lx, &at, "at most %u interfaces", APPLIANCE_MAX_INTERFACES);
	struct appliance_interface i = { .mtu = APPLIANCE_MTU_DEFAULT, .line = line };
	memcpy(i.name, name, strlen(name) + 1);
	if (ps->lx.token.kind != CONFIG_TOKEN_OPEN)
		return CONFIG_FAIL(&ps->lx, "expected '{' after 'interface %s'", name);
	if (!config_next(&ps->lx))
		return false;
	while (ps->lx.token.kind != CONFIG_TOKEN_CLOSE) {
		struct config_token key = ps->lx.token;
		unsigned *seen;
		if (key.kind == CONFIG_TOKEN_NEWLINE) {
			if (!config_next(&ps->lx))
				return false;
			continue;
		}
		if (key.kind == CONFIG_TOKEN_END)
			return config_fail_at(&ps->lx, &at, "interface %s: no '}' closes its block", name);
		bool (*parse)(struct parser *, struct appliance_interface *);
		if (!strcmp(key.text, "device")) {
			seen = &seen_device;
			parse = parse_device;
		} else if (!strcmp(key.text, "address")) {
			seen = &seen_address;
			parse = parse_address;
		} else if (!strcmp(key.text, "mtu")) {
			seen = &seen_mtu;
			parse = parse_mtu;
		} else {
			return CONFIG_FAIL(&ps->lx, "unknown setting '%s' in interface %s (device, address or mtu)",
				    key.text, name);
		}
		if (*seen)
			return CONFIG_FAIL(&ps->lx, "'%s' given twice for interface %s (first on line %u)",
				    key.text, name, *seen);
		*seen = key.line;
		if (!config_next(&ps->lx) || !parse(ps, &i) || !config_end_of_statement(&ps->lx, true))
			return false;
	}
	if (!seen_device)
		return config_fail_at(&ps->lx, &at, "interface %s: no 'device' (pci BB:DD.F, mac ... or any)", name);
	if (!seen_address)
		return config_fail_at(&ps->lx, &at, "interface %s: no 'address' (A.B.C.D/LEN or dhcp)", name);
	c->interfaces[c->ninterfaces++] = i;
	return config_next(&ps->lx) && config_end_of_statement(&ps->lx, false);
}

/* The route's gateway must be a host on a network of an interface: the
 * one named, or the one whose network holds it. With DHCP interfaces the
 * networks are known only at run time, and the route waits for one. */
static bool check_gateway(struct parser *ps, const struct config_token *at, struct appliance_route *r,
			  const char *text)
{
	const struct appliance_config *c = ps->c;
	bool any_dhcp = false;

	if (!unicast_host(r->gateway))
		return config_fail_at(&ps->lx, at, "gateway %s is not a unicast host address", text);
	if (r->iface >= 0) {
		const struct appliance_interface *i = &c->interfaces[r->iface];
		if (i->dhcp)
			return true;
		if (!on_network(i, r->gateway))
			return config_fail_at(&ps->lx, at, "gateway %s is not on interface %s's network", text,
				       i->name);
		if (r->gateway == i->addr)
			return config_fail_at(&ps->lx, at, "gateway %s is interface %s's own address", text, i->name);
		return true;
	}
	for (unsigned k = 0; k < c->ninterfaces; k++) {
		const struct appliance_interface *i = &c->interfaces[k];
		any_dhcp |= i->dhcp;
		if (on_network(i, r->gateway)) {
			if (r->gateway == i->addr)
				return config_fail_at(&ps->lx, at, "gateway %s is interface %s's own address", text,
					       i->name);
			r->iface = (int)k;
			return true;
		}
	}
	if (any_dhcp)
		return true;
	return config_fail_at(&ps->lx, at, "gateway %s is on no interface's network (unreachable)", text);
}

/* route PREFIX|default (via GW | dev NAME | metric N)... */
static bool parse_route(struct parser *ps, unsigned line)
{
	struct appliance_config *c = ps->c;
	struct appliance_route r = { .iface = -1, .line = line };
	struct config_token at = ps->lx.token, gw_at = { 0 };
	char w[CONFIG_WORD_MAX + 1], gw_text[CONFIG_WORD_MAX + 1] = "", net[16];
	bool via = false, dev = false, metric = false;

	if (c->nroutes == APPLIANCE_MAX_ROUTES)
		return CONFIG_FAIL(&ps->lx, "at most %u static routes", APPLIANCE_MAX_ROUTES);
	if (!config_take_word(&ps->lx, w, sizeof(w), "a destination A.B.C.D/LEN or 'default' after 'route'"))
		return false;
	if (strcmp(w, "default")) {
		if (!config_parse_prefix(w, true, &r.dest, &r.prefix_len))
			return config_fail_at(&ps->lx, &at, "'%s' is not a destination A.B.C.D/LEN or 'default'", w);
		r.mask = config_prefix_mask(r.prefix_len);
		if (r.dest & ~r.mask) {
			config_format_ipv4(net, sizeof(net), r.dest & r.mask);
			return config_fail_at(&ps->lx, &at, "%s has host bits set (the network is %s/%u)", w, net,
				       r.prefix_len);
		}
	}
	while (ps->lx.token.kind == CONFIG_TOKEN_WORD) {
		struct config_token key = ps->lx.token;
		unsigned long v;
		bool *seen = config_at_word(&ps->lx, "via") ? &via : config_at_word(&ps->lx, "dev") ? &dev
						     : config_at_word(&ps->lx, "metric") ? &metric : 0;
		if (!seen)
			return CONFIG_FAIL(&ps->lx, "unexpected '%s' in route (via, dev or metric)", key.text);
		if (*seen)
			return CONFIG_FAIL(&ps->lx, "'%s' given twice in one route", key.text);
		*seen = true;
		if (!config_next(&ps->lx))
			return false;
		if (seen == &dev) {
			if (!take_interface(ps, &r.iface))
				return false;
			continue;
		}
		struct config_token value = ps->lx.token;
		if (!config_take_word(&ps->lx, w, sizeof(w), seen == &via ? "a gateway A.B.C.D" : "a metric"))
			return false;
		if (seen == &via) {
			gw_at = value;
			memcpy(gw_text, w, sizeof(gw_text));
			if (!inet_parse_ipv4(w, strlen(w), &r.gateway))
				return config_fail_at(&ps->lx, &value, "'%s' is not a gateway address A.B.C.D", w);
		} else {
			if (!config_parse_uint(w, APPLIANCE_METRIC_MAX, &v))
				return config_fail_at(&ps->lx, &value, "'%s' is not a metric 0..%u", w,
					       APPLIANCE_METRIC_MAX);
			r.metric = (unsigned)v;
		}
	}
	if (!via && !dev)
		return CONFIG_FAIL(&ps->lx, "route needs 'via GATEWAY' or 'dev INTERFACE'");
	if (via && !check_gateway(ps, &gw_at, &r, gw_text))
		return false;
	for (unsigned k = 0; k < c->nroutes; k++) {
		const struct appliance_route *o = &c->routes[k];
		if (o->dest == r.dest && o->prefix_len == r.prefix_len && o->metric == r.metric)
			return config_fail_at(&ps->lx, &at, "the same destination and metric as the route on line %u "
				       "(give one a different metric)", o->line);
	}
	c->routes[c->nroutes++] = r;
	return config_end_of_statement(&ps->lx, false);
}

static const char *const service_names[] = {
	[SERVICE_PING] = "ping",
	[SERVICE_IPERF] = "iperf",
	[SERVICE_ECHO] = "echo",
};
static const uint16_t service_ports[] = {
	[SERVICE_PING] = 0,
	[SERVICE_IPERF] = 5001,
	[SERVICE_ECHO] = 7,
};
#define NSERVICE_KINDS (sizeof(service_names) / sizeof(service_names[0]))
#define SERVICE_ON_ANY 0xff      /* every interface, also those declared below */

const char *appliance_service_name(enum appliance_service_kind kind)
{
	return (unsigned)kind < NSERVICE_KINDS ? service_names[kind] : "?";
}

/* service NAME [port N] on NAME[, NAME...]|any */
static bool parse_service(struct parser *ps, unsigned line)
{
	struct appliance_config *c = ps->c;
	struct appliance_service s = { .line = line };
	struct config_token at = ps->lx.token;
	unsigned long v;
	unsigned k;

	if (c->nservices == APPLIANCE_MAX_SERVICES)
		return CONFIG_FAIL(&ps->lx, "at most %u services", APPLIANCE_MAX_SERVICES);
	for (k = 0; k < NSERVICE_KINDS && !config_at_word(&ps->lx, service_names[k]); k++)
		;
	if (k == NSERVICE_KINDS)
		return CONFIG_FAIL(&ps->lx, "unknown service '%s' (ping, iperf or echo)", ps->lx.token.text);
	s.kind = (enum appliance_service_kind)k;
	s.port = service_ports[k];
	if (!config_next(&ps->lx))
		return false;
	if (config_at_word(&ps->lx, "port")) {
		if (s.kind == SERVICE_PING)
			return CONFIG_FAIL(&ps->lx, "ping has no port");
		if (!config_next(&ps->lx))
			return false;
		if (ps->lx.token.kind != CONFIG_TOKEN_WORD || !config_parse_uint(ps->lx.token.text, 65535, &v) || !v)
			return CONFIG_FAIL(&ps->lx, "expected a port 1..65535");
		s.port = (uint16_t)v;
		if (!config_next(&ps->lx))
			return false;
	}
	if (!config_at_word(&ps->lx, "on"))
		return CONFIG_FAIL(&ps->lx, "expected 'on INTERFACE[, INTERFACE...]' or 'on any'");
	if (!config_next(&ps->lx))
		return false;
	if (config_at_word(&ps->lx, "any")) {
		s.ifaces = SERVICE_ON_ANY;
		if (!config_next(&ps->lx))
			return false;
	} else {
		for (;;) {
			int i;
			if (!take_interface(ps, &i))
				return false;
			s.ifaces |= (uint8_t)(1U << i);
			if (ps->lx.token.kind != CONFIG_TOKEN_COMMA)
				break;
			if (!config_next(&ps->lx))
				return false;
		}
	}
	for (k = 0; k < c->nservices; k++) {
		const struct appliance_service *o = &c->services[k];
		if (o->kind == s.kind)
			return config_fail_at(&ps->lx, &at, "service %s is already on line %u (list its interfaces "
				       "there)", service_names[s.kind], o->line);
		if (s.port && o->port == s.port)
			return config_fail_at(&ps->lx, &at, "port %u is already service %s's (line %u)", s.port,
				       service_names[o->kind], o->line);
	}
	c->services[c->nservices++] = s;
	return config_end_of_statement(&ps->lx, false);
}

#define KEYWORDS "forwarding, interface, route, service, set, chain or conntrack"

bool appliance_config_parse(const char *text, size_t len, struct appliance_config *c,
			    struct config_error *err)
{
	struct parser ps = { .c = c };

	*c = (struct appliance_config){ 0 };
	firewall_config_init(&c->firewall);
	config_parser_start(&ps.lx, text, len, err);
	if (!config_next(&ps.lx))
		return false;
	while (ps.lx.token.kind != CONFIG_TOKEN_END) {
		struct config_token key = ps.lx.token;
		bool ok;
		if (key.kind == CONFIG_TOKEN_NEWLINE) {
			if (!config_next(&ps.lx))
				return false;
			continue;
		}
		if (key.kind == CONFIG_TOKEN_CLOSE)
			return CONFIG_FAIL(&ps.lx, "'}' without a block to close");
		if (key.kind != CONFIG_TOKEN_WORD)
			return CONFIG_FAIL(&ps.lx, "unexpected '%s' (a statement starts with a keyword: %s)",
				    key.text, KEYWORDS);
		if (!config_next(&ps.lx))
			return false;
		if (!strcmp(key.text, "forwarding"))
			ok = parse_forwarding(&ps);
		else if (!strcmp(key.text, "interface"))
			ok = parse_interface(&ps, key.line);
		else if (!strcmp(key.text, "route"))
			ok = parse_route(&ps, key.line);
		else if (!strcmp(key.text, "service"))
			ok = parse_service(&ps, key.line);
		else if (firewall_config_keyword(key.text))
			ok = firewall_config_statement(&ps.lx, &key, c);
		else
			return config_fail_at(&ps.lx, &key, "unknown keyword '%s' (%s)", key.text, KEYWORDS);
		if (!ok)
			return false;
	}
	for (unsigned k = 0; k < c->nservices; k++)
		c->services[k].ifaces &= (uint8_t)((1U << c->ninterfaces) - 1);
	return true;
}
