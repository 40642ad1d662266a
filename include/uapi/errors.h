/*
 * The one error enumeration of the kernel ABI. System calls return a
 * non-negative value on success and -ERR_* on failure.
 */
#ifndef MICA_UAPI_ERRORS_H
#define MICA_UAPI_ERRORS_H

#define MICA_ERRORS(X)                                                       \
	X(ERR_INVALID_CAP, 1, "capability slot out of range or empty")        \
	X(ERR_WRONG_TYPE, 2, "capability has the wrong type")                 \
	X(ERR_NO_RIGHTS, 3, "capability lacks a needed right")                \
	X(ERR_BAD_ADDRESS, 4, "user address unmapped, misaligned or kernel")  \
	X(ERR_INVALID_ARG, 5, "argument out of range")                        \
	X(ERR_NO_MEMORY, 6, "kernel memory quota or physical memory exhausted") \
	X(ERR_WOULD_BLOCK, 7, "non-blocking operation found no partner")      \
	X(ERR_SLOT_IN_USE, 8, "destination slot is not empty")                \
	X(ERR_DELETED, 9, "object deleted while waiting on it")               \
	X(ERR_BUSY, 10, "object is in a state that forbids this")             \
	X(ERR_NO_SYSCALL, 11, "no such system call")                          \
	X(ERR_RANGE, 12, "address range overlaps something or is too large")

enum mica_error {
	ERR_NONE = 0,          /* not ERR_OK: lwIP, built with these headers, has that name */
#define MICA_ERROR_ENUM(name, value, text) name = value,
	MICA_ERRORS(MICA_ERROR_ENUM)
#undef MICA_ERROR_ENUM
	ERR_COUNT
};

#endif
