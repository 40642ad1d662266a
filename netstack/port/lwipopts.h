/*
 * lwIP configuration for the Mica netstack: one thread, no OS layer
 * (NO_SYS), IPv4 with ARP, ICMP, UDP, TCP and DHCP, and sizes chosen for
 * throughput over a 1500-byte MTU rather than lwIP's small defaults.
 *
 * Memory: the lwIP heap (MEM_SIZE) is one 16 MiB run of DMA memory,
 * mapped read-only into the drivers so that the segments lwIP builds there
 * go out by reference (netstack/tx_heap.c), or, when the manifest's dma=
 * has no room for it, in the program's heap window (netstack_heap, from
 * pool_heap_init()), paged in on first touch; lwIP's allocations in it
 * are netstack/heap.c's (MEM_LIBC_MALLOC: a buddy system, where lwIP's
 * own first fit cost in proportion to the blocks in use); the fixed
 * pools (MEMP_*) are in the program's data. Received frames stay in the
 * driver pool (custom pbufs) while lwIP holds less than its share of it,
 * and are copied into the heap past that (netstack/iface.c).
 */
#ifndef MICA_NETSTACK_LWIPOPTS_H
#define MICA_NETSTACK_LWIPOPTS_H

#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_RAW                    0
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_DHCP                   1
#define LWIP_DNS                    0
#define LWIP_IGMP                   0
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_SINGLE_NETIF           0
/* lo, 127.0.0.1/8, and datagrams to our own addresses (netstack/loopback.c) */
#define LWIP_HAVE_LOOPIF            1
#define LWIP_NETIF_LOOPBACK         1
#define LWIP_LOOPBACK_MAX_PBUFS     128
#define IP_REASSEMBLY               1
#define IP_FRAG                     1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_QUEUEING                1

/* The lwIP heap: PBUF_RAM pbufs (TCP send data, ICMP replies, copies). */
#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (16 * 1024 * 1024 - 64) /* lwIP's checks' bound; heap.c
								   has the whole 16 MiB run (pool.c) */
extern unsigned char *netstack_heap;
#define MEM_LIBC_MALLOC             1
#include <stddef.h>
void *netstack_mem_malloc(size_t n);
void netstack_mem_free(void *p);
#define mem_clib_malloc             netstack_mem_malloc
#define mem_clib_free               netstack_mem_free

/* Pools. PBUF_REF/ROM headers (MEMP_NUM_PBUF) are what the received-frame
 * custom pbufs do not need (they are preallocated per pool buffer); data
 * queued by reference (tcp_write without COPY: the iperf client's) takes
 * one or two per segment, so 256 of them held a sender to about 300 KiB
 * in flight, less than TCP_SND_BUF (docs/drivers.md, "e1000 transmit"):
 * twice TCP_SND_BUF's segments. */
#define MEMP_NUM_PBUF               2048
#define MEMP_NUM_UDP_PCB            192     /* as many as TCP's (POSIX sockets) */
#define MEMP_NUM_TCP_PCB            192     /* iperf3 -P 128 and the rest */
#define MEMP_NUM_TCP_PCB_LISTEN     16
#define MEMP_NUM_TCP_SEG            4096    /* TCP_SND_QUEUELEN's, and more for other connections */
#define MEMP_NUM_REASSDATA          16
#define IP_REASS_MAX_PBUFS          64
#define MEMP_NUM_FRAG_PBUF          64
#define MEMP_NUM_ARP_QUEUE          64
#include "config.h"                 /* NETSTACK_MAX_NICS */
/* + an attach retry per NIC, the socket service's client check, the
 * forwarded datagrams' wait for ARP (nexthop.c) and the guard's timer
 * (guard.c); lwIP's cyclic timers are timers.c's, not in this pool */
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + NETSTACK_MAX_NICS + 3)
#define PBUF_POOL_SIZE              64
#define LWIP_SUPPORT_CUSTOM_PBUF    1

