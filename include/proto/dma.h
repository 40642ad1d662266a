/*
 * DMA memory from init: physically contiguous, page aligned, pinned (init never moves or
 * reclaims it while the program lives), with its physical address known,
 * and charged to the program's `dma=` allowance in the boot manifest.
 * Served on init's endpoint (PROGRAM_INIT_SLOT; label in proto/init.h).
 *
 *   DMA_ALLOC  words: [0] size in bytes (rounded up to a power of two, at
 *              least one page). Before calling, the caller sets its IPC
 *              buffer's recv_window to cover PROGRAM_DMA_BASE..+PROGRAM_DMA_SIZE
 *              (uapi/address_map.h).
 *              reply label: 0, or ERR_NO_MEMORY (above the allowance, allowance
 *              or RAM exhausted, or PROGRAM_MAX_DMA allocations held),
 *              ERR_INVALID_ARG (size 0);
 *              words: [0] physical address, [1] virtual address (in the
 *              DMA window, aligned to the size), [2] size;
 *              item: the memory, mapped read/write at that address.
 *   DMA_CHECK  words: [0] physical address, [1] size in bytes. Whether
 *              the run lies inside one DMA run init has given a program
 *              that is running (DMA_ALLOC's memory, which init keeps for
 *              that program's next instance when it ends, never giving it
 *              to another). A NIC driver asks before it gives its device
 *              memory a client shared (proto/netq.h, NETQ_ATTACH): other
 *              pages a client maps are freed when it dies and given to
 *              the next program while the device may still write there.
 *              Only a program that drives a PCI device may ask.
 *              reply label: 0 (inside one), ERR_RANGE (not),
 *              ERR_INVALID_ARG (size 0, or the run wraps), ERR_NO_RIGHTS
 *              (the caller drives no device).
 *
 * The memory goes back to init when the program ends; everything it mapped
 * further (a packet pool shared with a driver) is revoked then too.
 */
#ifndef MICA_PROTO_DMA_H
#define MICA_PROTO_DMA_H

#include "proto/init.h"
#include "uapi/address_map.h"

#endif
