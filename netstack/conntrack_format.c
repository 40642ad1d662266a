/* A connection as text, for the console's listing: netstack/conntrack.h. */
#include "conntrack.h"

#include "lib/fmt.h"
#include "lib/string.h"

static size_t put_tuple(char *buf, size_t size, const struct ct_tuple *t)
{
	const uint8_t *s = (const uint8_t *)&t->src, *d = (const uint8_t *)&t->dst;
	int n = fmt_snprintf(buf, size, " src=%u.%u.%u.%u dst=%u.%u.%u.%u", s[0], s[1], s[2], s[3], d[0], d[1],
			     d[2], d[3]);
	size_t len = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size ? size - 1 : 0;

	if (t->proto == CT_PROTO_TCP || t->proto == CT_PROTO_UDP)
		n = fmt_snprintf(buf + len, size - len, " sport=%u dport=%u", t->sport, t->dport);
	else if (t->proto == CT_PROTO_ICMP)
		n = fmt_snprintf(buf + len, size - len, " type=%u code=0 id=%u", t->dport, t->sport);
	else
		n = 0;
	len += n < 0 ? 0 : (size_t)n;
	return len < size ? len : size ? size - 1 : 0;
}

char *conntrack_format_entry(char *buf, size_t size, const struct ct_entry *e, uint64_t now)
{
	const struct ct_tuple *o = &e->tuple[CT_ORIGINAL];
	const char *name = o->proto == CT_PROTO_TCP ? "tcp" : o->proto == CT_PROTO_UDP ? "udp"
							   : o->proto == CT_PROTO_ICMP ? "icmp" : "unknown";
	uint64_t left = e->expires > now ? (e->expires - now) / 1000 : 0;
	char state[16] = "";
	size_t len;

	if (!size)
		return buf;
	if (o->proto == CT_PROTO_TCP) {
		const char *s = ct_tcp_state_name((enum ct_tcp_state)e->tcp_state);
		size_t k;
		state[0] = ' ';
		for (k = 0; s[k] && k + 2 < sizeof(state); k++)
			state[k + 1] = (char)(s[k] >= 'a' && s[k] <= 'z' ? s[k] - 'a' + 'A' : s[k]);
		state[k + 1] = 0;
	}
	int n = fmt_snprintf(buf, size, "%s %u %llu%s", name, o->proto, (unsigned long long)left, state);
	len = n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
	len += put_tuple(buf + len, size - len, o);
	if (!(e->flags & CT_F_REPLIED)) {
		n = fmt_snprintf(buf + len, size - len, " [UNREPLIED]");
		len += n < 0 ? 0 : (size_t)n < size - len ? (size_t)n : size - len - 1;
	}
	put_tuple(buf + len, size - len, &e->tuple[CT_REPLY]);
	return buf;
}
