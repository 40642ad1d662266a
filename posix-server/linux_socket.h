/*
 * The Linux x86_64 ABI's numbers and structures for sockets (from
 * <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h> and the kernel's
 * uapi headers): what socket.c and sys_socket.c read and write.
 */
#ifndef MICA_POSIX_LINUX_SOCKET_H
#define MICA_POSIX_LINUX_SOCKET_H

#include <stdint.h>

#define LINUX_ENOTSOCK        88
#define LINUX_EDESTADDRREQ    89
#define LINUX_EMSGSIZE        90
#define LINUX_EPROTOTYPE      91
#define LINUX_ENOPROTOOPT     92
#define LINUX_EPROTONOSUPPORT 93
#define LINUX_ESOCKTNOSUPPORT 94
#define LINUX_EOPNOTSUPP      95
#define LINUX_EAFNOSUPPORT    97
#define LINUX_EADDRINUSE      98
#define LINUX_EADDRNOTAVAIL   99
#define LINUX_ENETDOWN        100
#define LINUX_ENETUNREACH     101
#define LINUX_ECONNABORTED    103
#define LINUX_ECONNRESET      104
#define LINUX_EISCONN         106
#define LINUX_ENOTCONN        107
#define LINUX_ETIMEDOUT       110
#define LINUX_ECONNREFUSED    111
#define LINUX_EALREADY        114
#define LINUX_EINPROGRESS     115
#define LINUX_ENOBUFS         105

#define LINUX_POLLRDHUP 0x2000

#define LINUX_AF_UNSPEC 0
#define LINUX_AF_UNIX   1
#define LINUX_AF_INET   2
#define LINUX_AF_INET6  10
#define LINUX_AF_NETLINK 16
#define LINUX_NETLINK_ROUTE 0   /* the protocol of AF_NETLINK socket(2) */
#define LINUX_SOL_NETLINK 270

#define LINUX_SOCK_STREAM   1
#define LINUX_SOCK_DGRAM    2
#define LINUX_SOCK_RAW      3
#define LINUX_SOCK_SEQPACKET 5
#define LINUX_SOCK_TYPE_MASK 0xF
#define LINUX_SOCK_NONBLOCK 04000
#define LINUX_SOCK_CLOEXEC  02000000

#define LINUX_IPPROTO_IP   0
#define LINUX_IPPROTO_TCP  6
#define LINUX_IPPROTO_UDP  17
#define LINUX_IPPROTO_IPV6 41
#define LINUX_SOL_SOCKET   1

/* SOL_SOCKET options. */
#define LINUX_SO_REUSEADDR  2
#define LINUX_SO_TYPE       3
#define LINUX_SO_ERROR      4
#define LINUX_SO_DONTROUTE  5
#define LINUX_SO_BROADCAST  6
#define LINUX_SO_SNDBUF     7
#define LINUX_SO_RCVBUF     8
#define LINUX_SO_KEEPALIVE  9
#define LINUX_SO_OOBINLINE  10
#define LINUX_SO_LINGER     13
#define LINUX_SO_REUSEPORT  15
#define LINUX_SO_RCVLOWAT   18
#define LINUX_SO_RCVTIMEO   20
#define LINUX_SO_SNDTIMEO   21
#define LINUX_SO_ACCEPTCONN 30
#define LINUX_SO_PEERCRED   17
#define LINUX_SO_PROTOCOL   38
#define LINUX_SO_DOMAIN     39

/* IPPROTO_TCP options. */
#define LINUX_TCP_NODELAY    1
#define LINUX_TCP_MAXSEG     2
#define LINUX_TCP_KEEPIDLE   4
#define LINUX_TCP_KEEPINTVL  5
#define LINUX_TCP_KEEPCNT    6
#define LINUX_TCP_INFO       11
#define LINUX_TCP_CONGESTION 13

/* IPPROTO_IP and IPPROTO_IPV6 options. */
#define LINUX_IP_TOS       1
#define LINUX_IP_TTL       2
#define LINUX_IPV6_V6ONLY  26
#define LINUX_IPV6_TCLASS  67

#define LINUX_MSG_OOB      0x1
#define LINUX_MSG_PEEK     0x2
#define LINUX_MSG_TRUNC    0x20
#define LINUX_MSG_DONTWAIT 0x40
#define LINUX_MSG_WAITALL  0x100
#define LINUX_MSG_NOSIGNAL 0x4000
#define LINUX_MSG_CMSG_CLOEXEC 0x40000000

#define LINUX_SHUT_RD   0
#define LINUX_SHUT_WR   1
#define LINUX_SHUT_RDWR 2

#define LINUX_TCP_ESTABLISHED 1
#define LINUX_TCP_CLOSE       7
#define LINUX_TCP_LISTEN      10

struct linux_sockaddr_in {
	uint16_t family;
	uint16_t port;          /* network byte order */
	uint32_t addr;          /* network byte order */
	uint8_t zero[8];
};

struct linux_sockaddr_in6 {
	uint16_t family;
	uint16_t port;          /* network byte order */
	uint32_t flowinfo;
	uint8_t addr[16];
	uint32_t scope_id;
};

struct linux_msghdr {
	uint64_t name;          /* user address of a sockaddr, or 0 */
	uint32_t namelen, pad0;
	uint64_t iov, iovlen;
	uint64_t control, controllen;
	int32_t flags, pad1;
};

/* struct mmsghdr: a msghdr and the bytes it moved. */
struct linux_mmsghdr {
	struct linux_msghdr hdr;
	uint32_t len, pad;
};

struct linux_linger {
	int32_t onoff, linger;
};

/* Linux 6.1's struct tcp_info is 232 bytes; the fields read here. */
#define LINUX_TCP_INFO_SIZE 232
struct linux_tcp_info {
	uint8_t state, ca_state, retransmits, probes, backoff, options, wscale, flags;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd, advmss, reordering;
	uint32_t rcv_rtt, rcv_space, total_retrans;
	uint8_t rest[LINUX_TCP_INFO_SIZE - 104];
};

#endif
