/* Rules back to text, for the console's listing (fw_format_rule in
 * include/lib/firewall_config.h). */
#include "firewall_parse.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* Text appended to buf[0..size), always terminated; "..." marks a cut. */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (o->len + (size_t)n >= o->size) {
		o->len = o->size - 1;
		if (o->size > 4)
			memcpy(o->buf + o->size - 4, "...", 4);
		return;
	}
	o->len += (size_t)n;
}

static void put_addr(struct out *o, uint32_t host_order)
{
	put(o, "%u.%u.%u.%u", host_order >> 24, host_order >> 16 & 0xff, host_order >> 8 & 0xff,
	    host_order & 0xff);
}

/* An address range as the prefixes that cover it exactly, comma-separated. */
static void put_addr_range(struct out *o, const struct fw_range *r, bool *first)
{
	uint64_t lo = r->lo, hi = r->hi;

	while (lo <= hi) {
		unsigned len = 32;
		while (len > 0) {
			uint64_t size = 1ULL << (33 - len);
			if (lo % size || lo + size - 1 > hi)
				break;
			len--;
		}
		put(o, *first ? "" : ", ");
		*first = false;
		put_addr(o, (uint32_t)lo);
		if (len < 32)
			put(o, "/%u", len);
		lo += 1ULL << (32 - len);
	}
}

static void put_value(struct out *o, const struct fw_range *r, enum fw_value kind, bool *first)
{
	if (kind == FW_VALUE_ADDRESS) {
		put_addr_range(o, r, first);
		return;
	}
	put(o, *first ? "" : ", ");
	*first = false;
	if (kind == FW_VALUE_ICMP && fw_icmp_type_name((uint8_t)r->lo))
		put(o, "%s", fw_icmp_type_name((uint8_t)r->lo));
	else if (r->lo == r->hi)
		put(o, "%u", r->lo);
	else
		put(o, "%u-%u", r->lo, r->hi);
}

/* " WHAT [!=] VALUE|@SET|{ LIST }" for a match that is there. */
static void put_match(struct out *o, const struct firewall_config *fw, const char *what,
		      const struct fw_set_match *m, enum fw_value kind)
{
	bool first = true;

	if (!m->count)
		return;
	put(o, " %s%s ", what, m->negate ? " !=" : "");
	for (unsigned k = 0; k < fw->nsets; k++)
		if (fw->sets[k].first == m->first && fw->sets[k].count == m->count) {
			put(o, "@%s", fw->sets[k].name);
			return;
		}
	const struct fw_range *r = fw->ranges + m->first;
	uint64_t span = (uint64_t)r->hi - r->lo + 1;
	bool one_prefix = !(span & (span - 1)) && r->lo % span == 0;
	bool list = m->count > 1 || (kind == FW_VALUE_ADDRESS && !one_prefix);
	put(o, list ? "{ " : "");
	for (unsigned i = 0; i < m->count; i++)
		put_value(o, &r[i], kind, &first);
	put(o, list ? " }" : "");
}

static void put_bits(struct out *o, const char *const *names, unsigned n, unsigned bits)
{
	bool first = true;

	for (unsigned k = 0; k < n; k++)
		if (bits >> k & 1) {
			put(o, "%s%s", first ? "" : ",", names[k]);
			first = false;
		}
}

static void put_statements(struct out *o, const struct fw_rule *r)
{
	static const struct {
		uint32_t ms;
		const char *name;
	} units[] = { { 1000, "second" }, { 60000, "minute" }, { 3600000, "hour" }, { 86400000, "day" } };

	for (unsigned k = 0; k < FW_MAX_STATEMENTS && r->statements[k]; k++) {
		if (r->statements[k] == FW_STMT_COUNTER) {
			put(o, " counter");
		} else if (r->statements[k] == FW_STMT_LIMIT) {
			const char *unit = "second";
			for (unsigned u = 0; u < 4; u++)
				if (units[u].ms == r->limit_unit_ms)
					unit = units[u].name;
			put(o, " limit rate %s%u/%s burst %u packets", r->limit_over ? "over " : "", r->limit_rate, unit,
			    r->limit_burst);
		} else {
			put(o, r->log_prefix[0] ? " log prefix \"%s\"" : " log", r->log_prefix);
		}
	}
}

static void put_verdict(struct out *o, const struct fw_rule *r)
{
	char addr[16];

	if (r->verdict == FW_CONTINUE)
		return;
	put(o, " %s", fw_verdict_name((enum fw_verdict)r->verdict));
	if (r->verdict == FW_REJECT && r->reject_with == FW_REJECT_TCP_RESET)
		put(o, " with tcp reset");
	else if (r->verdict == FW_REJECT && r->reject_with == FW_REJECT_ICMP)
		put(o, " with icmp type %s", fw_reject_name(r->reject_code));
	if (r->verdict == FW_SNAT || r->verdict == FW_DNAT) {
		config_format_ipv4(addr, sizeof(addr), r->nat_addr);
		put(o, " to %s", addr);
		if (r->nat_port)
			put(o, ":%u", r->nat_port);
	}
}

char *fw_format_rule(char *buf, size_t size, const struct appliance_config *c, unsigned i)
{
	const struct firewall_config *fw = &c->firewall;
	const struct fw_rule *r = &fw->rules[i];
	struct out o = { .buf = buf, .size = size };
	const char *l4 = r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : "icmp";

	if (!size)
		return buf;
	buf[0] = 0;
	if (r->iif != FW_NO_IFACE)
		put(&o, " iif %s", c->interfaces[r->iif].name);
	if (r->oif != FW_NO_IFACE)
		put(&o, " oif %s", c->interfaces[r->oif].name);
	if (r->proto && !r->sport.count && !r->dport.count && !r->icmp_type.count && !r->tcp_flags_mask)
		put(&o, " ip protocol %s", l4);
	put_match(&o, fw, "ip saddr", &r->saddr, FW_VALUE_ADDRESS);
	put_match(&o, fw, "ip daddr", &r->daddr, FW_VALUE_ADDRESS);
	char what[16];
	fmt_snprintf(what, sizeof(what), "%s sport", l4);
	put_match(&o, fw, what, &r->sport, FW_VALUE_PORT);
	fmt_snprintf(what, sizeof(what), "%s dport", l4);
	put_match(&o, fw, what, &r->dport, FW_VALUE_PORT);
	put_match(&o, fw, "icmp type", &r->icmp_type, FW_VALUE_ICMP);
	if (r->tcp_flags_mask) {
		put(&o, " tcp flags ");
		put_bits(&o, fw_tcp_flag_names, 8, r->tcp_flags_value);
		if (r->tcp_flags_mask != r->tcp_flags_value) {
			put(&o, " / ");
			put_bits(&o, fw_tcp_flag_names, 8, r->tcp_flags_mask);
		}
	}
	if (r->ct_states) {
		put(&o, " ct state ");
		put_bits(&o, fw_ct_state_names, 4, r->ct_states);
	}
	put_statements(&o, r);
	put_verdict(&o, r);
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}
