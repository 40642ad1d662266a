#include "manifest.h"

#include "lib/args.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "proto/netmgmt.h"
#include "proto/socket.h"

#define MAX_WORDS 16
#define WORD_LEN 96

struct line {
	char words[MAX_WORDS][WORD_LEN];
	int nwords;
	int indented;
};

/* Split one line into words; returns -1 if a word or the word count is
 * too long. */
static int split(const char *s, size_t len, struct line *l)
{
	size_t i = 0;

	l->nwords = 0;
	l->indented = len > 0 && (s[0] == ' ' || s[0] == '\t');
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == len || s[i] == '#')
			break;
		if (l->nwords == MAX_WORDS)
			return -1;
		size_t n = 0;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
			if (n + 1 == WORD_LEN)
				return -1;
			l->words[l->nwords][n++] = s[i++];
		}
		l->words[l->nwords++][n] = 0;
	}
	return 0;
}

/* Decimal or 0x-hex number, the whole word; -1 if not one. */
static int parse_number(const char *w, uint64_t *out, int hex_default)
{
	uint64_t v = 0;
	int base = hex_default ? 16 : 10, digits = 0;

	if (w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
		base = 16;
		w += 2;
	}
	for (; *w; w++, digits++) {
		int d;
		if (*w >= '0' && *w <= '9')
			d = *w - '0';
		else if (base == 16 && *w >= 'a' && *w <= 'f')
			d = *w - 'a' + 10;
		else if (base == 16 && *w >= 'A' && *w <= 'F')
			d = *w - 'A' + 10;
		else
			return -1;
		if (v > (~0ULL - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

static int valid_name(const char *w)
{
	size_t n = strlen(w);

	if (n == 0 || n >= MANIFEST_NAME_LEN)
		return 0;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') ||
		      (*w >= '0' && *w <= '9') || *w == '-' || *w == '_' || *w == '.'))
			return 0;
	return 1;
}

/* "8086:100e" (vendor:device) or "00:03.0" (bus:device.function). */
static int parse_pci(const char *w, struct manifest_program *p)
{
	char a[WORD_LEN], b[WORD_LEN];
	const char *colon = strchr(w, ':'), *dot;
	uint64_t x, y, z;

	if (!colon || (size_t)(colon - w) >= sizeof(a))
		return -1;
	memcpy(a, w, (size_t)(colon - w));
	a[colon - w] = 0;
	dot = strchr(colon + 1, '.');
	if (dot) {
		memcpy(b, colon + 1, (size_t)(dot - colon - 1));
		b[dot - colon - 1] = 0;
		if (parse_number(a, &x, 1) || parse_number(b, &y, 1) || parse_number(dot + 1, &z, 1) ||
		    x > 255 || y > 31 || z > 7)
			return -1;
		p->pci = PCI_MATCH_SLOT;
		p->pci_a = (uint16_t)x;
		p->pci_b = (uint16_t)(y << 3 | z);
		return 0;
	}
	if (strlen(a) != 4 || strlen(colon + 1) != 4 || parse_number(a, &x, 1) ||
	    parse_number(colon + 1, &y, 1) || x == 0xFFFF)
		return -1;
	p->pci = PCI_MATCH_ID;
	p->pci_a = (uint16_t)x;
	p->pci_b = (uint16_t)y;
	return 0;
}

#define FAIL(...) do { fmt_snprintf(err, err_size, __VA_ARGS__); return -1; } while (0)

static int program_line(const struct line *l, struct manifest *m, char *err, size_t err_size,
			unsigned lineno)
{
	if (l->nwords < 2)
		FAIL("'program' needs a name");
	if (!valid_name(l->words[1]))
		FAIL("bad program name '%s' (letters, digits, '-', '_', '.'; under %d characters)",
		     l->words[1], MANIFEST_NAME_LEN);
	for (unsigned i = 0; i < m->nprograms; i++)
		if (!strcmp(m->programs[i].name, l->words[1]))
			FAIL("program '%s' is declared twice (first on line %u)", l->words[1],
			     m->programs[i].line);
	if (m->nprograms == MANIFEST_MAX_PROGRAMS)
		FAIL("more than %d programs", MANIFEST_MAX_PROGRAMS);
	struct manifest_program *p = &m->programs[m->nprograms];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, l->words[1], strlen(l->words[1]) + 1);
	memcpy(p->module, l->words[1], strlen(l->words[1]) + 1);
	p->priority = 100;
	p->quota = 1 << 20;
	p->retries = 3;
	p->line = lineno;
	for (int i = 2; i < l->nwords; i++) {
		const char *w = l->words[i], *eq = strchr(w, '=');
		uint64_t v;
		if (!eq)
			FAIL("expected key=value, got '%s'", w);
		size_t klen = (size_t)(eq - w);
		const char *val = eq + 1;
		if (klen == 8 && !strncmp(w, "priority", 8)) {
			if (parse_number(val, &v, 0) || v < 1 || v > 199)
				FAIL("priority must be 1..199, got '%s'", val);
			p->priority = (unsigned)v;
		} else if (klen == 5 && !strncmp(w, "quota", 5)) {
			if (parse_number(val, &v, 0) || v < 64 || v > (1 << 20))
				FAIL("quota must be 64..1048576 KiB, got '%s'", val);
			p->quota = v * 1024;
		} else if (klen == 7 && !strncmp(w, "restart", 7)) {
			if (!strcmp(val, "never"))
				p->restart = RESTART_NEVER;
			else if (!strcmp(val, "on-crash"))
				p->restart = RESTART_ON_CRASH;
			else if (!strcmp(val, "always"))
				p->restart = RESTART_ALWAYS;
			else
				FAIL("restart must be never, on-crash or always, got '%s'", val);
		} else if (klen == 7 && !strncmp(w, "retries", 7)) {
			if (parse_number(val, &v, 0) || v > 1000)
				FAIL("retries must be 0..1000, got '%s'", val);
			p->retries = (unsigned)v;
		} else if (klen == 3 && !strncmp(w, "dma", 3)) {
			if (parse_number(val, &v, 0) || v > MANIFEST_DMA_MAX_KIB)
				FAIL("dma must be 0..%u KiB, got '%s'", MANIFEST_DMA_MAX_KIB, val);
			p->dma = v * 1024;
		} else if (klen == 6 && !strncmp(w, "memory", 6)) {
			if (parse_number(val, &v, 0) || v > MANIFEST_MEMORY_MAX_KIB)
				FAIL("memory must be 0..%u KiB, got '%s'", MANIFEST_MEMORY_MAX_KIB, val);
			p->memory = v * 1024;
		} else if (klen == 9 && !strncmp(w, "heartbeat", 9)) {
			if (parse_number(val, &v, 0) || (v && (v < 10 || v > 60000)))
				FAIL("heartbeat must be 0 (none) or 10..60000 ms, got '%s'", val);
			p->heartbeat_ms = (unsigned)v;
		} else if (klen == 7 && !strncmp(w, "control", 7)) {
			if (!strcmp(val, "yes"))
				p->control = true;
			else if (!strcmp(val, "no"))
				p->control = false;
			else
				FAIL("control must be yes or no, got '%s'", val);
		} else {
			FAIL("unknown setting '%.*s' (priority, quota, dma, memory, restart, retries, "
			     "heartbeat, control)", (int)klen, w);
		}
	}
	m->nprograms++;
	return 0;
}

static int resource_line(const struct line *l, struct manifest *m, char *err, size_t err_size)
{
	if (m->nprograms == 0)
		FAIL("'%s' outside a program", l->words[0]);
	struct manifest_program *p = &m->programs[m->nprograms - 1];
	const char *kw = l->words[0];
	uint64_t a, b;

	if (!strcmp(kw, "module")) {
		if (l->nwords != 2 || !valid_name(l->words[1]))
			FAIL("'module' needs one module name");
		memcpy(p->module, l->words[1], strlen(l->words[1]) + 1);
	} else if (!strcmp(kw, "file")) {
		if (l->nwords != 2 || !valid_name(l->words[1]))
			FAIL("'file' needs one boot module name");
		if (p->nfiles == MANIFEST_MAX_FILES)
			FAIL("more than %d files", MANIFEST_MAX_FILES);
		memcpy(p->files[p->nfiles++], l->words[1], strlen(l->words[1]) + 1);
	} else if (!strcmp(kw, "ioports")) {
		char first[WORD_LEN];
		const char *dash = l->nwords == 2 ? strchr(l->words[1], '-') : NULL;
		if (!dash)
			FAIL("'ioports' needs FIRST-LAST, e.g. ioports 0x70-0x71");
		memcpy(first, l->words[1], (size_t)(dash - l->words[1]));
		first[dash - l->words[1]] = 0;
		if (parse_number(first, &a, 1) || parse_number(dash + 1, &b, 1) || a > b || b > 0xFFFF)
			FAIL("bad I/O port range '%s'", l->words[1]);
		if (p->ioport_count)
			FAIL("only one 'ioports' range per program");
		p->ioport_first = (uint32_t)a;
		p->ioport_count = (uint32_t)(b - a + 1);
	} else if (!strcmp(kw, "irq")) {
		if (l->nwords != 2 || parse_number(l->words[1], &a, 0) || a > 23)
			FAIL("'irq' needs an IOAPIC input 0..23");
		if (p->nirqs == MANIFEST_MAX_IRQS)
			FAIL("more than %d irqs", MANIFEST_MAX_IRQS);
		p->irqs[p->nirqs++] = (unsigned)a;
	} else if (!strcmp(kw, "mmio")) {
		if (l->nwords != 3 || parse_number(l->words[1], &a, 1) || parse_number(l->words[2], &b, 1) ||
		    a % 4096 || b % 4096 || b == 0 || a + b < a)
			FAIL("'mmio' needs a page-aligned BASE and SIZE (hex)");
		if (p->nmmio == MANIFEST_MAX_MMIO)
			FAIL("more than %d mmio ranges", MANIFEST_MAX_MMIO);
		p->mmio_base[p->nmmio] = a;
		p->mmio_size[p->nmmio++] = b;
	} else if (!strcmp(kw, "pci")) {
		if (p->pci != PCI_MATCH_NONE)
			FAIL("only one 'pci' device per program");
		if (l->nwords != 2 || parse_pci(l->words[1], p))
			FAIL("'pci' needs VENDOR:DEVICE (hex, e.g. 8086:100e) or a slot BUS:DEV.FN "
			     "(e.g. 00:03.0)");
	} else if (!strcmp(kw, "lookup")) {
		if (l->nwords != 2 || strlen(l->words[1]) > MANIFEST_LOOKUP_LEN)
			FAIL("'lookup' needs one name of at most %d characters", MANIFEST_LOOKUP_LEN);
		if (p->nlookups == MANIFEST_MAX_LOOKUPS)
			FAIL("more than %d lookup lines", MANIFEST_MAX_LOOKUPS);
		memcpy(p->lookups[p->nlookups++], l->words[1], strlen(l->words[1]) + 1);
	} else if (!strcmp(kw, "args")) {
		size_t n = 0;
		for (int i = 1; i < l->nwords; i++) {
			size_t wl = strlen(l->words[i]);
			if (n + wl + 2 > MANIFEST_ARGS_LEN)
				FAIL("arguments longer than %d characters", MANIFEST_ARGS_LEN - 1);
			if (n)
				p->args[n++] = ' ';
			memcpy(p->args + n, l->words[i], wl);
			n += wl;
		}
		p->args[n] = 0;
	} else {
		FAIL("unknown keyword '%s' (module, file, pci, ioports, irq, mmio, lookup, args)", kw);
	}
	return 0;
}

unsigned manifest_parse(const char *text, size_t len, struct manifest *m,
			char *err, size_t err_size)
{
	static struct line l;   /* large; init is single-threaded here */
	unsigned lineno = 0;
	size_t pos = 0;

	m->nprograms = 0;
	if (err_size)
		err[0] = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		if (split(text + pos, end - pos, &l)) {
			fmt_snprintf(err, err_size, "line too long or too many words");
			return lineno;
		}
		pos = end + 1;
		if (l.nwords == 0)
			continue;
		int bad;
		if (!strcmp(l.words[0], "program")) {
			if (l.indented) {
				fmt_snprintf(err, err_size, "'program' must not be indented");
				return lineno;
			}
			bad = program_line(&l, m, err, err_size, lineno);
		} else if (!l.indented) {
			fmt_snprintf(err, err_size, "unknown keyword '%s' (expected 'program', or an "
				     "indented line under one)", l.words[0]);
			return lineno;
		} else {
			bad = resource_line(&l, m, err, err_size);
		}
		if (bad)
			return lineno;
	}
	return 0;
}

