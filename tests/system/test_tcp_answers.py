"""TCP connections in their edge states (docs/netstack.md, "Surviving a
driver restart" and "Hardening"): a closing connection's unacknowledged
data and FIN go out again as soon as a restarted driver is back, and the
answers of half-open and TIME-WAIT connections to a flood of segments
are limited as Linux's (net.ipv4.tcp_invalid_ratelimit). TCP peers are
made of raw frames from a made-up host (test_hostile.py's Rig, Wire and
RawTcp), so the test decides what is acknowledged.
"""
import threading
import time

import pytest

from netns import can_run
from test_hostile import (FAKE_IP, FAKE_MAC, GUEST_MAC, IP, TCP, Ether, Raw, RawTcp, Rig,
                          assert_healthy, echo_through_raw_peer, flood, tcp_echo_works,
                          time_wait_from_stats, with_tcp_seq)
from test_net import GUEST
from test_restart import SUPERVISED

pytestmark = pytest.mark.skipif(not can_run(), reason="needs root and /dev/net/tun")

# Linux's tcp_invalid_ratelimit: a connection answers at most once in it.
INTERVAL = 0.5
# A flood of 300 segments over about 1.5 s (test_hostile's flood).
PACE = dict(burst=20, pause=0.1, settle=1, listen=20)


def seg_len(f):
    """Sequence space the guest's segment takes (data, SYN, FIN)."""
    data = len(f[Raw].load) if Raw in f else 0
    return data + (1 if f[TCP].flags.F else 0) + (1 if f[TCP].flags.S else 0)


def test_closing_connection_resends_when_the_driver_is_back(tmp_path):
    """tcp_after_outage (netstack/iface_driver.c) resent at once only what
    connections in ESTABLISHED and CLOSE_WAIT had not had acknowledged; a
    closing one (FIN_WAIT_1, CLOSING, LAST_ACK) waited for lwIP's
    retransmission timer, backed off through the outage (seconds). Here
    netecho's statistics port sends its line and closes (FIN_WAIT_1), the
    peer acknowledges nothing, the driver is killed just after lwIP's
    first retransmission (the next is 2 RTOs later): the line must go out
    again within a second of the new driver's attach, and once the peer
    acknowledges it, the FIN."""
    with Rig(tmp_path, "outfin", console=True, driver=SUPERVISED) as t:  # the driver restarted when it dies
        t.wire.introduce()
        c = RawTcp(t.wire, 9000, 42600)
        c.connect()
        first = t.wire.wait(lambda f: c.mine(f) and seg_len(f), 10)
        assert first, "no statistics line"
        start = first[TCP].seq
        sent_at = time.monotonic()
        # lwIP's first retransmission (RTO: seconds), then the driver killed.
        rexmit = t.wire.wait(lambda f: c.mine(f) and f[TCP].seq == start, 15)
        assert rexmit, "lwIP did not retransmit"
        rto = time.monotonic() - sent_at
        seen = []
        stop = threading.Event()

        def watch():
            for f in t.wire.frames(40):
                if c.mine(f) and seg_len(f):
                    seen.append((time.monotonic(), f))
                if stop.is_set():
                    break

        mark = t.rig.qemu.mark()
        t.rig.qemu.send("kill eth0")
        t.rig.qemu.wait_for(r"^init: eth0 killed at \d+ ms; restarting$", since=mark, timeout=30)
        seen.clear()                            # what the dying driver still sent
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            t.rig.qemu.wait_for(r"^netstack: eth0 re-attached to a new driver at \d+ ms$",
                                since=mark, timeout=30)
            back = time.monotonic()
            deadline = back + 10
            while not seen and time.monotonic() < deadline:
                time.sleep(0.02)
            # The data again (cwnd is one segment after a retransmission):
            # acknowledged, the FIN follows.
            if seen:
                g = seen[0][1]
                c.rcv_nxt = g[TCP].seq + seg_len(g)
                c.segment()
            while not any(f[TCP].flags.F for _, f in seen) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            stop.set()
            t.wire.send(IP(src=FAKE_IP, dst=GUEST) / TCP(sport=1, dport=1, flags="R"))
            watcher.join()
        assert seen, "nothing resent"
        again, f = seen[0]
        fin = next((w for w, g in seen if g[TCP].flags.F), None)
        print(f"RTO {rto:.2f} s; resent {again - back:+.2f} s after the attach was seen "
              f"({f[TCP].flags}, {seg_len(f)}), FIN at {fin - back if fin else None}")
        assert f[TCP].seq == start, (f[TCP].seq, start)
        assert again - back < 1.0, (again - back, rto)
        assert fin is not None and fin - back < 1.0, (fin and fin - back, rto)
        # The peer takes it all now, and closes: nothing is left over.
        c.rcv_nxt = max((g[TCP].seq + seg_len(g) for _, g in seen),
                        key=lambda s: (s - start) % (1 << 32))
        c.segment(flags="FA")
        c.snd_nxt += 1
        assert c.wait_ack(c.snd_nxt), "no ACK of the peer's FIN"
        assert "lwIP assertion failed" not in t.rig.qemu.output()
        tcp_echo_works(t.rig)


