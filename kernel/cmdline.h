/* The kernel command line: space-separated words, `key=value` or `flag`. */
#ifndef MICA_CMDLINE_H
#define MICA_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copy the value of the first `key=value` word into buf (NUL-terminated,
 * truncated to size - 1). Returns true when key was present; a bare `key`
 * word counts as present with an empty value.
 */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);

/* The word at position index (0-based) of s into buf; false past the end. */
bool cmdline_word(const char *s, int index, char *buf, size_t size);

#endif
