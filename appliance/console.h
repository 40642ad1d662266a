/*
 * The serial console's parts (docs/console.md): console.c reads the keys,
 * runs the command table and talks to init; console_net.c talks to the
 * netstack and the drivers.
 */
#ifndef MICA_APPLIANCE_CONSOLE_H
#define MICA_APPLIANCE_CONSOLE_H

#include "lib/mica.h"
#include "proto/init.h"

#define CONSOLE_BIT_IRQ   0x1   /* console_notif: the UART has input */
#define CONSOLE_BIT_TIMER 0x2   /* console_notif: time to retry queued faults */

/* The console's notification (its thread's, the UART's IRQ bound to it)
 * and an empty slot for looking names up. */
extern cap_slot_t console_notif, console_scratch;

void cmd_ifconfig(char **arg);
/* fault IFNAME KIND: tell the driver now, or queue the fault and retry
 * from the timer (faults_retry) until the driver takes it or the
 * patience runs out; either way, say which. */
void cmd_fault(char **arg);
void faults_retry(void);

/* A program's or an interface's name, NUL-terminated. */
typedef char console_name[INIT_NAME_WORDS * 8 + 1];

/* The netstack's interface names into names (at most max); their number,
 * or -1 when the netstack is not running. */
long interface_names(console_name *names, unsigned max);
/* The fault kinds' names (KIND of cmd_fault) into out; their number. */
unsigned fault_names(const char **out, unsigned max);

#endif
