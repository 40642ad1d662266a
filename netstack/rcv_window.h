/*
 * A TCP connection's receive window sized by the receive buffers its
 * segments take, not by their bytes alone (docs/netstack.md, "Receive
 * window"). Every received segment takes at least one pool buffer of
 * 2 KiB, whatever its length: a window of 256 KiB is 180 buffers in
 * segments of 1460 bytes but 524 in segments of 500, more than a NIC's
 * ring or lwIP's share of the pool holds, so a peer with a small MSS
 * filled the rings, lost segments and collapsed (issue 16). Linux's
 * model: its receive buffer counts each skb's truesize, and the window
 * grows only as far as that memory allows (tcp_grow_window,
 * tcp_win_from_space); here the window is at most RCV_WINDOW_BUFS
 * buffers at the payload bytes per buffer seen so far.
 *
 * Pure logic (unit-tested on the host); rcv_window.c applies it to
 * lwIP's connections.
 */
#ifndef MICA_NETSTACK_RCV_WINDOW_H
#define MICA_NETSTACK_RCV_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

/* Receive buffers one connection's window may take: three quarters of
 * lwIP's share of the pool (256 of 1024 buffers), and less than a NIC's
 * ring and rx-ready hold, whatever the segments' size. 192 x 1460 bytes
 * is more than TCP_WND (256 KiB): full-sized segments get the whole
 * window, as before. */
#define RCV_WINDOW_BUFS 192u
/* The least payload per buffer the estimate takes (a peer's 1-byte
 * segments must not close the window to a few hundred bytes). */
#define RCV_WINDOW_PER_BUF_MIN 64u

/* One connection's state: the estimate, and the window withheld. */
struct rcv_window {
	uint32_t per_buf8;      /* payload bytes per receive buffer, x8; 0: no sample yet */
	uint32_t withheld;      /* bytes read that lwIP's window has not had back */
};

/* The estimate (x8) after `bytes` of payload arrived in `bufs` pool
 * buffers (bufs > 0): the first sample as it is, then a moving average
 * (7/8 old, 1/8 new, as TCP's smoothed round-trip time), each sample at
 * least RCV_WINDOW_PER_BUF_MIN and at most a buffer. */
static inline uint32_t rcv_window_sample(uint32_t per_buf8, uint32_t bytes, uint32_t bufs)
{
	uint32_t s = bytes / bufs;

	if (s < RCV_WINDOW_PER_BUF_MIN)
		s = RCV_WINDOW_PER_BUF_MIN;
	if (s > 2048)
		s = 2048;
	return per_buf8 ? per_buf8 - per_buf8 / 8 + s : s * 8;
}

/* The most window the connection may have: RCV_WINDOW_BUFS buffers at
 * the estimate, at most max (TCP_WND); max itself before any sample. */
static inline uint32_t rcv_window_clamp(uint32_t per_buf8, uint32_t max)
{
	uint32_t w = per_buf8 ? (uint32_t)((uint64_t)per_buf8 * RCV_WINDOW_BUFS / 8) : max;

	return w < max ? w : max;
}

/* Of `credit` bytes (read by the application, and withheld before), how
 * many to give back to the window now: what takes the window (wnd) up
 * to the clamp, at most the credit. The rest stays withheld; since the
 * window plus what is unread plus what is withheld is always TCP_WND,
 * a window below the clamp gets it back as the reader reads. */
static inline uint32_t rcv_window_give(uint32_t wnd, uint32_t clamp, uint32_t credit)
{
	uint32_t room = wnd < clamp ? clamp - wnd : 0;

	return credit < room ? credit : room;
}

/* Whether an acknowledgement of received data that lwIP would send at
 * once (its rule: every second segment, tcp_ack) may wait instead: only
 * when it would not move the window's right edge (nothing was read
 * since the last announcement: edge_moves false) and the peer may send
 * less than half of the window the clamp allows (wnd, bytes). Such an
 * acknowledgement lets a sender held by our window send nothing more,
 * and costs a frame; the reader's window update acknowledges the data
 * when it comes, lwIP's delayed acknowledgement within 250 ms at the
 * latest (RFC 1122 4.2.3.2: under 0.5 s). Linux's rule alike
 * (__tcp_ack_snd_check: at once only if the window announced now would
 * not be smaller than the last). */
static inline bool rcv_window_ack_may_wait(uint32_t wnd, uint32_t clamp, bool edge_moves)
{
	return !edge_moves && wnd < clamp / 2;
}

#endif
