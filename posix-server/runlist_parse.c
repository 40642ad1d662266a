/* The run list's spellings read into one form (runlist_parse.h). Pure. */
#include "runlist_parse.h"

static bool separator(char c)
{
	return c == RUN_WORD || c == RUN_ITEM;
}

bool run_list_from_arg(const char *value, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = value; *p; p++) {
		char c = *p;
		if (c == '\\' && !*++p)
			return false;   /* a lone backslash at the end */
		if (separator(*p) || n + 1 >= size)
			return false;
		if (c == '\\')
			c = *p;
		else if (c == ':')
			c = RUN_WORD;
		else if (c == ',')
			c = RUN_ITEM;
		out[n++] = c;
	}
	out[n] = 0;
	return true;
}

bool run_list_from_text(const char *text, size_t size, char *out, size_t out_size)
{
	size_t n = 0;
	bool comment = false, space = false, quoted = false;

	for (size_t i = 0; i < size && text[i]; i++) {
		char c = text[i];
		if (separator(c)) {
			return false;
		} else if (c == '\n') {
			comment = space = quoted = false;
			c = RUN_ITEM;
		} else if (comment) {
			continue;
		} else if (c == '\'') {
			quoted = !quoted;
			if (space && n && out[n - 1] != RUN_ITEM && n < out_size - 1)
				out[n++] = RUN_WORD;
			space = false;
			continue;
		} else if (!quoted && c == '#') {
			comment = true;
			continue;
		} else if (!quoted && (c == ' ' || c == '\t')) {
			space = true;
			continue;
		} else if (space) {
			space = false;
			if (n && out[n - 1] != RUN_ITEM && n < out_size - 1)
				out[n++] = RUN_WORD;
		}
		if (c == RUN_ITEM && (!n || out[n - 1] == RUN_ITEM))
			continue;       /* an empty line */
		if (n >= out_size - 1)
			return false;
		out[n++] = c;
	}
	out[n] = 0;
	return true;
}

unsigned run_list_next(char **cursor, const char **argv, unsigned max)
{
	char *item = *cursor, *end = item;
	unsigned argc = 0;

	if (!*item)
		return 0;
	while (*end && *end != RUN_ITEM)
		end++;
	*cursor = *end ? end + 1 : end;
	*end = 0;
	for (char *word = item; word && argc < max;) {
		char *sep = word;
		while (*sep && *sep != RUN_WORD)
			sep++;
		argv[argc++] = word;
		word = *sep ? sep + 1 : NULL;
		*sep = 0;
	}
	return argc;
}
