/* Program arguments: words of key=value (program_info.args). */
#ifndef MICA_LIB_ARGS_H
#define MICA_LIB_ARGS_H

#include <stddef.h>

/* The value of key=value among the words of args copied into out
 * (truncated to size - 1 characters); NULL when absent. */
const char *program_arg(const char *args, const char *key, char *out, size_t size);

#endif
