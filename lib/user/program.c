/* What init hands a program: its arguments and DMA memory. */
#include "lib/mica.h"
#include "proto/dma.h"
#include "proto/nameservice.h"

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

void *dma_alloc(size_t size, uint64_t *phys)
{
	struct ipc_buffer *b = ipc_buffer();
	uint64_t window = b->recv_window;
	struct msg m = msg_make(DMA_ALLOC, 1);

	m.w[0] = size;
	b->recv_window = fpage(PROGRAM_DMA_BASE, 32);
	long err = ipc_call(NS_SLOT, &m);
	b->recv_window = window;
	if (err || ipc_tag_label(m.tag))
		return NULL;
	*phys = m.w[0];
	return (void *)m.w[1];
}
