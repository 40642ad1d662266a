/*
 * A tiny host unit-test framework. Each TEST registers itself; the runner
 * prints one line per test ("test NAME: OK" or "test NAME: FAIL ...") and a
 * closing "N passed, N failed" line. Arguments select tests by name.
 */
#ifndef MICA_UNIT_H
#define MICA_UNIT_H

#include <stdio.h>

void unit_register(const char *name, void (*fn)(void));
void unit_fail(const char *file, int line, const char *what);
extern int unit_failed_now;

#define TEST(name)                                                     \
	static void name(void);                                        \
	__attribute__((constructor)) static void register_##name(void) \
	{                                                              \
		unit_register(#name, name);                            \
	}                                                              \
	static void name(void)

#define CHECK(cond)                                                  \
	do {                                                         \
		if (!(cond)) {                                       \
			unit_fail(__FILE__, __LINE__, #cond);        \
			return;                                      \
		}                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                          \
	do {                                                                    \
		unsigned long long a_ = (unsigned long long)(a);                \
		unsigned long long b_ = (unsigned long long)(b);                \
		if (a_ != b_) {                                                 \
			char what_[1024];                                       \
			snprintf(what_, sizeof(what_), "%s == %s (%#llx != %#llx)", \
				 #a, #b, a_, b_);                               \
			unit_fail(__FILE__, __LINE__, what_);                   \
			return;                                                 \
		}                                                               \
	} while (0)

#endif