def test_time_wait_answers_are_limited(tmp_path):
    """lwIP's TIME-WAIT answers every segment with data, SYN or FIN with an
    ACK, as fast as they come (a reflector). As Linux's
    tcp_timewait_state_process (tcp_invalid_ratelimit, 500 ms): one answer
    a connection in each 500 ms, the rest dropped unanswered and counted
    (tcp_ack_skipped_time_wait). 300 segments in about 1.5 s."""
    with Rig(tmp_path, "twlimit") as t:
        t.wire.introduce()
        c = time_wait_from_stats(t, 42610)
        before = t.rig.stats()
        seg = bytes(Ether(src=FAKE_MAC, dst=GUEST_MAC) / IP(src=FAKE_IP, dst=GUEST) /
                    TCP(sport=c.sport, dport=c.dport, flags="A", seq=0, ack=c.rcv_nxt) /
                    b"flood")
        seg = with_tcp_seq(seg, c.snd_nxt % (1 << 32))
        acks, took = flood(t.wire, [seg] * 300, lambda f: c.mine(f) and f[TCP].flags.A, **PACE)
        after = t.rig.stats()
        skipped = after["tcp_ack_skipped_time_wait"] - before["tcp_ack_skipped_time_wait"]
        print(f"300 segments to a TIME-WAIT in {took:.1f} s: {acks} ACKs, {skipped} skipped")
        assert 1 <= acks <= took / INTERVAL + 2, (acks, took)
        assert skipped >= 300 - acks - 30, (skipped, acks)     # the NIC may drop a few
        assert_healthy(t.rig)


def test_half_open_answers_are_limited(tmp_path):
    """lwIP's half-open connection (SYN_RCVD) sends its SYN-ACK again for
    every copy of the first SYN, and a reset for every wrong
    acknowledgement. As Linux's tcp_check_req (tcp_invalid_ratelimit):
    one answer a connection in each 500 ms, the rest dropped and counted
    (tcp_ack_skipped_syn_recv). The handshake then completes."""
    with Rig(tmp_path, "srlimit") as t:
        t.wire.introduce()
        c = RawTcp(t.wire, 7, 42620)
        c.connect(ack=False)
        before = t.rig.stats()
        syn = bytes(Ether(src=FAKE_MAC, dst=GUEST_MAC) / IP(src=FAKE_IP, dst=GUEST) /
                    TCP(sport=c.sport, dport=c.dport, flags="S", seq=0, window=65535,
                        options=c.options))
        syn = with_tcp_seq(syn, (c.snd_nxt - 1) % (1 << 32))
        synacks, took = flood(t.wire, [syn] * 300, lambda f: c.mine(f) and f[TCP].flags.S, **PACE)
        # A wrong acknowledgement, 300 times: resets, as limited.
        bad = bytes(Ether(src=FAKE_MAC, dst=GUEST_MAC) / IP(src=FAKE_IP, dst=GUEST) /
                    TCP(sport=c.sport, dport=c.dport, flags="A", seq=c.snd_nxt % (1 << 32),
                        ack=(c.rcv_nxt + 100000) % (1 << 32)))
        resets, took2 = flood(t.wire, [bad] * 300, lambda f: c.mine(f) and f[TCP].flags.R, **PACE)
        after = t.rig.stats()
        skipped = after["tcp_ack_skipped_syn_recv"] - before["tcp_ack_skipped_syn_recv"]
        print(f"300 SYNs again in {took:.1f} s: {synacks} SYN-ACKs; 300 wrong ACKs in "
              f"{took2:.1f} s: {resets} resets; {skipped} skipped")
        # lwIP's own retransmission timer may add a SYN-ACK.
        assert 1 <= synacks <= took / INTERVAL + 3, (synacks, took)
        assert 1 <= resets <= took2 / INTERVAL + 2, (resets, took2)
        assert skipped >= 600 - synacks - resets - 60, (skipped, synacks, resets)
        time.sleep(INTERVAL)
        c.segment()                             # the handshake's ACK
        got, _ = echo_through_raw_peer(c, b"still there" * 100)
        assert got == b"still there" * 100, len(got)
        c.reset()
        assert_healthy(t.rig)


