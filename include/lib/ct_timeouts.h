/*
 * Connection tracking's timeout classes, shared by the tracker
 * (netstack/conntrack.h) and the configuration parser that sets them
 * (lib/firewall_config.c): one list, so that a class added is named,
 * defaulted and configurable at once.
 */
#ifndef MICA_LIB_CT_TIMEOUTS_H
#define MICA_LIB_CT_TIMEOUTS_H

/*
 * Timeout classes: name, default seconds, as Linux's nf_conntrack defaults
 * (net/netfilter/nf_conntrack_proto_{tcp,udp,icmp}.c; sysctl names in
 * docs/firewall.md). TCP classes are in TCP state order.
 */
#define CT_TIMEOUTS(X)                          \
	X(TCP_SYN_SENT, "tcp syn_sent", 120)    \
	X(TCP_SYN_RECV, "tcp syn_recv", 60)     \
	X(TCP_ESTABLISHED, "tcp established", 432000) \
	X(TCP_FIN_WAIT, "tcp fin_wait", 120)    \
	X(TCP_CLOSE_WAIT, "tcp close_wait", 60) \
	X(TCP_LAST_ACK, "tcp last_ack", 30)     \
	X(TCP_TIME_WAIT, "tcp time_wait", 120)  \
	X(TCP_CLOSE, "tcp close", 10)           \
	X(UDP_UNREPLIED, "udp unreplied", 30)   \
	X(UDP_REPLIED, "udp replied", 120)      \
	X(ICMP_UNREPLIED, "icmp unreplied", 30) \
	X(ICMP_REPLIED, "icmp replied", 30)

enum ct_timeout_class {
#define CT_TIMEOUT_ENUM(name, text, seconds) CT_T_##name,
	CT_TIMEOUTS(CT_TIMEOUT_ENUM)
#undef CT_TIMEOUT_ENUM
	CT_TIMEOUT_CLASSES
};

#endif
