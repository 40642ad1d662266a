/*
 * Leaving the machine. Test builds (MICA_TEST) have QEMU's isa-debug-exit
 * device at port 0xF4: writing v makes QEMU exit with status (v << 1) | 1.
 */
#ifndef MICA_MACHINE_H
#define MICA_MACHINE_H

#define DEBUG_EXIT_PORT    0xF4
#define MACHINE_EXIT_PASS  0x10   /* QEMU exit status 33 */
#define MACHINE_EXIT_FAIL  0x11   /* QEMU exit status 35 */

/* Test builds: exit QEMU with code. Otherwise (and if that fails) halt. */
void machine_exit(int code) __attribute__((noreturn));
/* Stop after a panic: exit with MACHINE_EXIT_FAIL in test builds. */
void machine_halt_failure(void) __attribute__((noreturn));

#endif
