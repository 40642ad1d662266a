/*
 * The netstack server's parts, shared between its files: the interfaces
 * (nic.c, one lwIP netif over each NIC driver's queues), the interface
 * configuration (config.c), the socket service (socket.c) and the loop
 * that drives them (main.c).
 */
#ifndef MICA_NETSTACK_H
#define MICA_NETSTACK_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "lib/mica.h"
#include "proto/nameservice.h"
#include "proto/netq.h"
#include "proto/socket.h"

#include "config.h"

/* Notification bits of the netstack's one notification (bound to its
 * thread): one per NIC for its driver's queue signals, then the timer. */
#define NETSTACK_BIT_NIC(i) (1UL << (i))
#define NETSTACK_BIT_TIMER  (1UL << 32)

/* One pool buffer as lwIP sees it while it holds a received frame. */
struct nic_rxbuf {
	struct pbuf_custom pc;
	struct nic *nic;
	uint32_t start;                 /* the buffer's offset in the area */
	struct pbuf *tx_hold;           /* sent in place: released at tx-done */
};

struct nic {
	struct nic_config cfg;
	unsigned index;
	struct netif netif;
	cap_slot_t driver, driver_notif;
	uint8_t *area;
	uint64_t phys;
	unsigned log2;
	uint32_t nbufs;
	struct netq_area geom;          /* our copy: the shared header is the driver's to scribble on */
	struct nic_rxbuf *bufs;         /* one per pool buffer */
	uint32_t *free;                 /* buffers in no ring and not in lwIP */
	uint32_t nfree;
	bool attached, up_reported;
	bool pushed, popped;            /* since the last nic_flush: into rx-free or
					   tx-ready; out of rx-ready or tx-done */
	struct net_if_counters count;
};

extern struct nic nics[NETSTACK_MAX_NICS];
extern unsigned nnics;

/* Set an interface up: pool, driver attach, netif (nic.c). */
long nic_start(struct nic *n, cap_slot_t notify);
/* Move everything that can move between the rings and lwIP; true if
 * anything did. */
bool nic_service(struct nic *n);
/* Signal the driver if it waits for what we gave it. */
void nic_flush(struct nic *n);
/* Before sleeping: true when no ring has work for us. */
bool nic_may_sleep(struct nic *n);
/* The interface counters, with the driver's (NET_IF_STATS). */
void nic_counters(struct nic *n, struct net_if_counters *c);

/* The socket service (socket.c). */
void socket_init(cap_slot_t endpoint);
/* One request on the netstack's endpoint; false when the reply is deferred
 * (the reply object in `reply` is kept; the caller must take another). */
bool socket_request(struct msg *m, cap_slot_t reply);
/* Answer deferred requests whose condition came true. */
void socket_poll(void);

#endif