/* TCP: window scaling, windows and buffers sized for a fast LAN. */
#define TCP_MSS                     1460
#define LWIP_WND_SCALE              1
/* The receive window: 256 KiB (scale 3: lwIP's 16-bit field << 3 holds
 * up to 512 KiB). With 128 KiB the window was full whenever the reader
 * (the POSIX server's iperf3) came for its 128 KiB block, and the sender
 * waited for it to be read: stop and go, the guest idle while the host
 * filled the window again (docs/netstack.md, "lwIP settings"). */
#define TCP_RCV_SCALE               3
#define TCP_WND                     (256 * 1024)
/* 256 KiB of send buffer was all in flight on e1000 from the guest (QEMU
 * sends a burst within one register write; its acknowledgements are read
 * after it), the sender idle between bursts: docs/drivers.md. 512 KiB was
 * all in flight too once a round of the loop no longer stopped at a ring
 * of segments (iface.c, tx_make_room): docs/netstack.md, "Sending from
 * the netstack". */
#define TCP_SND_BUF                 (1024 * 1024)
#define TCP_SND_QUEUELEN            ((4 * TCP_SND_BUF) / TCP_MSS)
#define TCP_SNDLOWAT                (32 * 1024)   /* lwIP keeps it in 16 bits */
#define TCP_QUEUE_OOSEQ             1
/* lwIP checks TCP_WND against its PBUF_POOL; received frames do not come
 * from that pool here but from the driver pool (iface.c). */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define TCP_OOSEQ_MAX_PBUFS         128
/* Out-of-order segments hold pool buffers (or heap copies): fewer per
 * connection while the pools run low (netstack/guard.c, declared in
 * netstack_hooks.h, which tcp_in.c includes). */
#define TCP_OOSEQ_PBUFS_LIMIT(pcb)  guard_ooseq_pbufs_limit(pcb)
#define TCP_LISTEN_BACKLOG          1
/* Two words kept with each pcb for the netstack: a half-open
 * connection's age (guard.c, half_open_make_room) and when it last
 * answered a half-open or TIME-WAIT segment (guard.c, answer_allowed). */
#define LWIP_TCP_PCB_NUM_EXT_ARGS   2
#define TCP_DEFAULT_LISTEN_BACKLOG  16
#define LWIP_TCP_KEEPALIVE          1
#define TCP_OVERSIZE                TCP_MSS
#define LWIP_TCP_TIMESTAMPS         0
#define SO_REUSE                    1
/* Checksums per frame and per interface (netstack/offload.c): lwIP checks
 * only what the NIC did not, and never computes TCP's (offload.c does, or
 * leaves it to the NIC), so it need not sum data as it copies it. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define LWIP_CHECKSUM_ON_COPY       0
/* What checksums and copies lwIP still does, eight bytes a round rather
 * than one or two (lib/netq_csum.c, port/netstack_copy.h). */
#include "lib/netq_csum.h"
#include "netstack_copy.h"
#define LWIP_CHKSUM(data, len)      netq_sum_native(data, (size_t)(len))
#define MEMCPY(dst, src, len)       netstack_copy(dst, src, len)

/* Statistics, read on the management protocol (NETMGMT_PROTO_STATS); 32-bit counters. */
#define LWIP_STATS                  1
#define LWIP_STATS_LARGE            1
#define LWIP_STATS_DISPLAY          0
#define LINK_STATS                  1
#define ETHARP_STATS                1
#define IP_STATS                    1
#define IPFRAG_STATS                1
#define ICMP_STATS                  1
#define UDP_STATS                   1
#define TCP_STATS                   1
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define SYS_STATS                   0

/* What the netstack checks beyond lwIP on input from the wire, and its
 * TCP initial sequence numbers: netstack/guard.c, through lwIP's hooks. */
#define LWIP_HOOK_FILENAME          "netstack_hooks.h"

#define LWIP_NETIF_HOSTNAME         1
#define LWIP_NETIF_API              0
#define LWIP_DEBUG                  0

#endif