def ack_echo(t, c, upto):
    """Wait for netecho's echo of everything the peer sent (the guest's
    data up to its byte upto - 1 in the peer's sequence space is echoed
    in the guest's), then acknowledge it, so nothing of the guest's
    waits for an ACK."""
    want = c.snd_nxt - upto
    got = 0
    deadline = time.monotonic() + 10
    while got < want and time.monotonic() < deadline:
        f = t.wire.wait(lambda f: c.mine(f) and seg_len(f) and
                        (f[TCP].seq - c.rcv_nxt) % (1 << 32) < (1 << 31), 1)
        if f:
            c.rcv_nxt = f[TCP].seq + seg_len(f)
            got += seg_len(f)
    assert got >= want, ("netecho did not echo", got, want)
    c.segment()


def test_data_that_fills_a_gap_is_acknowledged_at_once(tmp_path):
    """RFC 5681 4.2: an ACK should be sent at once for a segment that
    fills all or part of a gap, so that a sender recovering from a loss
    learns of it. lwIP's tcp_ack delays every other acknowledgement, that
    one too; the netstack's receive callback sends it at once
    (rcv_window_ack_policy, counted in tcp_ack_forced). Three times over,
    with netecho's echoes acknowledged (nothing of the guest's waits):
    a segment past a gap of 100 bytes (its duplicate ACK), then the
    gap's data, which must be acknowledged whole, and counted (this fails
    when lwIP's delay is left: the count stays)."""
    with Rig(tmp_path, "gapack") as t:
        t.wire.introduce()
        c = RawTcp(t.wire, 7, 40011)
        c.connect()
        before = t.rig.stats()["tcp_ack_forced"]
        for _ in range(3):
            gap = c.snd_nxt
            c.segment(seq=gap + 100, data=b"b" * 100)
            dup = t.wire.wait(lambda f: c.mine(f) and f[TCP].ack == gap % (1 << 32), 5)
            assert dup, "no duplicate ACK for the segment past the gap"
            c.segment(seq=gap, data=b"a" * 100)
            c.snd_nxt = gap + 200
            assert c.wait_ack(c.snd_nxt), "the filled gap was not acknowledged"
            ack_echo(t, c, gap)
        assert t.rig.stats()["tcp_ack_forced"] - before >= 3
        c.abort()
        assert_healthy(t.rig)


def test_an_ack_is_not_held_behind_data_nagle_holds(tmp_path):
    """lwIP 2.1's tcp_output, asked for an ACK while data waits that
    Nagle's algorithm holds back (small, with earlier data not yet
    acknowledged), leaves without sending anything (no upstream fix), so
    a delayed ACK never went: the peer saw its data unacknowledged until
    it sent again. Here the peer never acknowledges netecho's echo: the
    first echo goes, the second is held by Nagle, and the ACK of the
    peer's second data must still come (lwIP's delayed ACK, sent empty
    after the TCP timer: rcv_window_acks_flush; fails without: no ACK)."""
    with Rig(tmp_path, "nagleack") as t:
        t.wire.introduce()
        c = RawTcp(t.wire, 7, 40012)
        c.connect()
        before = t.rig.stats()["tcp_ack_forced"]
        c.send(b"x" * 100)
        assert c.wait_ack(c.snd_nxt), "the first data was not acknowledged"
        for _ in range(3):
            c.send(b"y" * 100)
            assert c.wait_ack(c.snd_nxt, timeout=3), "an ACK stayed behind Nagle's held data"
        assert t.rig.stats()["tcp_ack_forced"] - before >= 1
        c.abort()
        assert_healthy(t.rig)
