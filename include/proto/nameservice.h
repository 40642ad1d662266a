/*
 * Name service protocol (served by init on the endpoint every program it
 * starts finds in slot NS_SLOT of its capability table).
 *
 * Names are up to 24 bytes, carried NUL-padded in words 0..2.
 *
 *   NS_REGISTER  words: name; item: one capability (IPC_ITEM_CAP).
 *                reply label: 0, or an ERR_* code (ERR_SLOT_IN_USE: the
 *                name is taken; ERR_INVALID_ARG: no capability came).
 *   NS_LOOKUP    words: name. The reply carries the capability (set
 *                ipc_buffer.recv_cap_slot first); label 0. A name nobody
 *                registered yet is answered when somebody does (deferred
 *                reply), so a client may look a server up before it runs.
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
};

/* Where init places a program's start-up information (read-only page):
 * its name and arguments. */
#define PROGRAM_INFO_ADDR   0x00007FFFFFFFE000UL
#define PROGRAM_IPC_BUFFER  0x00007FFFFFFFD000UL
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
};
#define PROGRAM_INFO_MAGIC 0x50524F47494E464FULL   /* "PROGINFO" */

#endif
