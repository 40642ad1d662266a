/* Program arguments: include/lib/args.h. Pure, so host tests run it. */
#include "lib/args.h"
#include "lib/string.h"

const char *program_arg(const char *args, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *w = args; *w;) {
		while (*w == ' ')
			w++;
		const char *end = w;
		while (*end && *end != ' ')
			end++;
		if ((size_t)(end - w) > klen && !strncmp(w, key, klen) && w[klen] == '=') {
			size_t n = (size_t)(end - w) - klen - 1;
			if (n >= size)
				n = size - 1;
			memcpy(out, w + klen + 1, n);
			out[n] = 0;
			return out;
		}
		w = end;
	}
	return NULL;
}
