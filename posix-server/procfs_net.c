/*
 * /proc/net/dev, route, tcp and udp (proc(5)): the netstack's interfaces,
 * routes and TCP and UDP pcbs as Linux's files show a host's, from
 * netinfo (netinfo.c: asked over the netstack's management protocol by a
 * worker thread, so the server never waits for the netstack). A read at
 * offset 0 waits for an answer newer than its start (a bounded time);
 * the reads after it make the file again from the same answer. net/dev
 * lists lo first, from the netstack's loopback counters. Fields the
 * netstack does not keep are 0: net/dev's fifo, frame, compressed,
 * multicast, colls and carrier; route's RefCnt, Use, MTU, Window and IRTT;
 * tcp's and udp's timers, uid and inode (the server does not know which
 * process a pcb is for).
 */
#include "netinfo.h"
#include "procfs.h"
#include "syscall.h"

#include <stdarg.h>

#include "lib/fmt.h"

#define RTF_UP      0x1                 /* <linux/route.h> */
#define RTF_GATEWAY 0x2

/* One line (fmt's formats) padded with spaces to width characters, as
 * Linux's seq_pad, and its newline. */
static void __attribute__((format(printf, 2, 3))) line(unsigned width, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	while ((unsigned)n < width && (size_t)n < sizeof(buf) - 2)
		buf[n++] = ' ';
	buf[n++] = '\n';
	procfs_append(buf, (size_t)n);
}

static void dev(void)
{
	procfs_printf("Inter-|   Receive                                                |  Transmit\n"
		      " face |bytes    packets errs drop fifo frame compressed multicast|"
		      "bytes    packets errs drop fifo colls carrier compressed\n");
	/* lo first, as Linux lists it (by interface number): what went
	 * through the netstack's loopback, each datagram sent and received. */
	procfs_printf("%6s: %7lu %7lu %4lu %4lu %4lu %5lu %10lu %9lu %8lu %7lu %4lu %4lu %4lu "
		      "%5lu %7lu %10lu\n",
		      "lo", netinfo.lo_bytes, netinfo.lo_packets, 0UL, 0UL, 0UL, 0UL, 0UL, 0UL,
		      netinfo.lo_bytes, netinfo.lo_packets, 0UL, 0UL, 0UL, 0UL, 0UL, 0UL);
	for (unsigned i = 0; i < netinfo.nifs; i++) {
		const struct net_if_info *in = &netinfo.ifs[i];
		const struct net_if_counters *c = &in->count;
		char name[sizeof(in->name) + 1];
		memcpy(name, in->name, sizeof(in->name));
		name[sizeof(in->name)] = 0;
		procfs_printf("%6s: %7lu %7lu %4lu %4lu %4lu %5lu %10lu %9lu %8lu %7lu %4lu %4lu %4lu "
			      "%5lu %7lu %10lu\n",
			      name, c->rx_bytes, c->rx_packets, c->drv_rx_errors,
			      c->rx_dropped + c->drv_rx_no_buffer, 0UL, 0UL, 0UL, 0UL, c->tx_bytes,
			      c->tx_packets, c->drv_tx_errors, c->tx_dropped, 0UL, 0UL, 0UL, 0UL);
	}
}

/* Linux's fib_route_seq_show: the main table, each line padded to 127. */
static void route(void)
{
	struct netinfo_if nif;

	line(127, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU"
		  "\tWindow\tIRTT");
	for (unsigned i = 0; i < netinfo.nroutes; i++) {
		const struct net_route *r = &netinfo.routes[i];
		if (!netinfo_route_if(r, &nif))
			continue;
		line(127, "%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u", nif.name, r->dest,
		     r->gateway, RTF_UP | (r->gateway ? RTF_GATEWAY : 0), 0, 0U, (int)r->metric,
		     r->mask, 0, 0U, 0U);
	}
}

/* Linux's tcp4_seq_show and udp4_seq_show (each line padded to 149, 127). */
static void sockets(unsigned proto)
{
	unsigned n = 0;

	if (proto == 6)
		line(149, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			  "retrnsmt   uid  timeout inode");
	else
		line(127, "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			  "retrnsmt   uid  timeout inode ref pointer drops");
	for (unsigned i = 0; i < netinfo.nsocks; i++) {
		const struct net_sock *s = &netinfo.socks[i];
		if (s->proto != proto)
			continue;
		line(proto == 6 ? 149 : 127, proto == 6 ? "%4u: %08X:%04X %08X:%04X %02X %08X:%08X 00:00000000 "
					   "00000000 %5u %8d %lu 1 0000000000000000 0 0 0 0 0"
					 : "%5u: %08X:%04X %08X:%04X %02X %08X:%08X 00:00000000 "
					   "00000000 %5u %8d %lu 2 0000000000000000 0",
			      n++, s->local_addr, s->local_port, s->remote_addr, s->remote_port,
		     s->state, s->tx_queue, s->rx_queue, 0U, 0, 0UL);
	}
}

long procfs_net(struct process *p, enum vfs_device file, uint64_t off)
{
	if (off == 0) {
		long r = netinfo_wait(p, file == PROC_NET_TCP || file == PROC_NET_UDP
						 ? NETINFO_SOCKETS : NETINFO_IFS_ROUTES);
		if (r)
			return r;
	}
	switch (file) {
	case PROC_NET_DEV: dev(); break;
	case PROC_NET_ROUTE: route(); break;
	case PROC_NET_TCP: sockets(6); break;
	case PROC_NET_UDP: sockets(17); break;
	default: break;
	}
	return 0;
}
