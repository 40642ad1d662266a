#include "cmdline.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

bool cmdline_word(const char *s, int index, char *buf, size_t size)
{
	for (int i = 0;; i++) {
		while (*s && is_space(*s))
			s++;
		if (!*s)
			return false;
		const char *start = s;
		while (*s && !is_space(*s))
			s++;
		if (i == index) {
			size_t len = (size_t)(s - start);
			if (size == 0)
				return true;
			if (len > size - 1)
				len = size - 1;
			for (size_t k = 0; k < len; k++)
				buf[k] = start[k];
			buf[len] = 0;
			return true;
		}
	}
}

bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	char word[128];

	for (int i = 0; cmdline_word(cmdline, i, word, sizeof(word)); i++) {
		size_t k = 0;
		while (key[k] && word[k] == key[k])
			k++;
		if (key[k])
			continue;
		if (word[k] == 0 || word[k] == '=') {
			const char *v = word[k] ? word + k + 1 : word + k;
			size_t n = 0;
			if (size == 0)
				return true;
			while (v[n] && n < size - 1) {
				buf[n] = v[n];
				n++;
			}
			buf[n] = 0;
			return true;
		}
	}
	return false;
}
