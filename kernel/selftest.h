/* Kernel self-tests, run at boot by test builds given `kselftest`. */
#ifndef MICA_SELFTEST_H
#define MICA_SELFTEST_H

#ifdef MICA_TEST
void selftest_run(void) __attribute__((noreturn));
#endif

#endif
