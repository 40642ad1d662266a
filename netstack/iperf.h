/*
 * The netstack's iperf 2 server and client (TCP only), compatible with
 * Debian's `iperf` (iperf 2): iperf.c. Each test ends with one line,
 *
 *   netstack: iperf: server done with A.B.C.D:PORT, BYTES bytes in MS ms, KBPS kbit/s
 *
 * ("client done", "aborted by the peer", "aborted here (...)" for the
 * other ends), byte counts 64-bit. At most 8 tests at once, 2 from one
 * host; when all are taken a newcomer ends the least active; a test
 * moving under 8 KiB in 10 s is ended.
 */
#ifndef MICA_NETSTACK_IPERF_H
#define MICA_NETSTACK_IPERF_H

#include <stdbool.h>

#include "lwip/ip_addr.h"

/* Listen on TCP port; false if lwIP has no pcb or the port is taken. */
bool iperf_server_start(u16_t port);

/* Send to an iperf 2 server for seconds (iperf -s; its report counts what
 * was sent); false when no slot or pcb is free or lwIP refuses. */
bool iperf_client_start(const ip_addr_t *server, u16_t port, unsigned seconds);

#endif