/* The private names the netstack registers (proto/socket.h,
 * proto/netmgmt.h): no manifest line shows them. */
static const char *const netstack_private[] = { SOCK_LEND_NAME, NETMGMT_NAME };

/* The name program p registers for its device if it drives one (a `pci`
 * line): its `args name=`, else its own name (drivers/net/driver.c). */
static const char *driver_name(const struct manifest_program *p, char *buf, size_t size)
{
	if (p->pci == PCI_MATCH_NONE)
		return NULL;
	return program_arg(p->args, "name", buf, size) ? buf : p->name;
}

static bool lookup_known(const struct manifest *m, const char *name)
{
	char buf[MANIFEST_LOOKUP_LEN + 1];

	for (size_t i = 0; i < sizeof(netstack_private) / sizeof(netstack_private[0]); i++)
		if (!strcmp(name, netstack_private[i]))
			return true;
	for (unsigned i = 0; i < m->nprograms; i++) {
		const char *d = driver_name(&m->programs[i], buf, sizeof(buf));
		if (d && !strcmp(d, name))
			return true;
	}
	return false;
}

unsigned manifest_check_lookups(const struct manifest *m, char *err, size_t err_size)
{
	for (unsigned i = 0; i < m->nprograms; i++) {
		const struct manifest_program *p = &m->programs[i];
		for (unsigned k = 0; k < p->nlookups; k++) {
			if (lookup_known(m, p->lookups[k]))
				continue;
			char drivers[64] = "", buf[MANIFEST_LOOKUP_LEN + 1];
			size_t n = 0;
			for (unsigned j = 0; j < m->nprograms; j++) {
				const char *d = driver_name(&m->programs[j], buf, sizeof(buf));
				if (d && n + strlen(d) + 3 < sizeof(drivers))
					n += (size_t)fmt_snprintf(drivers + n, sizeof(drivers) - n,
								  "%s%s", n ? ", " : "", d);
			}
			fmt_snprintf(err, err_size, "program %s: 'lookup %s': no driver here has that "
				     "name (%s) and the netstack's private names are %s, %s", p->name,
				     p->lookups[k], n ? drivers : "none", netstack_private[0],
				     netstack_private[1]);
			return p->line;
		}
	}
	return 0;
}
