/*
 * A TCP connection's receive window sized by the pool buffers its
 * segments take (rcv_window.h; docs/netstack.md, "Receive window"), for
 * the readers that give lwIP its window back: the socket service's
 * stream sockets and the iperf server. lwIP's window (pcb->rcv_wnd)
 * shrinks as segments arrive and grows only by tcp_recved, so it is kept
 * within the clamp by giving back no more than that: the rest of what
 * was read is withheld, and given back as the window falls below the
 * clamp again, or all of it before the connection is closed (lwIP
 * resets a connection closed with window not given back: data unread).
 * And which acknowledgements of received data wait for the reader's
 * window update (rcv_window_ack_policy, rcv_window_ack_may_wait).
 */
#include "netstack.h"

#include "lwip/priv/tcp_priv.h"
#include "rcv_window.h"

static uint64_t acks_delayed, acks_forced;
/* The connection the segment lwIP is taking in is for, when it held
 * segments out of order before it (rcv_window_input); else NULL. */
static const struct tcp_pcb *hole_before;

void rcv_window_measure(struct rcv_window *w, const struct pbuf *p)
{
	uint32_t bytes = 0, bufs = 0;

	/* Only frames lwIP holds in the pool's buffers: what it had to copy
	 * out (past its share) takes no buffer. */
	for (const struct pbuf *q = p; q; q = q->next) {
		if (iface_in_pool_buffer((struct pbuf *)q)) {
			bytes += q->len;
			bufs++;
		}
	}
	if (bufs)
		w->per_buf8 = rcv_window_sample(w->per_buf8, bytes, bufs);
}

/* Give n bytes back to the window with one window update. tcp_recved
 * takes 16 bits and sends an update at every call that opens the window
 * by TCP_WND_UPDATE_THRESHOLD (4 segments): a read of 256 KiB given in
 * pieces sent four updates back to back, each a frame for the guest to
 * send and QEMU to carry. So what is past the last piece widens the
 * window as tcp_recved would (clamped to the most it may be), and the
 * last piece's tcp_recved announces it all. */
static void give(struct tcp_pcb *pcb, uint32_t n)
{
	if (n > 0xFFFF) {
		uint32_t wide = pcb->rcv_wnd + (n - 0xFFFF);

		pcb->rcv_wnd = wide > TCP_WND_MAX(pcb) || wide < pcb->rcv_wnd ?
			       TCP_WND_MAX(pcb) : (tcpwnd_size_t)wide;
		n = 0xFFFF;
	}
	if (n)
		tcp_recved(pcb, (u16_t)n);
}

void rcv_window_recved(struct rcv_window *w, struct tcp_pcb *pcb, uint32_t len)
{
	uint32_t credit = w->withheld + len;
	uint32_t n = rcv_window_give(pcb->rcv_wnd, rcv_window_clamp(w->per_buf8, TCP_WND_MAX(pcb)),
				     credit);

	w->withheld = credit - n;
	give(pcb, n);
}

void rcv_window_release(struct rcv_window *w, struct tcp_pcb *pcb)
{
	give(pcb, w->withheld);
	w->withheld = 0;
}

/* Whether lwIP's tcp_output, asked for an acknowledgement (want: its
 * flags TF_ACK_NOW, or TF_ACK_DELAY that the fast timer turns into
 * one), would send nothing: data is waiting whose sending Nagle's
 * algorithm holds back (tcp_do_output_nagle), and lwIP 2.1's tcp_output
 * then leaves its loop without the empty ACK it sends when nothing
 * waits; the fast timer then clears the flags, and the ACK is never
 * sent (still so in lwIP's master in 2026: no upstream fix to carry). */
static bool ack_held_by_nagle(const struct tcp_pcb *pcb, tcpflags_t want)
{
	return (pcb->flags & want) && pcb->unsent && !tcp_do_output_nagle(pcb) &&
	       !(pcb->flags & (TF_NAGLEMEMERR | TF_FIN));
}

/* The acknowledgement such a tcp_output would not send, sent empty:
 * true when it went. */
static bool ack_unblock(struct tcp_pcb *pcb, tcpflags_t want)
{
	return ack_held_by_nagle(pcb, want) && tcp_send_empty_ack(pcb) == ERR_OK;
}

void rcv_window_ack_policy(struct rcv_window *w, struct tcp_pcb *pcb)
{
	/* Data that filled all or part of a gap is acknowledged at once
	 * (RFC 5681 4.2), so that a sender recovering from a loss learns
	 * of it; lwIP's tcp_ack delays every other such acknowledgement. */
	if (pcb == hole_before && pcb->state == ESTABLISHED) {
		hole_before = NULL;     /* this input's, once */
		bool held = !(pcb->flags & TF_ACK_NOW);
		tcp_ack_now(pcb);
		if (ack_unblock(pcb, TF_ACK_NOW) || held)
			acks_forced++;
		return;
	}
	/* tcp_ack's immediate acknowledgement: TF_ACK_NOW, and its
	 * TF_ACK_DELAY taken. Made delayed only for in-order data in
	 * ESTABLISHED with no segments held out of order (a hole: RFC 5681
	 * 4.2 wants every acknowledgement at once); any other is sent. */
	if (pcb->state == ESTABLISHED && (pcb->flags & (TF_ACK_NOW | TF_ACK_DELAY)) == TF_ACK_NOW &&
	    !pcb->ooseq &&
	    rcv_window_ack_may_wait(pcb->rcv_wnd, rcv_window_clamp(w->per_buf8, TCP_WND_MAX(pcb)),
				    TCP_SEQ_GT(pcb->rcv_nxt + pcb->rcv_wnd, pcb->rcv_ann_right_edge))) {
		tcp_clear_flags(pcb, TF_ACK_NOW);
		tcp_set_flags(pcb, TF_ACK_DELAY);
		acks_delayed++;
		return;
	}
	acks_forced += ack_unblock(pcb, TF_ACK_NOW);
}

void rcv_window_acks_flush(void)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		acks_forced += ack_unblock(pcb, TF_ACK_NOW | TF_ACK_DELAY);
}

void rcv_window_input(const struct tcp_pcb *pcb)
{
	/* A listener is a struct tcp_pcb_listen, without ooseq. */
	hole_before = pcb->state != LISTEN && pcb->ooseq ? pcb : NULL;
}

uint64_t rcv_window_acks_delayed(void)
{
	return acks_delayed;
}

uint64_t rcv_window_acks_forced(void)
{
	return acks_forced;
}
