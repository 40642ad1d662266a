/*
 * The firewall's TCP reset (reject with tcp reset, docs/firewall.md):
 * lwIP's tcp_rst without a connection, from the address and port the
 * refused segment was sent to. Apart from decide.c because lwIP's TCP
 * headers and the tracker's name the flags alike.
 */
#include "netstack.h"

#include "lwip/priv/tcp_priv.h"

static bool sending;

bool filter_reset_sending(void)
{
	return sending;
}

void filter_send_reset(uint32_t local, uint32_t remote, uint16_t local_port, uint16_t remote_port,
		       uint32_t seq, uint32_t ack)
{
	ip_addr_t l, r;

	ip_addr_set_ip4_u32(&l, local);
	ip_addr_set_ip4_u32(&r, remote);
	sending = true;
	tcp_rst(NULL, seq, ack, &l, &r, local_port, remote_port);
	sending = false;
}
