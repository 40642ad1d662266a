/*
 * Reading and writing user memory from the kernel. Every access is checked
 * against the task's page tables (present, user, and writable for writes)
 * and done through the physical map, so a bad pointer is an error code,
 * never a kernel fault.
 */
#ifndef MICA_UACCESS_H
#define MICA_UACCESS_H

#include <stddef.h>
#include <stdint.h>

struct task;

/* Kernel pointer to the byte at uva, valid to the end of its page; NULL
 * when that page is not mapped for user (write) access. */
void *user_page_ptr(struct task *t, uint64_t uva, bool write);

/* 0, or -ERR_BAD_ADDRESS (nothing is copied to the kernel's buffer in a
 * way that matters: callers discard it on error). */
int copy_from_user(struct task *t, void *dst, uint64_t uva, size_t len);
int copy_to_user(struct task *t, uint64_t uva, const void *src, size_t len);

#endif
