/*
 * The serial console's parts (docs/console.md): console.c reads the keys,
 * runs the command table and talks to init; console_net.c asks the
 * netstack, through a worker thread of its own, so that a netstack that
 * does not answer never holds the keys up; console_fault.c hands the
 * drivers their faults.
 */
#ifndef MICA_APPLIANCE_CONSOLE_H
#define MICA_APPLIANCE_CONSOLE_H

#include "lib/mica.h"
#include "proto/init.h"

#define CONSOLE_BIT_IRQ   0x1   /* console_notif: the UART has input */
#define CONSOLE_BIT_TIMER 0x2   /* console_notif: its timer (fault retries, waits) */
#define CONSOLE_BIT_NET   0x4   /* console_notif: the netstack worker has answered */

#define CONSOLE_MS        1000000UL    /* clock nanoseconds in a millisecond */

/* The console's notification (its main thread's, the UART's IRQ bound to
 * it) and an empty slot for the main thread's name look-ups. */
extern cap_slot_t console_notif, console_scratch;
/* Bits of console_notif a wait in a command took but did not act on; the
 * main loop acts on them next. Main thread only. */
extern long console_deferred;

/* A program's or an interface's name, NUL-terminated. */
typedef char console_name[INIT_NAME_WORDS * 8 + 1];

/* ---- the netstack (console_net.c) ---- */

/* Why the netstack's services are not there, as init sees the program
 * named netstack: "the netstack is starting (not registered yet)" while
 * it runs or waits to restart, else "the netstack is not running".
 * (console.c) */
const char *netstack_absence(void);

/* Start the worker thread and its first reading of the interfaces. 0 or
 * a negative error. */
long net_start(void);
/* The CONSOLE_BIT_NET arrived: take the worker's answer. */
void net_answered(void);
void cmd_ifconfig(char **arg);
/* The netstack's routing table and its neighbours (ARP). */
void cmd_route(char **arg);
void cmd_arp(char **arg);

/* Ask the netstack for its interfaces again (the worker's call) and wait
 * up to NET_WAIT_MS for the answer: true if it came (interface_names is
 * fresh), false if the worker is still waiting for the netstack, from
 * this request or an earlier one. Main thread only. */
bool net_refresh(void);
/* The interface names of the netstack's last answer into names (at most
 * max): their number, or -1 when it was not running then or has never
 * answered. */
long interface_names(console_name *names, unsigned max);
/* "the netstack has not answered for N ms" into buf, N since the worker
 * asked it; returns buf. */
char *net_silence(char *buf, size_t size);

/* As net_refresh, and then the worker runs job with the management
 * capability (for a command's own requests); true when it ran, else why
 * not is said, naming cmd. Main thread only. */
bool net_ask_more(const char *cmd, void (*job)(cap_slot_t mgmt));
/* What a change through the management capability answered (err < 0),
 * for the console's line: mica_strerror's, and for a refusal of the
 * read-only capability (no `lookup netmgmt` in our manifest) what the
 * manifest lacks. */
const char *net_change_error(long err);

/* ---- the POSIX server (console_posix.c) ---- */

/* ps's second table: the POSIX processes (nothing if the server is not
 * running). */
void posix_ps(void);
/* Whether kill's one word is posix_kill's (a pid, or a -SIGNAL missing
 * its pid): else it names a program. */
bool posix_kill_word(const char *word);
/* kill [-SIGNAL] PID|-PGID: arg[0], arg[1] (NULL when one word: a pid;
 * a lone -WORD is a signal, never a group: `kill -9` asks to whom). */
void posix_kill(char **arg);
/* run PROGRAM [ARGS]: the program on this terminal (posix_job_active). */
void posix_run(char **arg);
/* Whether a program run here has the keys. */
bool posix_job_active(void);
/* Keys typed while it has them (^] takes them back). */
void posix_keys(const char *in, unsigned n);
/* The console's timer fired: is the job still there? */
void posix_tick(void);

/* ---- the firewall (console_fw.c) ---- */
/* rules; conntrack [flush]; reload [FILE]. */
void cmd_rules(char **arg);
void cmd_conntrack(char **arg);
void cmd_reload(char **arg);

/* ---- faults (console_fault.c) ---- */

/* fault IFNAME KIND: tell the driver now, or queue the fault and retry
 * from the timer (faults_retry) until the driver takes it, its instance
 * changes or the patience runs out; either way, say which. */
void cmd_fault(char **arg);
void faults_retry(void);
/* The fault kinds' names (KIND of cmd_fault) into out; their number. */
unsigned fault_names(const char **out, unsigned max);

#endif
