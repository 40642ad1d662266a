/*
 * How the programs of tests/posix print a call's result: one line a
 * check, the same on the host's Linux and on Mica (tests/system/
 * test_posix.py compares them). Static inline, so a program takes what it
 * uses; included after the system headers, with before it:
 *
 *   CHECK_ERRNOS(X)    the errno names the program prints, X(EINVAL) ...;
 *                      others print as strerror's text (err) or "other"
 *                      (errname)
 *   CHECK_FLUSH        (optional) stdout flushed after each report() line,
 *                      for a program whose children write too
 *
 *   show("what", r)    "what: R NAME": R the result (-1 for any failure),
 *                      NAME err(errno) then, "0" on success
 *   report("what", r)  "what: R NAME": R as returned, NAME errname(errno)
 *                      on failure, "0" on success; errno cleared after
 *   outcome(r)         "R" (r >= 0) or err(errno), as a string for the
 *                      program's own printf; raw_outcome(r) the same for
 *                      a raw call's r (-errno on failure)
 */
#ifndef MICA_TESTS_POSIX_CHECK_H
#define MICA_TESTS_POSIX_CHECK_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The name of errno value e if the program's CHECK_ERRNOS lists it, else
 * NULL. */
static inline const char *errno_name(int e)
{
#ifdef CHECK_ERRNOS
#define CHECK_NAME(x) case x: return #x;
	switch (e) {
	CHECK_ERRNOS(CHECK_NAME)
	}
#undef CHECK_NAME
#endif
	(void)e;
	return NULL;
}

/* e's name: "0" for none, strerror(e) for one not named. */
static inline const char *err(int e)
{
	const char *name = errno_name(e);

	return !e ? "0" : name ? name : strerror(e);
}

/* e's name: "0" for none, "other" for one not named. */
static inline const char *errname(int e)
{
	const char *name = errno_name(e);

	return !e ? "0" : name ? name : "other";
}

static inline void show(const char *what, long r)
{
	int e = errno;

	printf("%s: %ld %s\n", what, r < 0 ? -1 : r, err(r < 0 ? e : 0));
}

static inline void report(const char *what, long result)
{
	printf("%s: %ld %s\n", what, result, result < 0 ? errname(errno) : "0");
#ifdef CHECK_FLUSH
	fflush(stdout);
#endif
	errno = 0;
}

/* r as a string: its value when r >= 0, else err(e). Eight buffers in
 * turn, so that several may stand in one printf. */
static inline const char *outcome_err(long r, int e)
{
	static char b[8][24];
	static unsigned n;

	if (r < 0)
		return err(e);
	char *s = b[n++ % 8];
	snprintf(s, sizeof(b[0]), "%ld", r);
	return s;
}

/* A libc call's result r (errno on failure), as a string. */
static inline const char *outcome(long r)
{
	return outcome_err(r, errno);
}

/* A raw call's result r (-errno on failure), as a string. */
static inline const char *raw_outcome(long r)
{
	return outcome_err(r, r < 0 ? (int)-r : 0);
}

#endif
