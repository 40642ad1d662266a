/*
 * The run list's two spellings (docs/posix.md, "Running it: the
 * manifest") read into one form: the programs the server runs one after
 * the other, each with its arguments. Pure logic (host unit tests,
 * tests/unit/test_runlist.c); runlist.c runs what it gives.
 *
 *   run=PROG[:ARG...][,PROG...]   (the manifest's `args`) ':' ends a word,
 *                                 ',' a program; a backslash makes the
 *                                 next character part of the word (\, \:
 *                                 \\), so an argument may hold both
 *   runfile=FILE                  one program a line, its words separated
 *                                 by spaces or tabs; a word in single
 *                                 quotes may hold spaces; ':' and ','
 *                                 are ordinary; `#` starts a comment
 *
 * The form: words separated by RUN_WORD, programs by RUN_ITEM (ASCII's
 * unit and record separators), NUL-terminated. A list that holds either
 * byte itself is refused.
 */
#ifndef MICA_POSIX_RUNLIST_PARSE_H
#define MICA_POSIX_RUNLIST_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define RUN_WORD '\x1f'
#define RUN_ITEM '\x1e'

/* run='s value into out (size bytes with its NUL). false: it does not
 * fit, ends in a lone backslash, or holds RUN_WORD or RUN_ITEM. */
bool run_list_from_arg(const char *value, char *out, size_t size);

/* A run file's text (size bytes, or up to a NUL) into out; empty and
 * comment lines are left out. false: it does not fit or holds RUN_WORD
 * or RUN_ITEM. */
bool run_list_from_text(const char *text, size_t size, char *out, size_t out_size);

/* The next program of the list at *cursor (the form above, cut in place):
 * its words into argv (at most max; the rest are dropped), *cursor past
 * it. The number of words, 0 at the list's end. */
unsigned run_list_next(char **cursor, const char **argv, unsigned max);

#endif
