/*
 * Numbers the netstack sends that a remote host must not be able to
 * predict (idgen.c, pure: unit-tested on the host): TCP initial sequence
 * numbers as RFC 6528 has them, and IPv4 identification fields that do
 * not leak how many packets went to other hosts.
 *
 * Both are keyed with a 128-bit secret chosen at boot (netstack/entropy.c)
 * through SipHash-2-4. Addresses are IPv4 in network byte order, ports in
 * host order.
 */
#ifndef MICA_NETSTACK_IDGEN_H
#define MICA_NETSTACK_IDGEN_H

#include <stddef.h>
#include <stdint.h>

struct idgen_key {
	uint64_t k0, k1;
};

/* SipHash-2-4 of len bytes at data under key. */
uint64_t idgen_siphash(const struct idgen_key *key, const void *data, size_t len);

/* RFC 6528: ISN = M + F(local address and port, remote address and port,
 * key), M the clock in 4 µs ticks (now_ns: any clock in nanoseconds that
 * only goes forward). One connection's ISNs follow the clock; another
 * connection's are offset by an unpredictable amount. */
uint32_t idgen_tcp_isn(const struct idgen_key *key, uint32_t local_addr, uint16_t local_port,
		       uint32_t remote_addr, uint16_t remote_port, uint64_t now_ns);
/* The clock (M, 4 µs ticks, modulo 2^32) when idgen_tcp_isn gave isn to
 * that connection: isn - F. A connection's age read this way is the
 * netstack's own, which nothing the peer sends can change (the idea of
 * Linux's SYN cookies, which keep the time in the ISN). */
uint32_t idgen_tcp_isn_clock(const struct idgen_key *key, uint32_t local_addr,
			     uint16_t local_port, uint32_t remote_addr, uint16_t remote_port,
			     uint32_t isn);

/* The IPv4 ID to send for the datagram lwIP numbered `counter` (its one
 * global counter), from src to dst with protocol proto: a permutation of
 * the 16-bit counter keyed with (src, dst, proto). Distinct counters give
 * distinct IDs for the same (src, dst, proto), as reassembly needs, and
 * the IDs one host sees look random: they do not tell it how many
 * datagrams went elsewhere. */
uint16_t idgen_ip_id(const struct idgen_key *key, uint16_t counter, uint32_t src, uint32_t dst,
		     uint8_t proto);

#endif
