/*
 * Name service protocol (served by init on the endpoint every program it
 * starts finds in slot NS_SLOT of its capability table).
 *
 * Names are up to 24 bytes, carried NUL-padded in words 0..2.
 *
 *   NS_REGISTER  words: name; item: one capability (IPC_ITEM_CAP).
 *                reply label: 0, or an ERR_* code (ERR_SLOT_IN_USE: the
 *                name is taken; ERR_INVALID_ARG: no capability came).
 *   NS_LOOKUP    words: name, [3] flags (NS_LOOKUP_NOWAIT). The reply
 *                carries the capability (set ipc_buffer.recv_cap_slot
 *                first); label 0; word 0: the registration's generation
 *                (a number init never gives twice, so a client can tell a
 *                restarted server from the one it knew). A name nobody
 *                registered yet is answered when somebody does (deferred
 *                reply), so a client may look a server up before it runs;
 *                with NS_LOOKUP_NOWAIT it is answered ERR_WOULD_BLOCK.
 *   NS_WATCH     words: name; item: a notification capability (badged by
 *                the caller with the bits it wants). init signals it each
 *                time the name is registered or removed, until the caller
 *                ends. ERR_NO_MEMORY: the watch table is full.
 *
 * A name belongs to the program that registered it: when that program
 * ends (exit, crash, kill), init removes the name and signals its
 * watchers, and the restarted program registers it again.
 */
#ifndef MICA_PROTO_NAMESERVICE_H
#define MICA_PROTO_NAMESERVICE_H

#include <stdint.h>

#include "proto/pci.h"

#define NS_SLOT      0          /* in every program init starts */
#define NS_NAME_WORDS 3
#define NS_NAME_MAX  (NS_NAME_WORDS * 8)

enum ns_label {
	NS_REGISTER = 1,
	NS_LOOKUP = 2,
	NS_WATCH = 4,         /* 3 is DMA_ALLOC (proto/dma.h) */
};

#define NS_LOOKUP_NOWAIT 0x1

/* Where init places a program's start-up information (read-only page):
 * its name and arguments. */
#define PROGRAM_INFO_ADDR   0x00007FFFFFFFE000UL
#define PROGRAM_IPC_BUFFER  0x00007FFFFFFFD000UL
/* Read-write page with struct program_heartbeat, for a program whose
 * manifest entry has heartbeat=MS (program_info.heartbeat_ms not 0). */
#define PROGRAM_HEARTBEAT_ADDR 0x00007FFFFFFFC000UL
#define PROGRAM_STACK_TOP   0x00007FFFFFF00000UL
#define PROGRAM_STACK_SIZE  (64 * 1024UL)
/* Heap: init maps zero-filled pages here on first touch (mem_heap()). */
#define PROGRAM_HEAP_BASE   0x0000600000000000UL
#define PROGRAM_HEAP_SIZE   (64UL << 20)
#define PROGRAM_FIRST_FREE_SLOT 8   /* slots below are init's to fill */
#define PROGRAM_THREAD_SLOT 1       /* its own thread (to bind a notification) */
#define PROGRAM_IRQ_SLOT    2       /* first IRQ capability, if any */
#define PROGRAM_PAGER_SLOT  7       /* init's endpoint as its pager and exception
				       handler, for threads it makes */

struct program_info {
	uint64_t magic;             /* PROGRAM_INFO_MAGIC */
	char name[32];
	char args[96];
	uint64_t restarts;          /* how often init restarted it */
	uint64_t priority;          /* its thread's priority (for threads it makes) */
	struct pci_device_info pci; /* the device it drives (manifest `pci`) */
	uint64_t heartbeat_ms;      /* manifest heartbeat=MS, or 0: no heartbeat page */
};

/*
 * The heartbeat a watched program keeps (program_busy() in lib): `busy`
 * is 1 while it has work in hand (set when it wakes up with something to
 * do, cleared before it sleeps), and `beats` grows with every round of
 * work. init's watchdog looks every heartbeat_ms: a program busy at two
 * looks in a row without a beat between them is hung, and is killed and
 * restarted like a crashed one. A program asleep is never hung.
 */
struct program_heartbeat {
	uint64_t beats;
	uint64_t busy;
};
#define PROGRAM_INFO_MAGIC 0x50524F47494E464FULL   /* "PROGINFO" */

#endif
