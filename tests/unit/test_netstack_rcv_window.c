#include "rcv_window.h"
#include "unit.h"

#define WND (256 * 1024u)       /* lwipopts.h's TCP_WND */

TEST(rcv_window_full_sized_segments_get_the_whole_window)
{
	uint32_t e = rcv_window_sample(0, 1460, 1);
	CHECK_EQ(e, 1460u * 8);
	CHECK_EQ(rcv_window_clamp(e, WND), WND);
	/* Nothing measured yet: the whole window. */
	CHECK_EQ(rcv_window_clamp(0, WND), WND);
}

TEST(rcv_window_small_segments_get_the_buffers_worth)
{
	/* -M 500: 192 buffers of 500 bytes, not 524 of them. */
	uint32_t e = rcv_window_sample(0, 500, 1);
	CHECK_EQ(rcv_window_clamp(e, WND), RCV_WINDOW_BUFS * 500);
	/* An aggregate of 36 segments of 536 bytes in 36 buffers. */
	e = rcv_window_sample(0, 36 * 536, 36);
	CHECK_EQ(rcv_window_clamp(e, WND), RCV_WINDOW_BUFS * 536);
	/* A window without scaling is the most there is. */
	CHECK_EQ(rcv_window_clamp(e, 0xFFFF), 0xFFFFu);
}

TEST(rcv_window_estimate_moves_an_eighth_a_sample_and_is_bounded)
{
	uint32_t e = rcv_window_sample(0, 1000, 1);
	e = rcv_window_sample(e, 200, 1);
	CHECK_EQ(e, 1000u * 8 - 1000 + 200);            /* 900 a buffer */
	/* Tiny segments count as RCV_WINDOW_PER_BUF_MIN, never as 0 or 1. */
	CHECK_EQ(rcv_window_sample(0, 1, 1), RCV_WINDOW_PER_BUF_MIN * 8);
	CHECK_EQ(rcv_window_sample(0, 0, 3), RCV_WINDOW_PER_BUF_MIN * 8);
	CHECK_EQ(rcv_window_clamp(rcv_window_sample(0, 1, 1), WND),
		 RCV_WINDOW_BUFS * RCV_WINDOW_PER_BUF_MIN);
	/* At most a buffer's worth: a 64 KiB aggregate in one "buffer" is a lie. */
	CHECK_EQ(rcv_window_sample(0, 65535, 1), 2048u * 8);
	/* Steady samples converge to them, from either side. */
	e = rcv_window_sample(0, 1460, 1);
	for (int i = 0; i < 100; i++)
		e = rcv_window_sample(e, 536, 1);
	CHECK(e / 8 >= 536 && e / 8 <= 544);
	for (int i = 0; i < 100; i++)
		e = rcv_window_sample(e, 1460, 1);
	CHECK(e / 8 >= 1452 && e / 8 <= 1460);
}

TEST(rcv_window_gives_back_up_to_the_clamp_and_withholds_the_rest)
{
	uint32_t clamp = RCV_WINDOW_BUFS * 500;
	/* The window is at the clamp: nothing more. */
	CHECK_EQ(rcv_window_give(clamp, clamp, 4000), 0u);
	/* Above it (it had been larger): nothing, it shrinks as data comes. */
	CHECK_EQ(rcv_window_give(WND, clamp, 4000), 0u);
	/* Below it: up to it, within the credit. */
	CHECK_EQ(rcv_window_give(clamp - 3000, clamp, 4000), 3000u);
	CHECK_EQ(rcv_window_give(clamp - 3000, clamp, 1000), 1000u);
	CHECK_EQ(rcv_window_give(0, clamp, 0), 0u);
}

TEST(rcv_window_a_reader_that_reads_everything_reopens_the_window_to_the_clamp)
{
	/* window + unread + withheld stays TCP_WND; a reader reading all
	 * it has leaves the window at the clamp, never closed for good. */
	uint32_t clamp = RCV_WINDOW_BUFS * 536, wnd = WND, unread = 0, withheld = 0;
	for (int round = 0; round < 50; round++) {
		uint32_t in = wnd < 20000 ? wnd : 20000;        /* the peer fills some of it */
		wnd -= in;
		unread += in;
		uint32_t credit = withheld + unread, give = rcv_window_give(wnd, clamp, credit);
		unread = 0;
		withheld = credit - give;
		wnd += give;
		CHECK_EQ(wnd + unread + withheld, WND);
		CHECK(give == 0 || wnd <= clamp);      /* shrinks to the clamp, never grows past it */
	}
	CHECK_EQ(wnd, clamp);
	/* Closing gives everything back: the whole window again. */
	CHECK_EQ(wnd + withheld, WND);
}

TEST(rcv_window_ack_waits_only_behind_a_half_used_window_that_does_not_open)
{
	/* The peer may send less than half of the window, and this ACK
	 * would not move its right edge: it waits for the reader's update. */
	CHECK(rcv_window_ack_may_wait(WND / 2 - 1, WND, false));
	CHECK(rcv_window_ack_may_wait(0, WND, false));
	/* Half the window or more still open to the peer: at once (a
	 * sender held by its congestion window needs the ACK to send). */
	CHECK(!rcv_window_ack_may_wait(WND / 2, WND, false));
	CHECK(!rcv_window_ack_may_wait(WND, WND, false));
	/* The reader read since the last announcement: the ACK opens the
	 * window, at once. */
	CHECK(!rcv_window_ack_may_wait(0, WND, true));
	/* The half is of the clamp (small segments), not of TCP_WND. */
	CHECK(!rcv_window_ack_may_wait(RCV_WINDOW_BUFS * 536 / 2, RCV_WINDOW_BUFS * 536, false));
	CHECK(rcv_window_ack_may_wait(RCV_WINDOW_BUFS * 536 / 2 - 1, RCV_WINDOW_BUFS * 536, false));
}
