#include <stdbool.h>

#include "uaccess.h"
#include "paging.h"
#include "task.h"

#include "lib/string.h"
#include "uapi/errors.h"

void *user_page_ptr(struct task *t, uint64_t uva, bool write)
{
	if (uva >= USER_TOP)
		return NULL;
	uint64_t pte = pt_lookup(t->pt_root, uva);
	if (!(pte & PTE_PRESENT) || !(pte & PTE_USER) || (write && !(pte & PTE_WRITE)))
		return NULL;
	if (pte & PTE_LARGE)
		return phys_to_virt((pte & PTE_ADDR & ~(LARGE_PAGE_SIZE - 1)) +
				    (uva & (LARGE_PAGE_SIZE - 1)));
	return phys_to_virt((pte & PTE_ADDR) + (uva & (PAGE_SIZE - 1)));
}

static int user_copy(struct task *t, void *kbuf, uint64_t uva, size_t len, bool to_user)
{
	uint8_t *k = kbuf;

	if (uva >= USER_TOP || len > USER_TOP - uva)
		return -ERR_BAD_ADDRESS;
	while (len) {
		size_t chunk = PAGE_SIZE - (uva & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint8_t *u = user_page_ptr(t, uva, to_user);
		if (!u)
			return -ERR_BAD_ADDRESS;
		if (to_user)
			memcpy(u, k, chunk);
		else
			memcpy(k, u, chunk);
		k += chunk;
		uva += chunk;
		len -= chunk;
	}
	return 0;
}

int copy_from_user(struct task *t, void *dst, uint64_t uva, size_t len)
{
	return user_copy(t, dst, uva, len, false);
}

int copy_to_user(struct task *t, uint64_t uva, const void *src, size_t len)
{
	return user_copy(t, (void *)src, uva, len, true);
}
